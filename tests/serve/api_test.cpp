// The desk server's API through a real `tfadesk serve` (SPEC §9): every route, every status code
// of §9's table, role refusals, R6 across two accounts, If-Match, the body limits, and a
// failing request that fails alone.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>

#include "serve_process.hpp"

using namespace servetest;
using clitest::contains;

int main(int argc, char** argv) {
    // A server that refuses a body closes the connection while the client may still be sending.
    std::signal(SIGPIPE, SIG_IGN);
    return doctest::Context(argc, argv).run();
}

namespace {

// Runs `sql` on the desk file with the sqlite3 shell, beside the server; its output, trimmed.
std::string sqlite_value(const std::string& db, const std::string& sql) {
    const auto r = clitest::run({SQLITE3_BIN, db, sql});
    REQUIRE_MESSAGE(r.code == 0, r.describe());
    std::string out = r.out;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
}

httplib::Headers if_match(std::int64_t v) {
    return {{"If-Match", "\"" + std::to_string(v) + "\""}};
}

httplib::Result post_json(httplib::Client& c, const std::string& path, const json& body,
                          const httplib::Headers& headers = {}) {
    return c.Post(path.c_str(), headers, body.dump(), "application/json");
}

// POSTs `body` chunked (64 KiB at a time, no Content-Length for the server to judge up front).
httplib::Result post_chunked(httplib::Client& c, const std::string& path, const std::string& body,
                             const char* content_type) {
    std::size_t sent = 0;
    return c.Post(
        path.c_str(),
        [&](std::size_t, httplib::DataSink& sink) {
            if (sent < body.size()) {
                const std::size_t n = std::min<std::size_t>(65536, body.size() - sent);
                sink.write(body.data() + sent, n);
                sent += n;
            } else {
                sink.done();
            }
            return true;
        },
        content_type);
}

httplib::Result event(httplib::Client& c, const std::string& ref, const json& body,
                      const httplib::Headers& h = {}) {
    return post_json(c, "/api/v1/tickets/" + ref + "/events", body, h);
}

// The error body of §9: "error" one line, "code" as given.
void check_error(const httplib::Result& r, int status, const std::string& code) {
    REQUIRE_MESSAGE(r, describe(r));
    CHECK_MESSAGE(r->status == status, describe(r));
    const json j = body_of(r);
    REQUIRE_MESSAGE(j.is_object(), describe(r));
    CHECK(j.value("code", "") == code);
    REQUIRE(j.contains("error"));
    CHECK(!j["error"].get<std::string>().empty());
    CHECK(j["error"].get<std::string>().find('\n') == std::string::npos);
    CHECK(r->get_header_value("Content-Type") == "application/json");
}

// An input error about one field (issue 22): 400, the field by its JSON key or query parameter,
// and a message that names it so, never by a command-line flag.
void check_field_error(const httplib::Result& r, const std::string& field,
                       const std::string& message) {
    check_error(r, 400, "invalid");
    const json j = body_of(r);
    CHECK(j.value("field", "") == field);
    CHECK(j.value("error", "") == message);
    CHECK(j.value("error", "").find("--") == std::string::npos);
}

// Opens REF through the API as alice and triages it into identity_check.
json open_on_behalf(const Server& s, const Desk& d, const std::string& ref) {
    auto c = s.client(d.tokens.at("alice"));
    json body = ticket_body(ref);
    body["triage"] = true;
    auto r = post_json(c, "/api/v1/tickets", body);
    REQUIRE_MESSAGE((r && r->status == 201), describe(r));
    return body_of(r);
}

}  // namespace

TEST_CASE("serve: the listening line, /healthz, the page and unknown routes") {
    Desk d;
    Server s(d);
    CHECK(s.listening_line() == "listening on http://127.0.0.1:" + std::to_string(s.port()));
    auto c = s.client();
    auto r = c.Get("/healthz");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(body_of(r) == json{{"ok", true}});

    r = c.Get("/");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(contains(r->get_header_value("Content-Type"), "text/html"));
    const std::string csp = r->get_header_value("Content-Security-Policy");
    CHECK(contains(csp, "default-src 'none'"));
    CHECK(contains(csp, "script-src 'self'"));
    CHECK(!contains(csp, "http"));
    CHECK(contains(r->body, "app.js"));
    // The page and every module it loads come from the server itself (SPEC §15).
    for (const char* file : {"/app.js", "/app.css", "/core.js", "/passkeys.js", "/queue.js",
                             "/ticket.js", "/import.js", "/audit.js", "/accounts.js"}) {
        CAPTURE(file);
        auto f = c.Get(file);
        REQUIRE(f);
        CHECK(f->status == 200);
        CHECK(!f->body.empty());
        CHECK(!contains(f->body, "http://"));
        CHECK(!contains(f->body, "https://"));
    }
    check_error(c.Get("/api/v1/no-such-route"), 404, "not_found");
    check_error(c.Post("/api/v1/no-such-route", "{}", "application/json"), 404, "not_found");
    CHECK(s.stop() == 0);
}

