// `tfadesk verify` against a database tampered with as an attacker would: through the sqlite3
// shell, after dropping the append-only triggers (SPEC §6). Each case works on a fresh copy of one
// log built through the CLI. The hash chain is recomputed here independently (libsodium's SHA-256
// over prev_hash_hex || canonical, the format documented in storage/database.hpp), both to check
// `export` and to forge a chain that is consistent - which `verify` must still refuse when the
// forged history breaks a rule (R6).
#include <doctest/doctest.h>
#include <sodium.h>

#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "log_forge.hpp"

namespace {

using namespace clitest;
using nlohmann::json;

std::int64_t seq_of(const std::string& db, const std::string& ref, int tseq) {
    const Result r = sqlite(db, "SELECT seq FROM events WHERE ref = " + sql_quote(ref) +
                                    " AND tseq = " + std::to_string(tseq));
    INFO(r.describe());
    REQUIRE(r.code == 0);
    REQUIRE_FALSE(r.out.empty());
    return std::stoll(r.out);
}

// The log every case starts from, built once through the CLI:
//   V-DONE  client/no, checks by alice, approved by bob, submitted, failed, resubmitted, completed
//   V-PART  partner, rejected at triage                (its entries sit early in the global log)
//   V-WAIT  unknown role, triaged to awaiting_requester, then an update
//   V-LAST  client/no, triaged to identity_check       (its triage is the last entry of the log)
struct BaseLog {
    Desk desk;
    std::string head;  // "SEQ:HASH" of the last entry

    BaseLog() {
        const Desk& d = desk;
        auto ok = [](const Result& r) {
            if (r.code != 0)
                throw std::runtime_error("building the base log failed: " + r.describe());
        };
        ok(d.open("V-DONE", "client", "no"));
        ok(d.open("V-PART", "partner", "no"));
        ok(d.event("V-DONE", "triage", "alice"));
        ok(d.event("V-PART", "triage", "alice"));
        for (const char* c : {"client_of_record", "number_ownership", "lost_access"})
            ok(d.event("V-DONE", "check-passed", "alice", {"--check", c}));
        ok(d.open("V-WAIT", "unknown", "", "bob"));
        sleep_ms(20);  // room for replay --as-of between the last check and the approval
        ok(d.event("V-DONE", "approve", "bob",
                   {"--ack-related", "V-PART"}));  // same phone as V-PART (R9)
        ok(d.event("V-WAIT", "triage", "bob"));
        ok(d.event("V-DONE", "submit-disable", "bob", {"--reference", "WA-REQ-1"}));
        ok(d.event("V-DONE", "disable-failed", "bob", {"--note", "provider timed out"}));
        ok(d.event("V-DONE", "submit-disable", "bob", {"--reference", "WA-REQ-2"}));
        ok(d.event(
            "V-WAIT", "update", "bob",
            {"--role", "client", "--note", "Rückruf \"dringend\"\nline 2 \\ crlf\r\nline 3"}));
        sleep_ms(20);
        ok(d.event("V-DONE", "confirm-disabled", "Zoe.OBrien"));
        ok(d.open("V-LAST", "client", "no", "dave"));
        ok(d.event("V-LAST", "triage", "dave"));
        // The head as the log holds it, read with the sqlite3 shell (not with tfadesk, so that the
        // base file is exactly what the write commands left).
        const Result q =
            sqlite(d.db, "SELECT seq || ':' || hash FROM events ORDER BY seq DESC LIMIT 1");
        ok(q);
        head = q.out.substr(0, q.out.find('\n'));
    }
};

const BaseLog& base() {
    static const std::unique_ptr<BaseLog> b = std::make_unique<BaseLog>();
    return *b;
}

// A fresh copy of the base log in its own folder.
struct Copy {
    TempDir dir;
    std::string db = dir / "copy.db";
    Copy() {
        const std::string& from = base().desk.db;
        fs::copy_file(from, db);
        if (fs::exists(from + "-wal")) fs::copy_file(from + "-wal", db + "-wal");
    }
    Result operator()(const std::vector<std::string>& args) const { return tfadesk(db, args); }
    // Runs SQL after dropping the append-only triggers, as an attacker with the file would.
    void tamper(const std::string& sql) const { tamper_db(db, sql); }
};

// verify exits 6, names at least one of `needles` in what it prints, and still ends with a head
// line.
void expect_caught(const Copy& c, const std::vector<std::string>& needles,
                   const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"verify"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Result r = c(args);
    INFO(r.describe());
    CHECK(r.code == 6);
    bool named = false;
    for (const auto& n : needles) named = named || has_word(r.out, n) || has_word(r.err, n);
    CHECK_MESSAGE(named, "verify should name one of the tampered tickets/entries");
    const auto lines = r.out_lines();
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back().rfind("head ", 0) == 0);
}

