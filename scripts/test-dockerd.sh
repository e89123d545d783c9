#!/usr/bin/env bash
# A private dockerd for the DS01 tests: its own data root, exec root, pidfile, socket and config,
# no iptables/ip-forward changes, and a locally built busybox image (nothing is ever pulled).
#
#   scripts/test-dockerd.sh start   # install if missing (root), start, import image; prints the export line
#   scripts/test-dockerd.sh env     # prints: export DOCKER_HOST=unix://...
#   scripts/test-dockerd.sh stop    # stops the daemon by its pidfile; kills nothing else
#   scripts/test-dockerd.sh status  # exit 0 when running
#
#   eval "$(scripts/test-dockerd.sh start)"
#
# Environment:
#   DS01_TEST_DOCKER_DIR     work dir (data root, pidfile, log); default $REPO/.ci-work/docker
#   DS01_TEST_DOCKER_SOCK    socket path; default /run/ds01d-<id>/docker.sock (id derived from the work dir)
#   DS01_TEST_DOCKER_RUNDIR  exec root parent; default /run/ds01d-<id> (kept short: unix sockets max 108 chars)
#   DS01_TEST_DOCKER_BRIDGE  passed as --bridge; default "none" (the default bridge docker0 is host-wide and
#                            would be shared by every parallel instance); "default" leaves docker0 to dockerd
# Only stdout carries the export line; progress goes to stderr.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${DS01_TEST_DOCKER_DIR:-$REPO/.ci-work/docker}"
case "$WORK" in /*) ;; *) WORK="$PWD/$WORK" ;; esac
ID="$(printf '%s' "$WORK" | cksum | cut -d' ' -f1)"
RUNDIR="${DS01_TEST_DOCKER_RUNDIR:-/run/ds01d-$ID}"
SOCK="${DS01_TEST_DOCKER_SOCK:-$RUNDIR/docker.sock}"
EXECROOT="$RUNDIR/exec"
PIDFILE="$WORK/dockerd.pid"
LOG="$WORK/dockerd.log"
BRIDGE="${DS01_TEST_DOCKER_BRIDGE:-none}"
IMAGE="ds01-test/busybox:latest"
HOST="unix://$SOCK"

log() { printf 'test-dockerd: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

docker_cli() {
    command -v docker >/dev/null 2>&1 || die "docker CLI not found"
    docker -H "$HOST" "$@"
}

# The pid in our pidfile, only if that process is a dockerd using our pidfile (guards against pid reuse).
our_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid
    pid="$(tr -dc '0-9' <"$PIDFILE")"
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- " --pidfile $PIDFILE " || return 1
    printf '%s\n' "$pid"
}

ready() { docker_cli version >/dev/null 2>&1; }

print_env() { printf 'export DOCKER_HOST=%s\n' "$HOST"; }

install_if_missing() {
    # The image needs the static busybox (a dynamic one has no libc inside the image).
    if command -v dockerd >/dev/null 2>&1 && command -v docker >/dev/null 2>&1 &&
       dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'install ok installed'; then
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "dockerd/docker/busybox missing and not root: run as root, or: apt-get install -y docker.io busybox-static"
    log "installing docker.io busybox-static"
    # Keep the package scripts from starting a system dockerd (it would rewrite the firewall).
    local policy=/usr/sbin/policy-rc.d made_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && made_policy=1
    fi
    local rc=0
    { export DEBIAN_FRONTEND=noninteractive
      apt-get update -q >&2 &&
      apt-get install -y -q --no-install-recommends docker.io busybox-static >&2; } || rc=$?
    [ "$made_policy" -eq 1 ] && rm -f "$policy"
    [ "$rc" -eq 0 ] || die "apt-get install failed ($rc)"
}

import_image() {
    if docker_cli image inspect "$IMAGE" >/dev/null 2>&1; then return 0; fi
    log "importing $IMAGE from /bin/busybox"
    local rootfs="$WORK/rootfs"
    rm -rf "$rootfs"
    mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,proc,sys,dev}
    cp /bin/busybox "$rootfs/bin/busybox"
    local applet
    while IFS= read -r applet; do
        [ -n "$applet" ] || continue
        [ -e "$rootfs/$applet" ] || [ -L "$rootfs/$applet" ] || ln -s /bin/busybox "$rootfs/$applet"
    done < <(/bin/busybox --list-full)
    [ -e "$rootfs/bin/sh" ] || ln -s /bin/busybox "$rootfs/bin/sh"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    chmod 1777 "$rootfs/tmp"
    chmod 700 "$rootfs/root"
    tar -C "$rootfs" --numeric-owner --owner=0 --group=0 -cf - . |
        docker_cli import --change 'CMD ["/bin/sh"]' - "$IMAGE" >/dev/null
    rm -rf "$rootfs"
}

start() {
    if our_pid >/dev/null && ready; then
        print_env
        return 0
    fi
    [ "$(id -u)" -eq 0 ] || die "starting dockerd needs root (the daemon runs as root); run it as root (e.g. sudo $0 start, or scripts/test.sh --own-dockerd in a root shell)"
    install_if_missing
    if pid="$(our_pid)"; then
        die "dockerd (pid $pid) is running for $WORK but $SOCK does not answer; see $LOG or run: $0 stop"
    fi
    rm -f "$PIDFILE"
    [ ! -S "$SOCK" ] || rm -f "$SOCK"    # stale: our daemon is not running
    mkdir -p "$WORK/data" "$EXECROOT" "$(dirname "$SOCK")"
    chmod 755 "$RUNDIR" "$(dirname "$SOCK")"
    printf '{}\n' >"$WORK/daemon.json"       # never read /etc/docker/daemon.json
    local bridge_opt=(--bridge="$BRIDGE")
    [ "$BRIDGE" != default ] || bridge_opt=()
    log "starting dockerd on $SOCK (work dir $WORK, log $LOG)"
    setsid dockerd \
        --config-file "$WORK/daemon.json" \
        --data-root "$WORK/data" \
        --exec-root "$EXECROOT" \
        --pidfile "$PIDFILE" \
        -H "$HOST" \
        --iptables=false --ip-forward=false --ip-masq=false \
        ${bridge_opt[@]+"${bridge_opt[@]}"} \
        --containerd-namespace "ds01-$ID" \
        --containerd-plugins-namespace "ds01-$ID-plugins" \
        </dev/null >>"$LOG" 2>&1 &
    local bgpid=$! i
    for ((i = 0; i < 300; i++)); do
        if ready; then break; fi
        if ! kill -0 "$bgpid" 2>/dev/null; then
            tail -n 30 "$LOG" >&2 || true
            die "dockerd exited during start-up (log: $LOG)"
        fi
        sleep 0.1
    done
    if ! ready; then
        tail -n 30 "$LOG" >&2 || true
        stop || true
        die "dockerd did not answer on $SOCK within 30 s (log: $LOG)"
    fi
    chmod 666 "$SOCK"
    import_image
    print_env
}

stop() {
    local pid i
    if ! pid="$(our_pid)"; then
        rm -f "$PIDFILE" "$SOCK"
        rmdir "$(dirname "$SOCK")" "$EXECROOT" "$RUNDIR" 2>/dev/null || true
        log "not running"
        return 0
    fi
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 600; i++)); do    # dockerd gives running containers 15 s; allow 60 s in all
        [ -d "/proc/$pid" ] || break
        sleep 0.1
    done
    if [ -d "/proc/$pid" ]; then
        log "dockerd (pid $pid) ignored SIGTERM for 60 s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        # its own containerd would be orphaned: stop it by its own pidfile under our exec root
        local cpid
        cpid="$(tr -dc '0-9' <"$EXECROOT/containerd/containerd.pid" 2>/dev/null || true)"
        if [ -n "$cpid" ] && tr '\0' ' ' <"/proc/$cpid/cmdline" 2>/dev/null | grep -q -- "$EXECROOT/containerd"; then
            kill -TERM "$cpid" 2>/dev/null || true
        fi
        for ((i = 0; i < 50; i++)); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    fi
    [ ! -d "/proc/$pid" ] || die "dockerd (pid $pid) is still running"
    rm -f "$PIDFILE" "$SOCK"
    # the exec root only holds run-time state; drop it unless something is still mounted there
    if ! grep -qF " $EXECROOT/" /proc/mounts; then rm -rf "$EXECROOT"; fi
    rmdir "$(dirname "$SOCK")" "$RUNDIR" 2>/dev/null || true
    log "stopped"
}

status() {
    if pid="$(our_pid)" && ready; then
        log "running: pid $pid, $HOST"
        return 0
    fi
    log "not running ($HOST)"
    return 1
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) print_env ;;
    status) status ;;
    *) echo "usage: $0 start|stop|env|status" >&2; exit 2 ;;
esac