TEST_CASE("serve: tokens - none or unknown is 401 with WWW-Authenticate; /me names the account") {
    Desk d;
    Server s(d);
    auto anon = s.client();
    for (const char* path : {"/api/v1/me", "/api/v1/tickets", "/api/v1/verify", "/api/v1/stats"}) {
        auto r = anon.Get(path);
        check_error(r, 401, "unauthorized");
        CHECK(contains(r->get_header_value("WWW-Authenticate"), "Bearer"));
    }
    auto wrong = s.client(std::string("tfa_") + std::string(64, '0'));
    check_error(wrong.Get("/api/v1/me"), 401, "unauthorized");
    check_error(post_json(wrong, "/api/v1/tickets", ticket_body("HD-1")), 401, "unauthorized");

    auto bob = s.client(d.tokens.at("bob"));
    auto r = bob.Get("/api/v1/me");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(body_of(r) == json{{"name", "bob"}, {"roles", {"agent", "approver"}}});
    CHECK(s.stop() == 0);
}

TEST_CASE("serve: POST /api/v1/tickets - 201 with Location and ETag, 400, 403, 409") {
    Desk d;
    Server s(d);
    auto alice = s.client(d.tokens.at("alice"));
    auto r = post_json(alice, "/api/v1/tickets", ticket_body("HD-1"));
    REQUIRE(r);
    CHECK_MESSAGE(r->status == 201, describe(r));
    CHECK(r->get_header_value("Location") == "/api/v1/tickets/HD-1");
    CHECK(r->get_header_value("ETag") == "\"1\"");
    json t = body_of(r);
    CHECK(t["state"] == "received");
    CHECK(t["phone"] == "+4915123456789");
    CHECK(t["next_events"].is_array());

    SUBCASE("the opening agent is the token's account") {
        auto h = d.cli({"history", "HD-1", "--json"});
        REQUIRE(h.code == 0);
        CHECK(json::parse(h.out)[0]["agent"] == "alice");
    }
    SUBCASE("a duplicate ref is 409 conflict") {
        check_error(post_json(alice, "/api/v1/tickets", ticket_body("HD-1")), 409, "conflict");
    }
    SUBCASE("triage: true triages too") {
        json b = ticket_body("HD-2", "partner", "unknown");
        b["triage"] = true;
        auto t2 = post_json(alice, "/api/v1/tickets", b);
        REQUIRE(t2);
        CHECK(t2->status == 201);
        CHECK(body_of(t2)["state"] == "partner_rejected");
        CHECK(t2->get_header_value("ETag") == "\"2\"");
    }
    SUBCASE("bad input is 400 invalid, and nothing is written") {
        json bad_phone = ticket_body("HD-3");
        bad_phone["phone"] = "12";
        check_error(post_json(alice, "/api/v1/tickets", bad_phone), 400, "invalid");
        json agent = ticket_body("HD-3");
        agent["agent"] = "bob";
        auto ra = post_json(alice, "/api/v1/tickets", agent);
        check_error(ra, 400, "invalid");
        CHECK(contains(body_of(ra)["error"], "agent"));
        json unknown = ticket_body("HD-3");
        unknown["colour"] = "blue";
        check_error(post_json(alice, "/api/v1/tickets", unknown), 400, "invalid");
        json not_string = ticket_body("HD-3");
        not_string["client_id"] = json::array();
        check_error(post_json(alice, "/api/v1/tickets", not_string), 400, "invalid");
        check_error(alice.Post("/api/v1/tickets", "{\"ref\": ", "application/json"), 400,
                    "invalid");
        check_error(alice.Post("/api/v1/tickets", "[1,2]", "application/json"), 400, "invalid");
        check_error(
            alice.Post("/api/v1/tickets?x=1", ticket_body("HD-3").dump(), "application/json"), 400,
            "invalid");
        CHECK(alice.Get("/api/v1/tickets/HD-3")->status == 404);
    }
    SUBCASE("an account without the agent role is 403 forbidden") {
        auto olga = s.client(d.tokens.at("olga"));
        check_error(post_json(olga, "/api/v1/tickets", ticket_body("HD-4")), 403, "forbidden");
        CHECK(alice.Get("/api/v1/tickets/HD-4")->status == 404);
    }
    CHECK(s.stop() == 0);
}

