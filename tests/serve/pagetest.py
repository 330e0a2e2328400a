"""What the headless-Chromium page tests share (browser_test.py, passkey_browser_test.py,
workspace_browser_test.py, roles_browser_test.py): finding Chromium, chromedriver and selenium,
seeding accounts, starting and stopping a real `tfadesk serve` on 127.0.0.1, bearer-token API
calls, axe-core's accessibility check of the page as it is shown, and failing in one way.

A missing browser or a missing axe-core is a failure (exit 1), never a skip: a browser test that
skips itself would pass on a machine that never ran it.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.error
import urllib.request

# Flags for every test's Chromium; the window size (and any fixed scale factor) is each test's own,
# given to chrome().
CHROMIUM_FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]


def test_name():
    """The running test, named after its file (e.g. "passkey_browser_test")."""
    return os.path.splitext(os.path.basename(sys.argv[0]))[0]


def fail(message):
    print(test_name() + ": FAILED: " + message, file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(1)


def step(message):
    print(test_name() + ": " + message, flush=True)


def find_browser(virtual_authenticator=False):
    """Answers (chromium, chromedriver), or fails the test when either or selenium is missing;
    with virtual_authenticator, selenium must also have WebDriver virtual authenticators (4.x)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
    if not chromium or not driver:
        fail("Chromium and chromedriver are required (apt-get install chromium chromium-driver); found "
             f"chromium={chromium}, chromedriver={driver}")
    try:
        if virtual_authenticator:
            from selenium.webdriver.common.virtual_authenticator import VirtualAuthenticatorOptions  # noqa: F401
        else:
            import selenium  # noqa: F401
    except ImportError:
        if virtual_authenticator:
            fail("python3-selenium (4.x, with WebDriver virtual authenticators) is required "
                 "(apt-get install python3-selenium)")
        fail("python3-selenium is required (apt-get install python3-selenium)")
    return chromium, driver


def chrome(chromium, chromedriver, profile_dir, width, height, scale_factor=None):
    """A headless Chromium through chromedriver with its own profile, a width x height window
    (and --force-device-scale-factor when scale_factor is given), keeping the console log."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    flags = CHROMIUM_FLAGS + [f"--window-size={width},{height}"]
    if scale_factor is not None:
        flags.append(f"--force-device-scale-factor={scale_factor}")
    for flag in flags + ["--user-data-dir=" + profile_dir]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)


# axe-core (SPEC §15: no serious or critical violation), from the npm package pinned in
# tests/serve/axe/package-lock.json; scripts/setup installs it with `npm ci`.
AXE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "axe")
AXE_JS = os.path.join(AXE_DIR, "node_modules", "axe-core", "axe.min.js")
AXE_IMPACTS = ("serious", "critical")
_axe_source = None


def axe_source():
    """axe.min.js, read once; fails the test when axe-core is not installed."""
    global _axe_source
    if _axe_source is None:
        if not os.path.exists(AXE_JS):
            fail(f"axe-core is not installed: run `npm ci --prefix {AXE_DIR}` (scripts/setup does)")
        with open(AXE_JS, encoding="utf-8") as f:
            _axe_source = f.read()
    return _axe_source


def axe_check(driver, where):
    """Runs axe-core (all its rules but the experimental ones) on the page as it is shown, injected
    through WebDriver (the page's CSP does not apply to it); raises AssertionError naming each
    serious or critical violation's rule, impact and targets. Answers the number of rules checked."""
    if not driver.execute_script("return !!(window.axe && window.axe.run);"):
        driver.execute_script(axe_source())
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => done({rules: r.passes.length + r.violations.length + r.incomplete.length + r.inapplicable.length,"
        " violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " targets: v.nodes.map(n => ({target: n.target.join(' '), impact: n.impact, summary: n.failureSummary}))}))}))"
        ".catch(e => done({error: String(e)}));")
    if "error" in result:
        raise AssertionError(f"axe-core could not run on {where}: {result['error']}")
    bad = []
    for v in result["violations"]:
        nodes = [n for n in v["targets"] if (n["impact"] or v["impact"]) in AXE_IMPACTS]
        if not nodes:
            continue
        bad.append(f"{v['id']} ({v['impact']}: {v['help']}) at " + "; ".join(
            n["target"] + " [" + " ".join((n["summary"] or "").split())[:300] + "]" for n in nodes))
    if bad:
        raise AssertionError(f"axe-core on {where}: {len(bad)} serious or critical violation(s):\n  " + "\n  ".join(bad))
    step(f"axe-core: {where}: no serious or critical violation ({result['rules']} rules)")
    return result["rules"]


def csp_violations(driver):
    """The console entries since the last read in which the Content Security Policy blocked something."""
    return [e for e in driver.get_log("browser") if "Content Security Policy" in e.get("message", "")]


def seed(seed_bin, db, name, roles, by, by_token=None):
    """Adds an account; every account after the first is added by `by` with its token (SPEC §12)."""
    env = dict(os.environ)
    if by_token:
        env["TFADESK_TOKEN"] = by_token
    out = subprocess.run([seed_bin, db, name, roles, by], check=True, capture_output=True, text=True, env=env).stdout
    return out.strip()


def start_server(tfadesk, db, err_path, extra=()):
    """Starts `tfadesk serve` on 127.0.0.1 at a free port (with the `extra` arguments), its stderr
    into err_path; answers (proc, port)."""
    proc = subprocess.Popen([tfadesk, "--db", db, "serve", "--listen", "127.0.0.1:0", *extra], stdout=subprocess.PIPE,
                            stderr=open(err_path, "w"), stdin=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    prefix = "listening on http://127.0.0.1:"
    if not line.startswith(prefix):
        proc.kill()
        fail("no listening line: " + repr(line) + "\n" + open(err_path).read())
    return proc, int(line[len(prefix):])


def stop_server(proc):
    """SIGTERM, then up to 20 s for a clean exit; answers the exit code (-1 when it had to be killed)."""
    if proc.poll() is not None:
        return proc.returncode
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        return -1


def page_detail(driver, extra=lambda d: ""):
    """The page's address (and extra(driver)) and its console, for a failure message; "" if the browser is gone."""
    try:
        return (f"\n  url={driver.current_url}{extra(driver)}"
                + "".join("\n  console: " + x.get("message", "") for x in driver.get_log("browser")))
    except Exception:  # noqa: BLE001 - a failure message must not fail
        return ""


def finish(driver, proc, tmp):
    """Quits the browser, stops the server and removes the temp folder; answers the server's exit code."""
    if driver:
        driver.quit()
    code = stop_server(proc)
    shutil.rmtree(tmp, ignore_errors=True)
    return code


def passed(code):
    """The end of a test whose server exited with `code`: it must have stopped cleanly on SIGTERM."""
    if code != 0:
        fail(f"tfadesk serve exited {code} after SIGTERM")
    print("1 passed, 0 failed")


def api(base, token, method, path, body=None, headers=None):
    """A bearer-token API call; answers (status, JSON body, headers) whatever the status."""
    h = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    h.update(headers or {})
    req = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers=h)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            raw = res.read()
            return res.status, (json.loads(raw) if raw else None), res.headers
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            data = json.loads(raw)
        except ValueError:
            data = raw.decode(errors="replace")
        return e.code, data, e.headers
