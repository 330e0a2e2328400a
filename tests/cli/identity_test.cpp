// Identity from the log (SPEC §12), R9 and R10 (§1), attacked through the real `tfadesk` program
// as someone who can write the database file would: a token swapped into an account row, an
// account row inserted or deleted, entries appended with every hash recomputed (log_forge.hpp),
// a token given on the command line, another account's token, an old or a disabled account's
// token, a sealed desk written without its key, and a `now` in the future. Every expected value is
// typed in from the SPEC (or formats.md for the token id: the first 16 hex digits of the token's
// SHA-256, computed here with libsodium), never read back from the program's output.
#include <doctest/doctest.h>

#include <array>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "expect.hpp"
#include "log_forge.hpp"
#include "spec_words.hpp"

namespace {

using namespace clitest;
using nlohmann::json;

// Phones (E.164 as stored) and emails of the tickets below.
const std::string kPartnerPhone = "+4915100000001";
const std::string kPhoneT1 = "+4915100000002";
const std::string kPhoneW1 = "+4915100000003";

std::vector<std::string> open_args(const std::string& ref, const std::string& phone,
                                   const std::string& email, const std::string& role,
                                   const std::string& access, const std::string& agent) {
    return {"open", "--ref",  ref,  "--phone",  phone,  "--client-id", "acme", "--requester-email",
            email,  "--role", role, "--access", access, "--agent",     agent};
}

Result expect_ok(const Result& r) {
    INFO(r.describe());
    CHECK(r.code == 0);
    return r;
}

void ok_or_throw(const Result& r, const char* what) {
    if (r.code != 0) throw std::runtime_error(std::string(what) + " failed: " + r.describe());
}

json json_of(const Result& r) {
    INFO(r.describe());
    REQUIRE(r.code == 0);
    return json::parse(r.out);
}

std::string head_of(const std::string& db) { return verified_head(db); }

std::string trimmed(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

std::string sql_value(const std::string& db, const std::string& sql) {
    const Result r = sqlite(db, sql);
    INFO(r.describe());
    REQUIRE(r.code == 0);
    return trimmed(r.out);
}

// Runs SQL on the account rows (no trigger guards them) as an attacker with the file would.
void edit_rows(const std::string& db, const std::string& sql) {
    const Result r = sqlite(db, sql);
    INFO(sql, "\n", r.describe());
    REQUIRE(r.code == 0);
}

// A token as the desk issues them (formats.md: `tfa_` and 64 hex digits), but made by the attacker.
std::string made_up_token(const std::string& seed) {
    return "tfa_" + sha256_hex("attacker's own token: " + seed);
}

// SPEC §12: a token's id is the first 16 hex digits of its SHA-256.
std::string id_of(const std::string& token) { return sha256_hex(token).substr(0, 16); }

// The token each account's holder keeps (process.hpp's keychain).
std::string token_of(const std::string& db, const std::string& name) {
    const auto& tokens = keychain()[db];
    const auto it = tokens.find(name);
    REQUIRE_MESSAGE(it != tokens.end(), "no token kept for " << name);
    return it->second;
}

std::string token_file(const TempDir& dir, const std::string& name, const std::string& token) {
    const std::string path = dir / (name + ".token");
    spit(path, token + "\n");
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
    return path;
}

RunOptions without_token() {
    RunOptions o;
    o.no_token = true;
    return o;
}

RunOptions with_env_token(const std::string& token) {
    RunOptions o;
    o.no_token = true;
    o.env = {{"TFADESK_TOKEN", token}};
    return o;
}

// Exit 7 and nothing written: no stdout, and the database's bytes as they were.
void expect_refused_7(const Result& r, const std::string& db, const DbBytes& before) {
    INFO("expected exit 7, nothing written\n", r.describe());
    CHECK(r.code == 7);
    CHECK(r.out.empty());
    CHECK(DbBytes(db) == before);
}

// A fresh folder holding a copy of a desk (and its holders' tokens).
struct Copy {
    TempDir dir;
    std::string db = dir / "copy.db";
    explicit Copy(const std::string& from) { copy_db(from, db); }
    Result operator()(const std::vector<std::string>& args, const RunOptions& opt = {}) const {
        return tfadesk(db, args, opt);
    }
};

// ---- the desk most cases start from ---------------------------------------------------------
//   root, root2  admin            alice  agent (opens, triages, records every check)
//   carol        approver         bob    agent (no approver)
//   dora         agent, disabled  ops    operator
//   P-1  a partner's request (kPartnerPhone, OPS@Acme.Example), triaged: partner_rejected
//   T-1  client, no access (kPhoneT1): identity_check, all three checks passed by alice
//   T-R  client, no access, the partner's phone: identity_check, all three checks by alice
//   W-1  role and access unknown: awaiting_requester
struct IdDesk {
    Desk desk;
    IdDesk() {
        const Desk& d = desk;
        ok_or_throw(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}), "root");
        ok_or_throw(d({"agent", "add", "root2", "--role", "admin", "--agent", "root"}), "root2");
        ok_or_throw(d({"agent", "add", "alice", "--role", "agent", "--agent", "root"}), "alice");
        ok_or_throw(d({"agent", "add", "carol", "--role", "approver", "--agent", "root"}), "carol");
        ok_or_throw(d({"agent", "add", "bob", "--role", "agent", "--agent", "root"}), "bob");
        ok_or_throw(d({"agent", "add", "dora", "--role", "agent", "--agent", "root"}), "dora");
        ok_or_throw(d({"agent", "add", "ops", "--role", "operator", "--agent", "root"}), "ops");
        ok_or_throw(d({"agent", "disable", "dora", "--agent", "root"}), "disable dora");
        ok_or_throw(
            d(open_args("P-1", kPartnerPhone, "OPS@Acme.Example", "partner", "unknown", "alice")),
            "P-1");
        ok_or_throw(d.event("P-1", "triage", "alice"), "P-1 triage");
        for (const auto& [ref, phone, email] :
             std::vector<std::array<std::string, 3>>{{"T-1", kPhoneT1, "t1@client.example"},
                                                     {"T-R", kPartnerPhone, "tr@client.example"}}) {
            ok_or_throw(d(open_args(ref, phone, email, "client", "no", "alice")), "open");
            ok_or_throw(d.event(ref, "triage", "alice"), "triage");
            for (const auto& c : kChecks)
                ok_or_throw(d.event(ref, "check-passed", "alice", {"--check", c}), "check");
        }
        ok_or_throw(
            d(open_args("W-1", kPhoneW1, "w1@client.example", "unknown", "unknown", "alice")),
            "W-1");
        ok_or_throw(d.event("W-1", "triage", "alice"), "W-1 triage");
    }
};