TEST_CASE(
    "serve: the on-behalf path over HTTP, R6 across two accounts, refusals with rule and state") {
    Desk d;
    Server s(d);
    open_on_behalf(s, d, "HD-7");
    auto alice = s.client(d.tokens.at("alice"));
    auto bob = s.client(d.tokens.at("bob"));
    auto dave = s.client(d.tokens.at("dave"));

    auto r = event(alice, "HD-7", {{"event", "check-passed"}, {"check", "client_of_record"}});
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->get_header_value("ETag") == "\"3\"");
    CHECK(
        event(alice, "HD-7", {{"event", "check-passed"}, {"check", "number_ownership"}})->status ==
        200);
    // bob records the third check, so R6 keeps him from approving.
    CHECK(event(bob, "HD-7", {{"event", "check-passed"}, {"check", "lost_access"}})->status == 200);

    SUBCASE("approve by an account without the approver role: 403") {
        check_error(event(alice, "HD-7", {{"event", "approve"}}), 403, "forbidden");
    }
    SUBCASE("approve by an approver who recorded a check: 409 refused by R6") {
        auto refused = event(bob, "HD-7", {{"event", "approve"}});
        check_error(refused, 409, "refused");
        const json j = body_of(refused);
        CHECK(j["rule"] == "R6");
        CHECK(j["state"] == "identity_check");
        CHECK(body_of(alice.Get("/api/v1/tickets/HD-7"))["version"] == 5);  // nothing written
    }
    SUBCASE("a second approver approves; R4 wants a reference; confirm completes") {
        r = event(dave, "HD-7", {{"event", "approve"}});
        REQUIRE(r);
        CHECK_MESSAGE(r->status == 200, describe(r));
        CHECK(body_of(r)["state"] == "approved");
        auto no_ref = event(alice, "HD-7", {{"event", "submit-disable"}});
        check_error(no_ref, 409, "refused");
        CHECK(body_of(no_ref)["rule"] == "R4");
        CHECK(
            event(alice, "HD-7", {{"event", "submit-disable"}, {"reference", "WA-123"}})->status ==
            200);
        r = event(alice, "HD-7", {{"event", "confirm-disabled"}, {"note", "done"}});
        REQUIRE(r);
        CHECK(body_of(r)["state"] == "completed");
        CHECK(body_of(r)["next_events"] == json::array());
        auto closed = event(alice, "HD-7", {{"event", "cancel"}, {"note", "late"}});
        check_error(closed, 409, "refused");
        CHECK(body_of(closed)["rule"] == "R8");
        CHECK(body_of(closed)["state"] == "completed");
        auto h = d.cli({"history", "HD-7", "--json"});
        REQUIRE(h.code == 0);
        const json hist = json::parse(h.out);
        REQUIRE(hist.size() == 8);
        CHECK(hist[5]["agent"] == "dave");
        CHECK(hist[5]["event"] == "approve");
    }
    SUBCASE("input errors are 400 before the workflow is asked") {
        check_error(event(alice, "HD-7", {{"event", "no-such-event"}}), 400, "invalid");
        check_error(event(alice, "HD-7", {{"event", "check-passed"}}), 400, "invalid");
        check_error(event(alice, "HD-7", {{"event", "check-passed"}, {"check", "shoe_size"}}), 400,
                    "invalid");
        check_error(event(alice, "HD-7", {{"event", "triage"}, {"reference", "X"}}), 400,
                    "invalid");
        check_error(event(alice, "HD-7", {{"event", "approve"}, {"agent", "dave"}}), 400,
                    "invalid");
        check_error(event(alice, "HD-7", {{"check", "lost_access"}}), 400, "invalid");
        check_error(
            event(alice, "HD-7", {{"event", "cancel"}, {"note", "x"}, {"expect_version", 5}}), 400,
            "invalid");
        check_error(event(alice, "HD-7", {{"event", 7}}), 400, "invalid");
        check_field_error(
            event(alice, "HD-7", {{"event", "check-passed"}}), "check",
            "check: check-passed needs check client_of_record|number_ownership|lost_access");
        check_field_error(event(alice, "HD-7", {{"event", "triage"}, {"reference", "X"}}),
                          "reference", "reference: not used by triage (only by submit-disable)");
        check_field_error(event(alice, "HD-7", {{"event", "cancel"}}), "note",
                          "note: cancel needs a note saying why");
        check_field_error(alice.Get("/api/v1/tickets?q=%20"), "q", "q: must not be empty");
        check_field_error(alice.Get("/api/v1/access-log?since=yesterday"), "since",
                          "since: must be an ISO 8601 UTC time like 2026-11-20T09:15:00Z");
    }
    SUBCASE("an unknown ticket is 404") {
        check_error(event(alice, "HD-404", {{"event", "triage"}}), 404, "not_found");
    }
    CHECK(s.stop() == 0);
}

TEST_CASE("serve: If-Match - the ETag's version passes, another is 412 stale and writes nothing") {
    Desk d;
    Server s(d);
    auto alice = s.client(d.tokens.at("alice"));
    REQUIRE(post_json(alice, "/api/v1/tickets", ticket_body("HD-9"))->status == 201);
    auto got = alice.Get("/api/v1/tickets/HD-9");
    REQUIRE(got);
    CHECK(got->get_header_value("ETag") == "\"1\"");

    auto stale = event(alice, "HD-9", {{"event", "triage"}}, if_match(7));
    check_error(stale, 412, "stale");
    CHECK(alice.Get("/api/v1/tickets/HD-9")->get_header_value("ETag") == "\"1\"");

    auto ok = event(alice, "HD-9", {{"event", "triage"}}, if_match(1));
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->get_header_value("ETag") == "\"2\"");
    check_error(event(alice, "HD-9", {{"event", "cancel"}, {"note", "x"}}, if_match(1)), 412,
                "stale");
    CHECK(event(alice, "HD-9", {{"event", "cancel"}, {"note", "x"}}, {{"If-Match", "*"}})->status ==
          200);
    check_error(event(alice, "HD-9", {{"event", "cancel"}, {"note", "x"}}, {{"If-Match", "3"}}),
                400, "invalid");
    check_error(
        event(alice, "HD-9", {{"event", "cancel"}, {"note", "x"}}, {{"If-Match", "W/\"3\""}}), 400,
        "invalid");
    SUBCASE("a role refusal comes before the version check") {
        auto olga = s.client(d.tokens.at("olga"));
        check_error(event(olga, "HD-9", {{"event", "cancel"}, {"note", "x"}}, if_match(1)), 403,
                    "forbidden");
    }
    CHECK(s.stop() == 0);
}

