// The real `tfadesk` program against this run's backend, as processes: writers racing on one
// ticket and on many, migrate through the command line both ways, read commands that never
// create anything, and (PostgreSQL) an auditor role that may only SELECT and a server that is not
// there. SPEC §4 exit codes, §6 one linear chain, §10.
#include <fstream>
#include <mutex>
#include <thread>

#include "../reliability/proc.hpp"
#include "helpers.hpp"

namespace store_test {
namespace {

using rel::Exit;
using rel::Process;

Exit tfadesk(const std::string& db, const std::vector<std::string>& args,
             const tfadesk_test::TempDir& dir) {
    return rel::run(rel::tf(db, args), dir.path());
}

std::vector<std::string> open_args(const std::string& ref, const std::string& access = "no") {
    return {"open",
            "--submitted-at",
            rel::kSubmittedAt,
            "--ref",
            ref,
            "--phone",
            "+15551234568",
            "--client-id",
            "client-" + ref,
            "--requester-email",
            "who@acme.example",
            "--role",
            "client",
            "--access",
            access,
            "--agent",
            "setup"};
}

std::string first_of(const std::vector<std::string>& v) { return v.empty() ? "" : v.front(); }

std::string last_line(const std::string& s) {
    const auto lines = rel::lines_of(s);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
        if (!it->empty()) return *it;
    return "";
}

// verify exits 0 and export is one linear chain of `entries` entries; returns verify's head line.
std::string check_log(const std::string& db, const tfadesk_test::TempDir& dir,
                      std::size_t entries) {
    const Exit v = tfadesk(db, {"verify"}, dir);
    CHECK_MESSAGE(v.exited(0), "verify: " << v.describe() << "\n" << v.out);
    const Exit x = tfadesk(db, {"export", "--format", "jsonl"}, dir);
    REQUIRE_MESSAGE(x.exited(0), "export: " << x.describe());
    const auto log = rel::parse_export(x.out);
    CHECK(log.size() == entries);
    const std::string problem = rel::chain_problem(log);
    CHECK_MESSAGE(problem.empty(), problem);
    return last_line(v.out);
}

TEST_CASE(
    "processes: racers on one ticket with the same --expect-version: exactly one wins, the others "
    "exit 5") {
    // Each racer asks for version v; the event's ticket is replayed under the head lock, so the
    // first to get it wins and every other one finds v + 1 (SPEC §10: it holds across processes).
    Desk desk;
    tfadesk_test::TempDir dir;
    const std::string db = desk.location(), ref = "RACE-1";
    REQUIRE(tfadesk(db, open_args(ref, "unknown"), dir).exited(0));
    REQUIRE(tfadesk(db, {"event", ref, "triage", "--agent", "setup"}, dir).exited(0));
    constexpr int kRounds = 6, kRacers = 4;
    std::vector<std::string> bad;
    for (int round = 0; round < kRounds; ++round) {
        const long v = 2 + round;
        // They all start while the writers' lock is held, so all of them read version v and queue
        // on the lock at once; then it is let go.
        auto gate = backend().hold_writers(db);
        std::vector<Process> racers;
        for (int i = 0; i < kRacers; ++i)
            racers.push_back(Process::start(
                rel::tf(db, {"event", ref, "update", "--note",
                             "round " + std::to_string(round) + " by racer " + std::to_string(i),
                             "--expect-version", std::to_string(v), "--agent",
                             "racer-" + std::to_string(i)}),
                dir.path()));
        const auto t0 = rel::Clock::now();
        if (backend().waiting(db) < 0) rel::sleep_ms(800);
        while (backend().waiting(db) >= 0 && backend().waiting(db) < kRacers &&
               rel::ms_since(t0) < 20000)
            rel::sleep_ms(20);
        CHECK(backend().waiting(db) != 0);
        gate.reset();
        int won = 0, lost = 0;
        std::string why;
        for (auto& p : racers) {
            const Exit e = p.wait();
            if (e.exited(0))
                ++won;
            else if (e.exited(5) &&
                     e.err.find("version " + std::to_string(v + 1)) != std::string::npos)
                ++lost;
            else
                why += " " + e.describe();
        }
        if (won != 1 || lost != kRacers - 1)
            bad.push_back("round " + std::to_string(round) + ": " + std::to_string(won) + " won, " +
                          std::to_string(lost) + " lost;" + why);
    }
    CHECK_MESSAGE(bad.empty(), first_of(bad));
    const Exit show = tfadesk(db, {"show", ref, "--json"}, dir);
    CHECK(rel::json_int(show.out, "version") == 2 + kRounds);
    check_log(db, dir, 2 + kRounds);
}

TEST_CASE(
    "processes: writers on different tickets at once: gap-free seq, one linear chain, verify exit "
    "0") {
    Desk desk;
    tfadesk_test::TempDir dir;
    const std::string db = desk.location();
    REQUIRE(tfadesk(db, open_args("FIRST"), dir).exited(0));  // the schema exists before the race
    constexpr int kWriters = 4, kTickets = 3;
    std::vector<std::vector<std::string>> failures(kWriters);
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w)
        writers.emplace_back([&, w] {
            for (int k = 0; k < kTickets; ++k) {
                const std::string ref = "W" + std::to_string(w) + "-" + std::to_string(k);
                const std::vector<std::vector<std::string>> steps = {
                    open_args(ref),
                    {"event", ref, "triage", "--agent", "checker"},
                    {"event", ref, "check-passed", "--check", "client_of_record", "--agent",
                     "checker"},
                    {"event", ref, "check-passed", "--check", "number_ownership", "--agent",
                     "checker"},
                    {"event", ref, "check-passed", "--check", "lost_access", "--agent", "checker"},
                    {"event", ref, "approve", "--agent", "approver"},
                };
                for (const auto& args : steps) {
                    const Exit e = rel::run(rel::tf(db, args), dir.path());
                    if (!e.exited(0))
                        failures[static_cast<std::size_t>(w)].push_back(args[0] + " " + ref + ": " +
                                                                        e.describe());
                }
            }
        });
    for (auto& t : writers) t.join();
    for (const auto& f : failures) CHECK_MESSAGE(f.empty(), first_of(f));
    check_log(db, dir, 1 + kWriters * kTickets * 6);
    const Exit list = tfadesk(db, {"list", "--state", "approved"}, dir);
    CHECK(rel::lines_of(list.out).size() >= kWriters * kTickets);
}

TEST_CASE(
    "processes: migrate through the command line, out of this store and back: same head, same "
    "export") {
    Desk desk, back;
    tfadesk_test::TempDir dir;
    const std::string db = desk.location(), file = dir / "copy.db";
    REQUIRE(tfadesk(db, open_args("HD-1"), dir).exited(0));
    REQUIRE(tfadesk(db, open_args("HD-2", "yes"), dir).exited(0));
    REQUIRE(tfadesk(db, {"event", "HD-1", "triage", "--agent", "a1"}, dir).exited(0));
    REQUIRE(tfadesk(db, {"event", "HD-2", "triage", "--agent", "a1"}, dir).exited(0));
    REQUIRE(tfadesk(db,
                    {"event", "HD-1", "check-passed", "--check", "lost_access", "--agent", "a1"},
                    dir)
                .exited(0));
    const std::string head = check_log(db, dir, 5);
    REQUIRE(head.rfind("head 5:", 0) == 0);
    const Exit original = tfadesk(db, {"export"}, dir);

    const Exit out = rel::run({TFADESK_BIN, "migrate", "--from", db, "--to", file}, dir.path());
    REQUIRE_MESSAGE(out.exited(0), out.describe());
    CHECK(rel::lines_of(out.out)[0].rfind("migrated 5 entries (2 tickets, 0 accounts, 0 seals)",
                                          0) == 0);
    CHECK(last_line(out.out) == head);
    const Exit in =
        rel::run({TFADESK_BIN, "migrate", "--from", file, "--to", back.location()}, dir.path());
    REQUIRE_MESSAGE(in.exited(0), in.describe());
    CHECK(last_line(in.out) == head);

    for (const std::string& copy : {file, back.location()}) {
        CAPTURE(copy);
        CHECK(check_log(copy, dir, 5) == head);
        CHECK(tfadesk(copy, {"export"}, dir).out == original.out);
        CHECK(tfadesk(copy, {"show", "HD-1", "--json"}, dir).out ==
              tfadesk(db, {"show", "HD-1", "--json"}, dir).out);
        CHECK(tfadesk(copy, {"history", "HD-2"}, dir).out ==
              tfadesk(db, {"history", "HD-2"}, dir).out);
    }
    // The copy is a desk like any other: it goes on from the same head.
    const Exit more = tfadesk(
        back.location(),
        {"event", "HD-1", "check-passed", "--check", "number_ownership", "--agent", "a1"}, dir);
    REQUIRE_MESSAGE(more.exited(0), more.describe());
    check_log(back.location(), dir, 6);
}

TEST_CASE(
    "processes: migrate refuses a destination that is not empty (exit 5) and a source that does "
    "not verify (exit 6)") {
    Desk desk, other;
    tfadesk_test::TempDir dir;
    const std::string db = desk.location();
    REQUIRE(tfadesk(db, open_args("HD-1"), dir).exited(0));
    REQUIRE(tfadesk(db, {"event", "HD-1", "triage", "--agent", "a1"}, dir).exited(0));
    REQUIRE(tfadesk(other.location(), open_args("THERE"), dir).exited(0));

    const Exit full =
        rel::run({TFADESK_BIN, "migrate", "--from", db, "--to", other.location()}, dir.path());
    CHECK_MESSAGE(full.exited(5), full.describe());
    CHECK(full.err.find("not empty") != std::string::npos);
    CHECK(full.out.empty());
    check_log(other.location(), dir, 1);

    REQUIRE_FALSE(backend().raw_exec(
        db, backend().disable_triggers_sql() +
                "UPDATE events SET at = '2026-01-01T00:00:00.000Z' WHERE seq = 2;"));
    const std::string file = dir / "copy.db";
    const Exit bad = rel::run({TFADESK_BIN, "migrate", "--from", db, "--to", file}, dir.path());
    CHECK_MESSAGE(bad.exited(6), bad.describe());
    CHECK(bad.err.find("entry seq 2") != std::string::npos);
    CHECK(bad.err.find("hash does not match") != std::string::npos);
    const Exit empty = tfadesk(file, {"verify"}, dir);
    CHECK(empty.exited(0));
    CHECK(last_line(empty.out) == "head 0:" + std::string(64, '0'));

    const Exit missing = rel::run(
        {TFADESK_BIN, "migrate", "--from", dir / "nothing.db", "--to", dir / "x.db"}, dir.path());
    CHECK(missing.exited(1));
    CHECK_FALSE(std::filesystem::exists(dir / "x.db"));
}

TEST_CASE("processes: read commands on a store without a desk exit 1 and create nothing") {
    Desk desk;
    tfadesk_test::TempDir dir;
    // On PostgreSQL with a password in the URI (the test server trusts its socket and ignores
    // it): no message may show it.
    const std::string secret = "Pw4Secret";
    const std::string db =
        backend().is_postgres() ? with_user(desk.location(), "tfadesk", secret) : desk.location();
    for (const std::vector<std::string>& args : {std::vector<std::string>{"list"},
                                                 {"show", "HD-1"},
                                                 {"history", "HD-1"},
                                                 {"verify"},
                                                 {"export"},
                                                 {"stats"}}) {
        CAPTURE(args[0]);
        const Exit e = tfadesk(db, args, dir);
        CHECK(e.exited(1));
        CHECK(rel::lines_of(e.err).size() <= 2);  // one line (and the final newline)
        CHECK(e.err.find(secret) == std::string::npos);
    }
    const Exit ev = tfadesk(db, {"event", "HD-1", "triage", "--agent", "a1"}, dir);
    CHECK_MESSAGE(ev.exited(4), ev.describe());
    CHECK(ev.err.find(secret) == std::string::npos);
    const std::string csv = dir / "in.csv";
    std::ofstream(csv) << "ref,phone,client_id,requester_email,requester_role\nIMP-1,+15551234568,"
                          "c1,a@b.example,client\n";
    const Exit dry = tfadesk(db, {"import", csv, "--dry-run", "--agent", "op"}, dir);
    CHECK_MESSAGE(dry.exited(0), dry.describe());
    CHECK(dry.out == "imported 1, duplicates 0, rejected 0\n");
    CHECK_FALSE(backend().holds_anything(db));
}

// --- PostgreSQL only ---------------------------------------------------------------------------

TEST_CASE("processes: postgres: an auditor role granted only SELECT runs every read command") {
    if (!backend().is_postgres()) return;
    auto& pg = static_cast<PgBackend&>(backend());
    Desk desk;
    tfadesk_test::TempDir dir;
    const std::string db = desk.location();
    REQUIRE(tfadesk(db, open_args("HD-1"), dir).exited(0));
    REQUIRE(tfadesk(db, {"event", "HD-1", "triage", "--agent", "a1"}, dir).exited(0));
    const std::string auditor = pg.reader(db);
    for (const std::vector<std::string>& args : {std::vector<std::string>{"list"},
                                                 {"list", "--json"},
                                                 {"show", "HD-1", "--json"},
                                                 {"history", "HD-1"},
                                                 {"replay", "HD-1"},
                                                 {"verify"},
                                                 {"verify", "HD-1"},
                                                 {"export", "--format", "csv"},
                                                 {"stats", "--json"}}) {
        CAPTURE(args[0]);
        const Exit mine = tfadesk(auditor, args, dir);
        CHECK_MESSAGE(mine.exited(0), mine.describe());
        CHECK(mine.out == tfadesk(db, args, dir).out);
    }
    const Exit write =
        tfadesk(auditor, {"event", "HD-1", "cancel", "--note", "x", "--agent", "a1"}, dir);
    CHECK(write.exited(1));
    CHECK(write.err.find("permission denied") != std::string::npos);
    check_log(db, dir, 2);
}

TEST_CASE(
    "processes: postgres: a server that is not there is one line, exit 1, the password masked") {
    if (!backend().is_postgres()) return;
    tfadesk_test::TempDir dir;
    const std::string uri = "postgresql://alice:Hunter2Secret@127.0.0.1:1/desk";
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"list"}, open_args("HD-1"), {"verify"}}) {
        CAPTURE(args[0]);
        const Exit e = tfadesk(uri, args, dir);
        CHECK(e.exited(1));
        CHECK(e.err.find("Hunter2Secret") == std::string::npos);
        CHECK(e.err.find("postgresql://alice:***@127.0.0.1:1/desk") != std::string::npos);
        CHECK(rel::lines_of(e.err).size() <= 2);
    }
    const Exit m =
        rel::run({TFADESK_BIN, "migrate", "--from", uri, "--to", dir / "x.db"}, dir.path());
    CHECK(m.exited(1));
    CHECK(m.err.find("Hunter2Secret") == std::string::npos);
}

}  // namespace
}  // namespace store_test