// Rewrites the log from `entries` (already changed by the caller from index `from` on), recomputing
// every prev_hash and hash from there to the end so that the chain is consistent again.
void forge_chain(const Copy& c, const std::vector<Entry>& entries, std::size_t from) {
    c.tamper(forge_chain_sql(entries, from));
}

std::size_t index_of(const std::vector<Entry>& log, const std::string& ref,
                     const std::string& event, int nth = 1) {
    for (std::size_t i = 0; i < log.size(); ++i)
        if (log[i].ref == ref && log[i].event == event && --nth == 0) return i;
    FAIL("no entry " << event << " for " << ref);
    return 0;
}

}  // namespace

TEST_CASE("verify: the untouched log agrees and its head is the last entry") {
    Copy c;
    const Result r = c({"verify"});
    INFO(r.describe());
    CHECK(r.code == 0);
    const auto lines = r.out_lines();
    REQUIRE_FALSE(lines.empty());
    const Result q = sqlite(c.db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
    REQUIRE(q.code == 0);
    std::string expected = q.out.substr(0, q.out.find('\n'));
    expected[expected.find('|')] = ':';
    CHECK(lines.back() == "head " + expected);
    CHECK(base().head == expected);

    CHECK(c({"verify", "--expect-head", expected}).code == 0);
    CHECK(c({"verify", "V-DONE"}).code == 0);
    // An earlier head that is still there, unchanged, is fine too.
    const auto log = read_log(c.db);
    REQUIRE(log.size() == 17);
    CHECK(c({"verify", "--expect-head", std::to_string(log[4].seq) + ":" + log[4].hash}).code == 0);
    // A malformed --expect-head is invalid input.
    CHECK(c({"verify", "--expect-head", "12"}).code == 2);
    CHECK(c({"verify", "--expect-head", "x:" + log[4].hash}).code == 2);
}

TEST_CASE("verify: an edited entry is caught") {
    Copy c;
    SUBCASE("agent") {
        const auto s = seq_of(c.db, "V-DONE", 3);
        c.tamper("UPDATE events SET agent = 'mallory' WHERE seq = " + std::to_string(s));
        expect_caught(c, {"V-DONE", "seq " + std::to_string(s)});
    }
    SUBCASE("details") {
        const auto s = seq_of(c.db, "V-DONE", 7);
        c.tamper("UPDATE events SET details = '{\"reference\":\"WA-REQ-999\"}' WHERE seq = " +
                 std::to_string(s));
        expect_caught(c, {"V-DONE", "seq " + std::to_string(s)});
    }
    SUBCASE("at") {
        const auto s = seq_of(c.db, "V-PART", 2);
        c.tamper("UPDATE events SET at = '2020-01-01T00:00:00.000Z' WHERE seq = " +
                 std::to_string(s));
        expect_caught(c, {"V-PART", "seq " + std::to_string(s)});
    }
    SUBCASE("event name") {
        const auto s = seq_of(c.db, "V-DONE", 8);  // disable-failed -> confirm-disabled
        c.tamper("UPDATE events SET event = 'confirm-disabled' WHERE seq = " + std::to_string(s));
        expect_caught(c, {"V-DONE", "seq " + std::to_string(s)});
    }
    SUBCASE("state") {
        const auto s = seq_of(c.db, "V-WAIT", 2);
        c.tamper("UPDATE events SET state = 'identity_check' WHERE seq = " + std::to_string(s));
        expect_caught(c, {"V-WAIT", "seq " + std::to_string(s)});
    }
}

TEST_CASE("verify names an entry accepted under a policy version this build does not know") {
    Copy c;
    auto log = read_log(c.db);
    const auto i = index_of(log, "V-WAIT", "update");
    log[i].policy_version = 99;
    // Rewrite the chain from there so that the unknown version is the only thing wrong.
    std::string sql;
    for (std::size_t k = i; k < log.size(); ++k) {
        log[k].prev_hash = log[k - 1].hash;
        log[k].hash = entry_hash(log[k]);
        sql += "UPDATE events SET policy_version = " + std::to_string(log[k].policy_version) +
               ", prev_hash = " + sql_quote(log[k].prev_hash) +
               ", hash = " + sql_quote(log[k].hash) + " WHERE seq = " + std::to_string(log[k].seq) +
               ";";
    }
    c.tamper(sql);
    const Result r = c({"verify"});
    INFO(r.describe());
    CHECK(r.code == 6);
    CHECK(contains(r.out, "V-WAIT"));
    CHECK(contains(r.out, "99"));
    CHECK_FALSE(contains(r.out, "V-DONE"));  // the others are judged as usual, and agree
}

TEST_CASE("verify: an entry dated before the entry it follows is caught, the chain re-hashed") {
    Copy c;
    auto log = read_log(c.db);
    const auto k = index_of(log, "V-WAIT", "open");
    REQUIRE(k >= 2);
    REQUIRE(log[k - 1].ref != "V-WAIT");  // its own ticket has nothing before it to disagree with
    log[k].at = log[0].at;                // the desk's first time: before the entry it follows
    REQUIRE(log[k].at < log[k - 1].at);
    c.tamper("UPDATE events SET at = " + sql_quote(log[k].at) +
             " WHERE seq = " + std::to_string(log[k].seq) + ";\n" + forge_chain_sql(log, k));
    const Result r = c({"verify"});
    INFO(r.describe());
    CHECK(r.code == 6);
    CHECK(contains(r.out, "entry seq " + std::to_string(log[k].seq)));
    CHECK(contains(r.out, "is before the time of entry seq " + std::to_string(log[k - 1].seq)));
}

TEST_CASE("verify: a deleted entry is caught") {
    Copy c;
    int tseq = 0;
    SUBCASE("the first entry of a ticket") { tseq = 1; }
    SUBCASE("a middle entry") { tseq = 5; }
    SUBCASE("the last entry of a ticket") { tseq = 10; }
    CAPTURE(tseq);
    const auto s = seq_of(c.db, "V-DONE", tseq);
    c.tamper("DELETE FROM events WHERE seq = " + std::to_string(s));
    expect_caught(c, {"V-DONE", "seq " + std::to_string(s)});
}

TEST_CASE("verify: two entries whose contents were swapped are caught") {
    Copy c;
    const auto a = seq_of(c.db, "V-DONE", 3),
               b = seq_of(c.db, "V-DONE", 6);  // a check and the approval
    const std::string pair = "(" + std::to_string(a) + "," + std::to_string(b) + ")";
    c.tamper("CREATE TEMP TABLE s AS SELECT * FROM events WHERE seq IN " + pair + ";" +
             "DELETE FROM events WHERE seq IN " + pair + ";" +
             "INSERT INTO events SELECT x.seq, x.ref, x.tseq, y.event, y.details, y.agent, y.at, "
             "y.state, "
             "y.policy_version, y.prev_hash, y.hash FROM s x JOIN s y ON x.seq <> y.seq;");
    const auto log = read_log(c.db);
    for (const auto& e : log)
        if (e.seq == a) CHECK(e.event == "approve");
    expect_caught(c, {"V-DONE", "seq " + std::to_string(a), "seq " + std::to_string(b)});
}

TEST_CASE("verify: an inserted entry is caught") {
    Copy c;
    auto log = read_log(c.db);
    const Entry& last = log.back();
    Entry e;
    e.seq = last.seq + 1;
    e.ref = "V-WAIT";
    e.tseq = 4;
    e.event = "cancel";
    e.details = R"({"note":"withdrawn"})";
    e.agent = "mallory";
    e.at = last.at;
    e.state = "cancelled";
    e.policy_version = last.policy_version;
    e.prev_hash = last.hash;
    SUBCASE("with a made-up hash") { e.hash = std::string(64, 'a'); }
    SUBCASE("with the right hash: the chain holds, but the ticket row no longer agrees") {
        e.hash = entry_hash(e);
    }
    c.tamper(insert_sql(e));
    expect_caught(c, {"V-WAIT", "seq " + std::to_string(e.seq)});
}

TEST_CASE("verify: a ticket row that disagrees with its log is caught") {
    Copy c;
    std::string ref, sql;
    SUBCASE("state") {
        ref = "V-WAIT";
        sql = "UPDATE tickets SET state = 'identity_check' WHERE ref = 'V-WAIT'";
    }
    SUBCASE("version") {
        ref = "V-DONE";
        sql = "UPDATE tickets SET version = 9 WHERE ref = 'V-DONE'";
    }
    SUBCASE("a field (phone)") {
        ref = "V-PART";
        sql = "UPDATE tickets SET phone = '+4917000000000' WHERE ref = 'V-PART'";
    }
    SUBCASE("a field (requester_role)") {
        ref = "V-PART";
        sql = "UPDATE tickets SET requester_role = 'client' WHERE ref = 'V-PART'";
    }
    SUBCASE("the checks") {
        ref = "V-LAST";
        sql = "UPDATE tickets SET checks = '{\"client_of_record\":\"dave\"}' WHERE ref = 'V-LAST'";
    }
    SUBCASE("updated_at") {
        ref = "V-WAIT";
        sql = "UPDATE tickets SET updated_at = '2020-01-01T00:00:00.000Z' WHERE ref = 'V-WAIT'";
    }
    SUBCASE("a row without any entry") {
        ref = "V-GHOST";
        sql =
            "INSERT INTO tickets SELECT 'V-GHOST', phone, client_id, requester_email, "
            "requester_role, "
            "portfolio_access, reason, waba_id, portfolio_id, submitted_at, note, state, version, "
            "checks, "
            "check_agents, updated_at, assignee, active_at, due_at, phone_rev, is_open "  // SPEC
                                                                                          // §14
            "FROM tickets WHERE ref = 'V-DONE'";
    }
    CAPTURE(ref);
    c.tamper(sql);
    expect_caught(c, {ref});
}

TEST_CASE("verify: a whole ticket deleted with its entries is caught") {
    Copy c;
    const auto first = seq_of(c.db, "V-PART", 1), second = seq_of(c.db, "V-PART", 2);
    c.tamper("DELETE FROM events WHERE ref = 'V-PART'; DELETE FROM tickets WHERE ref = 'V-PART';");
    expect_caught(c, {"V-PART", "seq " + std::to_string(first), "seq " + std::to_string(first + 1),
                      "seq " + std::to_string(second), "seq " + std::to_string(second + 1)});
}

TEST_CASE("verify --expect-head: a log cut back is caught even when the rest is made consistent") {
    Copy c;
    const std::string old_head = base().head;
    const auto log = read_log(c.db);
    REQUIRE(log.back().ref == "V-LAST");
    REQUIRE(log.back().event == "triage");
    const Entry& opened = log[log.size() - 2];
    REQUIRE(opened.ref == "V-LAST");

    SUBCASE("the last entry cut and the ticket row rolled back to match") {
        c.tamper("DELETE FROM events WHERE seq = " + std::to_string(log.back().seq) +
                 "; UPDATE tickets SET state = 'received', version = 1, updated_at = " +
                 sql_quote(opened.at) + ", active_at = " + sql_quote(opened.at) +
                 " WHERE ref = 'V-LAST';");
        // The shorter log is consistent in itself...
        const Result plain = c({"verify"});
        INFO(plain.describe());
        CHECK(plain.code == 0);
        CHECK(plain.out_lines().back() == "head " + std::to_string(opened.seq) + ":" + opened.hash);
    }
    SUBCASE("the last ticket deleted with its entries") {
        c.tamper(
            "DELETE FROM events WHERE ref = 'V-LAST'; DELETE FROM tickets WHERE ref = 'V-LAST';");
    }
    SUBCASE("the last entry cut, the ticket row left") {
        c.tamper("DELETE FROM events WHERE seq = " + std::to_string(log.back().seq));
        CHECK(c({"verify"}).code == 6);
    }
    // ...but not the entry the auditor noted.
    expect_caught(
        c, {"entry " + std::to_string(log.back().seq), "seq " + std::to_string(log.back().seq)},
        {"--expect-head", old_head});
}

TEST_CASE(
    "verify re-judges every event: a rewritten approval with a recomputed chain still fails R6") {
    Copy c;
    auto log = read_log(c.db);
    REQUIRE(log.size() == 17);
    // The log read back through the shell recomputes to the stored hashes: our canonical form is
    // right.
    for (const auto& e : log) CHECK(entry_hash(e) == e.hash);

    SUBCASE("control: a rewrite that breaks no rule goes unseen by a plain verify") {
        // Proves the forged chain below is consistent: only --expect-head can tell this one.
        const auto i = index_of(log, "V-DONE", "disable-failed");
        log[i].details = R"({"note":"provider was slow"})";
        forge_chain(c, log, i);
        const Result r = c({"verify"});
        INFO(r.describe());
        CHECK(r.code == 0);
        expect_caught(
            c, {"entry " + std::to_string(log.back().seq), "seq " + std::to_string(log.back().seq)},
            {"--expect-head", base().head});
    }
    SUBCASE("the approval rewritten to the agent who recorded the checks") {
        const auto i = index_of(log, "V-DONE", "approve");
        REQUIRE(log[i].agent == "bob");
        REQUIRE(log[index_of(log, "V-DONE", "check-passed")].agent == "alice");
        log[i].agent = "alice";
        forge_chain(c, log, i);
        const Result r = c({"verify"});
        INFO(r.describe());
        CHECK(r.code == 6);
        CHECK(contains(r.out, "V-DONE"));
        CHECK(contains(r.out, "R6"));
        // history shows the forged agent: the chain itself holds.
        const Result h = c({"history", "V-DONE", "--json"});
        REQUIRE(h.code == 0);
        CHECK(json::parse(h.out)[5].at("agent") == "alice");
    }
}

TEST_CASE(
    "verify re-judges every event: forged, correctly hashed entries that a rule refuses are "
    "caught") {
    Copy c;
    auto log = read_log(c.db);
    SUBCASE("an approval appended with no checks passed (R5), the ticket row made to match") {
        const Entry& last = log.back();
        REQUIRE(last.ref == "V-LAST");
        Entry e = last;
        e.seq = last.seq + 1;
        e.tseq = 3;
        e.event = "approve";
        e.details = "{}";
        e.agent = "mallory";
        e.state = "approved";
        e.prev_hash = last.hash;
        e.hash = entry_hash(e);
        c.tamper(insert_sql(e) +
                 " UPDATE tickets SET state = 'approved', version = 3 WHERE ref = 'V-LAST';");
        const Result r = c({"verify"});
        INFO(r.describe());
        CHECK(r.code == 6);
        CHECK(contains(r.out, "V-LAST"));
        CHECK(contains(r.out, "R5"));
    }
    SUBCASE(
        "a partner's open rewritten to client, chain recomputed, row made to match: triage "
        "disagrees") {
        const auto i = index_of(log, "V-PART", "open");
        const auto at = log[i].details.find("\"requester_role\":\"partner\"");
        REQUIRE(at != std::string::npos);
        log[i].details.replace(at, std::string("\"requester_role\":\"partner\"").size(),
                               "\"requester_role\":\"client\"");
        forge_chain(c, log, i);
        c.tamper("UPDATE tickets SET requester_role = 'client' WHERE ref = 'V-PART'");
        const Result r = c({"verify"});
        INFO(r.describe());
        CHECK(r.code == 6);
        CHECK(contains(r.out, "V-PART"));
    }
}

TEST_CASE("verify REF replays one ticket but still checks the whole chain") {
    Copy c;
    c.tamper("UPDATE events SET agent = 'mallory' WHERE seq = " +
             std::to_string(seq_of(c.db, "V-PART", 2)));
    const Result r = c({"verify", "V-DONE"});
    INFO(r.describe());
    CHECK(r.code == 6);
    CHECK(contains(r.out, "V-PART"));
}

TEST_CASE(
    "export --format jsonl: every entry with seq, prev_hash and hash; recomputed here, every hash "
    "agrees") {
    Copy c;
    const Result r = c({"export", "--format", "jsonl"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    const auto lines = r.out_lines();
    REQUIRE(lines.size() == 17);
    std::string prev = kGenesis;
    std::vector<Entry> exported;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        CAPTURE(i);
        const json j = json::parse(lines[i]);
        for (const char* key : {"seq", "prev_hash", "hash", "ref", "tseq", "event", "details",
                                "agent", "at", "state", "policy_version"})
            CHECK(j.contains(key));
        const Entry e = entry_from_json(j);
        CHECK(e.seq == static_cast<std::int64_t>(i + 1));
        CHECK(e.prev_hash == prev);
        CHECK(entry_hash(e) == e.hash);
        prev = e.hash;
        exported.push_back(e);
    }
    CHECK("head " + std::to_string(exported.back().seq) + ":" + exported.back().hash ==
          "head " + base().head);
    // The export is the stored log, field for field.
    const auto stored = read_log(c.db);
    REQUIRE(stored.size() == exported.size());
    for (std::size_t i = 0; i < stored.size(); ++i) {
        CAPTURE(i);
        CHECK(canonical(stored[i]) == canonical(exported[i]));
        CHECK(stored[i].hash == exported[i].hash);
    }
    // jsonl is the default; CSV carries the same hashes.
    CHECK(c({"export"}).out == r.out);
    const Result csv = c({"export", "--format", "csv"});
    REQUIRE(csv.code == 0);
    CHECK(contains(csv.out_lines().at(0), "prev_hash"));
    for (const auto& e : exported) CHECK(contains(csv.out, e.hash));
    // --out writes the same to a file.
    const std::string out = c.dir / "log.jsonl";
    CHECK(c({"export", "--out", out}).code == 0);
    CHECK(slurp(out) == r.out);
}

TEST_CASE("replay --as-of between two events gives the ticket as it stood then") {
    Copy c;
    const auto log = read_log(c.db);
    auto mid = [](const Entry& a, const Entry& b) {
        const auto ta = *parse_utc_ms(a.at), tb = *parse_utc_ms(b.at);
        REQUIRE(tb - ta >= 2);
        return format_utc_ms(ta + (tb - ta) / 2);
    };
    const Entry& third_check = log[index_of(log, "V-DONE", "check-passed", 3)];
    const Entry& approve = log[index_of(log, "V-DONE", "approve")];
    const Entry& second_submit = log[index_of(log, "V-DONE", "submit-disable", 2)];
    const Entry& confirm = log[index_of(log, "V-DONE", "confirm-disabled")];

    Result r = c({"replay", "V-DONE", "--as-of", mid(third_check, approve), "--json"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    json t = json::parse(r.out);
    CHECK(t.at("state") == "identity_check");
    CHECK(t.at("version") == 5);
    CHECK(t.at("checks").size() == 3);

    r = c({"replay", "V-DONE", "--as-of", mid(second_submit, confirm), "--json"});
    REQUIRE(r.code == 0);
    t = json::parse(r.out);
    CHECK(t.at("state") == "disable_submitted");
    CHECK(t.at("version") == 9);
    CHECK(t.at("updated_at") == second_submit.at);

    r = c({"replay", "V-DONE", "--json"});
    REQUIRE(r.code == 0);
    CHECK(json::parse(r.out).at("state") == "completed");
    CHECK(json::parse(r.out).at("version") == 10);

    // Replay derives from the log only: a doctored ticket row does not change it.
    c.tamper("UPDATE tickets SET state = 'cancelled', version = 11 WHERE ref = 'V-DONE'");
    r = c({"replay", "V-DONE", "--json"});
    REQUIRE(r.code == 0);
    CHECK(json::parse(r.out).at("state") == "completed");
    CHECK(c({"replay", "V-DONE", "--as-of", "not-a-time"}).code == 2);
}
