#!/usr/bin/env python3
"""The agent page in a real browser (SPEC §9): headless Debian Chromium driven through WebDriver
(python3-selenium + chromium-driver) against a real `tfadesk serve` on 127.0.0.1.

One agent (who may also approve) signs in with a token: the queue opens on the open tickets, with
the approver's list above them; he opens a ticket from the queue and records the three identity
checks with the page's buttons; the page offers him no Approve (R6). An approver who is not an
agent signs in: the queue opens on "Ready for my approval" (SPEC §15), which holds the ticket, and
he approves it.

It FAILS (exit 1) when Chromium, chromedriver or selenium are missing: a browser test that
skips itself would pass on a machine that never ran it.
"""
import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pagetest import (api, chrome, csp_violations, fail, find_browser, finish, passed,  # noqa: E402
                      seed, start_server)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tfadesk", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--screenshot", help="save a screenshot of the end state here")
    args = ap.parse_args()
    chromium, chromedriver = find_browser()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import Select, WebDriverWait

    tmp = tempfile.mkdtemp(prefix="tfadesk-browser-")
    db = os.path.join(tmp, "desk.db")
    boss = seed(args.seed, db, "boss", "admin", "setup")
    tokens = {name: seed(args.seed, db, name, roles, "boss", boss)
              for name, roles in [("bob", "agent,approver"), ("dave", "approver")]}
    proc, port = start_server(args.tfadesk, db, os.path.join(tmp, "serve.err"))
    base = f"http://127.0.0.1:{port}"
    driver = None
    checks_done = 0
    try:
        status, t, _ = api(base, tokens["bob"], "POST", "/api/v1/tickets",
                           {"ref": "HD-1042", "phone": "+49 151 2345 6789", "client_id": "acme-gmbh",
                            "requester_email": "ops@acme.example", "requester_role": "client",
                            "portfolio_access": "no", "triage": True})
        assert status == 201 and t["state"] == "identity_check", (status, t)

        driver = chrome(chromium, chromedriver, os.path.join(tmp, "profile"), 1280, 1600)
        wait = WebDriverWait(driver, 15)

        def sign_in(name):
            driver.get(base + "/")
            box = wait.until(EC.visibility_of_element_located((By.ID, "token")))
            box.clear()
            box.send_keys(tokens[name])
            driver.find_element(By.ID, "sign-in").click()
            wait.until(EC.text_to_be_present_in_element((By.ID, "who-name"), name))
            wait.until(EC.visibility_of_element_located((By.ID, "desk")))

        def text(element_id):
            return driver.find_element(By.ID, element_id).text

        def apply(event, check=None):
            wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, f'#events button[data-event="{event}"]'))).click()
            wait.until(EC.visibility_of_element_located((By.ID, "event-form")))
            if check:
                Select(driver.find_element(By.ID, "check")).select_by_value(check)
            driver.find_element(By.ID, "event-submit").click()

        # One agent records the three checks.
        sign_in("bob")
        # SPEC §13: the token was sent once; the page keeps none, and the session cookie is
        # HttpOnly (no script sees it).
        kept = driver.execute_script("return JSON.stringify(sessionStorage) + JSON.stringify(localStorage)"
                                     " + document.cookie;")
        assert tokens["bob"] not in kept and "tfadesk_session" not in kept, kept
        # A second tab is signed in by the same session, without the token.
        first_tab = driver.current_window_handle
        driver.switch_to.new_window("tab")
        driver.get(base + "/")
        wait.until(EC.text_to_be_present_in_element((By.ID, "who-name"), "bob"))
        assert not driver.find_element(By.ID, "token").is_displayed()
        driver.close()
        driver.switch_to.window(first_tab)
        # An agent who may also approve: the open tickets, the approver's list above them.
        wait.until(lambda d: "view=all" in d.current_url)
        wait.until(EC.visibility_of_element_located((By.ID, "approver-box")))
        assert driver.execute_script(
            "return !!(document.getElementById('approver-box').compareDocumentPosition("
            "document.getElementById('queue-table')) & Node.DOCUMENT_POSITION_FOLLOWING);"), "the list comes first"
        assert driver.find_elements(By.CSS_SELECTOR, '#views a[data-view="ready"]'), "bob may approve: the view is offered"
        queue_entry = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, '#queue a[data-ref="HD-1042"]')))
        assert "Identity check" in text("queue"), text("queue")
        queue_entry.click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "ticket-state"), "identity_check"))
        assert "checks" in text("ticket-waiting"), text("ticket-waiting")
        for n, check in enumerate(["client_of_record", "number_ownership", "lost_access"]):
            apply("check-passed", check)
            wait.until(EC.text_to_be_present_in_element((By.ID, "ticket-version"), str(3 + n)))
            wait.until(EC.text_to_be_present_in_element((By.ID, "message"), "check-passed recorded"))
            checks_done += 1
        wait.until(EC.text_to_be_present_in_element((By.ID, "ticket-waiting"), "approval"))

        # The same agent may not approve (R6): the page offers only the ticket's `allowed` events
        # (SPEC §14/§15), so there is no Approve button to be refused.
        assert not driver.find_elements(By.CSS_SELECTOR, '#events button[data-event="approve"]'), text("events")
        assert text("ticket-state") == "identity_check"

        # Another approver approves from the approver's list.
        driver.find_element(By.ID, "sign-out").click()
        wait.until(EC.visibility_of_element_located((By.ID, "token")))
        # Signed out for good: a reload asks for a token, and the next person starts on no ticket.
        driver.get(base + "/")
        wait.until(EC.visibility_of_element_located((By.ID, "token")))
        assert "HD-1042" not in driver.current_url, driver.current_url
        sign_in("dave")
        # An approver who is no agent opens on Ready for my approval (SPEC §15), first among the views.
        wait.until(lambda d: "/queue?view=ready" in d.current_url)
        current = driver.find_element(By.CSS_SELECTOR, '#views a[aria-current="page"]')
        assert current.get_attribute("data-view") == "ready", current.get_attribute("data-view")
        assert driver.find_element(By.CSS_SELECTOR, "#views li a").get_attribute("data-view") == "ready"
        assert "Ready for my approval" in text("queue-title"), text("queue-title")
        ready = wait.until(EC.element_to_be_clickable((By.CSS_SELECTOR, '#queue a[data-ref="HD-1042"]')))
        assert not driver.find_element(By.ID, "approver-box").is_displayed(), "the view itself is the list"
        ready.click()
        wait.until(EC.text_to_be_present_in_element((By.ID, "ticket-version"), "5"))
        apply("approve")
        wait.until(EC.text_to_be_present_in_element((By.ID, "ticket-state"), "approved"))
        wait.until(lambda d: any("approve" in r.text and "dave" in r.text
                                 for r in d.find_elements(By.CSS_SELECTOR, "#history tbody tr")))
        wait.until(lambda d: d.execute_script("const i = document.getElementById('diagram');"
                                              "return i.complete && i.naturalWidth > 0;"))
        # dave holds only the approver role: the agent's next step (submit-disable) is not his to
        # take, so the page offers only the ticket's `allowed` events (SPEC §15) and not it.
        assert not driver.find_elements(By.CSS_SELECTOR, '#events button[data-event="submit-disable"]')
        # Nothing from elsewhere, nothing the CSP had to block.
        logs = csp_violations(driver)
        assert not logs, logs
        if args.screenshot:
            driver.save_screenshot(args.screenshot)
        status, t, _ = api(base, tokens["dave"], "GET", "/api/v1/tickets/HD-1042")
        assert status == 200 and t["state"] == "approved" and t["version"] == 6, t
    except Exception as e:  # noqa: BLE001 - report any failure as the test's failure
        if driver and args.screenshot:
            driver.save_screenshot(args.screenshot)
        fail(f"{type(e).__name__}: {e} (after {checks_done} checks)")
    finally:
        code = finish(driver, proc, tmp)
    passed(code)


if __name__ == "__main__":
    main()
