# thamdo: build on Debian 12, run on a slim Debian 12 as an unprivileged user.
FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends gcc libc6-dev make pkg-config \
        libevent-dev libhiredis-dev libjansson-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile ./
COPY scripts ./scripts
COPY src ./src
COPY web ./web
RUN make build/thamdo

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libevent-2.1-7 libhiredis0.14 libjansson4 libssl3 \
        redis-server tzdata ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --home-dir /var/lib/thamdo --create-home --shell /usr/sbin/nologin thamdo
COPY --from=build /src/build/thamdo /usr/local/bin/thamdo
COPY deploy/polls.json /etc/thamdo/polls.json
ENV THAMDO_LISTEN=0.0.0.0:8080 \
    THAMDO_DATA_DIR=/var/lib/thamdo \
    THAMDO_POLLS_FILE=/etc/thamdo/polls.json \
    THAMDO_DEMO=false
USER thamdo
VOLUME /var/lib/thamdo
EXPOSE 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/thamdo"]
