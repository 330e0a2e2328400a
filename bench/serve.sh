# bench/run --serve (sourced by bench/run after its tools are ready): the desk server under
# N concurrent keep-alive clients (1, 4, 16, 64) walking tickets along the on-behalf path,
# beside the raw-SQLite floor's durable commits/s in one process (`limit commit DB N`) and the
# one-process-per-event CLI, in the same run; then GET /healthz from a well-behaved client with
# and without 2,000 slow connections held (1,000 idle, 1,000 trickling a header that never ends;
# 200 with --quick), on one server, and the time from SIGTERM to its exit while they are held
# (slow_load.cpp), over HTTP and over HTTPS. 127.0.0.1 only; every loop bounded in count and
# time. Writes DIR/serve.md and prints it.
#
# With --before (bench/run sets `before` to a snapshot of an older build, `before_commit` to what
# it was built from): the walks of each client count also run on that build, in turn with this one
# (ABBA: this one first in odd runs, the older one first in even runs), each on a fresh desk that
# its own binary seeds and verifies; serve.md then compares the two, after / before. Only flags
# that build takes are passed to it (--db, serve --listen --threads, agent add --role --agent).
#
# Uses: FLOOR, tfadesk, tfadesk_commit, before, before_commit, TOOLS, WORK, out, quick, repeat,
# say, note, fail, rmdb, csv_for, apt_install.

serve_clients=(1 4 16 64)
serve_tickets=128      # tickets per client count (8 events each), split over the clients
serve_floor_commits=500
serve_cli_events=70    # 10 walks of 7 events, one process each
if ((quick)); then serve_tickets=32; serve_floor_commits=100; serve_cli_events=35; fi
serve_max_seconds=60
slow_idle=1000 slow_trickling=1000 slow_probes=200  # SPEC §16: 2,000 slow connections
if ((quick)); then slow_idle=100; slow_trickling=100; slow_probes=30; fi
SERVE_RAW=$out/serve.tsv SLOW_RAW=$out/slow.jsonl
: >"$SERVE_RAW"; : >"$SLOW_RAW"
serve_load_start=$(cut -d' ' -f1-3 /proc/loadavg)
serve_builds=(after)
[ -n "${before:-}" ] && serve_builds+=(before)

# The driver, built like the floor: from one source file, against the system's cpp-httplib.
if ! pkg-config --exists cpp-httplib 2>/dev/null; then
    apt_install libcpp-httplib-dev pkgconf || { echo "bench/run --serve: needs libcpp-httplib-dev" >&2; exit 1; }
fi
for tool in serve_load slow_load; do
    if [ ! -x "$TOOLS/$tool" ] || [ "$BENCH/$tool.cpp" -nt "$TOOLS/$tool" ] || [ "$BENCH/flags.hpp" -nt "$TOOLS/$tool" ]; then
        # shellcheck disable=SC2046  # pkg-config prints flags meant to split
        g++ -O2 -std=c++17 "$BENCH/$tool.cpp" -o "$TOOLS/$tool" $(pkg-config --cflags --libs cpp-httplib) -pthread \
            2>"$WORK/$tool-build.err" || { echo "bench/run --serve: building $tool failed: $(head -c 400 "$WORK/$tool-build.err")" >&2; exit 1; }
    fi
done
# The slow connections need file descriptors on both ends: the server (started from this shell)
# and slow_load hold one each per connection. Raise the soft limit, or hold fewer and say so.
slow_need=$((slow_idle + slow_trickling + 512))
slow_soft=$(ulimit -S -n); [ "$slow_soft" = unlimited ] && slow_soft=$slow_need
if ((slow_soft < slow_need)) && ! ulimit -S -n "$slow_need" 2>/dev/null; then
    slow_fit=$((($(ulimit -H -n) - 512) / 2))
    ((slow_fit < 0)) && slow_fit=0
    note "slow clients: the open-file hard limit is $(ulimit -H -n): holding $((2 * slow_fit)) slow connections instead of $((slow_idle + slow_trickling))"
    slow_idle=$slow_fit slow_trickling=$slow_fit
    ulimit -S -n "$(ulimit -H -n)"
