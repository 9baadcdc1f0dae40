# A stand-in for the official haproxy image, from Debian's package (HAProxy 2.6), for machines
# without a registry (make test-deploy). Same configuration path and command as the official one.
FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends haproxy \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin \
 && mkdir -p /usr/local/etc/haproxy
USER haproxy
STOPSIGNAL SIGUSR1
CMD ["haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]
