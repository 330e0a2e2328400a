#!/usr/bin/env python3
"""The workspace bench (SPEC §14): a desk of N tickets (default 1,000,000), then, side by side in
one run and by the same keep-alive client, the median and p99 of GET /healthz, the open queue's
first page, a search by phone (last digits), a search by email, /api/v1/counts and one ticket;
and the server's RSS before and after.

    bench/workspace.py [--tickets N] [--requests R] [--tfadesk PATH] [--out DIR]

The desk (bench/desk.py, shared with bench/page.py) is made by `tfadesk import` of generated JSON
Lines (one write transaction, as an operator's import is) into DIR (default bench/out/workspace,
git-ignored), and reused when it is there already with the same N. Exits 1 when a command or a request fails, never for times.
"""
import argparse, http.client, statistics, subprocess, sys, time

import desk  # bench/desk.py: the desk, shared with bench/page.py

ap = argparse.ArgumentParser()
desk.add_args(ap)
ap.add_argument("--requests", type=int, default=300)
a = ap.parse_args()
db, token = desk.make(a.tfadesk, a.out, a.tickets)

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
