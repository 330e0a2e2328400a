#!/usr/bin/env bash
# The connector's intake (SPEC §17) against the plain API, in the same run on the same server:
# tickets opened (and triaged) per second through POST /intake/SOURCE, signed as Standard
# Webhooks, and through POST /api/v1/tickets with a bearer token. Target: intake >= 0.8x.
#
#   bench/intake.sh [BUILD_DIR] [CLIENTS] [TICKETS_PER_CLIENT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
build="${1:-$here/../build}"
clients="${2:-8}"
tickets="${3:-250}"
work="$(mktemp -d /tmp/tfadesk-intake-bench.XXXXXX)"
server=""
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

g++ -O2 -std=c++17 "$here/intake_load.cpp" -o "$work/intake_load" \
    $(pkg-config --cflags --libs cpp-httplib nettle libsodium) -pthread
tfadesk="$build/cli/tfadesk"
db="$work/desk.db"
"$tfadesk" --db "$db" agent add boss --role admin --agent setup --token-out "$work/boss.token" 2>/dev/null
"$tfadesk" --db "$db" agent add alice --role agent --token-file "$work/boss.token" --token-out "$work/alice.token" 2>/dev/null
"$tfadesk" --db "$db" agent add hook --role agent --token-file "$work/boss.token" --token-out "$work/hook.token" 2>/dev/null
key="bench-key-0123456789abcdef"
printf 'whsec_%s\n' "$(printf '%s' "$key" | base64)" >"$work/std.secret"
cat >"$work/connectors.json" <<JSON
{"sources": {"std": {"kind": "standard", "secret_file": "$work/std.secret", "account": "hook",
  "fields": {"ref": "/ticket/ref", "phone": "/ticket/phone", "client_id": "/ticket/client_id",
             "requester_email": "/ticket/requester_email", "requester_role": "/ticket/requester_role",
             "portfolio_access": "/ticket/portfolio_access"}}}}
JSON
"$tfadesk" --db "$db" serve --listen 127.0.0.1:0 --connectors "$work/connectors.json" >"$work/serve.out" 2>"$work/serve.err" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/serve.out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's#.*127.0.0.1:\([0-9]*\).*#\1#p' "$work/serve.out")"
"$work/intake_load" --port "$port" --token "$(cat "$work/alice.token")" --key "$key" \
    --clients "$clients" --tickets "$tickets"
