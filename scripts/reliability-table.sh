#!/usr/bin/env bash
# README's reliability tables from test results: each row of tests/reliability/faults.tsv (a fault or a class of
# bad input, the outcome the named test asserts, the test) with what the TRX files of a run say about that test.
#
#   scripts/reliability-table.sh [TRX_DIR]            # print the two tables (default .ci-work/test-results)
#   scripts/reliability-table.sh --readme [TRX_DIR]   # also replace them in README.md between the markers
#
# TRX files come from scripts/test.sh (or `dotnet test --logger trx`). A test missing from the results is
# "not run", never "passed". Exit 1 when any listed test failed or did not run.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readme=0
if [ "${1:-}" = --readme ]; then readme=1; shift; fi
DIR="${1:-$REPO/.ci-work/test-results}"
LIST="$REPO/tests/reliability/faults.tsv"
shopt -s nullglob
trx=("$DIR"/*.trx)
[ ${#trx[@]} -gt 0 ] || { echo "reliability-table: no .trx files in $DIR (run scripts/test.sh first)" >&2; exit 2; }
mapfile -t trx < <(ls -tr "${trx[@]}")   # oldest first: a test run again later counts by its latest result

# One "testName<TAB>outcome" line per test, the latest; TRX writes each UnitTestResult start tag on one line.
results="$(cat "${trx[@]}" | grep -o '<UnitTestResult [^>]*>' |
    sed -n 's/.* testName="\([^"]*\)".* outcome="\([A-Za-z]*\)".*/\1\t\2/p' | sed 's/&quot;/"/g; s/&amp;/\&/g' |
    awk -F'\t' '{ last[$1] = $2; if (!($1 in seen)) { seen[$1] = 1; order[++n] = $1 } } END { for (i = 1; i <= n; i++) print order[i] "\t" last[order[i]] }')"

bad=0
table() {
    local section="$1" head="$2"
    printf '| %s | outcome the test asserts | test | result |\n|---|---|---|---|\n' "$head"
    while IFS=$'\t' read -r sec what outcome test; do
        [ "$sec" = "$section" ] || continue
        local matches passed failed
        # Class.Method matches that method and each case of a Theory; "Class." matches the whole class.
        matches="$(printf '%s\n' "$results" | awk -F'\t' -v t="$test" '
            { n = $1; sub(/\(.*/, "", n) }
            (substr(t, length(t)) == "." && index(n, "." t) > 0) || (length(n) >= length(t) + 1 && substr(n, length(n) - length(t)) == "." t) { print $2 }')"
        passed="$(printf '%s\n' "$matches" | grep -c '^Passed$' || true)"
        failed="$(printf '%s\n' "$matches" | grep -vc -e '^Passed$' -e '^$' || true)"
        local result
        if [ "$failed" -gt 0 ]; then result="**failed** ($failed of $((passed + failed)))"; bad=1
        elif [ "$passed" -eq 0 ]; then result="**not run**"; bad=1
        elif [ "$passed" -eq 1 ]; then result="passed"
        else result="passed ($passed cases)"; fi
        local shown="${test%.}"
        printf '| %s | %s | `%s` | %s |\n' "$what" "$outcome" "${shown##*.}" "$result"
    done < <(grep -v '^#' "$LIST")
}

out="$(table fault fault; printf '\n'; table input "bad input")"
printf '%s\n' "$out"

if [ "$readme" -eq 1 ]; then
    begin='<!-- reliability-table:begin (scripts/reliability-table.sh --readme) -->'
    end='<!-- reliability-table:end -->'
    grep -qF "$begin" "$REPO/README.md" || { echo "reliability-table: README.md has no $begin marker" >&2; exit 2; }
    tmp="$(mktemp)" body="$(mktemp)"
    printf '%s\n' "$out" >"$body"
    awk -v b="$begin" -v e="$end" -v f="$body" '
        index($0, b) == 1 { print; while ((getline line < f) > 0) print line; skip = 1; next }
        index($0, e) == 1 { skip = 0 }
        !skip { print }' "$REPO/README.md" >"$tmp"
    cat "$tmp" >"$REPO/README.md"
    rm -f "$tmp" "$body"
fi
exit "$bad"
