#!/usr/bin/env python3
"""Passkeys on the agent page in a real browser (SPEC §13): headless Debian Chromium driven
through WebDriver (python3-selenium + chromium-driver), each person with their own browser profile
and their own virtual WebAuthn authenticator (chromedriver's WebAuthn automation: CTAP2, internal
transport, resident keys, user verification), against a real `tfadesk serve`.

The page is opened at http://localhost:PORT: the passkeys' relying party id is the host the page
is served from, and an IP address is not a valid one. API calls with a bearer token go to
http://127.0.0.1:PORT.

  a) bob signs in with his token, adds a passkey (the page counts 1, the authenticator holds one
     discoverable credential for rp id "localhost"), signs out, and signs in again with the
     passkey alone; a cancelled passkey sign-in (a device without this desk's passkey) says so.
  b) alice and dave each add a passkey; alice records the three checks of a ticket in the page,
     each signed with her passkey, and dave approves it in the page, signed.
  d) an admin turns on require-signatures (with a personal key, on the command line): an approver
     without any key is refused an unsigned approve through the API (403 forbidden), carol (no
     key) sees the refusal in the page, and dave's passkey-signed approval still goes through.
     The admin then signs in where dave was: the accounts screen counts one passkey each for bob,
     alice and dave and none for carol, and says the desk requires signed decisions.
  c) once the server has stopped, `tfadesk verify --json` passes and counts the signed decisions
     per agent, and `history --json` shows the approve entry signed by dave's passkey.

With --screenshots DIR it saves passkey-signin.png (the sign-in screen) and passkey-approved.png
(the desk after the signed approval), at 1366x900.

It FAILS (exit 1) when Chromium, chromedriver or selenium are missing: a browser test that
skips itself would pass on a machine that never ran it.
"""
import argparse
import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pagetest import (api, chrome, csp_violations, fail, find_browser, seed, start_server,  # noqa: E402
                      step, stop_server)

WIDTH, HEIGHT = 1366, 900
DECISION_SIGNED = "signed with your passkey"


def cli(tfadesk, db, *args, token=None, check=True):
    env = dict(os.environ)
    env.pop("TFADESK_TOKEN", None)
    if token:
        env["TFADESK_TOKEN"] = token
    r = subprocess.run([tfadesk, "--db", db, *args], capture_output=True, text=True, env=env)
    if check and r.returncode != 0:
        raise AssertionError(f"tfadesk {' '.join(args)} exited {r.returncode}: {r.stderr.strip()}")
    return r


