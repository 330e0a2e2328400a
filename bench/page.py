#!/usr/bin/env python3
"""The page at a million tickets (issue 27): how long the desk's page takes, in headless Chromium,
from the Sign in click to the queue's first page of rows on screen, on a desk of N tickets (default
1,000,000) and, in the same run and interleaved with it, on a small desk (default 1,000 tickets);
and how many bytes of ticket JSON the page fetched to show them.

    bench/page.py [--tickets N] [--small N] [--repeat R] [--tfadesk PATH] [--out DIR] [--timeout S]

The desks are bench/workspace.py's (bench/desk.py): DIR/desk-N.db with its token beside it in
DIR/desk-N.db.token (DIR default bench/out/workspace, git-ignored), made by `tfadesk import` when
missing and reused when there. Each desk gets its own `tfadesk serve --listen 127.0.0.1:0`.

Each of the R sign-ins (default 10 a desk, the two desks taking turns) is a fresh Chromium with a
fresh profile (no cookie, no cache), as in tests/serve/pagetest.py: it loads http://127.0.0.1:PORT/,
waits for the sign-in form to be ready, types the token, then in one script installs a
MutationObserver and clicks Sign in, noting performance.now(); the clock stops, again by the
page's performance.now(), when the queue table (#queue) holds ticket rows and #queue-total says
"showing K of T" ("rows"), and at the next animation frame after that ("frame", i.e. laid out and
painted). One sign-in per desk before the R is a warm-up and is not counted. The bytes are the
Resource Timing entries (transferSize, encodedBodySize, decodedBodySize) of the page's requests
under /api/v1/tickets.

Needs Debian's python3 with python3-selenium (re-executes itself with /usr/bin/python3 when the
python3 on the PATH lacks selenium), chromium and chromedriver. Every wait is bounded; exits 1
with a message when anything fails (a command, a server, the browser, a sign-in), never for times.
"""
import argparse, os, select, shutil, statistics, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))

try:
    import selenium  # noqa: F401
except ImportError:
    system = "/usr/bin/python3"
    if os.path.exists(system) and os.path.realpath(sys.executable) != os.path.realpath(system):
        os.execv(system, [system, os.path.abspath(__file__), *sys.argv[1:]])
    sys.exit("bench/page.py: python3-selenium is required (apt-get install python3-selenium)")

import desk  # noqa: E402  (bench/desk.py, with bench/workspace.py)

sys.path.insert(0, os.path.join(HERE, "..", "tests", "serve"))
from pagetest import chrome  # noqa: E402  (the page tests' Chromium: flags, profile, window)

ap = argparse.ArgumentParser()
desk.add_args(ap)
ap.add_argument("--small", type=int, default=1000, help="tickets of the baseline desk (default 1000)")
ap.add_argument("--repeat", type=int, default=10, help="sign-ins measured on each desk (default 10)")
ap.add_argument("--timeout", type=float, default=60, help="seconds any one wait may take (default 60)")
a = ap.parse_args()
if a.repeat < 1 or a.tickets < 1 or a.small < 1:
    sys.exit("bench/page.py: --repeat, --tickets and --small must be at least 1")


def die(message):
    sys.exit("bench/page.py: FAILED: " + message)


if not os.path.exists(a.tfadesk):
    die(f"no tfadesk at {a.tfadesk} (build it with scripts/setup, or pass --tfadesk PATH)")
chromium = shutil.which("chromium") or shutil.which("chromium-browser")
chromedriver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
if not chromium or not chromedriver:
    die(f"Chromium and chromedriver are required (apt-get install chromium chromium-driver); "
        f"found chromium={chromium}, chromedriver={chromedriver}")

tmp = tempfile.mkdtemp(prefix="tfadesk-page-bench-")
servers = []  # (name, proc)
drivers = []


def cleanup():
    for d in drivers:
        try:
            d.quit()
        except Exception:  # noqa: BLE001 - cleaning up must not hide the failure
            pass
    for _, proc in servers:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)
    shutil.rmtree(tmp, ignore_errors=True)