TEST_CASE("serve: reads - list, show, history, replay, stats, verify, diagram, reply") {
    Desk d;
    Server s(d);
    open_on_behalf(s, d, "HD-20");
    auto alice = s.client(d.tokens.at("alice"));
    REQUIRE(post_json(alice, "/api/v1/tickets", ticket_body("HD-21"))->status == 201);
    auto audrey = s.client(d.tokens.at("audrey"));  // an auditor reads like everyone

    auto list = audrey.Get("/api/v1/tickets");
    REQUIRE(list);
    CHECK(list->status == 200);
    json all = body_of(list);
    REQUIRE(all.is_array());
    CHECK(all.size() == 2);
    auto cli_list = d.cli({"list", "--json"});
    REQUIRE(cli_list.code == 0);
    CHECK(all == json::parse(cli_list.out));  // the same objects as list --json
    json some = body_of(audrey.Get("/api/v1/tickets?state=identity_check"));
    REQUIRE(some.size() == 1);
    CHECK(some[0]["ref"] == "HD-20");
    CHECK(body_of(audrey.Get("/api/v1/tickets?state=completed")) == json::array());
    check_error(audrey.Get("/api/v1/tickets?state=nowhere"), 400, "invalid");
    check_error(audrey.Get("/api/v1/tickets?sate=received"), 400, "invalid");

    auto show = audrey.Get("/api/v1/tickets/HD-20");
    REQUIRE(show);
    json shown = body_of(show);
    CHECK(shown.at("allowed").is_array());  // SPEC §14: the API's ticket object alone has `allowed`
    shown.erase("allowed");
    CHECK(shown == json::parse(d.cli({"show", "HD-20", "--json"}).out));
    check_error(audrey.Get("/api/v1/tickets/HD-999"), 404, "not_found");

    auto hist = audrey.Get("/api/v1/tickets/HD-20/history");
    REQUIRE(hist);
    CHECK(hist->status == 200);
    CHECK(body_of(hist) == json::parse(d.cli({"history", "HD-20", "--json"}).out));
    check_error(audrey.Get("/api/v1/tickets/HD-999/history"), 404, "not_found");

    auto replay = audrey.Get("/api/v1/tickets/HD-20/replay");
    REQUIRE(replay);
    CHECK(body_of(replay)["state"] == "identity_check");
    auto before = audrey.Get("/api/v1/tickets/HD-20/replay?as_of=2000-01-01T00:00:00Z");
    check_error(before, 404, "not_found");
    check_error(audrey.Get("/api/v1/tickets/HD-20/replay?as_of=yesterday"), 400, "invalid");

    auto stats = audrey.Get("/api/v1/stats");
    REQUIRE(stats);
    CHECK(stats->status == 200);
    CHECK(body_of(stats)["tickets"] == 2);
    CHECK(body_of(stats)["per_state"]["identity_check"] == 1);
    CHECK(body_of(audrey.Get("/api/v1/stats?since=2999-01-01T00:00:00Z"))["tickets"] == 0);
    check_error(audrey.Get("/api/v1/stats?since=soon"), 400, "invalid");

    auto verify = audrey.Get("/api/v1/verify");
    REQUIRE(verify);
    const json v = body_of(verify);
    CHECK(v["ok"] == true);
    CHECK(v["tickets"] == 2);
    CHECK(v["problems"] == json::array());
    const std::string head = v["head"];
    CHECK(contains(d.cli({"verify"}).out, "head " + head));

    auto svg = audrey.Get("/api/v1/diagram?format=svg&ticket=HD-20");
    REQUIRE(svg);
    CHECK(svg->status == 200);
    CHECK(svg->get_header_value("Content-Type") == "image/svg+xml");
    CHECK(contains(svg->body, "<svg"));
    CHECK(contains(svg->body, "HD&#45;20"));
    auto dot = audrey.Get("/api/v1/diagram?format=dot&ticket=HD-20");
    REQUIRE(dot);
    CHECK(dot->body == d.cli({"diagram", "--format", "dot", "--ticket", "HD-20"}).out);
    CHECK(audrey.Get("/api/v1/diagram?format=mermaid")->body ==
          d.cli({"diagram", "--format", "mermaid"}).out);
    check_error(audrey.Get("/api/v1/diagram?format=png"), 400, "invalid");
    check_error(audrey.Get("/api/v1/diagram?format=svg&ticket=HD-999"), 404, "not_found");

    auto reply = alice.Get("/api/v1/tickets/HD-20/reply");
    REQUIRE(reply);
#if TFADESK_HAVE_REPLIES
    CHECK(reply->status == 200);
    CHECK(body_of(reply)["ref"] == "HD-20");
    CHECK(body_of(reply)["state"] == "identity_check");
    check_error(audrey.Get("/api/v1/tickets/HD-20/reply"), 403, "forbidden");
#else
    check_error(reply, 501, "not_implemented");
#endif
    CHECK(s.stop() == 0);
}

TEST_CASE("serve: export is for auditors; checkpoint is 404 without seals") {
    Desk d;
    Server s(d);
    open_on_behalf(s, d, "HD-30");
    auto audrey = s.client(d.tokens.at("audrey"));
    auto r = audrey.Get("/api/v1/export");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body == d.cli({"export", "--format", "jsonl"}).out);
    auto csv = audrey.Get("/api/v1/export?format=csv");
    REQUIRE(csv);
    CHECK(csv->status == 200);
    CHECK(csv->body == d.cli({"export", "--format", "csv"}).out);
    check_error(audrey.Get("/api/v1/export?format=xml"), 400, "invalid");
    auto alice = s.client(d.tokens.at("alice"));
    check_error(alice.Get("/api/v1/export"), 403, "forbidden");
    check_error(audrey.Get("/api/v1/checkpoint"), 404, "not_found");
    CHECK(s.stop() == 0);
}

