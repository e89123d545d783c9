#!/usr/bin/env bash
# The one test command (CI runs exactly this):
#   scripts/test.sh [--no-build] [--no-psparse] [--no-pester] [--install] [--own-dockerd]
#                   [--extra-passed N] [--extra-failed N]
#
# Runs `dotnet test` for tests/Unit and tests/Integration (Release, TRX + console output), parses every
# PowerShell file with the real parser (scripts/psparse.sh, counted as one test), runs the Pester specs under
# pwsh against out/Ds01 (scripts/pester.sh; every Pester test counts, RealGpu-tagged ones as skipped), then
# prints as its very last line: "N passed, N failed" (", N skipped" only when N > 0). Exit 1 if anything
# failed, including a test project that did not build or run (counted as one failure, never as "0 failed").
#
# Integration tests and Pester specs need a dockerd. --own-dockerd starts a private one (scripts/test-dockerd.sh,
# as root) and stops it at the end; otherwise DOCKER_HOST must point at one. With DS01_REQUIRE_DOCKER=1 the
# integration tests fail instead of skipping when it is unreachable. --install installs pwsh and Pester when
# missing (from the NuGet feed). TRX/NUnit files go to $DS01_TEST_RESULTS (default .ci-work/test-results).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO" || exit 2
RESULTS="${DS01_TEST_RESULTS:-$REPO/.ci-work/test-results}"
PROJECTS=(tests/Unit tests/Integration)

build_opt=() psparse=1 pester=1 install=() own_dockerd=0 passed=0 failed=0 skipped=0
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) build_opt=(--no-build) ;;
        --no-psparse) psparse=0 ;;
        --no-pester) pester=0 ;;
        --install) install=(--install) ;;
        --own-dockerd) own_dockerd=1 ;;
        --extra-passed) passed=$((passed + ${2:?})); shift ;;
        --extra-failed) failed=$((failed + ${2:?})); shift ;;
        *) echo "usage: $0 [--no-build] [--no-psparse] [--no-pester] [--install] [--own-dockerd] [--extra-passed N] [--extra-failed N]" >&2; exit 2 ;;
    esac
    shift
done

export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

rm -rf "$RESULTS"
mkdir -p "$RESULTS"

if [ "$own_dockerd" -eq 1 ]; then
    [ "$(id -u)" -eq 0 ] || { echo "test.sh: --own-dockerd needs root (it installs and starts dockerd); run it as root" >&2; exit 2; }
    export DS01_REQUIRE_DOCKER=1
    # Quiet on success so the summary stays the last line.
    trap '"$REPO/scripts/test-dockerd.sh" stop >/dev/null 2>&1 || echo "test.sh: stopping dockerd failed" >&2' EXIT
    if dockerd_env="$("$REPO/scripts/test-dockerd.sh" start </dev/null)"; then
        eval "$dockerd_env"
    else
        echo "FAILED: dockerd did not start" >&2
        eval "$("$REPO/scripts/test-dockerd.sh" env)"   # never fall back to another daemon
        failed=$((failed + 1))
    fi
    echo "DOCKER_HOST=$DOCKER_HOST"
fi

# attr NAME <element text>  ->  the attribute's integer value (0 when absent)
attr() { local v; v="$(printf '%s' "$2" | sed -n "s/.*[[:space:]]$1=\"\\([0-9]*\\)\".*/\\1/p")"; echo "${v:-0}"; }

# failed_tests TRX  ->  "name: first line of the message" per failed test, at most 10 (awk only: no python on CI)
failed_tests() {
    awk '
        /<UnitTestResult / && /outcome="Failed"/ {
            name = $0; sub(/.*testName="/, "", name); sub(/".*/, "", name); want = 1; next }
        want && /<Message>/ {
            msg = $0; sub(/.*<Message>/, "", msg); sub(/<\/Message>.*/, "", msg)
            if (n++ < 10) print name ": " substr(msg, 1, 240); want = 0 }
    ' "$1" | sed 's/&quot;/"/g; s/&apos;/'"'"'/g; s/&lt;/</g; s/&gt;/>/g; s/&amp;/\&/g'
}