const IdDesk& id_desk() {
    static const std::unique_ptr<IdDesk> d = std::make_unique<IdDesk>();
    return *d;
}

const std::string& base_db() { return id_desk().desk.db; }

std::string state_of(const std::string& db, const std::string& ref) {
    return json_of(tfadesk(db, {"show", ref, "--json"})).at("state").get<std::string>();
}

}  // namespace

// ---- 1. the accounts table is a cache: editing it lets nobody act ---------------------------

TEST_CASE(
    "identity: a token swapped into carol's account row approves nothing, and verify names the "
    "row") {
    Copy c(base_db());
    const auto log_before = read_log(c.db);
    const std::string head = head_of(c.db);
    const std::string carols = token_of(base_db(), "carol");
    // formats.md: the row keeps the SHA-256 of the account's current token, in hex.
    const std::string real_hash =
        sql_value(c.db, "SELECT token_hash FROM accounts WHERE name = 'carol'");
    REQUIRE(real_hash == sha256_hex(carols));

    const std::string forged = made_up_token("carol");
    REQUIRE(std::regex_match(forged, std::regex("tfa_[0-9a-f]{64}")));
    edit_rows(c.db, "UPDATE accounts SET token_hash = " + sql_quote(sha256_hex(forged)) +
                        " WHERE name = 'carol'");
    const std::string file = token_file(c.dir, "mallory", forged);
    const DbBytes before(c.db);

    SUBCASE(
        "through the command line: --token-file or $TFADESK_TOKEN, with or without --agent carol") {
        expect_refused_7(c({"event", "T-1", "approve", "--token-file", file}, without_token()),
                         c.db, before);
        expect_refused_7(c({"event", "T-1", "approve", "--token-file", file, "--agent", "carol"},
                           without_token()),
                         c.db, before);
        expect_refused_7(c({"event", "T-1", "approve"}, with_env_token(forged)), c.db, before);
        expect_refused_7(c({"event", "T-1", "approve", "--agent", "carol"}, with_env_token(forged)),
                         c.db, before);
        CHECK(state_of(c.db, "T-1") == "identity_check");
    }
    SUBCASE("the row left in place: verify names carol's row (exit 6)") {
        const Result v = c({"verify"});
        INFO(v.describe());
        CHECK(v.code == 6);
        CHECK(has_word(v.out, "carol"));
        CHECK(contains(v.out, "token"));
    }

    // The row put back: the log holds nothing of the attempt.
    edit_rows(c.db,
              "UPDATE accounts SET token_hash = " + sql_quote(real_hash) + " WHERE name = 'carol'");
    CHECK(head_of(c.db) == head);
    const auto log_after = read_log(c.db);
    REQUIRE(log_after.size() == log_before.size());
    CHECK(log_after.back().hash == log_before.back().hash);
    const json hist = json_of(c({"history", "T-1", "--json"}));
    for (const auto& e : hist) CHECK(e.at("event") != "approve");
    // Control: carol, with her own token, may approve T-1 (so the refusals above were the token's).
    const Result own =
        c({"event", "T-1", "approve", "--token-file", token_file(c.dir, "carol", carols)},
          without_token());
    INFO(own.describe());
    CHECK(own.code == 0);
    CHECK(state_of(c.db, "T-1") == "approved");
}

TEST_CASE(
    "identity: an account row inserted for a name that never had an account lets it do nothing") {
    Copy c(base_db());
    const std::string head = head_of(c.db);
    const std::string forged = made_up_token("ghost");
    const std::string at = read_log(c.db).back().at;
    edit_rows(c.db,
              "INSERT INTO accounts (name, roles, enabled, created_at, updated_at, version, "
              "token_hash) VALUES "
              "('ghost', 'admin,agent,approver', 1, " +
                  sql_quote(at) + ", " + sql_quote(at) + ", 1, " + sql_quote(sha256_hex(forged)) +
                  ")");
    const std::string file = token_file(c.dir, "ghost", forged);
    const DbBytes before(c.db);
    expect_refused_7(c({"event", "T-1", "approve", "--token-file", file}, without_token()), c.db,
                     before);
    expect_refused_7(
        c({"event", "T-1", "approve", "--token-file", file, "--agent", "ghost"}, without_token()),
        c.db, before);
    expect_refused_7(c({"event", "T-1", "approve", "--agent", "ghost"}, with_env_token(forged)),
                     c.db, before);
    expect_refused_7(c({"event", "T-1", "approve", "--agent", "ghost"}, without_token()), c.db,
                     before);
    expect_refused_7(
        c({"agent", "grant", "bob", "approver", "--token-file", file}, without_token()), c.db,
        before);
    expect_refused_7(
        c({"agent", "add", "ghost2", "--role", "approver", "--token-file", file}, without_token()),
        c.db, before);
    CHECK(state_of(c.db, "T-1") == "identity_check");

    const Result v = c({"verify"});
    INFO(v.describe());
    CHECK(v.code == 6);
    CHECK(has_word(v.out, "ghost"));
    edit_rows(c.db, "DELETE FROM accounts WHERE name = 'ghost'");
    CHECK(head_of(c.db) == head);
}

