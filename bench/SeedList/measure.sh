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
trap 'docker rm -f "${names[@]}" >/dev/null' EXIT

median_ms() {   # command... -> median wall time in ms over $runs cold runs
  local times=()
  for _ in $(seq 1 "$runs"); do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}

listed=$("$ds01" container-list --format=simple | grep -c "^$tag-" || true)
[ "$listed" -eq "$count" ] || { echo "ds01 container-list showed $listed of $count containers" >&2; exit 1; }

docker_ms=$(median_ms docker ps -a --format json)
list_ms=$(median_ms "$ds01" container-list)
version_ms=$(median_ms "$ds01" --version)
engine_ms=$(median_ms "$ds01" -c 'Get-Ds01Container')
echo "containers=$count runs=$runs (median, cold process each)"
echo "docker ps -a --format json   ${docker_ms} ms"
echo "ds01 container-list          ${list_ms} ms   ratio $(awk "BEGIN {printf \"%.1f\", $list_ms / $docker_ms}")x"
echo "ds01 --version               ${version_ms} ms"
echo "ds01 -c 'Get-Ds01Container'  ${engine_ms} ms   (through the engine)"