problems=()
for proj in "${PROJECTS[@]}"; do
    name="$(basename "$proj")"
    trx="$RESULTS/$name.trx"
    echo "=== dotnet test $proj"
    dotnet test "$proj" -c Release ${build_opt[@]+"${build_opt[@]}"} --nologo \
        --results-directory "$RESULTS" \
        --logger "trx;LogFileName=$name.trx" \
        --logger "console;verbosity=normal" \
        --blame-hang --blame-hang-timeout 15m --blame-hang-dump-type none
    rc=$?
    if [ ! -f "$trx" ]; then
        echo "*** $proj: no results (dotnet test exit $rc; build or run failure) - counted as 1 failed"
        failed=$((failed + 1)); problems+=("$proj: did not run")
        continue
    fi
    counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
    if [ -z "$counters" ]; then
        echo "*** $proj: $trx has no <Counters> - counted as 1 failed"
        failed=$((failed + 1)); problems+=("$proj: unreadable results")
        continue
    fi
    t="$(attr total "$counters")" p="$(attr passed "$counters")" f="$(attr failed "$counters")"
    e="$(attr error "$counters")" a="$(attr aborted "$counters")" to="$(attr timeout "$counters")"
    # xunit's skipped tests are UnitTestResults with outcome NotExecuted; the counters leave them out
    s="$(grep -o '<UnitTestResult [^>]*outcome="NotExecuted"' "$trx" | wc -l)"
    f=$((f + e + a + to))
    echo "--- $proj: total $t, passed $p, failed $f, skipped $s (dotnet test exit $rc)"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
    [ "$f" -eq 0 ] || problems+=("$proj: $f failed")
    # CI keeps only the tail of the log: name each failed test (and its message's first line) next to the summary.
    while IFS= read -r ft; do [ -n "$ft" ] && problems+=("  $ft"); done < <(failed_tests "$trx")
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "*** $proj: dotnet test exit $rc with no failed test (crash or abort) - counted as 1 failed"
        failed=$((failed + 1)); problems+=("$proj: test run exit $rc")
    fi
done

if [ "$psparse" -eq 1 ]; then
    echo "=== PowerShell parse check (scripts/psparse.sh)"
    if "$REPO/scripts/psparse.sh" ${build_opt[@]+"${build_opt[@]}"}; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); problems+=("PowerShell parse check")
    fi
fi

# Tests clean up after themselves: nothing untagged may be left in the test daemon (a leak there is a leak on a server).
if [ -n "${DOCKER_HOST:-}" ] && command -v docker >/dev/null 2>&1 && docker version >/dev/null 2>&1; then
    echo "=== no untagged images left in the test daemon"
    left="$(docker images --filter dangling=true --quiet | wc -l)"
    if [ "$left" -eq 0 ]; then
        passed=$((passed + 1))
    else
        docker images --filter dangling=true
        failed=$((failed + 1)); problems+=("$left untagged image(s) left in the test daemon")
    fi
fi

if [ "$pester" -eq 1 ]; then
    echo "=== Pester specs under pwsh (scripts/pester.sh)"
    "$REPO/scripts/pester.sh" ${install[@]+"${install[@]}"} "$RESULTS/Pester.xml" </dev/null 2>&1 | tee "$RESULTS/pester.log"
    line="$(grep -E '^pester: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$RESULTS/pester.log" | tail -n 1)"
    if [ -z "$line" ]; then
        echo "*** Pester: no summary (pwsh or Pester missing, or the run crashed) - counted as 1 failed"
        failed=$((failed + 1)); problems+=("Pester: did not run")
    else
        read -r pp pf ps <<<"$(printf '%s' "$line" | sed 's/[^0-9]\+/ /g')"
        passed=$((passed + pp)) failed=$((failed + pf)) skipped=$((skipped + ps))
        [ "$pf" -eq 0 ] || problems+=("Pester: $pf failed")
    fi
fi

for pr in ${problems[@]+"${problems[@]}"}; do echo "FAILED: $pr"; done
summary="$passed passed, $failed failed"
[ "$skipped" -eq 0 ] || summary="$summary, $skipped skipped"
echo "$summary"
[ "$failed" -eq 0 ]