TEST_CASE(
    "identity: with every account row deleted the desk still has accounts (the log says so)") {
    Copy c(base_db());
    const std::string head = head_of(c.db);
    edit_rows(c.db, "DELETE FROM accounts");
    REQUIRE(sql_value(c.db, "SELECT count(*) FROM accounts") == "0");
    const DbBytes before(c.db);
    // A write with only --agent, as on a desk without accounts: exit 7.
    expect_refused_7(
        c({"event", "T-1", "cancel", "--note", "x", "--agent", "alice"}, without_token()), c.db,
        before);
    expect_refused_7(c(open_args("N-1", kPhoneT1, "n1@client.example", "client", "no", "whoever"),
                       without_token()),
                     c.db, before);
    expect_refused_7(c({"event", "T-1", "approve", "--agent", "carol"}, without_token()), c.db,
                     before);
    // Nor is it a new desk whose first account anybody may add (SPEC §12: only the first account
    // of a desk is added without a token).
    const std::string out = c.dir / "root.token";
    expect_refused_7(
        c({"agent", "add", "newroot", "--role", "admin", "--token-out", out, "--agent", "setup"},
          without_token()),
        c.db, before);
    CHECK_FALSE(fs::exists(out));
    expect_refused_7(
        c({"agent", "add", "newroot", "--role", "admin,approver", "--agent", "newroot"},
          without_token()),
        c.db, before);
    const json hist = json_of(c({"agent", "history", "--json"}));
    CHECK(hist.size() == 8);  // the 8 changes of the desk, none since
    const Result v = c({"verify"});
    INFO(v.describe());
    CHECK(v.code == 6);
    for (const std::string name : {"root", "carol", "alice"}) CHECK(has_word(v.out, name));
    const auto lines = v.out_lines();
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back() == head);  // the log itself is untouched
}

// KNOWN BUG (left failing on purpose; desk/src/verify.cpp, Verifier::judge_account_actors): the
// row's token hash is compared with the log's token of record only when the row holds one, so a
// row whose token_hash was set to NULL passes verify (exit 0) although the log issued carol a
// token (its id is in her account-add) and the desk now refuses that token (exit 7). Auditor
// guide, check 5: "An account row whose token hash is not the token its log issued last is a
// difference too: the desk would refuse that token, and verify names the row"; SPEC §7: verify
// fails "on an account row that disagrees with its changes".
TEST_CASE("identity: an account row whose token hash was cleared is named by verify") {
    Copy c(base_db());
    edit_rows(c.db, "UPDATE accounts SET token_hash = NULL WHERE name = 'carol'");
    const DbBytes before(c.db);
    // The desk refuses carol's own token now...
    expect_refused_7(c({"event", "T-1", "approve", "--agent", "carol"}), c.db, before);
    // ... so the row disagrees with the log, and verify must say so.
    const Result v = c({"verify"});
    INFO(v.describe());
    CHECK(v.code == 6);
    CHECK(has_word(v.out, "carol"));
}

// ---- 2. the command line authenticates every write ------------------------------------------

TEST_CASE(
    "identity: the command line takes the token from --token-file or $TFADESK_TOKEN, never from a "
    "name") {
    Copy c(base_db());
    const std::string alices = token_of(base_db(), "alice");
    const std::string alice_file = token_file(c.dir, "alice", alices);
    const DbBytes before(c.db);
    const std::vector<std::string> cancel = {"event", "W-1", "cancel", "--note", "withdrawn"};
    auto with = [&](std::vector<std::string> extra) {
        std::vector<std::string> a = cancel;
        a.insert(a.end(), extra.begin(), extra.end());
        return a;
    };

    SUBCASE("--agent alone on a desk with accounts: exit 7 naming the agent, nothing written") {
        const Result r = c(with({"--agent", "bob"}), without_token());
        expect_refused_7(r, c.db, before);
        CHECK(has_word(r.err, "bob"));
        CHECK(contains(r.err, "token"));
        expect_refused_7(c(with({"--agent", "alice"}), without_token()), c.db, before);
    }
    SUBCASE("another account's token: exit 7 naming --agent, nothing written") {
        const Result r = c(with({"--token-file", alice_file, "--agent", "bob"}), without_token());
        expect_refused_7(r, c.db, before);
        CHECK(has_word(r.err, "bob"));
        expect_refused_7(c(with({"--agent", "bob"}), with_env_token(alices)), c.db, before);
        // Nor may a token stand for an account its holder only names: carol's token approving as
        // carol works below, alice's token approving as carol does not.
        expect_refused_7(
            c({"event", "T-1", "approve", "--agent", "carol", "--token-file", alice_file},
              without_token()),
            c.db, before);
    }
    SUBCASE("--token TOKEN on the command line: exit 2, the token not echoed, nothing written") {
        for (const auto& extra :
             std::vector<std::vector<std::string>>{{"--token", alices},
                                                   {"--token", alices, "--agent", "alice"},
                                                   {"--agent", "alice", "--token", alices}}) {
            CAPTURE(extra.size());
            const Result r = c(with(extra), without_token());
            INFO(r.describe());
            CHECK(r.code == 2);
            CHECK(r.out.empty());
            CHECK(contains(r.err, "--token"));
            CHECK_FALSE(contains(r.err, alices.substr(4)));
            CHECK(DbBytes(c.db) == before);
        }
        // Before the command too (a global option).
        const Result g =
            c({"--token", alices, "event", "W-1", "cancel", "--note", "x"}, without_token());
        INFO(g.describe());
        CHECK(g.code == 2);
        CHECK(DbBytes(c.db) == before);
    }
    SUBCASE(
        "$TFADESK_TOKEN alone: the token's account acts, and the entry records the token's id") {
        expect_ok(c(cancel, with_env_token(alices)));
        const json h = json_of(c({"history", "W-1", "--json"}));
        REQUIRE(h.size() == 3);
        CHECK(h[2].at("event") == "cancel");
        CHECK(h[2].at("agent") == "alice");
        CHECK(h[2].at("details").at("by_token") == id_of(alices));
        CHECK(head_of(c.db).rfind("head ", 0) == 0);
    }
    SUBCASE("--token-file with --agent spelled otherwise (SPEC §2: one person, one spelling)") {
        expect_ok(c(with({"--token-file", alice_file, "--agent", " Alice"}), without_token()));
        const json h = json_of(c({"history", "W-1", "--json"}));
        CHECK(h.back().at("agent") == "alice");
        CHECK(h.back().at("details").at("by_token") == id_of(alices));
    }
    SUBCASE("--token-file wins over $TFADESK_TOKEN") {
        RunOptions both = with_env_token(token_of(base_db(), "bob"));
        expect_ok(c(with({"--token-file", alice_file}), both));
        CHECK(json_of(c({"history", "W-1", "--json"})).back().at("agent") == "alice");
    }
    SUBCASE("a disabled account's token: exit 7 naming the account, nothing written") {
        const std::string doras = token_of(base_db(), "dora");
        const Result r =
            c(with({"--token-file", token_file(c.dir, "dora", doras)}), without_token());
        expect_refused_7(r, c.db, before);
        CHECK(has_word(r.err, "dora"));
        expect_refused_7(c(with({"--agent", "dora"}), with_env_token(doras)), c.db, before);
    }
    SUBCASE("after `agent token alice` the old token is exit 7; the new one works") {
        const std::string out = c.dir / "alice-2.token";
        expect_ok(c({"agent", "token", "alice", "--token-out", out, "--agent", "root"}));
        const std::string fresh = trimmed(slurp(out));
        REQUIRE(std::regex_match(fresh, std::regex("tfa_[0-9a-f]{64}")));
        REQUIRE(fresh != alices);
        const DbBytes rotated(c.db);
        expect_refused_7(c(with({"--token-file", alice_file}), without_token()), c.db, rotated);
        expect_refused_7(c(with({"--agent", "alice"}), with_env_token(alices)), c.db, rotated);
        expect_ok(c(with({"--token-file", out}), without_token()));
        CHECK(json_of(c({"history", "W-1", "--json"})).back().at("details").at("by_token") ==
              id_of(fresh));
    }
    SUBCASE("a token that is not one (garbage, empty, a token's hash): exit 7, nothing written") {
        for (const std::string& bad :
             {std::string("not a token"), std::string(), sha256_hex(alices), alices.substr(0, 67),
              alices + "0", "TFA_" + alices.substr(4)}) {
            CAPTURE(bad);
            expect_refused_7(
                c(with({"--token-file", token_file(c.dir, "bad", bad)}), without_token()), c.db,
                before);
        }
    }
}

