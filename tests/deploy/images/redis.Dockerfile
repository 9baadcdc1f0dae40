# A stand-in for the official redis image, from Debian's packages, for machines without a
# registry (make test-deploy). Same layout as the official image where the compose files rely on
# it: redis-server, redis-sentinel and redis-cli on PATH, data in /data.
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends redis-server redis-sentinel redis-tools \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /data && chown redis:redis /data
USER redis
WORKDIR /data
VOLUME /data
EXPOSE 6379
CMD ["redis-server", "--protected-mode", "no"]
