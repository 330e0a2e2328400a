#!/usr/bin/env python3
"""Deterministic pending-request CSVs (SPEC §2 columns) for bench/run.

    gen_requests.py ROWS OUT.csv [--seed S] [--walk]

Same ROWS and seed => byte-identical file, on any Python 3.  Every row is valid
(all of them must import), refs are unique.  Default mix of values:

  requester_role    ~55% client, 20% portfolio_admin, 10% partner, 15% unknown
  portfolio_access  ~55% no, 30% yes, 15% unknown
  reason            lost_access / migrate_waba / migrate_portfolio / other
  phone             E.164 written the way people type it (spaces, dashes, parentheses)
  waba_id, portfolio_id  15 digits, empty in ~10%
  submitted_at      ISO 8601 UTC in Oct-Nov 2026
  note              ~half quoted with commas and doubled quotes (~2% span two lines),
                    ~30% plain unquoted text, ~20% empty

--walk: every row is role client, access no (so `triage` leads to identity_check and
the full on-behalf walk can follow), for the one-event-per-process case.
"""
import random
import sys

COMPANIES = [
    "acme-gmbh", "bistro-lumiere", "nordwind-logistik", "sakura-trading", "casa-verde",
    "bluefin-dental", "kaffeehaus-wien", "atlas-moving", "pixel-garage", "mercado-sol",
    "helvetia-optik", "lagom-design", "oceanic-tours", "rhein-apotheke", "tandoori-house",
    "fjord-fisheries", "buenavista-hotel", "alpen-bikes", "citrus-juice-co", "maple-clinic",
]
LOCALS = ["ops", "it", "admin", "owner", "support", "marketing", "info", "j.doe", "m.rossi", "k.tanaka"]
REASONS = ["lost_access", "migrate_waba", "migrate_portfolio", "other"]
PLAIN_NOTES = [
    "Requester lost the admin phone",
    "Former employee left; 2FA PIN unknown",
    "Migrating number to new WABA",
    "Wants to move the number to another portfolio",
    "Called support line",
    "Ticket forwarded from chat",
]
QUOTED_NOTES = [
    'Called twice, ""urgent"": migration window is Friday.',
    'Says the PIN was set by an agency, ""we never had it"", wants it off.',
    'Admin left the company, phone lost, portfolio locked; please advise.',
    'Partner says ""acting for the client"", no authorisation letter, yet.',
    'Asked for a callback, between 9 and 12, CET.',
    'Lost access after ""security reset""; owner confirmed by email, twice.',
]
MULTILINE_NOTES = [
    'Lost the admin\'s phone; 2FA PIN unknown.\nSecond line: new admin onboarding, ""asap"".',
    'Two numbers affected, this is the first.\nThe other one is on a separate ticket, see chat.',
]


def pick(r, items):
    return items[int(r.random() * len(items))]


def digits(r, n):
    return "%0*d" % (n, int(r.random() * 10 ** n))


def phone(r):
    k = int(r.random() * 6)
    if k == 0:
        return "+49 151 " + digits(r, 4) + " " + digits(r, 4)
    if k == 1:
        return "+33 6 " + " ".join(digits(r, 2) for _ in range(4))
    if k == 2:
        return "+44 7700 " + digits(r, 6)
    if k == 3:
        return "+1 (" + str(2 + int(r.random() * 8)) + digits(r, 2) + ") 555-" + digits(r, 4)
    if k == 4:
        return "+81 90-" + digits(r, 4) + "-" + digits(r, 4)
    return "+55 11 9" + digits(r, 4) + "-" + digits(r, 4)


def weighted(r, table):
    x = r.random()
    for value, p in table:
        if x < p:
            return value
        x -= p
    return table[-1][0]


ROLES = [("client", 0.55), ("portfolio_admin", 0.20), ("partner", 0.10), ("unknown", 0.15)]
ACCESS = [("no", 0.55), ("yes", 0.30), ("unknown", 0.15)]


def row(r, i, walk):
    company = pick(r, COMPANIES)
    n = int(r.random() * 5000)
    client_id = "%s-%04d" % (company, n)
    email = "%s@%s-%04d.example" % (pick(r, LOCALS), company, n)
    role = "client" if walk else weighted(r, ROLES)
    access = "no" if walk else weighted(r, ACCESS)
    reason = pick(r, REASONS)
    waba = "" if r.random() < 0.10 else "1" + digits(r, 14)
    portfolio = "" if r.random() < 0.10 else "2" + digits(r, 14)
    secs = int(r.random() * 61 * 86400)
    day, rest = divmod(secs, 86400)
    month, mday = (10, day + 1) if day < 31 else (11, day - 30)
    submitted = "2026-%02d-%02dT%02d:%02d:%02dZ" % (month, mday, rest // 3600, rest // 60 % 60, rest % 60)
    x = r.random()
    if x < 0.02:
        note = '"' + pick(r, MULTILINE_NOTES) + '"'
    elif x < 0.50:
        note = '"' + pick(r, QUOTED_NOTES) + '"'
    elif x < 0.80:
        note = pick(r, PLAIN_NOTES)
    else:
        note = ""
    ref = "HD-%07d" % (1000000 + i) if not walk else "WK-%05d" % i
    return ",".join([ref, phone(r), client_id, email, role, access, reason, waba, portfolio, submitted, note])


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    walk = "--walk" in argv
    seed = 20261127
    if "--seed" in argv:
        seed = int(argv[argv.index("--seed") + 1])
        args.remove(str(seed))
    if len(args) != 2:
        sys.exit("usage: gen_requests.py ROWS OUT.csv [--seed S] [--walk]")
    rows, out = int(args[0]), args[1]
    r = random.Random(seed + (1 if walk else 0))
    with open(out, "w", encoding="utf-8", newline="\n") as f:
        f.write("ref,phone,client_id,requester_email,requester_role,portfolio_access,reason,"
                "waba_id,portfolio_id,submitted_at,note\n")
        buf = []
        for i in range(rows):
            buf.append(row(r, i, walk))
            if len(buf) == 10000:
                f.write("\n".join(buf) + "\n")
                buf = []
        if buf:
            f.write("\n".join(buf) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
