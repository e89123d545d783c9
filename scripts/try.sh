#!/usr/bin/env bash
# First run, one command: scripts/try.sh [--no-build]   (as root)
#
# Builds, starts a private dockerd with a local busybox image (scripts/test-dockerd.sh), and walks through Ds01's
# main job on a simulated server: 2 full GPUs and one MIG-partitioned GPU (gpu-config.yaml `gpus:` with
# `attach: simulated`). Three demo accounts: alice takes both full GPUs, bob both MIG slices, carol is refused
# for lack of a free slot; then Get-Ds01Gpu, stats, stop (the GPU is held), remove (released), and carol gets
# her GPU. Each command is printed before its output, as `ds01 -c '<command>'` runs it. Exit 0 only when every
# step behaved as shown (CI runs this as a test). The demo accounts (ds01try-*) it created and its dockerd are
# removed/stopped at the end, whatever happens.
#
# Environment: DS01_TEST_DOCKER_DIR (dockerd work dir; default .ci-work/try-docker), NO_COLOR.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

build=1
case "${1:-}" in
    --no-build) build=0 ;;
    "") ;;
    *) echo "usage: $0 [--no-build]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
    echo "try.sh: run as root (it starts a private dockerd and creates three demo accounts)" >&2
    exit 1
fi

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 NO_COLOR=1
export DS01_TEST_DOCKER_DIR="${DS01_TEST_DOCKER_DIR:-$REPO/.ci-work/try-docker}"
DS01_DLL="$REPO/src/Ds01.Cli/bin/Release/net10.0/ds01.dll"
WORK="$(mktemp -d /tmp/ds01-try.XXXXXX)"
USERS=(ds01try-alice ds01try-bob ds01try-carol)
created_users=()

cleanup() {
    local rc=$?
    if [ -n "${DOCKER_HOST:-}" ] && [ -f "$DS01_DLL" ]; then
        # Whatever a failed step left behind.
        dotnet "$DS01_DLL" -c 'Get-Ds01Container -AllUsers | Remove-Ds01Container -Stop -Force' >/dev/null 2>&1 || true
    fi
    "$REPO/scripts/test-dockerd.sh" stop >/dev/null 2>&1 || { echo "try.sh: stopping dockerd failed" >&2; rc=1; }
    for u in ${created_users[@]+"${created_users[@]}"}; do userdel "$u" >/dev/null 2>&1 || true; done
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT

say() { printf '\n# %s\n' "$*"; }
# show <PowerShell text>: print it, run it in ds01, stop the walk-through when it fails.
show() {
    printf 'PS> %s\n' "$1"
    dotnet "$DS01_DLL" -c "$1"
}
# refused <error id> <PowerShell text>: the command must fail with that error id.
refused() {
    printf 'PS> %s\n' "$2"
    local err
    if err="$(dotnet "$DS01_DLL" -c "$2" 2>&1)"; then
        echo "$err"; echo "try.sh: expected $1, but the command succeeded" >&2; return 1
    fi
    echo "$err"
    grep -q "id: $1" <<<"$err" || { echo "try.sh: expected error id $1" >&2; return 1; }
}
# expect <regex> <PowerShell text>: the command's output must match.
expect() {
    printf 'PS> %s\n' "$2"
    local out
    out="$(dotnet "$DS01_DLL" -c "$2")"
    echo "$out"
    grep -Eq "$1" <<<"$out" || { echo "try.sh: expected output matching /$1/" >&2; return 1; }
}

if [ "$build" -eq 1 ]; then
    say "build"
    dotnet build Ds01.sln -c Release --nologo -v quiet
fi
[ -f "$DS01_DLL" ] || { echo "try.sh: $DS01_DLL missing; run without --no-build" >&2; exit 1; }

say "a private dockerd with a local busybox image"
eval "$("$REPO/scripts/test-dockerd.sh" start </dev/null)"
echo "DOCKER_HOST=$DOCKER_HOST"

for u in "${USERS[@]}"; do
    if ! id "$u" >/dev/null 2>&1; then
        useradd --no-create-home --shell /usr/sbin/nologin "$u"
        created_users+=("$u")
    fi
done

mkdir -p "$WORK/etc" "$WORK/state" "$WORK/log" "$WORK/ws"
cp config/ml_images.repo "$WORK/etc/"
cat >"$WORK/etc/resource-limits.yaml" <<EOF
defaults: { gpu_limit: 2, cpu_limit: 1, memory_limit: 256M, gpu_hold_after_stop_minutes: 15 }
workspace_root: "$WORK/ws/{user}/{project}"
allowed_mount_roots: ["$WORK/ws"]
ulimits: { memlock: 8388608 }
EOF
cat >"$WORK/etc/gpu-config.yaml" <<'EOF'
attach: simulated
gpus:
  - { index: 0, uuid: GPU-7a000000-0000-4000-8000-000000000000, model: NVIDIA H100 80GB HBM3, memory_mib: 81559 }
  - { index: 1, uuid: GPU-7a000000-0001-4000-8000-000000000001, model: NVIDIA H100 80GB HBM3, memory_mib: 81559 }
  - index: 2
    uuid: GPU-7a000000-0002-4000-8000-000000000002
    model: NVIDIA A100-SXM4-80GB
    memory_mib: 81920
    mig_instances:
      - { device: 0, profile: 3g.40gb, uuid: MIG-7b000000-0200-5000-9000-000000000200 }
      - { device: 1, profile: 3g.40gb, uuid: MIG-7b000000-0201-5000-9000-000000000201 }
EOF
export DS01_CONFIG_DIR="$WORK/etc" DS01_STATE_DIR="$WORK/state" DS01_LOG_DIR="$WORK/log"
chmod 1777 "$WORK/state"

IMG=ds01-test/busybox:latest
say "the server: two full GPUs, one GPU split into two MIG slices"
show 'Get-Ds01Gpu'

say "alice takes both full GPUs, bob both MIG slices (root acts for them with -User)"
expect '^0,1$' "(New-Ds01Container train -Image $IMG -GpuCount 2 -User ds01try-alice -PassThru).Gpu"
expect '^2\.0,2\.1$' "(New-Ds01Container sweep -Image $IMG -GpuCount 2 -User ds01try-bob -PassThru).Gpu"

say "carol finds no free slot: refused at once (with -Wait she would queue)"
refused NoFreeGpu "New-Ds01Container thesis -Image $IMG -GpuCount 1 -User ds01try-carol"

say "who holds what"
show 'Get-Ds01Gpu'
show 'Get-Ds01GpuAllocation'

say "start and sample"
show 'Start-Ds01Container train -User ds01try-alice; Start-Ds01Container sweep -User ds01try-bob'
show 'Get-Ds01ContainerStats -User ds01try-alice'

say "alice stops: her GPUs stay held for her (gpu_hold_after_stop_minutes), carol is still refused"
show 'Stop-Ds01Container train -User ds01try-alice -Kill'
expect 'Held' 'Get-Ds01Gpu -Slot 0'
refused NoFreeGpu "New-Ds01Container thesis -Image $IMG -GpuCount 1 -User ds01try-carol"

say "alice removes the container: the GPUs go back to the pool at once, and carol gets one"
show 'Remove-Ds01Container train -User ds01try-alice -Force'
expect '^0$' "(New-Ds01Container thesis -Image $IMG -GpuCount 1 -User ds01try-carol -PassThru).Gpu"
show 'Get-Ds01Container -AllUsers'

say "clean up"
show 'Get-Ds01Container -AllUsers | Remove-Ds01Container -Stop -Force'
echo
echo "try.sh: done"
