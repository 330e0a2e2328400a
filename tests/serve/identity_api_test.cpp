// Identity from the log (SPEC §12) and R9 through a real `tfadesk serve`, attacked as someone who
// can write the database file while the server runs: a token swapped into an account row or a
// row inserted for a name without an account is 401 and writes nothing; account changes written
// by another process (the command line) take effect on the server's next request; R9 over
// POST .../events with "ack_related"; and a sealed desk served without --key refuses writes (403)
// and leaves the database's bytes as they were. Expected values are typed in from the SPEC.
#include <doctest/doctest.h>

#include <regex>

#include "../cli/log_forge.hpp"
#include "serve_process.hpp"

using namespace servetest;
using clitest::contains;

namespace {

httplib::Result post_json(httplib::Client& c, const std::string& path, const json& body) {
    return c.Post(path.c_str(), body.dump(), "application/json");
}

httplib::Result event(httplib::Client& c, const std::string& ref, const json& body) {
    return post_json(c, "/api/v1/tickets/" + ref + "/events", body);
}

int status_of(const httplib::Result& r) { return r ? r->status : -1; }

// SPEC §9's error body: the status, {"error": one line, "code": code}.
void check_error(const httplib::Result& r, int status, const std::string& code) {
    REQUIRE_MESSAGE(r, describe(r));
    CHECK_MESSAGE(r->status == status, describe(r));
    const json j = body_of(r);
    REQUIRE_MESSAGE(j.is_object(), describe(r));
    CHECK(j.value("code", "") == code);
    CHECK(!j.value("error", "").empty());
}

// A token as the desk issues them (`tfa_` and 64 hex digits), but made by the attacker.
std::string made_up_token(const std::string& seed) {
    return "tfa_" + clitest::sha256_hex("attacker's own token: " + seed);
}

// SPEC §12: the first 16 hex digits of the token's SHA-256.
std::string id_of(const std::string& token) { return clitest::sha256_hex(token).substr(0, 16); }

// Runs SQL on the live desk through the sqlite3 shell, waiting for the server's locks.
void edit_live(const std::string& db, const std::string& sql) {
    const Result r = clitest::sqlite(db, "PRAGMA busy_timeout = 10000; " + sql);
    INFO(sql, "\n", r.describe());
    REQUIRE(r.code == 0);
}

std::string sql_value(const std::string& db, const std::string& sql) {
    Result r = clitest::sqlite(db, sql);
    INFO(r.describe());
    REQUIRE(r.code == 0);
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
}

json ticket(const std::string& ref, const std::string& phone, const std::string& email,
            const std::string& role, const std::string& access) {
    return json{{"ref", ref},
                {"phone", phone},
                {"client_id", "acme"},
                {"requester_email", email},
                {"requester_role", role},
                {"portfolio_access", access},
                {"triage", true}};
}

// Opens REF as alice (triaged into identity_check) and records the three checks as alice.
void ready_for_approval(const Server& s, const Desk& d, const std::string& ref,
                        const std::string& phone, const std::string& email) {
    auto alice = s.client(d.tokens.at("alice"));
    auto r = post_json(alice, "/api/v1/tickets", ticket(ref, phone, email, "client", "no"));
    REQUIRE_MESSAGE(status_of(r) == 201, describe(r));
    REQUIRE(body_of(r)["state"] == "identity_check");
    for (const char* c : {"client_of_record", "number_ownership", "lost_access"}) {
        auto e = event(alice, ref, {{"event", "check-passed"}, {"check", c}});
        REQUIRE_MESSAGE(status_of(e) == 200, describe(e));
    }
}

std::int64_t version_of(const Server& s, const Desk& d, const std::string& ref) {
    auto audrey = s.client(d.tokens.at("audrey"));
    auto r = audrey.Get(("/api/v1/tickets/" + ref).c_str());
    REQUIRE_MESSAGE(status_of(r) == 200, describe(r));
    return body_of(r)["version"].get<std::int64_t>();
}

json verify_over_api(const Server& s, const Desk& d) {
    auto audrey = s.client(d.tokens.at("audrey"));
    auto r = audrey.Get("/api/v1/verify");
    REQUIRE_MESSAGE(status_of(r) == 200, describe(r));
    return body_of(r);
}

bool a_problem_names(const json& v, const std::string& word) {
    for (const auto& p : v["problems"])
        if (clitest::has_word(p.get<std::string>(), word)) return true;
    return false;
}

}  // namespace

