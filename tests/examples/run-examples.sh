#!/usr/bin/env bash
# Runs the example of every command's --help, as written, in a scratch folder, in an order in
# which each one's ticket exists (open before event, ...). Every example must exit 0.
# Usage: run-examples.sh TFADESK_BINARY SOURCE_DIR
set -euo pipefail
bin=$(readlink -f "$1") src=$(readlink -f "$2")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/bin" && ln -s "$bin" "$work/bin/tfadesk"
cp -r "$src/samples" "$work/samples"
cd "$work"
export PATH="$work/bin:$PATH" TFADESK_DB="$work/desk.db"
passed=0 failed=0
for cmd in open event show reply list import sweep key stats history replay verify export access-log migrate diagram completion agent; do
    example=$(tfadesk "$cmd" --help | awk '/^Example:/ {getline; sub(/^ +/, ""); print; exit}')
    if [ -z "$example" ]; then echo "FAIL $cmd: no example in --help"; failed=$((failed + 1)); continue; fi
    if bash -c "$example" >"$work/out.txt" 2>&1; then
        passed=$((passed + 1)); echo "ok   $cmd: $example"
    else
        failed=$((failed + 1)); echo "FAIL $cmd (exit $?): $example"; cat "$work/out.txt"
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
