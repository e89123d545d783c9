#!/usr/bin/env bash
# The benchmark suite in one run, against a private dockerd this script starts and stops (scripts/test-dockerd.sh,
# work dir .ci-work/bench-docker): BenchmarkDotNet for in-process costs (bench/Allocation), whole operations next to
# the docker CLI (bench/Operations), the Docker API through ds01d vs direct as a temporary non-admin account
# (bench/Service). Writes bench/results/latest.md and latest.json, with the machine it ran on.
#
#   bench/run-all.sh [--smoke] [--update-readme [--readme FILE]] [--no-build] [--out DIR] [--note TEXT]
#                    [--containers N] [--runs N] [--cold-runs N] [--decision 0,50,200,1000] [--service-runs N]
#                    [--service-only] [--service-others N]
#
#   --smoke          one iteration of everything, a few containers (about a minute): proves the suite runs, numbers mean nothing
#   --update-readme  rewrite README.md's table between <!-- perf-table:begin --> and <!-- perf-table:end -->
#                    (--readme FILE: that file's instead)
#   --note TEXT      added to the table's machine line (e.g. that other work loaded the machine)
#   --service-only   only the two ds01d rows (list, create + remove through ds01d vs direct): prints them, writes no
#                    latest.md and no README (for work on ds01d's request path; needs no pwsh)
#   --service-others N  before the ds01d rows, N containers of another uid made directly on dockerd (a shared
#                    server: ds01d's create checks only count the caller's); removed afterwards; with --service-only
# Needs root (dockerd, useradd), pwsh, and the Release build (done here unless --no-build).
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

smoke=0 update=0 build=1 service_only=0 service_others=0 out="$REPO/bench/results" note="" readme="$REPO/README.md"
containers=200 runs=15 cold_runs=9 decision=0,50,200,1000 service_runs=15
while [ $# -gt 0 ]; do
    case "$1" in
        --smoke) smoke=1 ;;
        --update-readme) update=1 ;;
        --readme) readme="${2:?}"; shift ;;
        --no-build) build=0 ;;
        --out) out="${2:?}"; shift ;;
        --note) note="${2?}"; shift ;;
        --containers) containers="${2:?}"; shift ;;
        --runs) runs="${2:?}"; shift ;;
        --cold-runs) cold_runs="${2:?}"; shift ;;
        --decision) decision="${2:?}"; shift ;;
        --service-runs) service_runs="${2:?}"; shift ;;
        --service-only) service_only=1 ;;
        --service-others) service_others="${2:?}"; shift ;;
        -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
        *) echo "run-all.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done
