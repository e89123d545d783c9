#!/usr/bin/env bash
# Runs the Pester specs (tests/Pester) under pwsh against out/Ds01, with the DOCKER_HOST of the caller.
#   scripts/pester.sh [--install] [result.xml]
# Finds pwsh on PATH or in ~/.dotnet/tools, and Pester 5.7.1 in the NuGet package folder (restored from the feed
# by `dotnet restore tools/Pester`). --install installs whichever is missing (pwsh as a dotnet global tool).
# Last line: "pester: N passed, N failed, N skipped"; exit 1 when anything failed or pwsh/Pester are missing.
set -uo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PWSH_VERSION=7.6.9 PESTER_VERSION=5.7.1

install=0
[ "${1:-}" = --install ] && { install=1; shift; }
result="${1:-}"

export PATH="$PATH:$HOME/.dotnet/tools"
if ! command -v pwsh >/dev/null 2>&1; then
    if [ "$install" -eq 1 ]; then
        echo "pester.sh: installing pwsh $PWSH_VERSION (dotnet tool)" >&2
        dotnet tool install --global PowerShell --version "$PWSH_VERSION" >&2 ||
            { echo "pester.sh: error: cannot install pwsh" >&2; exit 1; }
    else
        echo "pester.sh: error: pwsh not found (run with --install, or: dotnet tool install --global PowerShell --version $PWSH_VERSION)" >&2
        exit 1
    fi
fi

packages="$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')"
manifest="${packages%/}/pester/$PESTER_VERSION/tools/Pester.psd1"
if [ ! -f "$manifest" ]; then
    if [ "$install" -eq 1 ]; then
        dotnet restore "$REPO/tools/Pester" --nologo -v minimal >&2 ||
            { echo "pester.sh: error: cannot restore Pester $PESTER_VERSION" >&2; exit 1; }
    fi
    [ -f "$manifest" ] || { echo "pester.sh: error: Pester $PESTER_VERSION not at $manifest (run with --install)" >&2; exit 1; }
fi

exec pwsh -NoLogo -NoProfile -NonInteractive -File "$REPO/scripts/pester.ps1" -PesterManifest "$manifest" -ResultPath "$result"
