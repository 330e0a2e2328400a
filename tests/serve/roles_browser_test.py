#!/usr/bin/env python3
"""The operator's, the auditor's and the admin's screens (SPEC §15) in headless Chromium through
WebDriver (python3-selenium + chromium-driver), against a real `tfadesk serve` on 127.0.0.1.

boss (admin) adds olga (operator), audrey (auditor) and alice (agent). olga signs in with her
token: the header offers Import, not Audit; a CSV of 3 good rows and 1 bad one, checked with a dry
run, shows 3 importable and 1 rejected with its line number, and the API's ticket count is
unchanged; the real import then makes 3 tickets; the stats table counts them; the sweep preview
lists nothing. audrey: Audit, not Import; Verify shows OK and the head; after she reads a ticket
the access log table has rows; replay and the history with hashes show the ticket. alice: neither
link, and /import sends her to the queue.

boss, the admin: Accounts in the header, and no one else has it. He adds erin (agent): her token
is shown once, works, and is gone once hidden; on erin's own address (/accounts?name=erin) he
grants approver and revokes it, disables her (after a confirmation; declining changes nothing)
and her token stops working, enables her, and issues her a new token (confirmed; shown once; the
old one stops working). Her history reads as those six sentences. He then requires signed
decisions: the desk says so (a second switch on is refused as "already"), the screen says so
after a reload, and switching it off again from the page, unsigned, is refused and says why.

At 390 px no screen scrolls sideways; axe-core finds no serious or critical violation on the
sign-in screen, the import, the audit and the accounts screens, at 1366 px and at 390 px.

--screenshots DIR saves import-1366.png, audit-1366.png, accounts-1366.png and accounts-390.png
there.

It FAILS (exit 1) when Chromium, chromedriver or selenium are missing: a browser test that
skips itself would pass on a machine that never ran it.
"""
import argparse
import os
import re
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pagetest import (api, axe_check, axe_source, chrome, csp_violations, fail, find_browser, finish,  # noqa: E402
                      page_detail, passed, seed, start_server, step)

