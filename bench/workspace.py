#!/usr/bin/env python3
"""The workspace bench (SPEC §14): a desk of N tickets (default 1,000,000), then, side by side in
one run and by the same keep-alive client, the median and p99 of GET /healthz, the open queue's
first page, a search by phone (last digits), a search by email, /api/v1/counts and one ticket;
and the server's RSS before and after.

    bench/workspace.py [--tickets N] [--requests R] [--tfadesk PATH] [--out DIR]

The desk is made by `tfadesk import` of generated JSON Lines (one write transaction, as an
operator's import is) into DIR (default bench/out/workspace, git-ignored), and reused when it
is there already with the same N. Exits 1 when a command or a request fails, never for times.
"""
import argparse, http.client, json, os, random, statistics, subprocess, sys, time

ap = argparse.ArgumentParser()
ap.add_argument("--tickets", type=int, default=1_000_000)
ap.add_argument("--requests", type=int, default=300)
ap.add_argument("--tfadesk", default=os.path.join(os.path.dirname(__file__), "..", "build", "cli", "tfadesk"))
ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "out", "workspace"))
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
db = os.path.join(a.out, f"desk-{a.tickets}.db")
token_file = db + ".token"
env = dict(os.environ, TFADESK_DB=db)


def run(*args, **kw):
    r = subprocess.run([a.tfadesk, *args], env=kw.pop("env", env), capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"tfadesk {' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r.stdout


if not os.path.exists(db):
    t0 = time.time()
    rows = os.path.join(a.out, f"requests-{a.tickets}.jsonl")
    rnd = random.Random(7)
    roles = ["client"] * 6 + ["portfolio_admin"] * 2 + ["unknown", "partner"]
    with open(rows, "w") as f:
        for i in range(a.tickets):
            f.write(json.dumps({
                "ref": f"HD-{i:07d}", "phone": f"+49151{i:08d}", "client_id": f"client-{i % 50000}",
                "requester_email": f"person{i}@example{i % 97}.com", "requester_role": rnd.choice(roles),
                "portfolio_access": rnd.choice(["yes", "no", "unknown"]), "waba_id": str(10**11 + i)}) + "\n")
    out = run("agent", "add", "bench", "--role", "admin,agent,approver,operator", "--agent", "setup")
    token = out.splitlines()[0]
    with open(token_file, "w") as f:
        f.write(token)
    run("import", rows, "--format", "jsonl", "--triage", "--agent", "bench", env=dict(env, TFADESK_TOKEN=token))
    os.remove(rows)
    print(f"desk of {a.tickets} tickets made in {time.time() - t0:.1f} s", file=sys.stderr)
token = open(token_file).read().strip()

srv = subprocess.Popen([a.tfadesk, "--db", db, "serve", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                       stderr=subprocess.DEVNULL, text=True)
line = srv.stdout.readline()
port = int(line.rsplit(":", 1)[1])


def rss_kib():
    with open(f"/proc/{srv.pid}/status") as f:
        for l in f:
            if l.startswith("VmRSS:"):
                return int(l.split()[1])


conn = http.client.HTTPConnection("127.0.0.1", port)
auth = {"Authorization": f"Bearer {token}"}


def get(path):
    conn.request("GET", path, headers=auth)
    r = conn.getresponse()
    body = r.read()
    if r.status != 200:
        sys.exit(f"GET {path}: HTTP {r.status} {body[:200]!r}")
    return body


n = a.tickets
routes = {
    "GET /healthz": lambda i: "/healthz",
    "open queue, first page": lambda i: "/api/v1/tickets?open=true&sort=updated_at",
    "search by phone (last 6 digits)": lambda i: "/api/v1/tickets?q=" + f"{(i * 7919) % n:08d}"[-6:],
    "search by email": lambda i: f"/api/v1/tickets?q=PERSON{(i * 104729) % n}%40example{((i * 104729) % n) % 97}.com",
    "counts": lambda i: "/api/v1/counts",
    "one ticket": lambda i: f"/api/v1/tickets/HD-{(i * 15485863) % n:07d}",
}
before = rss_kib()
for path in [f(0) for f in routes.values()]:
    get(path)  # warm
times = {k: [] for k in routes}
for i in range(a.requests):
    for name, path_of in routes.items():  # interleaved: every route sees the same machine load
        p = path_of(i)
        t = time.perf_counter()
        get(p)
        times[name].append((time.perf_counter() - t) * 1000)
after = rss_kib()
srv.terminate()
srv.wait()

base = statistics.median(times["GET /healthz"])
print(f"| route ({n} tickets, {a.requests} requests each) | median ms | p99 ms | median / healthz |")
print("|---|---:|---:|---:|")
for name, ts in times.items():
    ts.sort()
    med = statistics.median(ts)
    p99 = ts[min(len(ts) - 1, int(len(ts) * 0.99))]
    print(f"| {name} | {med:.3f} | {p99:.3f} | {med / base:.1f}x |")
print(f"\nserver RSS: {before / 1024:.1f} MiB before, {after / 1024:.1f} MiB after")
