#!/usr/bin/env bash
# Signed decisions (SPEC §13): an approval signed with a passkey through the server against an
# unsigned one, in the same run on the same server (bench/signed_load.cpp). Target: <= 2x.
#
#   bench/signed.sh [BUILD_DIR] [TICKETS] [ALG: -8 EdDSA | -7 ES256]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
tickets="${2:-200}"
alg="${3:--8}"
work="$(mktemp -d /tmp/tfadesk-signed-bench.XXXXXX)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

g++ -O2 -std=c++17 "$here/signed_load.cpp" -o "$work/signed_load" \
    $(pkg-config --cflags --libs cpp-httplib nlohmann_json libsodium hogweed nettle gmp libcbor) -pthread
tfadesk="$build/cli/tfadesk"
db="$work/desk.db"
"$tfadesk" --db "$db" agent add boss --role admin --agent setup --token-out "$work/boss.token" 2>/dev/null
for who in alice:agent dave:approver; do
    "$tfadesk" --db "$db" agent add "${who%%:*}" --role "${who#*:}" --token-file "$work/boss.token" \
        --token-out "$work/${who%%:*}.token" 2>/dev/null
done
"$tfadesk" --db "$db" serve --listen 127.0.0.1:0 >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's#.*127.0.0.1:\([0-9]*\).*#\1#p' "$work/serve.out")"
"$work/signed_load" --port "$port" --agent-token "$(cat "$work/alice.token")" \
    --approver-token "$(cat "$work/dave.token")" --tickets "$tickets" --alg "$alg"