fi
# A self-signed certificate for the HTTPS server (skipped, with a note, without openssl).
slow_cert="" slow_key=""
if command -v openssl >/dev/null && openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/slow-tls.key" \
        -out "$WORK/slow-tls.crt" -days 1 -subj /CN=127.0.0.1 >/dev/null 2>&1; then
    slow_cert=$WORK/slow-tls.crt slow_key=$WORK/slow-tls.key
else
    note "slow clients over HTTPS skipped: openssl could not make a test certificate"
fi

# Accounts through `tfadesk agent add`, which prints the new token alone on stdout. The first
# account is added by 'setup'; every later one by an admin with its token (SPEC §12).
# add_account and start_serve run $serve_bin: this build, or the --before one for its walks.
serve_bin=$tfadesk
add_account() { # DB NAME ROLES [ADMIN_TOKEN] -> prints the token
    if [ -z "${4:-}" ]; then "$serve_bin" --db "$1" agent add "$2" --role "$3" --agent setup
    else TFADESK_TOKEN=$4 "$serve_bin" --db "$1" agent add "$2" --role "$3"; fi
}

serve_pid=""
start_serve() { # DB THREADS [SERVE FLAGS...] -> sets serve_port, serve_pid
    local db=$1 threads=$2 line
    shift 2
    rm -f "$WORK/serve.fifo"; mkfifo "$WORK/serve.fifo"
    "$serve_bin" --db "$db" serve --listen 127.0.0.1:0 --threads "$threads" "$@" >"$WORK/serve.fifo" 2>"$WORK/serve.err" &
    serve_pid=$!
    exec 9<"$WORK/serve.fifo"
    if ! IFS= read -r -t 20 line <&9 || [[ $line != "listening on http"*"://127.0.0.1:"* ]]; then
        fail "serve: no listening line ('${line:-}'): $(tail -c 300 "$WORK/serve.err")"
        kill "$serve_pid" 2>/dev/null; wait "$serve_pid" 2>/dev/null || true
        return 1
    fi
    serve_port=${line##*:}
}
stop_serve() {
    local rc=0
    kill -TERM "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" || rc=$?
    exec 9<&-
    rm -f "$WORK/serve.fifo"
    ((rc == 0)) || fail "serve: exit $rc after SIGTERM: $(tail -c 300 "$WORK/serve.err")"
}

json_field() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

for ((r = 1; r <= repeat; r++)); do
    # ---- the server, N clients (with --before: both builds, one after the other, ABBA)
    order=("${serve_builds[@]}")
    ((r % 2 == 0 && ${#order[@]} == 2)) && order=(before after)
    for n in "${serve_clients[@]}"; do
        for build in "${order[@]}"; do
            if [ "$build" = before ]; then serve_bin=$before kind=serve-before what="serve (before, $before_commit)"
            else serve_bin=$tfadesk kind=serve what=serve; fi
            db=$WORK/serve.db; rmdb "$db"
            admin=$(add_account "$db" boss admin) || { fail "$what: seeding accounts"; break 2; }
            agent_tok=$(add_account "$db" alice agent "$admin") && approver_tok=$(add_account "$db" dave approver "$admin") ||
                { fail "$what: seeding accounts"; break 2; }
            : "$admin"
            threads=$((n + 16 > 32 ? n + 16 : 32))
            start_serve "$db" "$threads" || continue
            per_client=$(((serve_tickets + n - 1) / n))
            if result=$("$TOOLS/serve_load" --port "$serve_port" --clients "$n" --tickets "$per_client" --max-seconds "$serve_max_seconds" \
                    --agent-token "$agent_tok" --approver-token "$approver_tok" 2>"$WORK/serve_load.err"); then :; else
                fail "$what $n clients: $result $(tail -c 300 "$WORK/serve_load.err")"
            fi
            # the server's CPU time so far (user + system, all its threads; start-up included), which
            # a loaded machine changes much less than the wall time: fields 14 and 15 of its stat
            cpu_s=$(sed 's/^.*) //' "/proc/$serve_pid/stat" 2>/dev/null | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($12 + $13) / hz }')
            stop_serve
            events=$(json_field "$result" events 2>/dev/null || echo 0)
            want=$((per_client * n * 8))
            stored=$(sqlite3 "$db" "SELECT count(*) FROM events WHERE ref NOT LIKE 'account:%'")
            if [ "$events" != "$want" ]; then
                fail "$what $n clients: $events events acknowledged, wanted $want (bounded by --max-seconds $serve_max_seconds?)"
            elif [ "$stored" != "$want" ]; then
                fail "$what $n clients: $stored ticket entries in the log, $want acknowledged"
            elif ! "$serve_bin" --db "$db" verify >"$WORK/verify.out" 2>&1; then
                fail "$what $n clients: verify: $(tail -c 300 "$WORK/verify.out")"
            else
                printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$kind" "$n" "$events" "$(json_field "$result" seconds)" \
                    "$(json_field "$result" events_per_s)" "$(json_field "$result" p50_ms)" "$(json_field "$result" p99_ms)" "$r" "$cpu_s" >>"$SERVE_RAW"
                say "$what, $n client(s): $result"
            fi
            rmdb "$db"
        done
    done
    serve_bin=$tfadesk

    # ---- the floor: durable commits in one process
    if [ -n "$FLOOR" ]; then
        db=$WORK/floor-commit.db; rmdb "$db"
        walk_csv=$(csv_for 100 --walk)
        if "$FLOOR" import "$db" "$walk_csv" >"$WORK/floor.out" 2>&1 &&
            "$FLOOR" commit "$db" "$serve_floor_commits" >"$WORK/floor.out" 2>&1; then
            # "limit commit: N commits in S s = R commits/s"
            read -r fc fs fr < <(sed -n 's/^limit commit: \([0-9]*\) commits in \([0-9.]*\) s = \([0-9.]*\) commits\/s$/\1 \2 \3/p' "$WORK/floor.out")
            printf 'floor\t1\t%s\t%s\t%s\t\t\n' "$fc" "$fs" "$fr" >>"$SERVE_RAW"
            say "floor: limit commit DB $serve_floor_commits: $fr commits/s"
        else
            fail "floor commit: $(tail -c 300 "$WORK/floor.out")"
        fi
        rmdb "$db"
    fi

    # ---- the CLI, one process per event (the same walk, by account names)
    db=$WORK/cli.db; rmdb "$db"
    boss_tok=$(add_account "$db" boss admin) && alice_tok=$(add_account "$db" alice agent "$boss_tok") &&
        dave_tok=$(add_account "$db" dave approver "$boss_tok") || fail "cli: seeding accounts"
    walks=$(((serve_cli_events + 6) / 7))
    for ((w = 0; w < walks; w++)); do
        TFADESK_TOKEN=$alice_tok "$tfadesk" --db "$db" open --ref "CL-$w" --phone +4915123456789 --client-id acme \
            --requester-email ops@acme.example --role client --access no --agent alice >/dev/null || fail "cli: open CL-$w"
    done
    t0=$EPOCHREALTIME
    done_events=0
    for ((w = 0; w < walks; w++)); do
        for ev in "triage --agent alice" "check-passed --check client_of_record --agent alice" \
                  "check-passed --check number_ownership --agent alice" "check-passed --check lost_access --agent alice" \
                  "approve --agent dave" "submit-disable --reference WAM-$w --agent alice" "confirm-disabled --agent alice"; do
            # shellcheck disable=SC2086  # $ev splits into the event and its flags
            tok=$alice_tok
            [[ $ev == *"--agent dave"* ]] && tok=$dave_tok
            TFADESK_TOKEN=$tok "$tfadesk" --db "$db" event "CL-$w" $ev >/dev/null || { fail "cli: event CL-$w $ev"; break 2; }
            done_events=$((done_events + 1))
        done
    done
    t1=$EPOCHREALTIME
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
    "$tfadesk" --db "$db" verify >/dev/null 2>&1 || fail "cli: verify"
    printf 'cli\t1\t%s\t%s\t%s\t\t\n' "$done_events" "$wall" "$(awk -v n="$done_events" -v s="$wall" 'BEGIN { printf "%.1f", n / s }')" >>"$SERVE_RAW"
    say "cli: $done_events events, one process each, in $wall s"
    rmdb "$db"

    # ---- GET /healthz with and without slow connections held, one server (default 32 threads),
    # over HTTP and over HTTPS (where the trickling ones send a ClientHello that never ends)
    for tls in 0 1; do
        tls_flags=()
        if ((tls)); then
            [ -n "$slow_cert" ] || continue
            tls_flags=(--tls-cert "$slow_cert" --tls-key "$slow_key")
        fi
        db=$WORK/slow.db; rmdb "$db"
        if start_serve "$db" 32 "${tls_flags[@]}"; then
            if result=$("$TOOLS/slow_load" --port "$serve_port" --idle "$slow_idle" --trickling "$slow_trickling" --tls "$tls" \
                    --probes "$slow_probes" --server-pid "$serve_pid" --max-seconds 120 2>"$WORK/slow_load.err"); then
                echo "$result" >>"$SLOW_RAW"
                say "slow clients ($([ "$tls" = 1 ] && echo HTTPS || echo HTTP)): $result"
            else
                fail "slow clients: $result $(tail -c 300 "$WORK/slow_load.err")"
            fi
            stop_serve  # slow_load sent SIGTERM: this reaps the server and checks it exited 0
        fi
        rmdb "$db"
    done
done

serve_load_end=$(cut -d' ' -f1-3 /proc/loadavg)
python3 - "$SERVE_RAW" "$CMDLINE" "$SLOW_RAW" "${before:+$before_commit}" "$serve_load_start" "$serve_load_end" \
    "$tfadesk_commit" \
    <<'PY' | tee "$out/serve.md"
import statistics, sys
every_row = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
rows = [r[:7] for r in every_row if r[0] != "serve-before"]
def med(values):
    values = [x for x in (float(v) for v in values if v != "") if x == x]  # not the NaNs
    return statistics.median(values) if values else float("nan")
print(f"`{sys.argv[2]}` (tfadesk built from {sys.argv[7]}; load average {sys.argv[5]} at the start, {sys.argv[6]} at the end)\n")
print("| what | clients | events (or commits) | events/s (median) | p50 ms | p99 ms | runs |")
print("|---|---:|---:|---:|---:|---:|---:|")
groups = {}
for kind, n, count, secs, rate, p50, p99 in rows:
    groups.setdefault((kind, int(n)), []).append((count, rate, p50, p99))
names = {"serve": "tfadesk serve (HTTP, group commit)", "floor": "floor: limit commit DB N (one process, one commit each)",
         "cli": "tfadesk CLI, one process per event"}
for (kind, n), runs in sorted(groups.items(), key=lambda kv: (["serve", "floor", "cli"].index(kv[0][0]), kv[0][1])):
    p50 = med([r[2] for r in runs]); p99 = med([r[3] for r in runs])
    fmt = lambda v: "" if v != v else f"{v:.2f}"
    print(f"| {names[kind]} | {n} | {runs[0][0]} | {med([r[1] for r in runs]):.0f} | {fmt(p50)} | {fmt(p99)} | {len(runs)} |")

# --before: the write path of the older build beside this one's, the same walks in the same run.
if sys.argv[4]:
    walks = {}  # (build, clients) -> {run: (rate, p50, p99)}
    for r in every_row:
        if r[0] in ("serve", "serve-before"):
            cpu_ms = 1000 * float(r[8]) / float(r[2]) if r[8] else float("nan")  # server CPU per event
            walks.setdefault((r[0], int(r[1])), {})[r[7]] = tuple(float(v) for v in r[4:7]) + (cpu_ms,)
    print(f"\nThe write path before and after, in the same run: before = tfadesk at {sys.argv[4]}, after = this "
          f"build ({sys.argv[7]}); each client count on a fresh desk and server for each build, the two in turn (ABBA); medians of "
          f"the runs; ratio = after / before (events/s: above 1 is faster now; latency and CPU: below 1 is faster "
          f"now); per run = after / before events/s of the two walks of one run; CPU = the server's user + system "
          f"time per event (all threads, start-up included):\n")
    print("| clients | events/s before | events/s after | ratio | per run | p50 ms before | p50 ms after | ratio "
          "| p99 ms before | p99 ms after | ratio | CPU ms/event before | after | ratio | runs |")
    print("|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in sorted({n for _, n in walks}):
        b, a = walks.get(("serve-before", n), {}), walks.get(("serve", n), {})
        if not a or not b:
            continue
        m = [(med([v[i] for v in b.values()]), med([v[i] for v in a.values()])) for i in range(4)]
        paired = ", ".join(f"{a[k][0] / b[k][0]:.2f}" for k in sorted(a, key=int) if k in b)
        (rate_b, rate_a), latency = m[0], m[1:]
        lat = " | ".join(f"{x:.2f} | {y:.2f} | {y / x:.2f}x" for x, y in latency)
        print(f"| {n} | {rate_b:.0f} | {rate_a:.0f} | {rate_a / rate_b:.2f}x | {paired} | {lat} | {min(len(a), len(b))} |")

# SPEC §16: /healthz with and without the slow connections, the same server in each run.
import json
every = [json.loads(line) for line in open(sys.argv[3]) if line.strip()]
if every:
    total = every[0]["idle"] + every[0]["trickling"]
    print(f"\nGET /healthz from a well-behaved client, without and then with {total:,} slow connections held "
          f"({every[0]['idle']:,} idle, {every[0]['trickling']:,} trickling a byte every 250 ms: a request header, "
          f"over HTTPS a ClientHello, that never ends), one server (32 threads) per run; medians of the runs' "
          f"figures, max the largest:\n")
    print("| /healthz client | slow connections | probes | median ms | p99 ms | max ms | over 200 ms | median ratio | p99 ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
for tls, scheme in ((0, "HTTP"), (1, "HTTPS")):
    slow = [r for r in every if r.get("tls", 0) == tls]
    if not slow:
        continue
    for kind, label in (("keepalive", f"{scheme}, one keep-alive connection"), ("fresh", f"{scheme}, a new connection each")):
        agg = {}
        for phase in ("baseline", "slow"):
            runs = [r[phase][kind] for r in slow]
            agg[phase] = dict(n=sum(x["n"] for x in runs), median=med([x["median_ms"] for x in runs]),
                              p99=med([x["p99_ms"] for x in runs]), max=max(x["max_ms"] for x in runs),
                              over=sum(x["over_200ms"] for x in runs))
        for phase, held in (("baseline", "0"), ("slow", f"{total:,}")):
            a = agg[phase]
            ratio = (f"{a['median'] / agg['baseline']['median']:.2f}x | {a['p99'] / agg['baseline']['p99']:.2f}x"
                     if phase == "slow" else "1 | 1")
            print(f"| {label} | {held} | {a['n']} | {a['median']:.2f} | {a['p99']:.2f} | {a['max']:.2f} | {a['over']} | {ratio} |")
for tls, scheme in ((0, "HTTP"), (1, "HTTPS")):
    slow = [r for r in every if r.get("tls", 0) == tls]
    if not slow:
        continue
    held_min = min(r["held_min"] for r in slow)
    held_med = med([r["held_median"] for r in slow])
    stops = [r["sigterm_exit_s"] for r in slow]
    print(f"\n{scheme}: held at the probes: at least {held_min:,}, median {held_med:,.0f} of {total:,} (the server "
          f"times them out; slow_load opens each again at once: {sum(r['reopened'] for r in slow):,} reopened). "
          f"SIGTERM to exit with them held: {max(stops):.2f} s at most ({len(slow)} run(s)).")
PY
if [ -s "$FAILS" ]; then
    say "$(wc -l <"$FAILS") command(s) failed, see $FAILS"
    exit 1
fi
exit 0