TEST_CASE(
    "serve identity: a token swapped into carol's row, or a row for a ghost, is 401 and writes "
    "nothing") {
    Desk d;
    // carol may approve (granted by boss, another admin: R10).
    const Result grant = d.cli({"agent", "grant", "carol", "approver", "--agent", "boss"});
    REQUIRE_MESSAGE(grant.code == 0, grant.describe());
    Server s(d);
    ready_for_approval(s, d, "ID-1", "+4915100000041", "id1@client.example");
    REQUIRE(version_of(s, d, "ID-1") == 5);
    const std::string head = verify_over_api(s, d)["head"];

    const std::string real_hash =
        sql_value(d.db, "SELECT token_hash FROM accounts WHERE name = 'carol'");
    REQUIRE(real_hash == clitest::sha256_hex(d.tokens.at("carol")));
    const std::string forged = made_up_token("carol");
    REQUIRE(std::regex_match(forged, std::regex("tfa_[0-9a-f]{64}")));
    edit_live(d.db, "UPDATE accounts SET token_hash = " +
                        clitest::sql_quote(clitest::sha256_hex(forged)) + " WHERE name = 'carol';");
    auto mallory = s.client(forged);
    check_error(mallory.Get("/api/v1/me"), 401, "unauthorized");
    check_error(event(mallory, "ID-1", {{"event", "approve"}}), 401, "unauthorized");
    check_error(post_json(mallory, "/api/v1/tickets",
                          ticket("ID-2", "+4915100000042", "x@client.example", "client", "no")),
                401, "unauthorized");
    CHECK(version_of(s, d, "ID-1") == 5);
    // The row left in place: verify names carol's row.
    {
        const json v = verify_over_api(s, d);
        CHECK(v["ok"] == false);
        CHECK(a_problem_names(v, "carol"));
        CHECK(v["head"] == head);
    }

    const std::string ghost = made_up_token("ghost");
    edit_live(d.db,
              "INSERT INTO accounts (name, roles, enabled, created_at, updated_at, version, "
              "token_hash) VALUES "
              "('ghost', 'admin,agent,approver,auditor,operator', 1, '2026-01-01T00:00:00.000Z', "
              "'2026-01-01T00:00:00.000Z', 1, " +
                  clitest::sql_quote(clitest::sha256_hex(ghost)) + ");");
    auto g = s.client(ghost);
    check_error(g.Get("/api/v1/me"), 401, "unauthorized");
    check_error(event(g, "ID-1", {{"event", "approve"}}), 401, "unauthorized");
    check_error(g.Get("/api/v1/export"), 401, "unauthorized");
    CHECK(version_of(s, d, "ID-1") == 5);
    CHECK(a_problem_names(verify_over_api(s, d), "ghost"));

    // Put back: the log holds nothing of either attempt.
    edit_live(d.db, "UPDATE accounts SET token_hash = " + clitest::sql_quote(real_hash) +
                        " WHERE name = 'carol'; DELETE FROM accounts WHERE name = 'ghost';");
    const json v = verify_over_api(s, d);
    CHECK(v["ok"] == true);
    CHECK(v["head"] == head);
    // Control: carol's own token approves.
    auto carol = s.client(d.tokens.at("carol"));
    auto ok = event(carol, "ID-1", {{"event", "approve"}});
    CHECK_MESSAGE(status_of(ok) == 200, describe(ok));
    CHECK(s.stop() == 0);
    const json h = json::parse(d.cli({"history", "ID-1", "--json"}).out);
    REQUIRE(h.size() == 6);
    CHECK(h[5]["agent"] == "carol");
    CHECK(h[5]["details"]["by_token"] == id_of(d.tokens.at("carol")));
}

