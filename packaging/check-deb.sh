#!/usr/bin/env bash
# Builds the .deb from a configured build tree, unpacks it into a scratch root (dpkg -x) and runs
# the packaged binary. Usage: check-deb.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cpack --config "$build/CPackConfig.cmake" -B "$work/out" >/dev/null
deb=$(ls "$work"/out/*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
echo "package: $(basename "$deb")"
echo "depends: $depends"
# The libraries the binary really links: SQLite, Nettle (the chain's SHA-256; libsodium is no
# longer used since the hash moved to Nettle) and libpqxx (the PostgreSQL store).
for lib in libsqlite3 libnettle libsodium libpqxx libcpp-httplib; do
    grep -q "$lib" <<<"$depends" || { echo "FAIL: Depends lacks $lib"; exit 1; }
done
dpkg -x "$deb" "$work/root"
version=$("$work/root/usr/bin/tfadesk" --version)
echo "version: $version"
grep -q "policy version" <<<"$version" || { echo "FAIL: --version lacks the policy version"; exit 1; }
test -s "$work/root/usr/share/bash-completion/completions/tfadesk" || { echo "FAIL: no completion"; exit 1; }
if command -v help2man >/dev/null; then
    test -s "$work/root/usr/share/man/man1/tfadesk.1.gz" -o -s "$work/root/usr/share/man/man1/tfadesk.1" ||
        { echo "FAIL: no man page"; exit 1; }
fi
# SPEC §16: the service - the unit, the settings template and the scripts that make the user.
test -s "$work/root/usr/lib/systemd/system/tfadesk.service" || { echo "FAIL: no tfadesk.service"; exit 1; }
test -s "$work/root/usr/share/tfadesk/tfadesk.conf" || { echo "FAIL: no tfadesk.conf template"; exit 1; }
dpkg-deb -e "$deb" "$work/control"
grep -q "adduser --system" "$work/control/postinst" || { echo "FAIL: postinst makes no system user"; exit 1; }
grep -q "/var/lib/tfadesk" "$work/control/postinst" || { echo "FAIL: postinst makes no /var/lib/tfadesk"; exit 1; }
grep -q "adduser" <<<"$depends" || { echo "FAIL: Depends lacks adduser"; exit 1; }
# The packaged binary does the main job on a scratch database.
db="$work/desk.db"
"$work/root/usr/bin/tfadesk" --db "$db" open --ref PKG-1 --phone +4915123456789 --client-id c1 \
    --requester-email a@b.example --role client --access no --agent pkg >/dev/null
"$work/root/usr/bin/tfadesk" --db "$db" verify >/dev/null
echo "1 passed, 0 failed"