CSV = """ref,phone,client_id,requester_email,requester_role,portfolio_access,reason,waba_id,portfolio_id,submitted_at,note
IM-1,+33 6 12 34 56 71,client-1,it@one.example,client,no,lost_access,,,2026-11-11T09:07:00Z,first
IM-2,+33 6 12 34 56 72,client-2,it@two.example,portfolio_admin,no,lost_access,,,2026-11-12T09:07:00Z,
IM-3,+33 6 12 34 56 73,client-3,it@three.example,client,unknown,other,,,2026-11-13T09:07:00Z,"a ""quoted"" note"
IM-4,not-a-phone,client-4,it@four.example,client,no,lost_access,,,2026-11-14T09:07:00Z,
"""
BAD_LINE = 5  # the header is line 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tfadesk", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--screenshots", help="save the import, audit and accounts screenshots into this directory")
    args = ap.parse_args()
    chromium, chromedriver = find_browser()
    axe_source()
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    if args.screenshots:
        os.makedirs(args.screenshots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="tfadesk-roles-")
    db = os.path.join(tmp, "desk.db")
    boss = seed(args.seed, db, "boss", "admin", "setup")
    tokens = {name: seed(args.seed, db, name, roles, "boss", boss)
              for name, roles in [("olga", "operator"), ("audrey", "auditor"), ("alice", "agent")]}
    tokens["boss"] = boss
    csv_path = os.path.join(tmp, "pending.csv")
    with open(csv_path, "w") as f:
        f.write(CSV)
    proc, port = start_server(args.tfadesk, db, os.path.join(tmp, "serve.err"))
    api_base = f"http://127.0.0.1:{port}"
    page = f"http://localhost:{port}"
    driver = None
    done = []

    def call(name, method, path, body=None, headers=None):
        return api(api_base, tokens[name], method, path, body, headers)

    def ticket_count():
        status, stats, _ = call("alice", "GET", "/api/v1/stats")
        assert status == 200, (status, stats)
        return stats["tickets"]

    try:
        driver = chrome(chromium, chromedriver, os.path.join(tmp, "profile"), 1366, 900, scale_factor=1)
        # A list read while the page redraws it (the live stream) is read again.
        wait = WebDriverWait(driver, 15, ignored_exceptions=(StaleElementReferenceException,))

        def size(width, height):
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 500})

        def text(element_id):
            return driver.find_element(By.ID, element_id).text

        def shown(element_id):
            els = driver.find_elements(By.ID, element_id)
            return bool(els) and els[0].is_displayed()

        def path():
            u = urllib.parse.urlsplit(driver.current_url)
            return u.path

        def screenshot(name):
            if args.screenshots:
                driver.execute_script("window.scrollTo(0, 0);")
                time.sleep(0.3)
                driver.save_screenshot(os.path.join(args.screenshots, name))
                step("screenshot " + name)

        def no_sideways_scroll(where):
            sw = driver.execute_script("return document.documentElement.scrollWidth;")
            assert sw <= 390, f"{where}: the document is {sw} px wide at 390 px"

        def at_both_widths(where, check=None):
            """axe-core at 1366 px, then at 390 px with no sideways scroll (and `check` at each)."""
            for width, height in ((1366, 900), (390, 844)):
                size(width, height)
                time.sleep(0.3)
                if check:
                    check(width)
                if width == 390:
                    no_sideways_scroll(where)
                axe_check(driver, f"{where} at {width} px")
            size(1366, 900)

        def confirm(answer_yes):
            wait.until(lambda d: d.execute_script("return document.getElementById('ask-dialog').open;"))
            driver.find_element(By.ID, "ask-yes" if answer_yes else "ask-no").click()
            wait.until(lambda d: not d.execute_script("return document.getElementById('ask-dialog').open;"))

        def click(css):
            """Clicks the element, again if the page redrew it under the click."""
            def attempt(d):
                try:
                    d.find_element(By.CSS_SELECTOR, css).click()
                    return True
                except StaleElementReferenceException:
                    return False
            wait.until(attempt)

        def account(name):
            status, accounts, _ = call("boss", "GET", "/api/v1/accounts")
            assert status == 200, (status, accounts)
            return next((a for a in accounts if a["name"] == name), None)

        def sign_in(name):
            driver.get(page + "/")
            box = wait.until(EC.visibility_of_element_located((By.ID, "token")))
            box.send_keys(tokens[name])
            driver.find_element(By.ID, "sign-in").click()
            wait.until(EC.text_to_be_present_in_element((By.ID, "who-name"), name))

        def sign_out():
            driver.find_element(By.ID, "sign-out").click()
            wait.until(EC.visibility_of_element_located((By.ID, "token")))

        size(1366, 900)
        # ---- the sign-in screen ---------------------------------------------------------------
        step("the sign-in screen: axe-core at both widths")
        driver.get(page + "/")
        wait.until(EC.visibility_of_element_located((By.ID, "token")))
        at_both_widths("the sign-in screen")
        done.append("sign-in-axe")

        # ---- olga, the operator -------------------------------------------------------------
        step("olga signs in: Import in the header, not Audit")
        sign_in("olga")
        wait.until(lambda d: shown("nav-import"))
        assert shown("nav-queue") and not shown("nav-audit"), "olga is no auditor"
        driver.find_element(By.ID, "nav-import").click()
        wait.until(lambda d: path() == "/import" and shown("import-panel"))
        assert not shown("desk") and not shown("audit-panel")
        assert driver.find_element(By.ID, "nav-import").get_attribute("aria-current") == "page"
        done.append("operator-nav")

        step("dry run: 3 importable, 1 rejected with its line; nothing written")
        before = ticket_count()
        assert not driver.find_element(By.ID, "import-run").is_enabled(), "Import needs a dry run first"
        driver.find_element(By.ID, "import-file").send_keys(csv_path)
        driver.find_element(By.ID, "import-check").click()
        wait.until(lambda d: shown("import-result") and text("import-imported") == "3")
        assert text("import-rejected") == "1" and text("import-duplicates") == "0", text("import-result")
        cells = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#import-rejects tbody td")]
        assert cells[0] == str(BAD_LINE) and "phone" in cells[1], cells
        link = driver.find_element(By.ID, "import-rejects-download")
        assert link.is_displayed() and link.get_attribute("href").startswith("blob:"), link.get_attribute("href")
        assert link.get_attribute("download") == "pending-rejects.csv", link.get_attribute("download")
        assert ticket_count() == before, "a dry run wrote tickets"
        status, _, _ = call("olga", "GET", "/api/v1/tickets/IM-1")
        assert status == 404, status
        done.append("dry-run")

        step("the real import: 3 new tickets; stats count them")
        wait.until(EC.element_to_be_clickable((By.ID, "import-run"))).click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "import-message"), "Imported from"))
        assert ticket_count() == before + 3
        for ref in ("IM-1", "IM-2", "IM-3"):
            status, t, _ = call("olga", "GET", f"/api/v1/tickets/{ref}")
            assert status == 200, (ref, status, t)
        status, _, _ = call("olga", "GET", "/api/v1/tickets/IM-4")
        assert status == 404
        assert not driver.find_element(By.ID, "import-run").is_enabled(), "a second import needs a new dry run"
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#stats tr[data-stat="tickets"] td').text == str(before + 3))
        done.append("import")

        step("sweep preview: nothing overdue")
        driver.find_element(By.ID, "sweep-preview").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "sweep-status"), "No ticket would expire"))
        assert not driver.find_element(By.ID, "sweep-run").is_enabled()
        screenshot("import-1366.png")
        at_both_widths("the import screen")
        done.append("sweep")
        sign_out()

        # ---- audrey, the auditor ------------------------------------------------------------
        step("audrey signs in: Audit in the header, not Import")
        sign_in("audrey")
        wait.until(lambda d: shown("nav-audit"))
        assert not shown("nav-import"), "audrey is no operator"
        assert not shown("import-panel"), "olga's screen is gone"
        driver.find_element(By.ID, "nav-audit").click()
        wait.until(lambda d: path() == "/audit" and shown("audit-panel"))
        done.append("auditor-nav")

        step("verify: OK and the head")
        driver.find_element(By.ID, "verify-run").click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "verify-ok"), "OK"))
        status, v, _ = call("audrey", "GET", "/api/v1/verify")
        assert v["ok"] and text("verify-head") == v["head"], (text("verify-head"), v)
        assert text("verify-entries") == str(v["entries"])
        driver.find_element(By.ID, "checkpoint-download").click()
        wait.until(lambda d: text("checkpoint-status") != "")
        done.append("verify")

        step("replay and the history with hashes")
        driver.find_element(By.ID, "replay-ref").send_keys("IM-1")
        driver.find_element(By.ID, "replay-go").click()
        wait.until(lambda d: shown("replay-state") and "identity_check" in text("replay-state"))
        driver.find_element(By.ID, "audit-history-go").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#audit-history tbody tr")) == 2)
        hashes = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#audit-history tbody td.hash")]
        assert all(len(h) == 64 for h in hashes), hashes
        done.append("replay-history")

        step("access log: audrey's read of a ticket is listed")
        status, _, _ = call("audrey", "GET", "/api/v1/tickets/IM-2")
        assert status == 200
        driver.find_element(By.ID, "access-ref").send_keys("IM-2")
        driver.find_element(By.ID, "access-go").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#access-log tbody tr")) >= 1)
        assert "audrey" in text("access-log") and "IM-2" in text("access-log"), text("access-log")
        screenshot("audit-1366.png")
        at_both_widths("the audit screen")
        done.append("access-log")
        sign_out()

        # ---- alice, an agent ----------------------------------------------------------------
        step("alice: neither link; /import shows her the queue")
        sign_in("alice")
        wait.until(lambda d: shown("desk"))
        assert not shown("nav-import") and not shown("nav-audit")
        driver.get(page + "/import")
        wait.until(EC.text_to_be_present_in_element((By.ID, "who-name"), "alice"))
        wait.until(lambda d: path() == "/queue" and shown("desk"))
        assert not shown("import-panel") and not shown("audit-panel")
        assert not shown("nav-accounts"), "alice is no admin"
        driver.get(page + "/accounts")
        wait.until(EC.text_to_be_present_in_element((By.ID, "who-name"), "alice"))
        wait.until(lambda d: path() == "/queue" and shown("desk"))
        assert not shown("accounts-panel")
        logs = csp_violations(driver)
        assert not logs, logs
        done.append("agent")
        sign_out()

        # ---- boss, the admin ----------------------------------------------------------------
        step("boss: Accounts in the header; the accounts with their roles and state")
        sign_in("boss")
        wait.until(lambda d: shown("nav-accounts"))
        assert not shown("nav-import") and not shown("nav-audit")
        driver.find_element(By.ID, "nav-accounts").click()
        wait.until(lambda d: path() == "/accounts" and shown("accounts-panel"))
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#accounts-table tbody tr")) == 4)
        row = driver.find_element(By.CSS_SELECTOR, '#accounts-table tr[data-account="olga"]').text
        assert "operator" in row and "enabled" in row, row
        assert "requires" not in text("signatures-state") and "does not require" in text("signatures-state")
        done.append("admin-list")

        step("boss adds erin: her token is shown once, works, and goes")
        driver.find_element(By.ID, "new-account-name").send_keys("erin")
        assert driver.find_element(By.ID, "new-role-agent").is_selected(), "agent is the default role"
        driver.find_element(By.ID, "account-add").click()
        wait.until(lambda d: shown("token-box") and d.find_element(By.ID, "token-value").get_attribute("value"))
        first_token = driver.find_element(By.ID, "token-value").get_attribute("value")
        assert re.fullmatch(r"tfa_[0-9a-f]{64}", first_token), first_token
        assert "only once" in text("token-box") and text("token-for") == "erin", text("token-box")
        status, me, _ = api(api_base, first_token, "GET", "/api/v1/me")
        assert status == 200 and me["name"] == "erin" and me["roles"] == ["agent"], (status, me)
        driver.find_element(By.ID, "token-copy").click()
        wait.until(lambda d: text("token-status") != "")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#accounts-table tbody tr")) == 5)
        driver.find_element(By.ID, "token-hide").click()
        wait.until(lambda d: not shown("token-box"))
        assert first_token not in driver.page_source
        assert driver.find_element(By.ID, "token-value").get_attribute("value") == ""
        done.append("admin-add")

        step("erin's own address: grant approver, revoke it")
        click('#accounts-table a[data-account="erin"]')
        wait.until(lambda d: path() == "/accounts" and "name=erin" in d.current_url and shown("account-detail"))
        assert text("account-name") == "erin"
        click('#account-roles button[data-grant="approver"]')
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#account-roles button[data-revoke="approver"]'))
        assert account("erin")["roles"] == ["agent", "approver"], account("erin")
        click('#account-roles button[data-revoke="approver"]')
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#account-roles button[data-grant="approver"]'))
        assert account("erin")["roles"] == ["agent"], account("erin")
        done.append("admin-roles")

        step("disable (declined, then confirmed): her token stops working; enable")
        driver.find_element(By.ID, "account-disable").click()
        confirm(False)
        wait.until(EC.text_to_be_present_in_element((By.ID, "accounts-message"), "Nothing was changed"))
        assert account("erin")["enabled"] is True
        driver.find_element(By.ID, "account-disable").click()
        confirm(True)
        wait.until(lambda d: shown("account-enable"))
        assert account("erin")["enabled"] is False
        wait.until(lambda d: "disabled" in d.find_element(By.CSS_SELECTOR, '#accounts-table tr[data-account="erin"]').text)
        status, _, _ = api(api_base, first_token, "GET", "/api/v1/me")
        assert status == 401, f"a disabled account's token answered {status}"
        driver.find_element(By.ID, "account-enable").click()
        wait.until(lambda d: shown("account-disable"))
        assert account("erin")["enabled"] is True
        done.append("admin-disable-enable")

        step("a new token for erin: confirmed, shown once; the old one stops working")
        driver.find_element(By.ID, "account-token").click()
        confirm(True)
        wait.until(lambda d: shown("token-box") and d.find_element(By.ID, "token-value").get_attribute("value"))
        second_token = driver.find_element(By.ID, "token-value").get_attribute("value")
        assert re.fullmatch(r"tfa_[0-9a-f]{64}", second_token) and second_token != first_token
        status, _, _ = api(api_base, first_token, "GET", "/api/v1/me")
        assert status == 401, f"the replaced token answered {status}"
        status, me, _ = api(api_base, second_token, "GET", "/api/v1/me")
        assert status == 200 and me["name"] == "erin", (status, me)
        done.append("admin-token")

        step("erin's history in sentences")
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#account-history tbody tr")) == 6)
        sentences = wait.until(lambda d: [r.text for r in d.find_elements(By.CSS_SELECTOR, "#account-history tbody tr")])
        expected = ["boss added the account with the role agent", "boss granted approver", "boss revoked approver",
                    "boss disabled the account", "boss enabled the account again", "boss issued a new token"]
        for sentence, want in zip(sentences, expected):
            assert want in sentence, (want, sentences)
        assert not any("{" in r for r in sentences), sentences
        assert "No passkey" in text("account-keys"), text("account-keys")
        screenshot("accounts-1366.png")

        def token_box_fits(width):
            if width == 390:
                box = driver.find_element(By.ID, "token-value").rect
                assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box

        at_both_widths("the accounts screen with a new token and an account", token_box_fits)
        size(390, 844)
        driver.execute_script("document.getElementById('accounts-list-h').scrollIntoView();")
        time.sleep(0.3)
        if args.screenshots:
            driver.save_screenshot(os.path.join(args.screenshots, "accounts-390.png"))
            step("screenshot accounts-390.png")
        size(1366, 900)
        # Leaving the screen clears the token shown once.
        driver.find_element(By.ID, "nav-queue").click()
        wait.until(lambda d: shown("desk"))
        assert second_token not in driver.page_source
        driver.back()
        wait.until(lambda d: shown("accounts-panel") and shown("account-detail"))
        assert not shown("token-box")
        done.append("admin-history")

        step("require signed decisions: on, as the desk and a reload say; off unsigned is refused")
        driver.find_element(By.ID, "signatures-toggle").click()
        confirm(True)
        wait.until(EC.text_to_be_present_in_element((By.ID, "signatures-state"), "requires signed decisions"))
        status, body, _ = call("boss", "POST", "/api/v1/require-signatures", {"on": True})
        assert status == 409 and body.get("state") == "signatures required", (status, body)
        driver.get(page + "/accounts?name=boss")
        wait.until(lambda d: shown("account-detail") and text("account-name") == "boss")
        wait.until(EC.text_to_be_present_in_element((By.ID, "signatures-state"), "requires signed decisions"))
        assert shown("accounts-signed-note")
        wait.until(lambda d: any("boss required signed decisions" in r.text
                                 for r in d.find_elements(By.CSS_SELECTOR, "#account-history tbody tr")))
        driver.find_element(By.ID, "signatures-toggle").click()
        confirm(True)
        wait.until(EC.text_to_be_present_in_element((By.ID, "accounts-message"), "refused"))
        assert "forbidden" in text("accounts-message"), text("accounts-message")
        assert "requires signed decisions" in text("signatures-state")
        logs = csp_violations(driver)
        assert not logs, logs
        done.append("admin-signatures")
    except Exception as e:  # noqa: BLE001 - report any failure as the test's failure
        detail = page_detail(driver) if driver else ""
        if driver:
            driver.quit()
            driver = None
        fail(f"{type(e).__name__}: {e} (after {done}){detail}")
    finally:
        code = finish(driver, proc, tmp)
    passed(code)


if __name__ == "__main__":
    main()