TEST_CASE("serve: --key seals what the server commits; checkpoint answers the newest seal") {
    Desk d;
    const std::string key = d.dir / "desk.key";
    const Result gen = d.cli({"key", "generate", "--name", "serve-test", "--out", key});
    REQUIRE_MESSAGE(gen.code == 0, gen.describe());
    Server s(d, {"--key", key});
    open_on_behalf(s, d, "HD-31");
    auto audrey = s.client(d.tokens.at("audrey"));
    auto r = audrey.Get("/api/v1/checkpoint");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(contains(r->get_header_value("Content-Type"), "text/plain"));
    CHECK(r->body.rfind("tfadesk-chain/serve-test\n", 0) == 0);
    CHECK(s.stop() == 0);
    const std::string vkey = gen.out.substr(0, gen.out.find('\n'));
    const Result v = d.cli({"verify", "--verifier-key", vkey});
    CHECK_MESSAGE(v.code == 0, v.describe());
}

TEST_CASE("serve: import - CSV and JSON Lines bodies, counts and errors, dry run, roles, limits") {
    Desk d;
    Server s(d, {"--max-import-mib", "1"});
    auto olga = s.client(d.tokens.at("olga"));
    const std::string csv =
        "ref,phone,client_id,requester_email,requester_role,portfolio_access\n"
        "IM-1,+4915123456789,acme,a@acme.example,client,no\n"
        "IM-2,12,acme,a@acme.example,client,no\n"
        "IM-3,+4915123456780,acme,b@acme.example,partner,unknown\n";
    SUBCASE("a dry run counts and writes nothing") {
        auto r = olga.Post("/api/v1/import?dry_run=true", csv, "text/csv");
        REQUIRE(r);
        CHECK_MESSAGE(r->status == 200, describe(r));
        CHECK(body_of(r)["imported"] == 2);
        CHECK(body_of(r)["rejected"] == 1);
        CHECK(d.cli({"list", "--json"}).out == "[]\n");
    }
    SUBCASE(
        "CSV with triage: rows imported, the bad one reported at its line, duplicates counted") {
        auto r = olga.Post("/api/v1/import?triage=true", csv, "text/csv");
        REQUIRE(r);
        CHECK_MESSAGE(r->status == 200, describe(r));
        const json j = body_of(r);
        CHECK(j["imported"] == 2);
        CHECK(j["duplicates"] == 0);
        CHECK(j["rejected"] == 1);
        REQUIRE(j["errors"].size() == 1);
        CHECK(j["errors"][0]["line"] == 3);
        CHECK(contains(j["errors"][0]["error"], "phone"));
        auto t = json::parse(d.cli({"show", "IM-3", "--json"}).out);
        CHECK(t["state"] == "partner_rejected");
        auto again = body_of(olga.Post("/api/v1/import", csv, "text/csv"));
        CHECK(again["imported"] == 0);
        CHECK(again["duplicates"] == 2);
        auto h = json::parse(d.cli({"history", "IM-1", "--json"}).out);
        CHECK(h[0]["agent"] == "olga");
    }
    SUBCASE("JSON Lines; strict keeps nothing when a row is bad") {
        const std::string jsonl =
            "{\"ref\":\"IJ-1\",\"phone\":\"+4915123456789\",\"client_id\":\"acme\",\"requester_"
            "email\":\"a@acme.example\",\"requester_role\":\"client\"}\n"
            "{\"ref\":\"IJ-2\",\"phone\":\"x\",\"client_id\":\"acme\",\"requester_email\":\"a@acme."
            "example\",\"requester_role\":\"client\"}\n";
        auto strict = olga.Post("/api/v1/import?strict=true", jsonl, "application/x-ndjson");
        REQUIRE(strict);
        CHECK(strict->status == 200);
        CHECK(body_of(strict)["imported"] == 0);
        CHECK(body_of(strict)["rejected"] == 1);
        CHECK(d.cli({"show", "IJ-1"}).code == 4);
        auto r = olga.Post("/api/v1/import", jsonl, "application/x-ndjson");
        REQUIRE(r);
        CHECK(body_of(r)["imported"] == 1);
        CHECK(d.cli({"show", "IJ-1"}).code == 0);
    }
    SUBCASE(
        "400 for a file that is wrong as a whole, a bad type or flag; 403 for a non-operator; 413 "
        "over the limit") {
        check_error(olga.Post("/api/v1/import", "ref,colour\nX,blue\n", "text/csv"), 400,
                    "invalid");
        check_error(olga.Post("/api/v1/import", csv, "application/json"), 400, "invalid");
        check_error(olga.Post("/api/v1/import?triage=maybe", csv, "text/csv"), 400, "invalid");
        auto alice = s.client(d.tokens.at("alice"));
        check_error(alice.Post("/api/v1/import", csv, "text/csv"), 403, "forbidden");
        std::string big = "ref,phone,client_id,requester_email,requester_role\n";
        while (big.size() <= (1u << 20)) big += "BIG-1,+4915123456789,acme,a@acme.example,client\n";
        check_error(olga.Post("/api/v1/import", big, "text/csv"), 413, "too_large");
        // Chunked, with no Content-Length for the server to judge up front.
        check_error(post_chunked(olga, "/api/v1/import", big, "text/csv"), 413, "too_large");
        CHECK(d.cli({"show", "BIG-1"}).code == 4);
    }
    CHECK(s.stop() == 0);
}

