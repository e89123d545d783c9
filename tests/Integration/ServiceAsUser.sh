#!/usr/bin/env bash
# Runs a command as an unprivileged account that cannot reach dockerd, for the ds01d tests. Called as root inside
# `unshare --mount --propagation private`: it hides the directory of dockerd's socket under an empty tmpfs (the test
# daemon's socket is world-writable for other tests), then drops to the account with only its own groups.
#   ServiceAsUser.sh HIDE_DIR USER -- COMMAND [ARGS...]
set -euo pipefail
hide="$1"
user="$2"
[ "$3" = "--" ] || { echo "usage: ServiceAsUser.sh HIDE_DIR USER -- COMMAND [ARGS...]" >&2; exit 2; }
shift 3
mount -t tmpfs -o mode=000,size=4k ds01-hidden "$hide"
exec setpriv --reuid="$user" --regid="$user" --init-groups -- "$@"
