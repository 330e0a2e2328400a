#!/usr/bin/env python3
"""Turns bench/run's raw measurements (OUT/raw.tsv, OUT/meta.txt, OUT/notes.txt,
OUT/failures.txt) into the Markdown report printed on stdout.

raw.tsv: case, tool, role (tfadesk|floor|peer|info), n, unit (rows|events), wall s, peak RSS KiB
"""
import os
import re
import statistics
import sys


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def fmt_rate(x):
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}"


def fmt_ratio(x):
    return "—" if x is None else f"{x:.2f}x"


def main(out):
    meta = dict(l.split("=", 1) for l in read_lines(os.path.join(out, "meta.txt")))
    notes = read_lines(os.path.join(out, "notes.txt"))
    fails = read_lines(os.path.join(out, "failures.txt"))

    cases = {}  # case -> {tool -> dict}
    order = []
    for line in read_lines(os.path.join(out, "raw.tsv")):
        case, tool, role, n, unit, wall, rss = line.split("\t")
        if case not in cases:
            cases[case] = {}
            order.append(case)
        t = cases[case].setdefault(tool, {"role": role, "n": int(n), "unit": unit, "walls": [], "rss": []})
        t["walls"].append(float(wall))
        if rss:
            t["rss"].append(int(rss))

    for case in order:
        for t in cases[case].values():
            t["median"] = statistics.median(t["walls"])
            t["rate"] = t["n"] / t["median"] if t["median"] > 0 else float("inf")
            t["rss_mib"] = max(t["rss"]) / 1024 if t["rss"] else None

    def ref(case, role):
        for t in cases[case].values():
            if t["role"] == role:
                return t
        return None

    p = print
    p("# tfadesk benchmark")
    p()
    p(f"- date: {meta.get('date', '?')}")
    p(f"- machine: {meta.get('machine', '?')}")
    p(f"- command: `{meta.get('command', '?')}` ({meta.get('repeat', '?')} run(s) of each case; "
      f"whole run {meta.get('total', '?')} s)")
    p(f"- tfadesk: {meta.get('tfadesk', '?')}")
    p(f"- floor: {meta.get('floor') or 'not run'}; peer: {meta.get('peer') or 'not run'}")
    p()
    p("| case | tool | rows/events | median wall s | spread (min–max) s | rate/s | peak RSS MiB "
      "| tfadesk/floor | tfadesk/peer |")
    p("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for case in order:
        floor, peer = ref(case, "floor"), ref(case, "peer")
        for tool, t in cases[case].items():
            rf = rp = None
            if t["role"] == "tfadesk":
                rf = t["rate"] / floor["rate"] if floor else None
                rp = t["rate"] / peer["rate"] if peer else None
            w = t["walls"]
            rss = "—" if t["rss_mib"] is None else f"{t['rss_mib']:.0f}"
            p(f"| {case} | {tool} | {t['n']:,} {t['unit']} | {t['median']:.3f} | {min(w):.3f}–{max(w):.3f} "
              f"| {fmt_rate(t['rate'])} | {rss} | {fmt_ratio(rf)} | {fmt_ratio(rp)} |")
    p()
    p("Ratios compare rates (rows/s or events/s) measured in this run: above 1 means tfadesk is faster. "
      "For the event case the floor is the `sqlite3` shell doing one insert+update per process; "
      "`limit commit DB 1` is shown for information. Wall time includes process start-up; "
      "peak RSS is GNU time's maximum resident set size (the largest of the runs).")
    p()

    # ---- targets
    p("## Targets")
    p()
    p("| target | measured | |")
    p("|---|---|---|")

    def verdict(ok):
        return "met" if ok else "**missed**"

    # Issue 16's targets: import >= 0.9x the floor, import --triage >= 0.85x, verify >= 0.6x,
    # verify --verifier-key within 1.1x of plain verify's time, one event <= 1.15x the shell's time.
    for case in order:
        t, floor = ref(case, "tfadesk"), ref(case, "floor")
        if t and case.startswith("verify --verifier-key"):
            plain = next((ref(c, "tfadesk") for c in order if c.startswith("verify ") and not c.startswith("verify --")), None)
            if plain:
                r = t["median"] / plain["median"]
                p(f"| {case}: ≤ 1.1x the time of plain verify | {r:.2f}x ({t['median']:.2f} vs {plain['median']:.2f} s) "
                  f"| {verdict(r <= 1.1)} |")
            continue
        if not t or not floor:
            continue
        r = t["rate"] / floor["rate"]
        if case.startswith("import"):
            goal = 0.85 if "--triage" in case else 0.9
            p(f"| {case}: ≥ {goal}x floor rows/s | {r:.2f}x ({fmt_rate(t['rate'])} vs {fmt_rate(floor['rate'])} rows/s) "
              f"| {verdict(r >= goal)} |")
        elif case.startswith("verify"):
            p(f"| {case}: ≥ 0.6x floor events/s | {r:.2f}x ({fmt_rate(t['rate'])} vs {fmt_rate(floor['rate'])} events/s) "
              f"| {verdict(r >= 0.6)} |")
        elif case.startswith("event"):
            ms_t = 1000 * t["median"] / t["n"]
            ms_f = 1000 * floor["median"] / floor["n"]
            extra = []
            for tool, o in cases[case].items():
                if o["role"] in ("peer", "info"):
                    extra.append(f"{tool} {1000 * o['median'] / o['n']:.1f} ms")
            more = f"; {', '.join(extra)}" if extra else ""
            p(f"| one event per process: ≤ 1.15x the sqlite3 shell's insert+update | "
              f"{ms_t / ms_f:.2f}x ({ms_t:.1f} vs {ms_f:.1f} ms per process{more}) | {verdict(ms_t / ms_f <= 1.15)} |")

    # peak memory: 1M import vs 100k import (else the largest size vs the smallest, when >= 2 sizes)
    imports = {}
    for case in order:
        m = re.fullmatch(r"import (\S+)", case)
        if m:
            t = ref(case, "tfadesk")
            if t and t["rss_mib"] is not None:
                imports[t["n"]] = (m.group(1), t["rss_mib"], {k: v["rss_mib"] for k, v in cases[case].items()})
    if len(imports) >= 2:
        sizes = sorted(imports)
        lo, hi = (100000, 1000000) if 100000 in imports and 1000000 in imports else (sizes[0], sizes[-1])
        (lo_h, lo_t, lo_all), (hi_h, hi_t, hi_all) = imports[lo], imports[hi]
        r = hi_t / lo_t
        others = [f"{k} {hi_all[k] / lo_all[k]:.2f}x" for k in hi_all if k != "tfadesk" and k in lo_all
                  and hi_all[k] and lo_all[k]]
        more = f"; {', '.join(others)}" if others else ""
        p(f"| peak RSS of a {hi_h} import ≤ 1.2x a {lo_h} import's | {r:.2f}x ({hi_t:.1f} vs {lo_t:.1f} MiB{more}) "
          f"| {verdict(r <= 1.2)} |")
    else:
        p("| peak RSS of a 1M import ≤ 1.2x a 100k import's | one size only in this run | n/a |")
    p()
    p("Times on a shared 2-core machine vary by up to 40% between runs; only figures from the same run "
      "are compared. A quick run (10k rows) is dominated by process start-up and says little about the targets.")
    if notes:
        p()
        p("## Notes")
        p()
        for n in notes:
            p(f"- {n}")
    if fails:
        p()
        p("## FAILED")
        p()
        for f in fails:
            p(f"- {f}")


if __name__ == "__main__":
    main(sys.argv[1:][0] if len(sys.argv) > 1 else "bench/out")