TEST_CASE(
    "serve identity: account changes written by the command line count from the server's next "
    "request") {
    Desk d;
    Server s(d);
    ready_for_approval(s, d, "AC-1", "+4915100000051", "ac1@client.example");
    auto alice = s.client(d.tokens.at("alice"));
    auto carol = s.client(d.tokens.at("carol"));
    REQUIRE(status_of(alice.Get("/api/v1/me")) == 200);

    // carol (agent) may not approve, until boss grants her the role from the command line.
    check_error(event(carol, "AC-1", {{"event", "approve"}}), 403, "forbidden");
    REQUIRE(d.cli({"agent", "grant", "carol", "approver", "--agent", "boss"}).code == 0);
    auto r = event(carol, "AC-1", {{"event", "approve"}});
    CHECK_MESSAGE(status_of(r) == 200, describe(r));

    // alice disabled: her token stops at once.
    REQUIRE(d.cli({"agent", "disable", "alice", "--agent", "boss"}).code == 0);
    check_error(alice.Get("/api/v1/me"), 401, "unauthorized");
    check_error(event(alice, "AC-1", {{"event", "cancel"}, {"note", "x"}}), 401, "unauthorized");

    // bob's token rotated: the old one stops, the new one works.
    const std::string old_bob = d.tokens.at("bob");
    REQUIRE(d.cli({"agent", "token", "bob", "--agent", "boss"}).code == 0);
    const std::string new_bob = clitest::keychain()[d.db].at("bob");
    REQUIRE(new_bob != old_bob);
    check_error(s.client(old_bob).Get("/api/v1/me"), 401, "unauthorized");
    auto me = s.client(new_bob).Get("/api/v1/me");
    CHECK_MESSAGE(status_of(me) == 200, describe(me));
    CHECK(s.stop() == 0);
}

TEST_CASE("serve identity: R9 - related tickets in the ticket, approve needs \"ack_related\"") {
    Desk d;
    Server s(d);
    auto alice = s.client(d.tokens.at("alice"));
    auto dave = s.client(d.tokens.at("dave"));  // approver only
    auto p = post_json(alice, "/api/v1/tickets",
                       ticket("P-1", "+4915100000061", "OPS@Acme.Example", "partner", "unknown"));
    REQUIRE_MESSAGE(status_of(p) == 201, describe(p));
    REQUIRE(body_of(p)["state"] == "partner_rejected");
    ready_for_approval(s, d, "C-1", "+4915100000061", "c1@client.example");  // the partner's phone
    ready_for_approval(s, d, "C-2", "+4915100000062",
                       "ops@acme.example");  // the partner's email, other case
    ready_for_approval(s, d, "C-3", "+4915100000063", "c3@client.example");  // neither

    auto related = [&](const std::string& ref) {
        auto r = alice.Get(("/api/v1/tickets/" + ref).c_str());
        REQUIRE_MESSAGE(status_of(r) == 200, describe(r));
        const json t = body_of(r);
        return std::pair(t["related"], t["related_total"]);
    };
    const json p1_phone = {{"ref", "P-1"}, {"state", "partner_rejected"}, {"match", "phone"}};
    const json p1_email = {{"ref", "P-1"}, {"state", "partner_rejected"}, {"match", "email"}};
    CHECK(related("C-1") == std::pair(json::array({p1_phone}), json(1)));
    CHECK(related("C-2") == std::pair(json::array({p1_email}), json(1)));
    CHECK(related("C-3") == std::pair(json::array(), json(0)));

    for (const std::string ref : {"C-1", "C-2"}) {
        CAPTURE(ref);
        auto refused = event(dave, ref, {{"event", "approve"}});
        check_error(refused, 409, "refused");
        CHECK(body_of(refused)["rule"] == "R9");
        CHECK(body_of(refused)["state"] == "identity_check");
        CHECK(clitest::has_word(body_of(refused).value("error", ""), "P-1"));
        check_error(event(dave, ref, {{"event", "approve"}, {"ack_related", json::array({"C-3"})}}),
                    409, "refused");
        CHECK(version_of(s, d, ref) == 5);
        auto ok = event(dave, ref, {{"event", "approve"}, {"ack_related", json::array({"P-1"})}});
        REQUIRE_MESSAGE(status_of(ok) == 200, describe(ok));
        CHECK(body_of(ok)["state"] == "approved");
        const json h = json::parse(d.cli({"history", ref, "--json"}).out);
        REQUIRE(h.size() == 6);
        CHECK(h[5]["details"] ==
              json{{"ack_related", "P-1"}, {"by_token", id_of(d.tokens.at("dave"))}});
    }
    // Bad "ack_related": not an array of refs, or on another event: 400.
    check_error(event(dave, "C-3", {{"event", "approve"}, {"ack_related", "P-1"}}), 400, "invalid");
    check_error(event(dave, "C-3", {{"event", "approve"}, {"ack_related", json::array({7})}}), 400,
                "invalid");
    check_error(event(alice, "C-3",
                      {{"event", "cancel"}, {"note", "x"}, {"ack_related", json::array({"P-1"})}}),
                400, "invalid");
    CHECK(version_of(s, d, "C-3") == 5);
    auto plain = event(dave, "C-3", {{"event", "approve"}});
    CHECK_MESSAGE(status_of(plain) == 200, describe(plain));
    CHECK(verify_over_api(s, d)["ok"] == true);
    CHECK(s.stop() == 0);
}