if [ "$smoke" -eq 1 ]; then containers=5 runs=1 cold_runs=1 decision=0,5 service_runs=1; fi
for n in "$containers" "$runs" "$cold_runs" "$service_runs"; do
    [[ "$n" =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] || { echo "run-all.sh: counts must be positive integers, got '$n'" >&2; exit 2; }
done
[[ "$service_others" =~ ^[0-9]+$ ]] || { echo "run-all.sh: --service-others takes a number" >&2; exit 2; }
# The table's list row names --containers; other containers beside them would make it wrong.
[ "$service_others" -eq 0 ] || [ "$service_only" -eq 1 ] || { echo "run-all.sh: --service-others needs --service-only" >&2; exit 2; }
[[ "$decision" =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "run-all.sh: --decision takes numbers like 0,50,200" >&2; exit 2; }
[ "$service_only" -eq 0 ] || [ "$update" -eq 0 ] || { echo "run-all.sh: --service-only writes no table; leave out --update-readme" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "run-all.sh: needs root (it starts dockerd and makes a temporary account)" >&2; exit 2; }
export PATH="$PATH:$HOME/.dotnet/tools" DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1
# Nothing of the caller's environment may point the run at another daemon, config or state: it makes its own.
unset DS01_CONFIG_DIR DS01_STATE_DIR DS01_LOG_DIR DS01_NVIDIA_SMI DS01_TEST_DOCKER_SOCK DS01_TEST_DOCKER_RUNDIR DS01_TEST_DOCKER_BRIDGE
[ "$service_only" -eq 1 ] || command -v pwsh >/dev/null || { echo "run-all.sh: pwsh not found (scripts/test.sh --install installs it)" >&2; exit 2; }

step() { printf '=== %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
bin() { printf '%s/%s/bin/Release/net10.0/%s.dll' "$REPO" "$1" "$2"; }
if [ "$build" -eq 1 ]; then
    step "dotnet build Ds01.sln -c Release"
    dotnet build Ds01.sln -c Release --nologo -v minimal
fi
for f in "$(bin bench/Allocation Ds01.Bench.Allocation)" "$(bin bench/Operations Ds01.Bench.Operations)" \
         "$(bin bench/Service Ds01.Bench.Service)" "$(bin src/Ds01.Service ds01d)"; do
    [ -f "$f" ] || { echo "run-all.sh: $f is missing (dotnet build Ds01.sln -c Release)" >&2; exit 1; }
done

# One run at a time per checkout: a second would share (and stop) the first one's dockerd.
mkdir -p "$REPO/.ci-work"
exec 9>"$REPO/.ci-work/bench-run.lock"
flock -n 9 || { echo "run-all.sh: another bench/run-all.sh is running in $REPO" >&2; exit 1; }

work="$(mktemp -d /tmp/ds01-bench-all.XXXXXX)"
chmod 755 "$work"
account="" svc_pid=""
export DS01_TEST_DOCKER_DIR="$REPO/.ci-work/bench-docker"
cleanup() {
    local rc=$?
    if [ -n "$svc_pid" ] && kill -0 "$svc_pid" 2>/dev/null; then kill -TERM "$svc_pid"; wait "$svc_pid" 2>/dev/null || true; fi
    if [ -n "$account" ] && id "$account" >/dev/null 2>&1; then userdel -r "$account" 2>/dev/null || userdel "$account" || true; fi
    "$REPO/scripts/test-dockerd.sh" stop >/dev/null 2>&1 || echo "run-all.sh: stopping the bench dockerd failed" >&2
    rm -rf "$work"
    exit "$rc"
}
trap cleanup EXIT

load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
step "private dockerd ($DS01_TEST_DOCKER_DIR)"
# 9>&-: the daemons must not inherit the run lock.
eval "$("$REPO/scripts/test-dockerd.sh" start </dev/null 9>&- | tail -n 1)"
echo "DOCKER_HOST=$DOCKER_HOST"

if [ "$service_only" -eq 0 ]; then
step "in-process costs (BenchmarkDotNet$([ "$smoke" -eq 1 ] && echo ', Dry job'))"
bdn=(dotnet "$(bin bench/Allocation Ds01.Bench.Allocation)" --json-out "$work/inprocess.json")
[ "$smoke" -eq 0 ] || bdn+=(--smoke)
if ! "${bdn[@]}" >"$work/inprocess.log" 2>&1; then
    tail -n 40 "$work/inprocess.log" >&2
    echo "run-all.sh: the BenchmarkDotNet suite failed" >&2; exit 1
fi
grep -E '^\|' "$work/inprocess.log" | tail -n 20 || true

step "whole operations against dockerd ($containers containers, $runs runs, $cold_runs cold processes)"
dotnet "$(bin bench/Operations Ds01.Bench.Operations)" measure --out "$work/operations.json" \
    --containers "$containers" --runs "$runs" --cold-runs "$cold_runs" --decision "$decision" --warmup "$((1 - smoke))"
fi

step "Docker API through ds01d vs direct, as a temporary non-admin account"
account="ds01bench$$"
useradd -m -U -s /bin/sh "$account"
# Another uid's containers (no account needed: nothing runs in them), named as Ds01 names them.
others_uid=$(( $(id -u "$account") + 100000 ))
for i in $(seq 1 "$service_others"); do printf 'other%04d._.%s\n' "$i" "$others_uid"; done |
    xargs -r -P 4 -I{} docker create -q --name {} --label aime.mlc=other --label ds01.user=other ds01-test/busybox:latest true >/dev/null
svc="$work/svc"
mkdir -p "$svc/etc" "$svc/state" "$svc/log" "$svc/out"
chmod 755 "$svc" "$svc/etc" "$svc/log"; chmod 700 "$svc/state"
chown "$account:$account" "$svc/out"
# Room for every container the benchmark makes, and its create's limits (1 CPU, 128 MiB, 100 pids).
cat >"$svc/etc/resource-limits.yaml" <<YAML
defaults:
  cpu_limit: 1
  memory_limit: 256M
  pids_limit: 200
  max_containers: $((containers + 50))
  gpu_limit: 1
YAML
printf 'attach: simulated\ngpus:\n  - { index: 0, uuid: GPU-00000000-0000-4000-8000-000000000000, model: Simulated A100 80GB, memory_mib: 81920 }\n' >"$svc/etc/gpu-config.yaml"
chmod 644 "$svc/etc/"*
install -m 644 /dev/null "$svc/log/events.jsonl"
dotnet "$(bin src/Ds01.Service ds01d)" run --socket "$svc/ds01d.sock" --docker "$DOCKER_HOST" \
    --config "$svc/etc" --state "$svc/state" --log "$svc/log" >"$work/ds01d.log" 2>&1 9>&- &
svc_pid=$!
for _ in $(seq 1 600); do
    [ -S "$svc/ds01d.sock" ] && docker -H "unix://$svc/ds01d.sock" version >/dev/null 2>&1 && break
    kill -0 "$svc_pid" 2>/dev/null || { cat "$work/ds01d.log" >&2; echo "run-all.sh: ds01d exited" >&2; exit 1; }
    sleep 0.1
done
docker -H "unix://$svc/ds01d.sock" version >/dev/null 2>&1 || { cat "$work/ds01d.log" >&2; echo "run-all.sh: ds01d did not answer within 60 s" >&2; exit 1; }
setpriv --reuid="$account" --regid="$account" --init-groups -- env HOME="/home/$account" \
    dotnet "$(bin bench/Service Ds01.Bench.Service)" "$DOCKER_HOST" "unix://$svc/ds01d.sock" "$containers" "$service_runs" "$svc/out/service.json"
cp "$svc/out/service.json" "$work/service.json"
kill -TERM "$svc_pid"; wait "$svc_pid" 2>/dev/null || true; svc_pid=""
for i in $(seq 1 "$service_others"); do printf 'other%04d._.%s\n' "$i" "$others_uid"; done | xargs -r -P 4 -n 20 docker rm -f >/dev/null
[ "$service_only" -eq 0 ] || exit 0

step "report"
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"
commit="$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[ -z "$(git -C "$REPO" status --porcelain --untracked-files=no 2>/dev/null)" ] || commit="$commit+changes"
{
    echo "date=$(date -u +%Y-%m-%dT%H:%MZ)"
    echo "commit=$commit"
    echo "mode=$([ "$smoke" -eq 1 ] && echo smoke || echo full)"
    echo "cpu=$(sed -n 's/^model name[[:space:]]*: *//p' /proc/cpuinfo | head -n 1)"
    echo "cores=$(nproc)"
    echo "kernel=$(uname -r)"
    echo "dockerd=$(docker version --format '{{.Server.Version}}')"
    echo "api=$(docker version --format '{{.Server.APIVersion}}')"
    echo "load_before=$load_before"
    echo "load_after=$load_after"
    echo "runs=$runs"
    echo "cold_runs=$cold_runs"
    echo "note=$(printf '%s' "$note" | tr '\n' ' ')"
} >"$work/machine.env"
render=(dotnet "$(bin bench/Operations Ds01.Bench.Operations)" render --dir "$work")
[ "$update" -eq 0 ] || render+=(--readme "$readme")
"${render[@]}"
mkdir -p "$out"
cp "$work/latest.md" "$work/latest.json" "$out/"
cat "$out/latest.md"
echo "run-all.sh: wrote $out/latest.md and $out/latest.json"
