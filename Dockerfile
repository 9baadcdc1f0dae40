# thamdo: built on Debian 12 with the -dev packages, run on a slim Debian 12 with only the
# runtime libraries, as an unprivileged user (uid 10001), healthy when `thamdo --healthcheck`
# (GET /readyz on the listen address) answers 200. No secret is in the image: give
# THAMDO_SECRET_FILE and THAMDO_ADMIN_TOKENS_FILE (deploy/docker-compose.yml), or let one
# instance generate its secret in the /var/lib/thamdo volume.
FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config \
        libevent-dev libhiredis-dev libjansson-dev libssl-dev \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
WORKDIR /src
COPY Makefile ./
COPY scripts/embed.sh scripts/embed_assets.sh ./scripts/
COPY src ./src
COPY web ./web
RUN make -j"$(nproc)" build/thamdo && strip build/thamdo

FROM debian:12-slim
# redis-server stays for the single-container case: with no THAMDO_REDIS_URL the service runs
# its own private Redis in the /var/lib/thamdo volume (`docker run -v thamdo:/var/lib/thamdo`).
# The compose files use a Redis container instead and never start it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libevent-2.1-7 libhiredis0.14 libjansson4 libssl3 \
        redis-server tzdata ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
 && groupadd --system --gid 10001 thamdo \
 && useradd --system --uid 10001 --gid thamdo --home-dir /var/lib/thamdo --create-home \
        --shell /usr/sbin/nologin thamdo
COPY --from=build /src/build/thamdo /usr/local/bin/thamdo
COPY deploy/polls.json /etc/thamdo/polls.json
ENV THAMDO_LISTEN=0.0.0.0:8080 \
    THAMDO_DATA_DIR=/var/lib/thamdo \
    THAMDO_POLLS_FILE=/etc/thamdo/polls.json \
    THAMDO_DEMO=false
USER thamdo:thamdo
WORKDIR /var/lib/thamdo
VOLUME /var/lib/thamdo
EXPOSE 8080
# Ready, not merely alive: a container is healthy when it can count votes (Redis reached on every
# worker), which is what `depends_on: condition: service_healthy` and `docker ps` should mean.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/thamdo", "--healthcheck"]
# PID 1: the service takes SIGTERM through its signalfd and stops gracefully; no init is needed.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/thamdo"]