// ---- 3. verify judges who acted, even when every hash was recomputed ------------------------

namespace {

// The entry that would follow `log`: the next seq, the next tseq of `ref`, `seconds` after the
// last entry, chained to it, its hash recomputed.
Entry appended(const std::vector<Entry>& log, const std::string& ref, const std::string& event,
               const std::string& agent, const std::string& details, const std::string& state,
               int policy_version = 2, std::int64_t seconds = 1) {
    Entry e;
    e.seq = log.back().seq + 1;
    e.ref = ref;
    e.tseq = 1;
    for (const auto& x : log)
        if (x.ref == ref) e.tseq = x.tseq + 1;
    e.event = event;
    e.details = details;
    e.agent = agent;
    const auto last = parse_utc_ms(log.back().at);
    REQUIRE(last.has_value());
    e.at = format_utc_ms(*last + seconds * 1000);
    e.state = state;
    e.policy_version = policy_version;
    e.prev_hash = log.back().hash;
    e.hash = entry_hash(e);
    return e;
}

// Appends `e` (a ticket's entry) and brings the ticket's row in line with it, as an attacker
// covering their tracks would: only the entry itself is left for verify to judge.
void append_ticket_entry(const std::string& db, const Entry& e) {
    tamper_db(db, insert_sql(e) + "UPDATE tickets SET state = " + sql_quote(e.state) +
                      ", version = " + std::to_string(e.tseq) + ", updated_at = " +
                      sql_quote(e.at) + ", active_at = " + sql_quote(e.at) +  // SPEC §14
                      " WHERE ref = " + sql_quote(e.ref) + ";");
}

// verify exits 6 and every problem it prints names the entry at `seq` (as "seq N"), then the head.
void expect_entry_caught(const Copy& c, std::int64_t seq) {
    const Result r = c({"verify"});
    INFO(r.describe());
    CHECK(r.code == 6);
    const auto lines = r.out_lines();
    CHECK(lines.size() >= 3);
    if (lines.size() < 3) return;
    CHECK(lines.back().rfind("head ", 0) == 0);
    CHECK(contains(lines[lines.size() - 2], "difference"));
    for (std::size_t i = 0; i + 2 < lines.size(); ++i) {
        CAPTURE(lines[i]);
        CHECK(has_word(lines[i], "seq " + std::to_string(seq)));
    }
}

void expect_verified(const Copy& c) {
    const Result r = c({"verify"});
    INFO(r.describe());
    CHECK(r.code == 0);
}

std::string by_token(const std::string& id) { return R"({"by_token":")" + id + R"("})"; }

}  // namespace

