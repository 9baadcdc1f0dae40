#!/bin/sh
# deps.sh [run|all|deploy] - install the Debian packages that building and running
# (run) or also testing (all, the default) thamdo need, when any is missing;
# deploy: those of make test-deploy alone (scripts/podman-env.sh).
# As root it runs apt-get; otherwise it prints the exact command to run.
# Idempotent: a machine that has everything is left alone.
set -eu

RUN_PKGS="make gcc libc6-dev pkg-config libevent-dev libhiredis-dev libjansson-dev libssl-dev
      redis-server tzdata ca-certificates openssl"
TEST_PKGS="libcmocka-dev clang clang-format cppcheck redis-tools nodejs chromium fonts-dejavu-core"
# The Prometheus project's parser of the /metrics text (tests/blackbox/metrics.test.mjs).
OBS_PKGS="python3-prometheus-client"
# make limits: slow readers with a small receive buffer (python3), a low descriptor limit (prlimit)
LIMITS_PKGS="python3 util-linux"
# make test-deploy: podman as root (runc, netavark with aardvark-dns for names between
# containers, iptables for published ports), Debian's docker-compose, debootstrap for the base image.
DEPLOY_PKGS="podman runc docker-compose debootstrap netavark aardvark-dns iptables"
# make fuzz and make fuzz-smoke: clang's libFuzzer runtime (-fsanitize=fuzzer) with ASan and UBSan.
FUZZ_PKGS="clang libclang-rt-14-dev"
# make valgrind (part of make test): the black-box suite under valgrind's memcheck.
VALGRIND_PKGS="valgrind"
case "${1:-all}" in
run) PKGS="$RUN_PKGS" ;;
all) PKGS="$RUN_PKGS $TEST_PKGS $OBS_PKGS $LIMITS_PKGS $DEPLOY_PKGS $FUZZ_PKGS $VALGRIND_PKGS" ;;
deploy) PKGS="$DEPLOY_PKGS" ;;
*)
    echo "usage: deps.sh [run|all|deploy]" >&2
    exit 2
    ;;
esac
[ "${THAMDO_DEPS_EXTRA:-}" ] && PKGS="$PKGS $THAMDO_DEPS_EXTRA"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# nodejs may come from another repository under the same name; npm ships with it there.
# Debian's own nodejs needs the npm package beside it.
if command -v node >/dev/null 2>&1; then
    missing=$(echo "$missing" | sed 's/ nodejs//')
elif [ "${1:-all}" = all ] && ! command -v npm >/dev/null 2>&1; then
    missing="$missing npm"
fi
if [ -z "$missing" ]; then
    exit 0
fi

echo "thamdo: missing packages:$missing"
if [ "$(id -u)" != 0 ]; then
    echo "thamdo: run as root:  apt-get update && apt-get install -y$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