def serve(name, db):
    """Starts `tfadesk serve` on 127.0.0.1 at a free port; answers the port."""
    err = os.path.join(tmp, f"serve-{name}.err")
    proc = subprocess.Popen([a.tfadesk, "--db", db, "serve", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                            stderr=open(err, "w"), stdin=subprocess.DEVNULL, text=True)
    servers.append((name, proc))
    ready, _, _ = select.select([proc.stdout], [], [], a.timeout)
    line = proc.stdout.readline().strip() if ready else ""
    prefix = "listening on http://127.0.0.1:"
    if not line.startswith(prefix):
        die(f"tfadesk serve on {db}: no listening line within {a.timeout:.0f} s: {line!r}\n{open(err).read()}")
    return int(line[len(prefix):])


# Installed just before the click: notes when the queue shows rows, and the next frame after.
WATCH = """
const b = window.__bench = {t0: 0, rows: 0, frame: 0, error: ""};
const $ = (id) => document.getElementById(id);
const shown = () => !$("desk").hidden && $("queue").querySelector("tr a[data-ref]")
  && /^showing \\d+ of \\d+/.test($("queue-total").textContent);
const check = () => {
  if (b.rows) return;
  if ($("signin-error").textContent) { b.error = $("signin-error").textContent; mo.disconnect(); return; }
  if ($("queue-total").textContent.startsWith("Could not")) { b.error = $("queue-total").textContent; mo.disconnect(); return; }
  if (!shown()) return;
  b.rows = performance.now();
  mo.disconnect();
  requestAnimationFrame(() => setTimeout(() => { b.frame = performance.now(); }, 0));
};
const mo = new MutationObserver(check);
mo.observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true,
                           attributeFilter: ["hidden"]});
performance.setResourceTimingBufferSize(10000);
b.t0 = performance.now();
$("sign-in").click();
"""

RESOURCES = """
return performance.getEntriesByType("resource").map((e) => {
  const u = new URL(e.name);
  return {host: u.hostname, path: u.pathname + u.search, transfer: e.transferSize, encoded: e.encodedBodySize,
          decoded: e.decodedBodySize, start: e.startTime, end: e.responseEnd};
});
"""


def wait_for(driver, script, what):
    """Polls `script` in the page until it answers something true, at most --timeout seconds."""
    deadline = time.monotonic() + a.timeout
    while True:
        value = driver.execute_script(script)
        if value:
            return value
        if time.monotonic() > deadline:
            die(f"{what}: not within {a.timeout:.0f} s (url {driver.current_url})")
        time.sleep(0.01)


def sign_in(name, port, token):
    """One sign-in in a fresh Chromium and profile; answers its measurement."""
    from selenium.webdriver.common.by import By
    profile = tempfile.mkdtemp(prefix="profile-", dir=tmp)
    driver = chrome(chromium, chromedriver, profile, 1366, 900)
    drivers.append(driver)
    try:
        driver.set_page_load_timeout(a.timeout)
        driver.set_script_timeout(a.timeout)
        driver.get(f"http://127.0.0.1:{port}/")
        if driver.get_cookies():
            die(f"{name}: a fresh profile already has cookies: {driver.get_cookies()}")
        # Ready: the page asked for a session (GET /api/v1/session, 401) and put the cursor in the token field.
        wait_for(driver, "return document.readyState === 'complete' && !document.getElementById('signin').hidden"
                         " && document.activeElement && document.activeElement.id === 'token'",
                 f"{name}: the sign-in form")
        driver.find_element(By.ID, "token").send_keys(token)
        driver.execute_script(WATCH)
        b = wait_for(driver, "const b = window.__bench; return (b.frame || b.error) ? b : null;",
                     f"{name}: the queue after Sign in")
        if b["error"]:
            die(f"{name}: the page says: {b['error']}")
        rows = driver.execute_script("return document.querySelectorAll('#queue tr a[data-ref]').length;")
        total = driver.execute_script("return document.getElementById('queue-total').textContent;")
        res = driver.execute_script(RESOURCES)
    finally:
        drivers.remove(driver)
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
    outside = sorted({r["host"] for r in res} - {"127.0.0.1"})
    if outside:
        die(f"{name}: the page fetched from {outside}")
    tickets = [r for r in res if r["path"].startswith("/api/v1/tickets")]
    if not tickets:
        die(f"{name}: no request under /api/v1/tickets in the page's Resource Timing")
    return {"rows_ms": b["rows"] - b["t0"], "frame_ms": b["frame"] - b["t0"], "rows": rows, "total": total,
            "requests": len(tickets), "transfer": sum(r["transfer"] for r in tickets),
            "encoded": sum(r["encoded"] for r in tickets), "decoded": sum(r["decoded"] for r in tickets),
            "paths": sorted(r["path"] for r in tickets),
            "api": sorted((r["path"] for r in res if r["path"].startswith("/api/")))}


try:
    desks = []  # (label, tickets, port, token)
    for n in (a.tickets, a.small):
        db, token = desk.make(a.tfadesk, a.out, n)
        desks.append((f"{n:,} tickets", n, serve(str(n), db), token))
    load_before = os.getloadavg()
    results = {label: [] for label, *_ in desks}
    warm = {}
    for label, n, port, token in desks:
        warm[label] = sign_in(label, port, token)
    for i in range(a.repeat):
        for label, n, port, token in desks:  # taking turns: both desks see the same machine load
            results[label].append(sign_in(label, port, token))
    load_after = os.getloadavg()
    for name, proc in servers:
        if proc.poll() is not None:
            die(f"tfadesk serve for {name} tickets exited {proc.returncode} during the run")
except SystemExit:
    cleanup()
    raise
except Exception as e:  # noqa: BLE001 - any failure is one clear message and exit 1
    cleanup()
    die(f"{type(e).__name__}: {e}")
cleanup()

big, small = desks[0][0], desks[1][0]


def stats(label, key):
    xs = [r[key] for r in results[label]]
    return statistics.median(xs), min(xs), max(xs)


print(f"{a.repeat} sign-ins per desk in headless Chromium (fresh profile each), desks taking turns; "
      f"load average {load_before[0]:.2f} before, {load_after[0]:.2f} after\n")
print("| desk | Sign in → rows: median ms | min | max | → next frame: median ms | min | max | warm-up (frame) ms |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for label in (big, small):
    r, f = stats(label, "rows_ms"), stats(label, "frame_ms")
    print(f"| {label} | {r[0]:.0f} | {r[1]:.0f} | {r[2]:.0f} | {f[0]:.0f} | {f[1]:.0f} | {f[2]:.0f} "
          f"| {warm[label]['frame_ms']:.0f} |")
print(f"| ratio {big.split()[0]} / {small.split()[0]} | {stats(big, 'rows_ms')[0] / stats(small, 'rows_ms')[0]:.2f}x "
      f"| | | {stats(big, 'frame_ms')[0] / stats(small, 'frame_ms')[0]:.2f}x | | | |")
print("\n| desk | rows shown | queue says | requests under /api/v1/tickets | ticket JSON transferred (max) "
      "| body encoded | body decoded |")
print("|---|---:|---|---:|---:|---:|---:|")
for label in (big, small):
    rs = results[label]
    last = rs[-1]
    print(f"| {label} | {last['rows']} | {last['total']} | {max(r['requests'] for r in rs)} "
          f"| {max(r['transfer'] for r in rs):,} B | {max(r['encoded'] for r in rs):,} B | {max(r['decoded'] for r in rs):,} B |")
print(f"\nrequests under /api/v1/tickets ({big}): " + ", ".join(results[big][-1]["paths"]))
print(f"all API requests ({big}): " + ", ".join(results[big][-1]["api"]))
