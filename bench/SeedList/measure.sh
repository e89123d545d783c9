#!/usr/bin/env bash
# Cold `ds01 container-list` with N containers vs a cold `docker ps -a --format json` on the same daemon.
# Each run is a fresh process; the median of RUNS runs is reported, and the ratio.
# Usage: DOCKER_HOST=... bench/SeedList/measure.sh [ds01 executable] [containers=20] [runs=15]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ds01=${1:-$root/src/Ds01.Cli/bin/Release/net10.0/ds01}
count=${2:-20}
runs=${3:-15}
image=ds01-test/busybox:latest
user=$(id -un); uid=$(id -u)
export DS01_CONFIG_DIR=${DS01_CONFIG_DIR:-$root/config}
tag="bench$$"

names=()
for i in $(seq 1 "$count"); do
  n="$tag-$i._.$uid"
  docker create --name "$n" --label aime.mlc="$user" --label aime.mlc.USER="$user" --label aime.mlc.NAME="$tag-$i" \
    --label ds01.managed=true --label ds01.user="$user" --label ds01.user_id="$uid" --label ds01.name="$tag-$i" "$image" >/dev/null
  names+=("$n")
done
timing=$(mktemp)
trap 'docker rm -f "${names[@]}" >/dev/null; rm -f "$timing"' EXIT

median_ms() {   # command... -> "wall cpu": median wall time and median CPU time (user+sys) in ms over $runs cold runs
  local walls=() cpus=()
  for _ in $(seq 1 "$runs"); do
    local out
    # CPU time is what the machine's load hardly changes; wall time is what a person waits.
    /usr/bin/time -o "$timing" -f "%e %U %S" "$@" >/dev/null 2>/dev/null
    out=$(tail -1 "$timing")
    walls+=($(awk '{printf "%d", $1 * 1000}' <<<"$out"))
    cpus+=($(awk '{printf "%d", ($2 + $3) * 1000}' <<<"$out"))
  done
  local mw mc
  mw=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  mc=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
  echo "$mw $mc"
}

listed=$("$ds01" container-list --format=simple | grep -c "^$tag-" || true)
[ "$listed" -eq "$count" ] || { echo "ds01 container-list showed $listed of $count containers" >&2; exit 1; }

# --version, --help and a plain container-list must not load the PowerShell engine (checked when strace is there).
if command -v strace >/dev/null; then
  for args in "--version" "--help" "container-list"; do
    # shellcheck disable=SC2086
    if strace -f -e trace=openat "$ds01" $args 2>&1 >/dev/null | grep -q 'System.Management.Automation.dll'; then
      echo "ds01 $args loaded the PowerShell engine" >&2; exit 1
    fi
  done
  echo "engine not loaded by: ds01 --version, ds01 --help, ds01 container-list (strace)"
fi

read -r docker_ms docker_cpu < <(median_ms docker ps -a --format json)
read -r list_ms list_cpu < <(median_ms "$ds01" container-list)
read -r version_ms version_cpu < <(median_ms "$ds01" --version)
read -r engine_ms engine_cpu < <(median_ms "$ds01" -c 'Get-Ds01Container')
ratio() { awk "BEGIN {printf \"%.1f\", $1 / $2}"; }
echo "containers=$count runs=$runs (median, cold process each; load average $(cut -d' ' -f1 /proc/loadavg))"
echo "                              wall      cpu"
echo "docker ps -a --format json    ${docker_ms} ms  ${docker_cpu} ms"
echo "ds01 container-list           ${list_ms} ms  ${list_cpu} ms   ratio $(ratio "$list_ms" "$docker_ms")x wall, $(ratio "$list_cpu" "$docker_cpu")x cpu"
echo "ds01 --version                ${version_ms} ms  ${version_cpu} ms"
echo "ds01 -c 'Get-Ds01Container'   ${engine_ms} ms  ${engine_cpu} ms   (through the engine)"
