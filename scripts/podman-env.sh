#!/bin/bash
# podman-env.sh - a project-local podman that docker-compose (v1) can drive, as root.
#
#   scripts/podman-env.sh setup        install what is missing (deps.sh deploy), write the
#                                      configuration, import the base image debian:12-slim
#                                      (debootstrap, cached)
#   scripts/podman-env.sh run CMD...   setup, start `podman system service` on a socket under
#                                      build/podman/, run CMD with DOCKER_HOST and the podman
#                                      configuration exported, then stop the service and remove
#                                      every container, pod, network and volume of this state
#                                      (also when CMD fails or is interrupted)
#   scripts/podman-env.sh clean        that removal alone
#
# Everything podman keeps (images, containers, volumes, networks) is under build/podman/, not in
# /var/lib/containers: this script never touches the machine's own podman state. What podman needs
# here: runc (crun rejects the hybrid cgroup layout), cgroupfs, ulimits within the hard limits
# (there is no CAP_SYS_RESOURCE), netavark with aardvark-dns (containers find each other by
# service name), and a base image made from the machine's own Debian mirror.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
STATE=${THAMDO_PODMAN_STATE:-$ROOT/build/podman}

podman_env_exports() {
    export CONTAINERS_CONF="$STATE/containers.conf"
    export CONTAINERS_STORAGE_CONF="$STATE/storage.conf"
    export CONTAINERS_REGISTRIES_CONF="$STATE/registries.conf"
    export DOCKER_HOST="unix://$STATE/podman.sock"
    # docker-compose v1 must not try BuildKit or a docker CLI: the images are built by podman.
    export COMPOSE_DOCKER_CLI_BUILD=0 DOCKER_BUILDKIT=0
}

podman_env_install() {
    "$ROOT/scripts/deps.sh" deploy
}

podman_env_config() {
    mkdir -p "$STATE/tmp" "$STATE/networks"
    local nofile nproc
    nofile=$(ulimit -Hn)
    nproc=$(ulimit -Hu)
    [ "$nofile" = unlimited ] && nofile=1048576
    if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
    cat >"$STATE/containers.conf.new" <<CONF
# Written by scripts/podman-env.sh.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "$STATE/tmp"
[network]
network_backend = "netavark"
network_config_dir = "$STATE/networks"
CONF
    cat >"$STATE/storage.conf.new" <<CONF
# Written by scripts/podman-env.sh.
[storage]
driver = "overlay"
graphroot = "$STATE/storage"
runroot = "$STATE/run"
CONF
    cat >"$STATE/registries.conf.new" <<CONF
# Written by scripts/podman-env.sh: no registry is searched; every image is local.
unqualified-search-registries = []
short-name-mode = "permissive"
CONF
    local f
    for f in containers.conf storage.conf registries.conf; do
        if cmp -s "$STATE/$f.new" "$STATE/$f"; then rm "$STATE/$f.new"; else mv "$STATE/$f.new" "$STATE/$f"; fi
    done
}

# The machine's own Debian mirror: the first deb822 URIs or sources.list line for bookworm.
podman_env_mirror() {
    local m
    m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk '{print $2}' | grep -v security | head -n1 || true)
    [ -z "$m" ] && m=$(grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        grep -v security | awk '{print $2}' | grep -i debian | head -n1 || true)
    echo "${m:-http://deb.debian.org/debian}"
}

podman_env_base() {
    if podman image exists localhost/debian:12-slim; then return 0; fi
    local tar="$STATE/debian-12-minbase.tar"
    if [ ! -s "$tar" ]; then
        local dir="$STATE/debootstrap" mirror
        mirror=$(podman_env_mirror)
        echo "podman-env: debootstrap --variant=minbase bookworm from $mirror (once; cached in $tar)"
        rm -rf "$dir"
        debootstrap --variant=minbase bookworm "$dir" "$mirror" >"$STATE/debootstrap.log" 2>&1 || {
            tail -n 20 "$STATE/debootstrap.log" >&2
            exit 1
        }
        # As slim as debian:12-slim: no package lists, no apt cache.
        rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/*.bin "$dir"/var/cache/apt/archives/*.deb
        tar -C "$dir" -cf "$tar.new" .
        mv "$tar.new" "$tar"
        rm -rf "$dir"
    fi
    podman import -q --change 'CMD ["bash"]' - debian:12-slim <"$tar" >/dev/null
}

podman_env_setup() {
    podman_env_install
    podman_env_config
    podman_env_exports
    podman_env_base
}

podman_env_clean() {
    podman_env_exports
    [ -f "$CONTAINERS_CONF" ] || return 0
    podman pod rm -a -f >/dev/null 2>&1 || true
    podman rm -a -f -t 2 >/dev/null 2>&1 || true
    podman volume prune -f >/dev/null 2>&1 || true
    podman network prune -f >/dev/null 2>&1 || true
}

# Podman runs HEALTHCHECKs from systemd timers; without systemd nobody runs them, so a container
# would stay "starting" for ever. This loop runs each container's check once a second instead.
podman_env_health_ticker() {
    while :; do
        local id
        # All at once: one check runs a process in its container, which takes a while.
        for id in $(podman ps --format '{{.ID}} {{.Status}}' 2>/dev/null |
            awk '/\((healthy|unhealthy|starting)\)/ {print $1}'); do
            podman healthcheck run "$id" >/dev/null 2>&1 &
        done
        wait
        sleep 1
    done
}

podman_env_run() {
    podman_env_setup
    podman_env_clean # what a run killed before its trap left behind
    local sock="$STATE/podman.sock" svc ticker rc=0
    rm -f "$sock"
    podman system service --time=0 "unix://$sock" >"$STATE/service.log" 2>&1 &
    svc=$!
    podman_env_health_ticker &
    ticker=$!
    # shellcheck disable=SC2064
    trap "kill $ticker $svc 2>/dev/null; wait $svc 2>/dev/null; podman_env_clean; rm -f '$sock'" EXIT
    trap 'exit 130' INT TERM
    local _
    for _ in $(seq 1 100); do
        [ -S "$sock" ] && break
        sleep 0.1
    done
    [ -S "$sock" ] || {
        echo "podman-env: podman system service did not start (see $STATE/service.log)" >&2
        exit 1
    }
    "$@" || rc=$?
    return $rc
}

case "${1:-}" in
setup) podman_env_setup ;;
run)
    shift
    [ $# -gt 0 ] || { echo "usage: podman-env.sh run CMD..." >&2; exit 2; }
    podman_env_run "$@"
    ;;
clean) podman_env_clean ;;
*)
    echo "usage: podman-env.sh setup | run CMD... | clean" >&2
    exit 2
    ;;
esac