TEST_CASE(
    "serve identity: a sealed desk served without --key answers writes 403 and its bytes stay as "
    "they were") {
    Desk d;
    const std::string key = d.dir / "desk.key";
    const Result gen = d.cli({"key", "generate", "--name", "serve-id", "--out", key});
    REQUIRE_MESSAGE(gen.code == 0, gen.describe());
    const std::string vkey = gen.out.substr(0, gen.out.find('\n'));
    const Result opened =
        d.cli({"open", "--ref", "SL-1", "--phone", "+4915100000071", "--client-id", "acme",
               "--requester-email", "sl1@client.example", "--role", "client", "--access", "no",
               "--agent", "alice", "--key", key});
    REQUIRE_MESSAGE(opened.code == 0, opened.describe());
    // The log and its seals as the sqlite3 shell reads them (the reads below add access-log
    // records, which are kept beside the log, so the file's bytes may change; the log must not).
    const auto log_of = [&] {
        return clitest::sqlite(
                   d.db,
                   "SELECT count(*) || ':' || max(seq) || ':' || max(hash) FROM events; "
                   "SELECT count(*) FROM seals; SELECT count(*) FROM tickets")
            .out;
    };
    const std::string before = log_of();
    {
        Server s(d);
        auto alice = s.client(d.tokens.at("alice"));
        auto r = post_json(alice, "/api/v1/tickets",
                           ticket("SL-2", "+4915100000072", "sl2@client.example", "client", "no"));
        check_error(r, 403, "forbidden");
        CHECK(contains(body_of(r).value("error", ""), "key"));
        check_error(event(alice, "SL-1", {{"event", "triage"}}), 403, "forbidden");
        CHECK(body_of(alice.Get("/api/v1/tickets/SL-1"))["state"] == "received");
        CHECK(status_of(alice.Get("/api/v1/tickets/SL-2")) == 404);
        CHECK(s.stop() == 0);
    }
    CHECK(log_of() == before);
    {
        Server s(d, {"--key", key});
        auto alice = s.client(d.tokens.at("alice"));
        auto r = event(alice, "SL-1", {{"event", "triage"}});
        CHECK_MESSAGE(status_of(r) == 200, describe(r));
        CHECK(s.stop() == 0);
    }
    const Result v = d.cli({"verify", "--verifier-key", vkey});
    CHECK_MESSAGE(v.code == 0, v.describe());
}