TEST_CASE(
    "identity: verify catches forged ticket entries whose hashes were all recomputed (exit 6 "
    "naming the seq)") {
    Copy c(base_db());
    const auto log = read_log(c.db);
    for (const auto& e : log)
        REQUIRE(entry_hash(e) == e.hash);  // our canonical form is the program's
    const std::string carol_id = id_of(token_of(base_db(), "carol"));
    const std::int64_t seq = log.back().seq + 1;

    SUBCASE(
        "control: an approval by carol carrying her real token id passes (the limit the guides "
        "state)") {
        append_ticket_entry(
            c.db, appended(log, "T-1", "approve", "carol", by_token(carol_id), "approved"));
        expect_verified(c);
    }
    SUBCASE("an approval appended as carol with a made-up token id") {
        const std::string made_up = id_of(made_up_token("carol"));
        REQUIRE(made_up != carol_id);
        append_ticket_entry(
            c.db, appended(log, "T-1", "approve", "carol", by_token(made_up), "approved"));
        expect_entry_caught(c, seq);
    }
    SUBCASE("an approval by a name that never had an account") {
        append_ticket_entry(c.db, appended(log, "T-1", "approve", "ghost",
                                           by_token(id_of(made_up_token("ghost"))), "approved"));
        expect_entry_caught(c, seq);
    }
    SUBCASE("an entry by an account disabled at that point, with its real token id") {
        const std::string dora_id = id_of(token_of(base_db(), "dora"));
        append_ticket_entry(
            c.db, appended(log, "W-1", "cancel", "dora",
                           R"({"by_token":")" + dora_id + R"(","note":"withdrawn"})", "cancelled"));
        expect_entry_caught(c, seq);
    }
    SUBCASE("control: the same cancel by alice, enabled, passes") {
        const std::string alice_id = id_of(token_of(base_db(), "alice"));
        append_ticket_entry(
            c.db,
            appended(log, "W-1", "cancel", "alice",
                     R"({"by_token":")" + alice_id + R"(","note":"withdrawn"})", "cancelled"));
        expect_verified(c);
    }
    SUBCASE("an approval by an account without the approver role, with its real token id") {
        // bob (agent) recorded no check on T-1, so only the role can refuse him.
        append_ticket_entry(c.db,
                            appended(log, "T-1", "approve", "bob",
                                     by_token(id_of(token_of(base_db(), "bob"))), "approved"));
        expect_entry_caught(c, seq);
    }
    SUBCASE("an entry of policy version 2 that records no token, on a desk with accounts") {
        append_ticket_entry(c.db, appended(log, "T-1", "approve", "carol", "{}", "approved"));
        expect_entry_caught(c, seq);
    }
    SUBCASE("R9: an approval that does not name the partner's ticket that shares its phone") {
        append_ticket_entry(
            c.db, appended(log, "T-R", "approve", "carol", by_token(carol_id), "approved"));
        expect_entry_caught(c, seq);
    }
    SUBCASE("control: R9 - the same approval naming the partner's ticket passes") {
        append_ticket_entry(
            c.db,
            appended(log, "T-R", "approve", "carol",
                     R"({"ack_related":"P-1","by_token":")" + carol_id + R"("})", "approved"));
        expect_verified(c);
    }
    SUBCASE(
        "R7: an expiry whose SLA had not passed at its own time (a `now` in the future recorded)") {
        const std::string ops_id = id_of(token_of(base_db(), "ops"));
        append_ticket_entry(c.db,
                            appended(log, "W-1", "expire", "ops",
                                     R"({"by_token":")" + ops_id +
                                         R"(","now":"2099-01-01T00:00:00.000Z","sla_hours":1})",
                                     "expired"));
        expect_entry_caught(c, seq);
    }
    SUBCASE(
        "control: R7 - an expiry two hours after W-1's last entry, with a one-hour SLA, passes") {
        const std::string ops_id = id_of(token_of(base_db(), "ops"));
        const Entry e0 = appended(log, "W-1", "expire", "ops", "{}", "expired", 2, 2 * 3600);
        append_ticket_entry(c.db, appended(log, "W-1", "expire", "ops",
                                           R"({"by_token":")" + ops_id + R"(","now":")" + e0.at +
                                               R"(","sla_hours":1})",
                                           "expired", 2, 2 * 3600));
        expect_verified(c);
    }
}

// KNOWN BUG (left failing on purpose; desk/src/verify.cpp, Verifier::judge_actor,
// judge_account_actors and note_partner_memory): an entry of policy version 1 is exempt from the
// token check, from R9 and from R10 wherever it stands in the log, so an entry forged under policy
// version 1 after the desk's version-2 entries passes verify (exit 0). No tfadesk can write such an
// entry: version 3 writes policy version 2, and an older tfadesk refuses a desk of a newer schema;
// formats.md: "a log may hold version 1 entries followed by version 2 ones", never the reverse.
// SPEC §12: on a desk with accounts verify checks that "the recorded token id was that account's
// token of record then; anything else is exit 6 naming the seq", R9 is "re-judged" by verify and
// R10 "re-checked by verify". carol's and root's tokens of record have ids (their account-add
// entries recorded them), so an entry in their name that records no token cannot be theirs.
TEST_CASE(
    "identity: verify does not let a forged entry pass as written before version 3 (policy version "
    "1)") {
    Copy c(base_db());
    const auto log = read_log(c.db);
    for (const auto& e : log) REQUIRE(e.policy_version == 2);
    const std::int64_t seq = log.back().seq + 1;
    SUBCASE("an approval as carol that records no token") {
        append_ticket_entry(c.db, appended(log, "T-1", "approve", "carol", "{}", "approved", 1));
        expect_entry_caught(c, seq);
    }
    SUBCASE(
        "an approval as carol on a ticket whose phone a rejected partner shares (R9 not "
        "acknowledged)") {
        append_ticket_entry(c.db, appended(log, "T-R", "approve", "carol", "{}", "approved", 1));
        expect_entry_caught(c, seq);
    }
    SUBCASE("root granting itself approver (R10)") {
        const Entry e = appended(log, "account:root", "account-grant", "root",
                                 R"({"role":"approver"})", "enabled", 1);
        tamper_db(c.db, insert_sql(e) + "UPDATE accounts SET roles = 'admin,approver', version = " +
                            std::to_string(e.tseq) + ", updated_at = " + sql_quote(e.at) +
                            " WHERE name = 'root';");
        expect_entry_caught(c, seq);
    }
}