TEST_CASE("serve: sweep - operators expire what waited past the SLA") {
    Desk d;
    Server s(d);
    auto alice = s.client(d.tokens.at("alice"));
    json waiting = ticket_body("SW-1", "unknown", "unknown");
    waiting["triage"] = true;
    REQUIRE(post_json(alice, "/api/v1/tickets", waiting)->status == 201);
    auto olga = s.client(d.tokens.at("olga"));
    auto none = post_json(olga, "/api/v1/sweep", json::object());
    REQUIRE(none);
    CHECK(none->status == 200);
    CHECK(body_of(none) == json{{"expired", json::array()}});
    check_error(post_json(alice, "/api/v1/sweep", json::object()), 403, "forbidden");
    check_error(post_json(olga, "/api/v1/sweep", {{"sla_hours", -1}}), 400, "invalid");
    check_error(post_json(olga, "/api/v1/sweep", {{"agent", "olga"}}), 400, "invalid");
    check_error(post_json(olga, "/api/v1/sweep", {{"now", "tomorrow"}}), 400, "invalid");
    // SPEC §12: the SLA is judged at the time of the write, never at a later `now`.
    check_error(
        post_json(olga, "/api/v1/sweep", {{"now", "2999-01-01T00:00:00Z"}, {"sla_hours", 1}}), 400,
        "invalid");
    CHECK(json::parse(d.cli({"show", "SW-1", "--json"}).out)["state"] == "awaiting_requester");
    CHECK(s.stop() == 0);
    // The same desk served two hours later (libfaketime shifts the server's clock): a one-hour SLA
    // has run out.
    std::optional<clitest::ScopedEnv> shifted(clitest::later("+2h").env);
    Server two_hours_on(d);
    shifted.reset();
    auto olga_later = two_hours_on.client(d.tokens.at("olga"));
    auto r = post_json(olga_later, "/api/v1/sweep", {{"sla_hours", 1}});
    REQUIRE(r);
    CHECK_MESSAGE(r->status == 200, describe(r));
    CHECK(body_of(r) == json{{"expired", {"SW-1"}}});
    CHECK(json::parse(d.cli({"show", "SW-1", "--json"}).out)["state"] == "expired");
    CHECK(two_hours_on.stop() == 0);
}

TEST_CASE(
    "serve: bodies over 1 MiB are 413 (Content-Length or chunked); a GET with a body is 400") {
    Desk d;
    Server s(d);
    auto alice = s.client(d.tokens.at("alice"));
    json t = ticket_body("HD-40");
    t["note"] = std::string((1u << 20) + 10, 'x');
    check_error(post_json(alice, "/api/v1/tickets", t), 413, "too_large");
    check_error(post_chunked(alice, "/api/v1/tickets", t.dump(), "application/json"), 413,
                "too_large");
    // The server is still there and the ticket was never opened.
    auto fresh = s.client(d.tokens.at("alice"));
    check_error(fresh.Get("/api/v1/tickets/HD-40"), 404, "not_found");
    check_error(fresh.Get("/api/v1/me", {{"Content-Length", "5"}}), 400, "invalid");
    CHECK(s.stop() == 0);
}

TEST_CASE("serve: a request that fails (a desk it cannot read) is a 500 for that request only") {
    Desk d;
    Server s(d);
    auto alice = s.client(d.tokens.at("alice"));
    REQUIRE(alice.Get("/api/v1/me")->status == 200);
    // The schema version changed under the server (as a newer tfadesk would leave it): the readers
    // it keeps see it when they start their next snapshot and are not reused; a new one refuses
    // the desk.
    const std::string current = sqlite_value(d.db, "PRAGMA user_version");
    sqlite_value(d.db, "PRAGMA user_version = 99");
    check_error(alice.Get("/api/v1/me"), 500, "internal");
    sqlite_value(d.db, "PRAGMA user_version = " + current);
    auto r = alice.Get("/api/v1/me");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(s.stop() == 0);
}

TEST_CASE(
    "serve: flags - a bad --listen or --threads is exit 2; the CLI writes beside the server") {
    Desk d;
    for (const std::vector<std::string>& bad :
         {std::vector<std::string>{"serve", "--listen", "localhost"},
          {"serve", "--listen", "127.0.0.1:99999"},
          {"serve", "--threads", "0"},
          {"serve", "--tls-cert", "x.pem"}}) {
        const Result r = d.cli(bad);
        CHECK_MESSAGE(r.code == 2, r.describe());
    }
    Server s(d);
    auto alice = s.client(d.tokens.at("alice"));
    REQUIRE(post_json(alice, "/api/v1/tickets", ticket_body("CO-1"))->status == 201);
    const Result cli = d.cli({"event", "CO-1", "triage", "--agent", "carol"});
    CHECK_MESSAGE(cli.code == 0, cli.describe());
    auto r = alice.Get("/api/v1/tickets/CO-1");
    REQUIRE(r);
    CHECK(r->get_header_value("ETag") == "\"2\"");
    CHECK(event(alice, "CO-1", {{"event", "cancel"}, {"note", "dup"}}, if_match(2))->status == 200);
    CHECK(s.stop() == 0);
    CHECK(d.cli({"verify"}).code == 0);
}

