#!/usr/bin/env bash
# SPEC §16: `systemd-analyze verify` accepts packaging/tfadesk.service (no warning at all: it exits
# 0 on an unknown key, so its output must be empty too), and the unit, the settings template and
# the guides name one set of paths. Works without a running systemd. Usage: check-unit.sh SRC BIN
set -euo pipefail
src=$1
bin=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
unit="$src/packaging/tfadesk.service"
conf="$src/packaging/tfadesk.conf"
# The unit as installed runs /usr/bin/tfadesk; verify checks that ExecStart exists, so point it at
# the built binary (the file keeps its name: the name is the unit's).
sed "s|/usr/bin/tfadesk|$bin|" "$unit" >"$work/tfadesk.service"
out=$(systemd-analyze verify --man=no "$work/tfadesk.service" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify warns: $out"
# What §16 asks of the unit.
for line in Type=notify User=tfadesk StateDirectory=tfadesk EnvironmentFile=/etc/tfadesk/tfadesk.conf \
    ProtectSystem=strict NoNewPrivileges=yes PrivateTmp=yes ReadWritePaths=/var/lib/tfadesk LimitCORE=0 \
    WatchdogSec=; do
    grep -q "^$line" "$unit" || fail "the unit lacks $line"
done
grep -q "^TFADESK_DB=/var/lib/tfadesk/desk.db$" "$conf" || fail "tfadesk.conf does not put the desk at /var/lib/tfadesk/desk.db"
# One set of paths: no guide names another home for the desk, the key or the settings.
if grep -rnE "/srv/tfadesk|/etc/tfadesk/seal[^ ]*\.key|/etc/default/tfadesk" "$src/docs" "$src/README.md" "$src/packaging"; then
    fail "a guide names a path other than /var/lib/tfadesk, /etc/tfadesk/desk.key, /etc/tfadesk/tfadesk.conf"
fi
# A broken unit is caught: the check above can go red.
sed 's/^Type=notify/Type=notfy/' "$work/tfadesk.service" >"$work/broken.service"
mv "$work/broken.service" "$work/tfadesk.service"
out=$(systemd-analyze verify --man=no "$work/tfadesk.service" 2>&1) || true
[ -n "$out" ] || fail "systemd-analyze verify did not notice a bad Type="
echo "1 passed, 0 failed"