// KNOWN BUG (left failing on purpose; desk/src/verify.cpp, Verifier::run / judge_ticket /
// note_partner_memory): `verify REF` notes partner-rejected tickets only among the tickets it
// judges, i.e. REF alone, so R9 is never re-judged for REF's approval: the same forged approval
// that `verify` names (exit 6) passes `verify T-R` (exit 0). SPEC §4: `verify [REF]` replays "every
// ticket's events (or one)"; SPEC §12: the approval's acknowledged refs are "re-judged" by verify;
// auditor-guide check 7: "Every approval is re-judged against the tickets before it".
TEST_CASE("identity: verify REF re-judges R9 for REF's approval against the other tickets") {
    Copy c(base_db());
    const auto log = read_log(c.db);
    const std::string carol_id = id_of(token_of(base_db(), "carol"));
    const std::int64_t seq = log.back().seq + 1;
    append_ticket_entry(c.db,
                        appended(log, "T-R", "approve", "carol", by_token(carol_id), "approved"));
    expect_entry_caught(c, seq);  // the whole log: caught
    const Result one = c({"verify", "T-R"});
    INFO(one.describe());
    CHECK(one.code == 6);
    CHECK(has_word(one.out, "seq " + std::to_string(seq)));
    CHECK(contains(one.out, "R9"));
}

TEST_CASE(
    "identity: verify catches a forged account change granting a role to its own account (R10)") {
    Copy c(base_db());
    const auto log = read_log(c.db);
    const std::int64_t seq = log.back().seq + 1;
    const std::string root_id = id_of(token_of(base_db(), "root"));
    const std::string root2_id = id_of(token_of(base_db(), "root2"));
    // The grant appended with its hash recomputed, and root's row brought in line with it.
    auto grant_root_approver = [&](const std::string& by, const std::string& id) {
        const Entry e = appended(log, "account:root", "account-grant", by,
                                 R"({"by_token":")" + id + R"(","role":"approver"})", "enabled");
        tamper_db(c.db, insert_sql(e) + "UPDATE accounts SET roles = 'admin,approver', version = " +
                            std::to_string(e.tseq) + ", updated_at = " + sql_quote(e.at) +
                            " WHERE name = 'root';");
    };
    SUBCASE("root grants itself approver") {
        grant_root_approver("root", root_id);
        expect_entry_caught(c, seq);
        const Result r = c({"verify"});
        CHECK(contains(r.out, "R10"));
    }
    SUBCASE("control: root2 grants root approver") {
        grant_root_approver("root2", root2_id);
        expect_verified(c);
    }
}

// ---- 4. R10 on the command line ---------------------------------------------------------------

TEST_CASE("identity: R10 - no account grants a role to itself or enables itself") {
    Copy c(base_db());
    const std::string head = head_of(c.db);
    const DbBytes before(c.db);
    SUBCASE("an admin granting itself approver: exit 3 naming R10, nothing written") {
        for (const auto& args : std::vector<std::vector<std::string>>{
                 {"agent", "grant", "root", "approver", "--agent", "root"},
                 {"agent", "grant", "ROOT", "approver", "--agent", " Root"},
                 {"agent", "grant", "root", "agent", "--token-file",
                  token_file(c.dir, "root", token_of(base_db(), "root"))}}) {
            CAPTURE(args[2]);
            const Result r = c(args);
            INFO(r.describe());
            CHECK(r.code == 3);
            CHECK(r.out.empty());
            CHECK(contains(r.err, "R10"));
            CHECK(DbBytes(c.db) == before);
        }
        const json list = json_of(c({"agent", "list", "--json"}));
        for (const auto& a : list)
            if (a.at("name") == "root") CHECK(a.at("roles") == json({"admin"}));
        CHECK(head_of(c.db) == head);
    }
    SUBCASE("control: another admin may grant it") {
        const Result r = expect_ok(c({"agent", "grant", "root", "approver", "--agent", "root2"}));
        CHECK(r.out == "root enabled admin,approver\n");
    }
    SUBCASE("a disabled admin cannot enable itself: its token no longer authenticates (exit 7)") {
        expect_ok(c({"agent", "disable", "root2", "--agent", "root"}));
        const DbBytes disabled(c.db);
        const std::string file = token_file(c.dir, "root2", token_of(base_db(), "root2"));
        const Result r = c({"agent", "enable", "root2", "--token-file", file}, without_token());
        expect_refused_7(r, c.db, disabled);
        CHECK(has_word(r.err, "root2"));
        expect_refused_7(c({"agent", "enable", "root2", "--agent", "root2"}, without_token()), c.db,
                         disabled);
        expect_refused_7(c({"agent", "enable", "root2", "--agent", "root2"}), c.db, disabled);
        // Control: another admin may enable it.
        expect_ok(c({"agent", "enable", "root2", "--agent", "root"}));
    }
}

// ---- 5. R9, partner memory, on the command line ---------------------------------------------

