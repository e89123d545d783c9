#!/usr/bin/env bash
# Parses every *.ps1 / *.psm1 / *.psd1 in the repo (outside bin/obj/out/.ci-work/.git) with the real
# PowerShell parser (tools/PsParse, System.Management.Automation); there is no pwsh on CI.
#   scripts/psparse.sh [--no-build]     exit 0: all parse; 1: parse errors; other: tool failure
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

if [ "${1:-}" != --no-build ]; then
    dotnet build tools/PsParse -c Release --nologo -v quiet >/dev/null || {
        echo "psparse: building tools/PsParse failed:" >&2
        dotnet build tools/PsParse -c Release --nologo -v minimal >&2 || true
        exit 3
    }
fi

files=()
while IFS= read -r -d '' f; do files+=("${f#./}"); done < <(
    find . \( -name bin -o -name obj -o -name out -o -name .ci-work -o -name .git -o -name node_modules \) -prune -o \
        -type f \( -name '*.ps1' -o -name '*.psm1' -o -name '*.psd1' \) -print0 | sort -z)

if [ "${#files[@]}" -eq 0 ]; then
    echo "psparse: no PowerShell files found"
    exit 0
fi
exec dotnet tools/PsParse/bin/Release/net10.0/PsParse.dll "${files[@]}"
