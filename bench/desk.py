"""The bench desk that bench/workspace.py and bench/page.py share: N generated tickets imported by
`tfadesk import` (one write transaction, as an operator's import is) into DIR/desk-N.db, with the
token of its `bench` account (admin, agent, approver, operator) in DIR/desk-N.db.token; reused when
it is there already with the same N.

    import desk
    desk.add_args(ap)                               # --tickets N, --tfadesk PATH, --out DIR
    db, token = desk.make(a.tfadesk, a.out, a.tickets)

A failing command exits (status 1) with its stderr.
"""
import json, os, random, subprocess, sys, time

HERE = os.path.dirname(__file__)


def add_args(ap):
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--tfadesk", default=os.path.join(HERE, "..", "build", "cli", "tfadesk"))
    ap.add_argument("--out", default=os.path.join(HERE, "out", "workspace"))


def run(tfadesk, env, *args):
    r = subprocess.run([tfadesk, *args], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"tfadesk {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


def make(tfadesk, out, tickets):
    """Answers (db path, token), making the desk first when DIR/desk-N.db is missing."""
    os.makedirs(out, exist_ok=True)
    db = os.path.join(out, f"desk-{tickets}.db")
    token_file = db + ".token"
    env = dict(os.environ, TFADESK_DB=db)
    if not os.path.exists(db):
        t0 = time.time()
        rows = os.path.join(out, f"requests-{tickets}.jsonl")
        rnd = random.Random(7)
        roles = ["client"] * 6 + ["portfolio_admin"] * 2 + ["unknown", "partner"]
        with open(rows, "w") as f:
            for i in range(tickets):
                f.write(json.dumps({
                    "ref": f"HD-{i:07d}", "phone": f"+49151{i:08d}", "client_id": f"client-{i % 50000}",
                    "requester_email": f"person{i}@example{i % 97}.com", "requester_role": rnd.choice(roles),
                    "portfolio_access": rnd.choice(["yes", "no", "unknown"]), "waba_id": str(10**11 + i)}) + "\n")
        out_ = run(tfadesk, env, "agent", "add", "bench", "--role", "admin,agent,approver,operator", "--agent", "setup")
        token = out_.splitlines()[0]
        with open(token_file, "w") as f:
            f.write(token)
        run(tfadesk, dict(env, TFADESK_TOKEN=token), "import", rows, "--format", "jsonl", "--triage", "--agent", "bench")
        os.remove(rows)
        print(f"desk of {tickets} tickets made in {time.time() - t0:.1f} s", file=sys.stderr)
    return db, open(token_file).read().strip()