namespace {

//   root admin; alice agent; carol approver
//   P-1  partner, phone A, OPS@Acme.Example         -> partner_rejected
//   P-2  partner, phone B, sales@partner.example    -> partner_rejected
//   C-PH client, phone A, c-ph@client.example       -> identity_check, checks by alice
//   C-EM client, phone C, ops@acme.example          -> identity_check, checks by alice
//   C-TWO client, phone B, Ops@ACME.example         -> identity_check, checks by alice
//   C-NONE client, phone D, none@client.example     -> identity_check, checks by alice
struct R9Desk {
    Desk desk;
    R9Desk() {
        const Desk& d = desk;
        ok_or_throw(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}), "root");
        ok_or_throw(d({"agent", "add", "alice", "--role", "agent", "--agent", "root"}), "alice");
        ok_or_throw(d({"agent", "add", "carol", "--role", "approver", "--agent", "root"}), "carol");
        ok_or_throw(d(open_args("P-1", "+4915100000011", "OPS@Acme.Example", "partner", "unknown",
                                "alice")),
                    "P-1");
        ok_or_throw(d.event("P-1", "triage", "alice"), "P-1");
        ok_or_throw(d(open_args("P-2", "+4915100000012", "sales@partner.example", "partner",
                                "unknown", "alice")),
                    "P-2");
        ok_or_throw(d.event("P-2", "triage", "alice"), "P-2");
        for (const auto& [ref, phone, email] : std::vector<std::array<std::string, 3>>{
                 {"C-PH", "+4915100000011", "c-ph@client.example"},
                 {"C-EM", "+4915100000013", "ops@acme.example"},
                 {"C-TWO", "+4915100000012", "Ops@ACME.example"},
                 {"C-NONE", "+4915100000014", "none@client.example"}}) {
            ok_or_throw(d(open_args(ref, phone, email, "client", "no", "alice")), "open");
            ok_or_throw(d.event(ref, "triage", "alice"), "triage");
            for (const auto& c : kChecks)
                ok_or_throw(d.event(ref, "check-passed", "alice", {"--check", c}), "check");
        }
    }
};

const R9Desk& r9_desk() {
    static const std::unique_ptr<R9Desk> d = std::make_unique<R9Desk>();
    return *d;
}

json related_of(const Copy& c, const std::string& ref) {
    const json t = json_of(c({"show", ref, "--json"}));
    REQUIRE(t.contains("related"));
    REQUIRE(t.contains("related_total"));
    return t;
}

json rel(const std::string& ref, const std::string& state, const std::string& match) {
    return json{{"ref", ref}, {"state", state}, {"match", match}};
}

// The approval is refused by R9, naming every ticket in `missing`, and writes nothing.
void expect_r9(const Result& r, const std::string& db, const DbBytes& before,
               const std::vector<std::string>& missing) {
    INFO(r.describe());
    CHECK(r.code == 3);
    CHECK(r.out.empty());
    CHECK(contains(r.err, "R9"));
    for (const auto& ref : missing) CHECK(has_word(r.err, ref));
    CHECK(DbBytes(db) == before);
}

}  // namespace

TEST_CASE("identity: R9 - show --json lists the related tickets, partners' rejected ones first") {
    Copy c(r9_desk().desk.db);
    SUBCASE("same phone") {
        const json t = related_of(c, "C-PH");
        CHECK(t.at("related") == json::array({rel("P-1", "partner_rejected", "phone")}));
        CHECK(t.at("related_total") == 1);
    }
    SUBCASE("same email in another case; the partner's first, then the others") {
        const json t = related_of(c, "C-EM");
        // P-1 (OPS@Acme.Example, rejected) and C-TWO (Ops@ACME.example, newer than P-1).
        CHECK(t.at("related") == json::array({rel("P-1", "partner_rejected", "email"),
                                              rel("C-TWO", "identity_check", "email")}));
        CHECK(t.at("related_total") == 2);
    }
    SUBCASE("a phone and an email, two partners") {
        const json t = related_of(c, "C-TWO");
        const json& r = t.at("related");
        REQUIRE(r.size() == 3);
        CHECK(t.at("related_total") == 3);
        // Both rejected ones before C-EM, whatever their order between them.
        const std::set<json> partners = {r[0], r[1]};
        CHECK(partners == std::set<json>{rel("P-1", "partner_rejected", "email"),
                                         rel("P-2", "partner_rejected", "phone")});
        CHECK(r[2] == rel("C-EM", "identity_check", "email"));
    }
    SUBCASE("a ticket with another phone and another email has none") {
        const json t = related_of(c, "C-NONE");
        CHECK(t.at("related") == json::array());
        CHECK(t.at("related_total") == 0);
    }
}

TEST_CASE(
    "identity: R9 - approve is refused until every related partner's ticket is acknowledged") {
    Copy c(r9_desk().desk.db);
    const std::string carol_id = id_of(token_of(r9_desk().desk.db, "carol"));
    auto last_details = [&](const std::string& ref) {
        const json h = json_of(c({"history", ref, "--json"}));
        REQUIRE(h.back().at("event") == "approve");
        return h.back().at("details");
    };
    auto approve = [&](const std::string& ref, std::vector<std::string> extra = {}) {
        std::vector<std::string> a = {"event", ref, "approve", "--agent", "carol"};
        a.insert(a.end(), extra.begin(), extra.end());
        return c(a);
    };
    const DbBytes before(c.db);
    SUBCASE("same phone") {
        expect_r9(approve("C-PH"), c.db, before, {"P-1"});
        expect_r9(approve("C-PH", {"--ack-related", "P-2"}), c.db, before, {"P-1"});
        CHECK(expect_ok(approve("C-PH", {"--ack-related", "P-1"})).out == "approved\n");
        CHECK(last_details("C-PH") == json{{"ack_related", "P-1"}, {"by_token", carol_id}});
    }
    SUBCASE("same email in another case") {
        expect_r9(approve("C-EM"), c.db, before, {"P-1"});
        expect_ok(approve("C-EM", {"--ack-related", "P-1"}));
        CHECK(last_details("C-EM") == json{{"ack_related", "P-1"}, {"by_token", carol_id}});
    }
    SUBCASE("two partners: each must be named") {
        expect_r9(approve("C-TWO"), c.db, before, {"P-1", "P-2"});
        expect_r9(approve("C-TWO", {"--ack-related", "P-1"}), c.db, before, {"P-2"});
        expect_r9(approve("C-TWO", {"--ack-related", "P-2"}), c.db, before, {"P-1"});
        expect_ok(approve("C-TWO", {"--ack-related", "P-2", "--ack-related", "P-1"}));
        // formats.md: the refs sorted, joined by commas.
        CHECK(last_details("C-TWO") == json{{"ack_related", "P-1,P-2"}, {"by_token", carol_id}});
    }
    SUBCASE("no related ticket: approved without any") {
        expect_ok(approve("C-NONE"));
        CHECK(last_details("C-NONE") == json{{"by_token", carol_id}});
    }
    expect_verified(c);
}

