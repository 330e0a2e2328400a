#!/usr/bin/env bash
# Generates the man page from the program's own help (help2man): the top-level --help plus one
# section per command from `tfadesk COMMAND --help`. Usage: man.sh TFADESK_BINARY OUTPUT
set -euo pipefail
bin=$1 out=$2
include=$(mktemp)
trap 'rm -f "$include"' EXIT
{
    echo "[COMMANDS]"
    for cmd in $("$bin" --help | awk '/^For (agents|operators|auditors):/ {on=1; next} on && /^  [a-z]/ {print $1} /^$/ {on=0}'); do
        echo ".SS $cmd"
        echo ".nf"
        "$bin" "$cmd" --help | sed 's/\\/\\\\/g; s/^\./\\\&./'
        echo ".fi"
    done
    echo "[ENVIRONMENT]"
    echo ".TP"; echo "TFADESK_DB"; echo "The database file when --db is not given (default ./tfadesk.db)."
    echo ".TP"; echo "TFADESK_AGENT"; echo "The agent when --agent is not given."
} >"$include"
help2man --no-info --no-discard-stderr --section 1 \
    --name "four-eyes workflow for disabling WhatsApp Business 2FA on a client's behalf" \
    --include "$include" --output "$out" "$bin"