def b64url(text):
    """A credential id as the page and the desk spell it: base64url without padding."""
    return text.rstrip("=")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tfadesk", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--screenshots", metavar="DIR", help="save passkey-signin.png and passkey-approved.png here")
    ap.add_argument("--keep", action="store_true", help="keep the temporary desk and server log")
    args = ap.parse_args()
    chromium, chromedriver = find_browser(virtual_authenticator=True)
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.virtual_authenticator import (Protocol, Transport,
                                                                  VirtualAuthenticatorOptions)
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tfadesk-passkey-")
    if not args.keep:
        atexit.register(shutil.rmtree, tmp, True)  # however the test ends
    db = os.path.join(tmp, "desk.db")
    err_path = os.path.join(tmp, "serve.err")
    boss = seed(args.seed, db, "boss", "admin", "setup")
    tokens = {name: seed(args.seed, db, name, roles, "boss", boss)
              for name, roles in [("bob", "agent,approver"), ("alice", "agent"), ("dave", "approver"),
                                  ("carol", "agent"), ("erin", "approver")]}
    tokens["boss"] = boss
    proc, port = start_server(args.tfadesk, db, err_path)
    api_base = f"http://127.0.0.1:{port}"
    page = f"http://localhost:{port}/"
    drivers = {}
    done = []
    ids = {}  # person -> credential id (base64url, no padding) of their passkey

    def call(name, method, path, body=None, headers=None):
        return api(api_base, tokens[name], method, path, body, headers)

    def new_ticket(ref):
        status, t, _ = call("bob", "POST", "/api/v1/tickets",
                            {"ref": ref, "phone": "+49 151 2345 6789", "client_id": "acme-gmbh",
                             "requester_email": "ops@acme.example", "requester_role": "client",
                             "portfolio_access": "no", "triage": True})
        assert status == 201 and t["state"] == "identity_check", (status, t)
        return t

    class Person:
        """One person at their own browser, with their own profile and authenticator."""

        def __init__(self, name):
            self.name = name
            self.d = chrome(chromium, chromedriver, os.path.join(tmp, "profile-" + name), WIDTH, HEIGHT,
                            scale_factor=1)
            drivers[name] = self.d
            # The page's viewport is exactly WIDTH x HEIGHT (screenshots included), whatever the
            # window's own frame takes.
            self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False})
            self.wait = WebDriverWait(self.d, 20)
            self.d.add_virtual_authenticator(VirtualAuthenticatorOptions(
                protocol=Protocol.CTAP2, transport=Transport.INTERNAL, has_resident_key=True,
                has_user_verification=True, is_user_verified=True))

        def text(self, element_id):
            return self.d.find_element(By.ID, element_id).text

        def open_page(self):
            self.d.get(page)
            self.wait.until(lambda d: self.is_shown("token") or self.is_shown("desk"))

        def is_shown(self, element_id):
            els = self.d.find_elements(By.ID, element_id)
            return bool(els) and els[0].is_displayed()

        def sign_in_with_token(self):
            self.open_page()
            box = self.wait.until(EC.visibility_of_element_located((By.ID, "token")))
            box.clear()
            box.send_keys(tokens[self.name])
            self.d.find_element(By.ID, "sign-in").click()
            self.signed_in()

        def signed_in(self):
            self.wait.until(EC.text_to_be_present_in_element((By.ID, "who-name"), self.name))
            self.wait.until(EC.visibility_of_element_located((By.ID, "desk")))
            # The header counts this account's passkeys once they are read.
            self.wait.until(lambda d: self.text("passkey-count").strip().isdigit())

        def session(self):
            """The page's own session, as GET /api/v1/session tells it (the cookie is HttpOnly)."""
            return self.d.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "fetch('/api/v1/session', {credentials: 'same-origin', cache: 'no-store'})"
                ".then(r => r.json().then(j => done({status: r.status, body: j})))"
                ".catch(e => done({status: 0, body: String(e)}));")

        def add_passkey(self, expect_count):
            self.wait.until(EC.element_to_be_clickable((By.ID, "passkey-add"))).click()
            self.wait.until(EC.text_to_be_present_in_element((By.ID, "passkey-status"), "Passkey added"))
            self.wait.until(EC.text_to_be_present_in_element((By.ID, "passkey-count"), str(expect_count)))
            creds = self.d.get_credentials()
            assert len(creds) == expect_count, f"{self.name}'s authenticator holds {len(creds)} credentials"
            cred = creds[-1]
            assert cred.rp_id == "localhost", f"rp id {cred.rp_id!r}, expected 'localhost'"
            assert cred.is_resident_credential, "the passkey should be discoverable (a resident credential)"
            ids[self.name] = b64url(cred.id)
            # The desk lists it too, under the same credential id.
            status, listed, _ = call(self.name, "GET", "/api/v1/me/passkeys")
            assert status == 200 and len(listed) == expect_count, (status, listed)
            assert ids[self.name] in [p["id"] for p in listed], (ids[self.name], listed)
            assert all(p["alg"] in (-7, -8) and p.get("rp_id", "localhost") == "localhost" for p in listed), listed

        def sign_out(self):
            self.d.find_element(By.ID, "sign-out").click()
            self.wait.until(EC.visibility_of_element_located((By.ID, "token")))
            assert self.is_shown("passkey-sign-in")

        def open_ticket(self, ref, where="queue"):
            self.wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f'#{where} a[data-ref="{ref}"]'))).click()
            self.wait.until(EC.text_to_be_present_in_element((By.ID, "ticket-ref"), ref))

        def apply(self, event, check=None):
            self.wait.until(EC.element_to_be_clickable(
                (By.CSS_SELECTOR, f'#events button[data-event="{event}"]'))).click()
            self.wait.until(EC.visibility_of_element_located((By.ID, "event-form")))
            if check:
                Select(self.d.find_element(By.ID, "check")).select_by_value(check)
            self.d.find_element(By.ID, "event-submit").click()

        def message_after(self, before_version, timeout=20):
            """Waits until the ticket's version moved past `before_version` or a message that is not
            a success appeared; answers the message."""
            WebDriverWait(self.d, timeout).until(
                lambda d: self.text("ticket-version") != str(before_version)
                or (self.text("message") and "recorded" not in self.text("message")))
            return self.text("message")

        def screenshot(self, filename):
            if args.screenshots:
                path = os.path.join(args.screenshots, filename)
                self.d.save_screenshot(path)
                step("screenshot " + path)

        def csp_violations(self):
            return csp_violations(self.d)

        def quit(self):
            drivers.pop(self.name, None)
            self.d.quit()

    try:
        # ---- a) bob: token once, a passkey, then the passkey alone -------------------------------
        step("a) bob adds a passkey and signs in with it")
        bob = Person("bob")
        bob.sign_in_with_token()
        assert bob.text("passkey-count") == "0", "bob has no passkey yet: " + bob.text("passkey-count")
        assert bob.d.get_credentials() == []
        bob.add_passkey(1)
        bob.sign_out()
        bob.open_page()  # a fresh load, signed out: the passkey button beside the token form
        assert bob.is_shown("passkey-sign-in") and bob.is_shown("token")
        assert bob.d.find_element(By.ID, "token").get_attribute("value") == ""
        bob.screenshot("passkey-signin.png")
        bob.d.find_element(By.ID, "passkey-sign-in").click()
        bob.signed_in()
        assert bob.text("who-name") == "bob"
        assert bob.text("passkey-count") == "1", bob.text("passkey-count")
        s = bob.session()
        assert s["status"] == 200 and s["body"]["name"] == "bob" and s["body"]["signed_in_with"] == "passkey", s
        # The authenticator signed once more (sign-in), still with the one credential.
        assert len(bob.d.get_credentials()) == 1
        assert not bob.csp_violations(), bob.csp_violations()
        bob.quit()
        done.append("a")

        # A device without this desk's passkey: the sign-in is refused by the browser, and the page
        # says so in words instead of hanging or signing anyone in.
        step("a) a passkey sign-in with no passkey on the device is explained")
        carol = Person("carol")
        carol.open_page()
        carol.d.find_element(By.ID, "passkey-sign-in").click()
        WebDriverWait(carol.d, 90).until(lambda d: carol.text("signin-error").strip() != "")
        assert "nothing was sent" in carol.text("signin-error") or "did not accept" in carol.text("signin-error"), \
            carol.text("signin-error")
        assert carol.is_shown("token") and not carol.is_shown("desk")
        carol.quit()
        done.append("a-cancel")

        # ---- b) alice checks, dave approves, each decision signed with their passkey ------------
        step("b) alice and dave add passkeys; alice records the checks, dave approves, signed")
        ref = "HD-2001"
        new_ticket(ref)
        alice = Person("alice")
        alice.sign_in_with_token()
        alice.add_passkey(1)
        alice.open_ticket(ref)
        assert alice.text("ticket-state") == "identity_check"
        for n, check in enumerate(["client_of_record", "number_ownership", "lost_access"]):
            alice.apply("check-passed", check)
            msg = alice.message_after(2 + n)
            assert alice.text("ticket-version") == str(3 + n), f"after {check}: {msg!r}"
            assert "check-passed recorded" in msg and DECISION_SIGNED in msg, msg
        alice.wait.until(EC.text_to_be_present_in_element((By.ID, "ticket-waiting"), "approval"))
        assert not alice.csp_violations(), alice.csp_violations()
        alice.quit()
        done.append("b-checks")

        dave = Person("dave")
        dave.sign_in_with_token()
        dave.add_passkey(1)
        dave.open_ticket(ref)  # his queue opens on Ready for my approval
        dave.wait.until(EC.text_to_be_present_in_element((By.ID, "ticket-version"), "5"))
        dave.apply("approve")
        msg = dave.message_after(5)
        assert dave.text("ticket-state") == "approved", msg
        assert "approve recorded" in msg and DECISION_SIGNED in msg, msg
        # The history names the signatures in words: alice's three checks and dave's approval.
        dave.wait.until(lambda d: any("approve" in r.text and "dave" in r.text and "signed with passkey" in r.text
                                      for r in d.find_elements(By.CSS_SELECTOR, "#history tbody tr")))
        rows = [r.text for r in dave.d.find_elements(By.CSS_SELECTOR, "#history tbody tr")]
        assert sum("check-passed" in r and "alice" in r and "signed with passkey" in r for r in rows) == 3, rows
        dave.wait.until(lambda d: d.execute_script("const i = document.getElementById('diagram');"
                                                   "return i.complete && i.naturalWidth > 0;"))
        dave.d.execute_script("window.scrollTo(0, 0);")
        dave.screenshot("passkey-approved.png")
        status, t, _ = call("dave", "GET", f"/api/v1/tickets/{ref}")
        assert status == 200 and t["state"] == "approved" and t["version"] == 6, t
        done.append("b-approve")

        # ---- d) signatures required: unsigned decisions are refused, passkey-signed ones pass ---
        step("d) require-signatures: keyless decisions refused, passkey-signed ones accepted")
        ready, later = "HD-2002", "HD-2003"
        new_ticket(ready)
        new_ticket(later)
        # Not required yet: a keyless agent's unsigned checks go through.
        version = 2
        for check in ["client_of_record", "number_ownership", "lost_access"]:
            status, t, _ = call("carol", "POST", f"/api/v1/tickets/{ready}/events",
                                {"event": "check-passed", "check": check}, {"If-Match": f'"{version}"'})
            assert status == 200, (status, t)
            version = t["version"]
        key_file = os.path.join(tmp, "boss.key")
        public = cli(args.tfadesk, db, "agent", "key", "generate", "--out", key_file, "--agent", "boss",
                     token=boss).stdout.strip()
        cli(args.tfadesk, db, "agent", "key", "add", public, "--agent", "boss", token=boss)
        cli(args.tfadesk, db, "agent", "require-signatures", "on", "--sign-key", key_file, token=boss)
        # An approver without any key: the unsigned approve is refused and writes nothing.
        status, body, _ = call("erin", "POST", f"/api/v1/tickets/{ready}/events", {"event": "approve"},
                               {"If-Match": f'"{version}"'})
        assert status == 403 and body.get("code") == "forbidden", (status, body)
        status, t, _ = call("erin", "GET", f"/api/v1/tickets/{ready}")
        assert t["version"] == version and t["state"] == "identity_check", t
        # carol (no key) in the page: her unsigned check is refused, and the page says so.
        carol = Person("carol")
        carol.open_page()
        box = carol.wait.until(EC.visibility_of_element_located((By.ID, "token")))
        box.send_keys(tokens["carol"])
        carol.d.find_element(By.ID, "sign-in").click()
        carol.signed_in()
        assert carol.text("passkey-count") == "0"
        carol.open_ticket(later)
        carol.apply("check-passed", "client_of_record")
        msg = carol.message_after(2)
        assert carol.text("ticket-version") == "2", "an unsigned check was applied: " + msg
        assert "forbidden" in msg and "recorded" not in msg, msg
        carol.quit()
        # dave's passkey still signs: his approval of the ready ticket goes through.
        dave.d.find_element(By.ID, "refresh").click()
        dave.open_ticket(ready)
        dave.wait.until(EC.text_to_be_present_in_element((By.ID, "ticket-version"), str(version)))
        dave.apply("approve")
        msg = dave.message_after(version)
        assert dave.text("ticket-state") == "approved" and DECISION_SIGNED in msg, msg
        assert not dave.csp_violations(), dave.csp_violations()
        done.append("d")

        step("d) the admin's screen: passkeys per account, signatures required")
        dave.sign_out()
        box = dave.wait.until(EC.visibility_of_element_located((By.ID, "token")))
        box.send_keys(tokens["boss"])
        dave.d.find_element(By.ID, "sign-in").click()
        dave.wait.until(EC.text_to_be_present_in_element((By.ID, "who-name"), "boss"))
        dave.d.get(page + "accounts?name=dave")
        dave.wait.until(lambda d: dave.is_shown("account-detail") and dave.text("account-name") == "dave")

        def passkeys(name):
            return dave.d.find_element(
                By.CSS_SELECTOR, f'#accounts-table tr[data-account="{name}"] td[data-label="Passkeys"]').text
        counts = {name: passkeys(name) for name in ("bob", "alice", "dave", "carol")}
        assert counts == {"bob": "1", "alice": "1", "dave": "1", "carol": "0"}, counts
        assert dave.text("account-keys").startswith("1 passkey"), dave.text("account-keys")
        assert "requires signed decisions" in dave.text("signatures-state"), dave.text("signatures-state")
        dave.quit()
        done.append("d-admin")
    except Exception as e:  # noqa: BLE001 - report any failure as the test's failure
        details = []
        for name, d in list(drivers.items()):
            try:
                details.append(f"{name}'s page: message={d.find_element(By.ID, 'message').text!r} "
                               f"signin-error={d.find_element(By.ID, 'signin-error').text!r} "
                               f"passkey-status={d.find_element(By.ID, 'passkey-status').text!r}")
                details += [f"  console: {x.get('message')}" for x in d.get_log("browser")][-10:]
                if args.screenshots:
                    d.save_screenshot(os.path.join(args.screenshots, f"failed-{name}.png"))
            except Exception:  # noqa: BLE001
                pass
        stop_server(proc)
        tail = open(err_path).read()[-3000:]
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        fail(f"{type(e).__name__}: {e} (after {done})\n" + "\n".join(details) + "\nserver log tail:\n" + tail)
    finally:
        for d in list(drivers.values()):
            d.quit()

    code = stop_server(proc)
    if code != 0:
        fail(f"tfadesk serve exited {code} after SIGTERM")

    # ---- c) the log, read back with the server stopped -------------------------------------------
    step("c) verify and history from the command line")
    try:
        r = cli(args.tfadesk, db, "verify", "--json", check=False)
        assert r.returncode == 0, f"verify exited {r.returncode}: {r.stdout[-2000:]} {r.stderr[-2000:]}"
        report = json.loads(r.stdout)
        sigs = report["signatures"]
        assert sigs.get("dave", {}).get("signed", 0) >= 2, sigs
        assert sigs.get("alice", {}).get("signed", 0) >= 3, sigs
        assert sigs.get("carol", {}).get("unsigned", 0) >= 3, sigs  # before signatures were required
        r = cli(args.tfadesk, db, "history", "HD-2001", "--json")
        entries = json.loads(r.stdout)
        approve = [e for e in entries if e["event"] == "approve"]
        assert len(approve) == 1 and approve[0]["agent"] == "dave", approve
        sig = approve[0]["details"].get("signature")
        assert isinstance(sig, dict) and "passkey" in sig, approve[0]["details"]
        assert sig["passkey"] == ids["dave"], (sig["passkey"], ids["dave"])
        checks = [e for e in entries if e["event"] == "check-passed"]
        assert len(checks) == 3 and all(e["details"].get("signature", {}).get("passkey") == ids["alice"]
                                        for e in checks), checks
        done.append("c")
    except Exception as e:  # noqa: BLE001
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        fail(f"{type(e).__name__}: {e} (after {done})")
    if args.keep:
        step("kept " + tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