// ---- 6. a sealed desk stays sealed ----------------------------------------------------------

TEST_CASE("identity: a sealed desk refuses every write without the key (exit 7, nothing written)") {
    Desk d;
    const std::string key = d.dir / "desk.key";
    const Result gen =
        run({TFADESK_BIN, "key", "generate", "--name", "desk.example/id", "--out", key});
    INFO(gen.describe());
    REQUIRE(gen.code == 0);
    const std::string vkey = trimmed(gen.out);
    RunOptions keyed;
    keyed.env = {{"TFADESK_KEY", key}};
    // Sealed from its first entry.
    REQUIRE(d({"agent", "add", "root", "--role", "admin", "--agent", "setup", "--key", key}).code ==
            0);
    REQUIRE(d({"agent", "add", "alice", "--role", "agent", "--agent", "root"}, keyed).code == 0);
    REQUIRE(d({"agent", "add", "ops", "--role", "operator", "--agent", "root"}, keyed).code == 0);
    REQUIRE(
        d(open_args("S-1", kPhoneT1, "s1@client.example", "client", "no", "alice"), keyed).code ==
        0);
    REQUIRE(d(open_args("S-2", kPhoneW1, "s2@client.example", "unknown", "unknown", "alice"), keyed)
                .code == 0);
    REQUIRE(d.event("S-2", "triage", "alice", {"--key", key}).code == 0);
    const std::string csv = d.dir / "in.csv";
    spit(csv,
         "ref,phone,client_id,requester_email,requester_role\n"
         "S-3,+4915100000021,acme,s3@client.example,client\n"
         "S-4,12,acme,s4@client.example,client\n");
    const std::string rejects = d.dir / "rejects.csv";
    const std::string token_out = d.dir / "new.token";
    const std::vector<std::pair<std::vector<std::string>, RunOptions>> writes = {
        {open_args("S-9", kPhoneT1, "s9@client.example", "client", "no", "alice"), {}},
        {{"event", "S-1", "triage", "--agent", "alice"}, {}},
        {{"event", "S-1", "cancel", "--note", "withdrawn", "--agent", "alice"}, {}},
        {{"import", csv, "--rejects", rejects, "--agent", "ops"}, {}},
        {{"agent", "add", "bob", "--role", "agent", "--token-out", token_out, "--agent", "root"},
         {}},
        {{"agent", "token", "alice", "--agent", "root"}, {}},
        {{"agent", "grant", "alice", "approver", "--agent", "root"}, {}},
        {{"agent", "disable", "alice", "--agent", "root"}, {}},
        // Last: it runs eight days ahead (S-2 would expire), and times never go backwards.
        {{"sweep", "--agent", "ops"}, later("+8d")},
    };
    const DbBytes before(d.db);
    const std::string head = head_of(d.db);
    for (const auto& [args, opt] : writes) {
        CAPTURE(args[0]);
        CAPTURE(args[1]);
        const Result r = d(args, opt);
        INFO(r.describe());
        CHECK(r.code == 7);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "key"));
        CHECK(DbBytes(d.db) == before);
        CHECK_FALSE(fs::exists(rejects));
        CHECK_FALSE(fs::exists(token_out));
    }
    CHECK(head_of(d.db) == head);
    CHECK(expect_ok(d({"verify", "--verifier-key", vkey})).out_lines().back() == head);
    // With the key each works.
    for (const auto& [args, opt] : writes) {
        CAPTURE(args[0]);
        CAPTURE(args[1]);
        RunOptions o = opt;
        o.env.emplace_back("TFADESK_KEY", key);
        const Result r = d(args, o);
        INFO(r.describe());
        CHECK((r.code == 0 ||
               (args[0] == "import" && r.code == 2)));  // import: one row rejected (exit 2)
    }
    CHECK(json_of(d({"show", "S-2", "--json"})).at("state") == "expired");
    CHECK(fs::exists(rejects));
    CHECK(fs::exists(token_out));
    expect_ok(d({"verify", "--verifier-key", vkey}));
}

// ---- 7. the SLA is judged at the time of the entry ------------------------------------------

TEST_CASE(
    "identity: sweep --now later than the write is exit 2; run eight days later it expires and "
    "verifies") {
    Copy c(base_db());
    const DbBytes before(c.db);
    const std::string head = head_of(c.db);
    for (const std::string& now :
         {std::string("9999-01-01T00:00:00Z"), format_utc_ms(now_ms() + 3600 * 1000)}) {
        CAPTURE(now);
        const Result r = c({"sweep", "--now", now, "--sla-hours", "1", "--agent", "ops"});
        INFO(r.describe());
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(contains(r.err, "--now"));
        CHECK(DbBytes(c.db) == before);
    }
    // Now, W-1 has not waited 168 hours: nothing expires.
    expect_ok(c({"sweep", "--agent", "ops"}));
    CHECK(state_of(c.db, "W-1") == "awaiting_requester");
    CHECK(head_of(c.db) == head);
    // Eight days later it has.
    const Result r = expect_ok(c({"sweep", "--agent", "ops"}, later("+8d")));
    CHECK(contains(r.out, "W-1"));
    CHECK(state_of(c.db, "W-1") == "expired");
    const json h = json_of(c({"history", "W-1", "--json"}));
    REQUIRE(h.size() == 3);
    CHECK(h[2].at("event") == "expire");
    CHECK(h[2].at("agent") == "ops");
    CHECK(h[2].at("details").at("sla_hours") == 168);
    CHECK(h[2].at("details").at("by_token") == id_of(token_of(base_db(), "ops")));
    const auto at = parse_utc_ms(h[2].at("at").get<std::string>());
    REQUIRE(at.has_value());
    CHECK(*at > now_ms() + 7 * 24 * 3600 * 1000LL);
    expect_verified(c);
}