TEST_CASE("serve: HTTPS with --tls-cert and --tls-key") {
    Desk d;
    const auto [cert, key] = test_certificate(d.dir);
    const Result bad =
        d.cli({"serve", "--listen", "127.0.0.1:0", "--tls-cert", key, "--tls-key", cert});
    CHECK_MESSAGE(bad.code == 2, bad.describe());
    Server s(d, {"--tls-cert", cert, "--tls-key", key});
    CHECK(s.listening_line() == "listening on https://127.0.0.1:" + std::to_string(s.port()));
    httplib::SSLClient tls("127.0.0.1", s.port());
    tls.enable_server_certificate_verification(false);
    tls.set_bearer_token_auth(d.tokens.at("bob").c_str());
    auto r = tls.Get("/api/v1/me");
    REQUIRE_MESSAGE(r, describe(r));
    CHECK(r->status == 200);
    CHECK(body_of(r)["name"] == "bob");
    auto plain = s.client(d.tokens.at("bob"));
    plain.set_read_timeout(5);
    auto p = plain.Get("/api/v1/me");
    CHECK(!(p && p->status == 200));  // plain HTTP to the TLS port gets no answer
    CHECK(s.stop() == 0);
}

namespace {

// The access log as the auditor audrey reads it (GET /api/v1/access-log?QUERY).
json access_log(const Server& s, const Desk& d, const std::string& query = "") {
    auto audrey = s.client(d.tokens.at("audrey"));
    auto r = audrey.Get(("/api/v1/access-log" + query).c_str());
    REQUIRE_MESSAGE((r && r->status == 200), describe(r));
    const json j = body_of(r);
    REQUIRE(j.is_array());
    return j;
}

// The records of `log` whose route is `route`.
json with_route(const json& log, const std::string& route) {
    json out = json::array();
    for (const auto& r : log)
        if (r["route"] == route) out.push_back(r);
    return out;
}

}  // namespace

TEST_CASE("serve: reads of personal data are on the access log - account, route, refs, client") {
    Desk d;
    Server s(d, {"--log-level", "info"});
    open_on_behalf(s, d, "HD-50");
    auto alice = s.client(d.tokens.at("alice"));
    REQUIRE(post_json(alice, "/api/v1/tickets", ticket_body("HD-51"))->status == 201);
    CHECK(access_log(s, d) == json::array());  // writes are not reads

    auto audrey = s.client(d.tokens.at("audrey"));
    REQUIRE(alice.Get("/api/v1/tickets/HD-50")->status == 200);
    REQUIRE(alice.Get("/api/v1/tickets/HD-50/history")->status == 200);
    REQUIRE(alice.Get("/api/v1/tickets/HD-50/replay")->status == 200);
    REQUIRE(alice.Get("/api/v1/tickets?state=identity_check")->status == 200);
    REQUIRE(audrey.Get("/api/v1/export")->status == 200);
    std::size_t reads = 5;
#if TFADESK_HAVE_REPLIES
    REQUIRE(alice.Get("/api/v1/tickets/HD-51/reply")->status == 200);
    ++reads;
#endif
    // Reads that return no ticket's fields are not: an empty list, an unknown ticket, the rest.
    REQUIRE(alice.Get("/api/v1/tickets?state=completed")->status == 200);
    REQUIRE(alice.Get("/api/v1/tickets/HD-999")->status == 404);
    REQUIRE(alice.Get("/api/v1/stats")->status == 200);
    REQUIRE(alice.Get("/api/v1/verify")->status == 200);
    REQUIRE(alice.Get("/api/v1/diagram?ticket=HD-50")->status == 200);

    const json log = access_log(s, d);
    REQUIRE_MESSAGE(log.size() == reads, log.dump(1));
    for (std::size_t i = 1; i < log.size(); ++i)
        CHECK(log[i - 1]["at"] <= log[i]["at"]);  // time order
    auto one = [&](const std::string& route) {
        const json rs = with_route(log, route);
        REQUIRE_MESSAGE(rs.size() == 1, route << " in " << log.dump(1));
        const json r = rs[0];
        CHECK(r["client"] == "127.0.0.1");
        CHECK(clitest::parse_utc_ms(r["at"].get<std::string>()));
        CHECK(r["at"].get<std::string>().size() == 24);  // the log's form, with milliseconds
        return r;
    };
    for (const char* route : {"GET /api/v1/tickets/HD-50", "GET /api/v1/tickets/HD-50/history",
                              "GET /api/v1/tickets/HD-50/replay"}) {
        CAPTURE(route);
        const json r = one(route);
        CHECK(r["account"] == "alice");
        CHECK(r["refs"] == json{"HD-50"});
        CHECK(r["ref_count"] == 1);
    }
    const json list = one("GET /api/v1/tickets");
    CHECK(list["account"] == "alice");
    CHECK(list["refs"] == json{"HD-50"});
    const json exported = one("GET /api/v1/export");
    CHECK(exported["account"] == "audrey");
    CHECK(exported["refs"] == json{"HD-50", "HD-51"});
    CHECK(exported["ref_count"] == 2);
#if TFADESK_HAVE_REPLIES
    CHECK(one("GET /api/v1/tickets/HD-51/reply")["account"] == "alice");
#endif

    SUBCASE("filters: ref, agent, since; bad ones are 400") {
        const json hd51 = access_log(s, d, "?ref=HD-51");
        CHECK(hd51.size() == reads - 4);  // the export (and the reply)
        CHECK(with_route(hd51, "GET /api/v1/export").size() == 1);
        CHECK(access_log(s, d, "?agent=audrey") == json::array({exported}));
        CHECK(access_log(s, d, "?ref=HD-50&agent=alice").size() == 4);
        CHECK(access_log(s, d, "?since=" + list["at"].get<std::string>()).size() >= 2);
        CHECK(access_log(s, d, "?since=2999-01-01T00:00:00Z") == json::array());
        auto audrey2 = s.client(d.tokens.at("audrey"));
        check_error(audrey2.Get("/api/v1/access-log?since=yesterday"), 400, "invalid");
        check_error(audrey2.Get("/api/v1/access-log?agent=not%20a%20name!"), 400, "invalid");
        check_error(audrey2.Get("/api/v1/access-log?account=alice"), 400, "invalid");
    }
    SUBCASE("only auditors read it; reading it is not itself on it; the CLI reads the same") {
        for (const char* who : {"alice", "bob", "olga", "boss"}) {
            CAPTURE(who);
            check_error(s.client(d.tokens.at(who)).Get("/api/v1/access-log"), 403, "forbidden");
        }
        check_error(s.client().Get("/api/v1/access-log"), 401, "unauthorized");
        CHECK(access_log(s, d) == log);
        const Result cli = d.cli({"access-log", "--json"});
        REQUIRE_MESSAGE(cli.code == 0, cli.describe());
        CHECK(json::parse(cli.out) == log);
    }
    SUBCASE("a failed sign-in is not a read: not on the access log, logged without the token") {
        const std::string token = "tfa_" + std::string(64, '7');
        check_error(s.client(token).Get("/api/v1/tickets/HD-50"), 401, "unauthorized");
        check_error(s.client().Get("/api/v1/tickets/HD-50/history"), 401, "unauthorized");
        CHECK(access_log(s, d) == log);
        CHECK(s.stop() == 0);
        const std::string err = s.stderr_text();
        CHECK_MESSAGE(
            contains(err,
                     "sign-in failed: GET /api/v1/tickets/HD-50 from 127.0.0.1, account unknown"),
            err);
        CHECK(contains(err, "sign-in failed: GET /api/v1/tickets/HD-50/history"));
        CHECK(contains(err, "export (jsonl) by audrey from 127.0.0.1"));
        CHECK_FALSE(contains(err, token));
        for (const auto& [name, t] : d.tokens) CHECK_FALSE(contains(err, t));
    }
    CHECK(s.stop() == 0);
}

TEST_CASE("serve: a list of more than 100 tickets keeps the first 100 refs and counts them all") {
    Desk d;
    Server s(d);
    std::string csv = "ref,phone,client_id,requester_email,requester_role,portfolio_access\n";
    for (int i = 0; i < 130; ++i) {
        char ref[16];
        std::snprintf(ref, sizeof ref, "L-%03d", i);
        csv += std::string(ref) + ",+4915123456789,acme,a@acme.example,client,no\n";
    }
    auto olga = s.client(d.tokens.at("olga"));
    REQUIRE(body_of(olga.Post("/api/v1/import", csv, "text/csv"))["imported"] == 130);
    auto carol = s.client(d.tokens.at("carol"));
    // SPEC §14: pages of 50 by default; one page of up to 500 here.
    REQUIRE(body_of(carol.Get("/api/v1/tickets?limit=500")).size() == 130);
    const json log = access_log(s, d);
    REQUIRE(log.size() == 1);
    CHECK(log[0]["account"] == "carol");
    CHECK(log[0]["ref_count"] == 130);
    REQUIRE(log[0]["refs"].size() == 100);
    CHECK(log[0]["refs"][0] == "L-000");
    CHECK(log[0]["refs"][99] == "L-099");
    CHECK(access_log(s, d, "?ref=L-099").size() == 1);
    CHECK(access_log(s, d, "?ref=L-100") == json::array());  // beyond the kept refs
    CHECK(s.stop() == 0);
}

TEST_CASE(
    "serve: a read that was answered is on record even when the server is killed right after") {
    Desk d;
    Server s(d);
    open_on_behalf(s, d, "HD-60");
    auto alice = s.client(d.tokens.at("alice"));
    REQUIRE(alice.Get("/api/v1/tickets/HD-60")->status == 200);
    CHECK(s.stop(std::chrono::seconds(20), SIGKILL) == 128 + SIGKILL);
    const Result r = d.cli({"access-log", "--ref", "HD-60", "--agent", "alice"});
    REQUIRE_MESSAGE(r.code == 0, r.describe());
    REQUIRE(r.out_lines().size() == 1);
    CHECK(contains(r.out, "\tGET /api/v1/tickets/HD-60\t1\tHD-60\t127.0.0.1"));
    CHECK(d.cli({"verify"}).code == 0);
}
