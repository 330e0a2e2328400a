// SPEC §14, the workspace API, through real `tfadesk serve` processes on 127.0.0.1, on SQLite and
// (with --backend postgres, TFADESK_TEST_PG) on PostgreSQL: claims and take-overs, due_at,
// allowed per role, search by each kind, keyset pages under concurrent writes, counts, the event
// stream with Last-Event-ID (and a second server on the same PostgreSQL desk), compression.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <set>
#include <thread>

#include "serve_process.hpp"

namespace {

using servetest::body_of;
using servetest::describe;
using servetest::json;

std::string g_backend = "sqlite";

// A fresh desk location for the backend: "" (a SQLite file in the desk's folder), or a new
// PostgreSQL database.
std::string fresh_location() {
    if (g_backend == "sqlite") return "";
    const char* admin = std::getenv("TFADESK_TEST_PG");
    if (!admin || !*admin)
        throw std::runtime_error(
            "--backend postgres needs TFADESK_TEST_PG (scripts/pg-test-cluster)");
    static int n = 0;
    const std::string db = "tfadesk_ws" + std::to_string(getpid()) + "_" + std::to_string(++n);
    PGconn* c = PQconnectdb(admin);
    if (PQstatus(c) != CONNECTION_OK)
        throw std::runtime_error(std::string("TFADESK_TEST_PG: ") + PQerrorMessage(c));
    PGresult* r = PQexec(c, ("CREATE DATABASE " + db).c_str());
    const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    PQclear(r);
    PQfinish(c);
    if (!ok) throw std::runtime_error("CREATE DATABASE " + db + " failed");
    std::string uri = admin;
    const auto start = uri.find("://") + 3;
    const auto path = uri.find_first_of("/?", start);
    if (path == std::string::npos) return uri + "/" + db;
    const auto query = uri.find('?', start);
    if (uri[path] == '?') return uri.substr(0, path) + "/" + db + uri.substr(path);
    return uri.substr(0, path) + "/" + db + (query == std::string::npos ? "" : uri.substr(query));
}

struct Desk : servetest::Desk {
    Desk() : servetest::Desk(fresh_location(), servetest::Desk::via_cli) {}
};

json post(const httplib::Client& cc, const std::string& path, const json& body, int expect = 200) {
    auto& c = const_cast<httplib::Client&>(cc);
    auto r = c.Post(path.c_str(), body.dump(), "application/json");
    REQUIRE_MESSAGE(r, describe(r));
    CHECK_MESSAGE(r->status == expect, path << " " << body.dump() << ": " << describe(r));
    return body_of(r);
}

json get(const httplib::Client& cc, const std::string& path, int expect = 200) {
    auto& c = const_cast<httplib::Client&>(cc);
    auto r = c.Get(path.c_str());
    REQUIRE_MESSAGE(r, describe(r));
    CHECK_MESSAGE(r->status == expect, path << ": " << describe(r));
    return body_of(r);
}

std::vector<std::string> refs(const json& list) {
    std::vector<std::string> out;
    for (const auto& t : list) out.push_back(t.at("ref").get<std::string>());
    return out;
}

json ticket(const std::string& ref, const std::string& phone, const std::string& email,
            const std::string& role = "client", const std::string& access = "no") {
    return json{{"ref", ref},
                {"phone", phone},
                {"client_id", "client-" + ref},
                {"requester_email", email},
                {"requester_role", role},
                {"portfolio_access", access},
                {"triage", true}};
}

bool contains(const json& list, const std::string& v) {
    return std::find(list.begin(), list.end(), json(v)) != list.end();
}

// Milliseconds since the epoch of a log time ("2026-12-07T01:02:03.456Z").
std::int64_t epoch_ms(const std::string& t) {
    std::tm tm{};
    REQUIRE(strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm) != nullptr);
    const auto dot = t.find('.');
    const std::int64_t ms = dot == std::string::npos ? 0 : std::stoll(t.substr(dot + 1, 3));
    return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

}  // namespace

TEST_CASE("claim, release and take-over; due_at ignores them; allowed per role") {
    Desk desk;
    servetest::Server server(desk);
    auto alice = server.client(desk.tokens.at("alice"));
    auto carol = server.client(desk.tokens.at("carol"));
    auto bob = server.client(desk.tokens.at("bob"));
    auto dave = server.client(desk.tokens.at("dave"));

    const json opened =
        post(alice, "/api/v1/tickets",
             ticket("HD-1", "+4915112345678", "a@x.example", "unknown", "unknown"), 201);
    CHECK(opened.at("state") == "awaiting_requester");
    CHECK(opened.at("assignee").is_null());
    REQUIRE(opened.at("due_at").is_string());
    const std::string due = opened.at("due_at");

    json t = post(alice, "/api/v1/tickets/HD-1/events", {{"event", "claim"}});
    CHECK(t.at("assignee") == "alice");
    CHECK(t.at("due_at") == due);  // a claim is not activity (R7)
    // Taking over needs a note; with one it is recorded as a take-over.
    post(carol, "/api/v1/tickets/HD-1/events", {{"event", "claim"}}, 400);
    t = post(carol, "/api/v1/tickets/HD-1/events", {{"event", "claim"}, {"note", "alice is away"}});
    CHECK(t.at("assignee") == "carol");
    const json history = get(carol, "/api/v1/tickets/HD-1/history");
    REQUIRE(history.size() == 4);
    CHECK(history[3].at("event") == "claim");
    CHECK(history[3].at("details").at("takes_over") == "alice");
    CHECK(history[2].at("details").is_object());
    CHECK_FALSE(history[2].at("details").contains("takes_over"));
    // The approver-only account may not claim (agent role).
    post(dave, "/api/v1/tickets/HD-1/events", {{"event", "claim"}}, 403);
    t = post(carol, "/api/v1/tickets/HD-1/events", {{"event", "release"}});
    CHECK(t.at("assignee").is_null());
    CHECK(t.at("due_at") == due);
    // A terminal ticket takes no claim (R8).
    post(alice, "/api/v1/tickets/HD-1/events", {{"event", "cancel"}, {"note", "withdrawn"}});
    const json refused = post(alice, "/api/v1/tickets/HD-1/events", {{"event", "claim"}}, 409);
    CHECK(refused.at("rule") == "R8");
    CHECK(get(alice, "/api/v1/tickets/HD-1").at("due_at").is_null());
    CHECK(desk.cli({"verify"}).code == 0);

    // allowed: roles, R6 and R5.
    post(alice, "/api/v1/tickets", ticket("HD-2", "+4915112345679", "b@x.example"), 201);
    const json as_alice = get(alice, "/api/v1/tickets/HD-2").at("allowed");
    CHECK(contains(as_alice, "check-passed"));
    CHECK(contains(as_alice, "claim"));
    CHECK_FALSE(contains(as_alice, "approve"));  // no approver role, and R5
    for (const char* check : {"client_of_record", "number_ownership", "lost_access"})
        post(alice, "/api/v1/tickets/HD-2/events", {{"event", "check-passed"}, {"check", check}});
    CHECK_FALSE(contains(get(alice, "/api/v1/tickets/HD-2").at("allowed"), "approve"));  // role
    const json as_dave = get(dave, "/api/v1/tickets/HD-2").at("allowed");
    CHECK(contains(as_dave, "approve"));
    CHECK_FALSE(contains(as_dave, "claim"));  // approver only: no agent role
    CHECK(contains(get(bob, "/api/v1/tickets/HD-2").at("allowed"), "approve"));
    // ready_for=me: approvers who recorded no check.
    CHECK(refs(get(dave, "/api/v1/tickets?ready_for=me")) == std::vector<std::string>{"HD-2"});
    CHECK(get(alice, "/api/v1/tickets?ready_for=me").empty());
    // R6: bob records a check (failing ticket HD-3 keeps HD-2 apart).
    post(alice, "/api/v1/tickets", ticket("HD-3", "+4915112345670", "c@x.example"), 201);
    post(alice, "/api/v1/tickets/HD-3/events",
         {{"event", "check-passed"}, {"check", "client_of_record"}});
    post(alice, "/api/v1/tickets/HD-3/events",
         {{"event", "check-passed"}, {"check", "lost_access"}});
    post(bob, "/api/v1/tickets/HD-3/events",
         {{"event", "check-passed"}, {"check", "number_ownership"}});
    CHECK_FALSE(contains(get(bob, "/api/v1/tickets/HD-3").at("allowed"), "approve"));
    CHECK(contains(get(dave, "/api/v1/tickets/HD-3").at("allowed"), "approve"));
    CHECK(refs(get(bob, "/api/v1/tickets?ready_for=me")) == std::vector<std::string>{"HD-2"});
    CHECK(refs(get(dave, "/api/v1/tickets?ready_for=me")) ==
          std::vector<std::string>({"HD-2", "HD-3"}));
    const json counts = get(dave, "/api/v1/counts");
    CHECK(counts.at("ready_for_me") == 2);
    CHECK(get(bob, "/api/v1/counts").at("ready_for_me") == 1);
}

TEST_CASE("serve --sla-hours moves due_at, and expire is not offered before it (SPEC §14, §16)") {
    Desk desk;
    servetest::Server server(desk, {"--sla-hours", "2.5"});
    auto alice = server.client(desk.tokens.at("alice"));
    const json t = post(alice, "/api/v1/tickets",
                        ticket("HD-1", "+4915112345678", "a@x.example", "unknown", "unknown"), 201);
    REQUIRE(t.at("state") == "awaiting_requester");
    CHECK(epoch_ms(t.at("due_at")) - epoch_ms(t.at("updated_at")) ==
          9000000);  // 2.5 h, not the default 168
    CHECK(get(alice, "/api/v1/tickets/HD-1").at("due_at") == t.at("due_at"));
    CHECK(get(alice, "/api/v1/tickets?q=HD-1")[0].at("due_at") == t.at("due_at"));
    CHECK_FALSE(contains(t.at("allowed"), "expire"));
    CHECK(get(alice, "/api/v1/tickets?overdue=true").empty());
    CHECK(get(alice, "/api/v1/counts").at("overdue") == 0);
}

TEST_CASE("search by each kind, filters, sort, Link and X-Total-Count, counts") {
    Desk desk;
    servetest::Server server(desk);
    auto alice = server.client(desk.tokens.at("alice"));
    auto carol = server.client(desk.tokens.at("carol"));
    post(alice, "/api/v1/tickets", ticket("HD-10", "+4915100000010", "Ops@Acme.Example"), 201);
    post(alice, "/api/v1/tickets",
         ticket("HD-11", "+4915100000011", "x@y.example", "unknown", "unknown"), 201);
    json w = ticket("ZZ-1", "+14155550123", "z@z.example", "unknown", "unknown");
    w["waba_id"] = "777000111";
    w["portfolio_id"] = "888000222";
    post(alice, "/api/v1/tickets", w, 201);
    post(alice, "/api/v1/tickets/HD-11/events", {{"event", "claim"}});
    post(carol, "/api/v1/tickets/ZZ-1/events", {{"event", "cancel"}, {"note", "dup"}});

    auto search = [&](const std::string& q) { return refs(get(alice, "/api/v1/tickets?q=" + q)); };
    using V = std::vector<std::string>;
    CHECK(search("HD-1") == V{"HD-10", "HD-11"});               // ref prefix
    CHECK(search("HD-10") == V{"HD-10"});                       // ref
    CHECK(search("%2B49%20151%20000-000%2010") == V{"HD-10"});  // phone, another spelling
    CHECK(search("%28415%29%20555-0123") == V{"ZZ-1"});         // last digits, spelled
    CHECK(search("0011") == V{"HD-11"});                        // last 4 digits
    CHECK(search("ops%40acme.example") == V{"HD-10"});          // email, any case
    CHECK(search("OPS%40ACME.EXAMPLE") == V{"HD-10"});
    CHECK(search("client-HD-11") == V{"HD-11"});  // client id
    CHECK(search("777000111") == V{"ZZ-1"});      // waba id
    CHECK(search("888000222") == V{"ZZ-1"});      // portfolio id
    CHECK(search("nobody%40nowhere.example").empty());
    CHECK(search("123").empty());  // under 4 digits is no phone search

    CHECK(refs(get(alice, "/api/v1/tickets?open=true")) == V{"HD-10", "HD-11"});
    CHECK(refs(get(alice, "/api/v1/tickets?state=cancelled&state=identity_check")) ==
          V{"HD-10", "ZZ-1"});
    CHECK(refs(get(alice, "/api/v1/tickets?assignee=me")) == V{"HD-11"});
    CHECK(refs(get(carol, "/api/v1/tickets?assignee=alice")) == V{"HD-11"});
    CHECK(refs(get(carol, "/api/v1/tickets?assignee=none&open=true")) == V{"HD-10"});
    CHECK(get(carol, "/api/v1/tickets?assignee=me").empty());
    CHECK(get(carol, "/api/v1/tickets?overdue=true").empty());
    CHECK(refs(get(alice, "/api/v1/tickets?sort=-ref")) == V{"ZZ-1", "HD-11", "HD-10"});
    CHECK(refs(get(alice, "/api/v1/tickets?sort=due_at")).front() == "HD-11");  // the only due_at
    CHECK(refs(get(alice, "/api/v1/tickets?sort=-updated_at")).front() == "ZZ-1");
    for (const char* bad :
         {"sort=priority", "limit=0", "limit=501", "limit=x", "state=nope", "cursor=zz",
          "assignee=%20", "ready_for=bob", "open=maybe", "q=", "color=red"})
        get(alice, std::string("/api/v1/tickets?") + bad, 400);

    auto r = alice.Get("/api/v1/tickets?limit=2");
    REQUIRE(r);
    CHECK(r->get_header_value("X-Total-Count") == "3");
    const std::string link = r->get_header_value("Link");
    CHECK(link.find("rel=\"next\"") != std::string::npos);
    const std::string next = link.substr(1, link.find('>') - 1);
    CHECK(refs(get(alice, next)) == V{"ZZ-1"});
    auto last = alice.Get(next.c_str());
    CHECK(last->get_header_value("Link").empty());
    CHECK(alice.Get("/api/v1/tickets?open=true&limit=1")->get_header_value("X-Total-Count") == "2");
    CHECK(alice.Get("/api/v1/tickets?q=HD&limit=1")->get_header_value("X-Total-Count") == "2");

    const json c = get(alice, "/api/v1/counts");
    CHECK(c.at("states").at("identity_check") == 1);
    CHECK(c.at("states").at("awaiting_requester") == 1);
    CHECK(c.at("states").at("cancelled") == 1);
    CHECK(c.at("states").at("completed") == 0);
    CHECK(c.at("open") == 2);
    CHECK(c.at("mine") == 1);
    CHECK(c.at("unassigned") == 1);
    CHECK(c.at("overdue") == 0);
    CHECK(get(carol, "/api/v1/counts").at("mine") == 0);

    // The command line.
    CHECK(desk.cli({"list", "--search", "+49 151 000 000 10"}).out.rfind("HD-10\t", 0) == 0);
    const auto open = desk.cli({"list", "--open", "--sort", "-ref", "--limit", "1", "--json"});
    CHECK(refs(json::parse(open.out)) == V{"HD-11"});
    CHECK(desk.cli({"list", "--assignee", "alice"}).out.rfind("HD-11\t", 0) == 0);
    CHECK(desk.cli({"list", "--limit", "0"}).code == 2);
}

TEST_CASE("pages never repeat or skip a ticket while others write") {
    Desk desk;
    servetest::Server server(desk);
    auto alice = server.client(desk.tokens.at("alice"));
    std::set<std::string> before;
    for (int i = 0; i < 60; ++i) {
        const std::string ref = "P-" + std::to_string(1000 + i * 2);
        post(alice, "/api/v1/tickets",
             ticket(ref, "+49151000" + std::to_string(10000 + i), "p@x.example"), 201);
        before.insert(ref);
    }
    std::atomic<bool> done{false};
    std::thread writer([&] {
        auto w = server.client(desk.tokens.at("carol"));
        for (int i = 0; i < 60 && !done; ++i) {
            // New tickets between the existing ones, and events on existing ones.
            w.Post("/api/v1/tickets",
                   ticket("P-" + std::to_string(1001 + i * 2),
                          "+49152000" + std::to_string(10000 + i), "q@x.example")
                       .dump(),
                   "application/json");
            w.Post(("/api/v1/tickets/P-" + std::to_string(1000 + i * 2) + "/events").c_str(),
                   json{{"event", "claim"}}.dump(), "application/json");
        }
    });
    std::vector<std::string> seen;
    std::string url = "/api/v1/tickets?limit=7";
    for (int page = 0; page < 100 && !url.empty(); ++page) {
        auto r = alice.Get(url.c_str());
        REQUIRE(r);
        REQUIRE(r->status == 200);
        for (const auto& ref : refs(json::parse(r->body))) seen.push_back(ref);
        const std::string link = r->get_header_value("Link");
        url = link.empty() ? "" : link.substr(1, link.find('>') - 1);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    done = true;
    writer.join();
    CHECK(url.empty());
    const std::set<std::string> unique(seen.begin(), seen.end());
    CHECK(unique.size() == seen.size());  // no repeats
    for (const auto& ref : before) CHECK_MESSAGE(unique.count(ref), ref << " skipped");
    CHECK(std::is_sorted(seen.begin(), seen.end()));
}

namespace {

// Reads a stream in a thread of its own until `stop`, collecting what arrives.
struct StreamReader {
    std::string text;
    std::mutex m;
    std::atomic<bool> stop{false};
    std::thread t;
    int status = 0;
    StreamReader(const servetest::Server& server, const std::string& token,
                 const std::string& last_id = "") {
        t = std::thread([&, token, last_id] {
            auto c = server.client(token);
            httplib::Headers h;
            if (!last_id.empty()) h.emplace("Last-Event-ID", last_id);
            auto r = c.Get(
                "/api/v1/stream", h,
                [&](const httplib::Response& res) {
                    status = res.status;
                    return true;
                },
                [&](const char* data, size_t n) {
                    std::lock_guard<std::mutex> lock(m);
                    text.append(data, n);
                    return !stop.load();
                });
        });
    }
    ~StreamReader() { finish(); }
    void finish() {
        stop = true;
        if (t.joinable()) t.join();
    }
    // Waits (at most `limit`) until `needle` has arrived.
    bool wait_for(const std::string& needle, std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until) {
            {
                std::lock_guard<std::mutex> lock(m);
                if (text.find(needle) != std::string::npos) return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return false;
    }
    std::string snapshot() {
        std::lock_guard<std::mutex> lock(m);
        return text;
    }
};

}  // namespace

TEST_CASE(
    "the stream: one entry event per log entry, resumable with Last-Event-ID, no personal data") {
    Desk desk;
    servetest::Server server(desk);
    auto alice = server.client(desk.tokens.at("alice"));
    const json first =
        post(alice, "/api/v1/tickets", ticket("S-1", "+4915199999999", "secret@x.example"), 201);
    CHECK(server.client().Get("/api/v1/stream")->status == 401);
    std::int64_t seq_of_claim = 0;
    {
        StreamReader reader(server, desk.tokens.at("carol"));
        REQUIRE(reader.wait_for("retry:", std::chrono::seconds(5)));
        const auto t0 = std::chrono::steady_clock::now();
        post(alice, "/api/v1/tickets/S-1/events", {{"event", "claim"}});
        REQUIRE_MESSAGE(reader.wait_for("\"event\":\"claim\"", std::chrono::seconds(5)),
                        reader.snapshot());
        CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
        const std::string text = reader.snapshot();
        CHECK(reader.status == 200);
        CHECK(text.find("event: entry\n") != std::string::npos);
        CHECK(text.find("secret") == std::string::npos);
        CHECK(text.find("99999") == std::string::npos);
        const auto data = text.find("data: ");
        REQUIRE(data != std::string::npos);
        const json d = json::parse(text.substr(data + 6, text.find('\n', data) - data - 6));
        for (const char* key : {"seq", "ref", "event", "state", "version", "agent", "at"})
            CHECK(d.contains(key));
        CHECK(d.size() == 7);
        CHECK(d.at("ref") == "S-1");
        CHECK(d.at("agent") == "alice");
        CHECK(d.at("version") == 3);  // open, triage, claim
        seq_of_claim = d.at("seq");
        CHECK(text.find("id: " + std::to_string(seq_of_claim) + "\n") != std::string::npos);
    }
    post(alice, "/api/v1/tickets/S-1/events", {{"event", "release"}});
    // Resumed after the claim: the release is replayed from the log, and nothing before it.
    StreamReader again(server, desk.tokens.at("carol"), std::to_string(seq_of_claim));
    REQUIRE(again.wait_for("\"event\":\"release\"", std::chrono::seconds(5)));
    const std::string text = again.snapshot();
    CHECK(text.find("\"event\":\"claim\"") == std::string::npos);
    CHECK(text.find("id: " + std::to_string(seq_of_claim + 1) + "\n") != std::string::npos);
    // Entries written by someone else (the command line) reach the stream too.
    CHECK(desk.cli({"event", "S-1", "claim", "--agent", "carol"}).code == 0);
    CHECK(again.wait_for("\"agent\":\"carol\"", std::chrono::seconds(3)));
    again.finish();
    // The server still stops promptly with a stream open.
    StreamReader open_stream(server, desk.tokens.at("carol"));
    REQUIRE(open_stream.wait_for("retry:", std::chrono::seconds(5)));
    CHECK(server.stop(std::chrono::seconds(10)) == 0);
}

TEST_CASE("a second server on the same PostgreSQL desk streams the first one's writes within 1 s") {
    if (g_backend != "postgres") return;
    Desk desk;
    servetest::Server first(desk), second(desk);
    auto alice = first.client(desk.tokens.at("alice"));
    StreamReader reader(second, desk.tokens.at("carol"));
    REQUIRE(reader.wait_for("retry:", std::chrono::seconds(5)));
    const auto t0 = std::chrono::steady_clock::now();
    post(alice, "/api/v1/tickets", ticket("PG-1", "+4915188888888", "pg@x.example"), 201);
    REQUIRE_MESSAGE(reader.wait_for("\"ref\":\"PG-1\"", std::chrono::seconds(5)),
                    reader.snapshot());
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(1000));
}

TEST_CASE("large answers are gzipped when accepted, never Brotli; small ones are not compressed") {
    Desk desk;
    servetest::Server server(desk);
    auto alice = server.client(desk.tokens.at("alice"));
    for (int i = 0; i < 200; ++i)
        post(alice, "/api/v1/tickets",
             ticket("C-" + std::to_string(100 + i), "+4915177" + std::to_string(100000 + i),
                    "c@x.example"),
             201);
    auto raw = server.client(desk.tokens.at("alice"));
    raw.set_decompress(false);
    auto big = raw.Get("/api/v1/tickets?limit=500", {{"Accept-Encoding", "br, gzip"}});
    REQUIRE(big);
    CHECK(big->get_header_value("Content-Encoding") == "gzip");
    CHECK(big->body.size() < 64 * 1024);
    auto br = raw.Get("/api/v1/tickets?limit=500", {{"Accept-Encoding", "br"}});
    CHECK(br->get_header_value("Content-Encoding").empty());
    CHECK(br->body.size() > 64 * 1024);
    auto small = raw.Get("/api/v1/counts", {{"Accept-Encoding", "gzip, br"}});
    CHECK(small->get_header_value("Content-Encoding").empty());
    // Decompressed, it is the same answer.
    CHECK(json::parse(alice.Get("/api/v1/tickets?limit=500", {{"Accept-Encoding", "gzip"}})->body)
              .size() == 200);
}

int main(int argc, char** argv) {
    doctest::Context ctx;
    std::vector<char*> rest;
    for (int i = 0; i < argc; ++i) {
        if (std::string(argv[i]) == "--backend" && i + 1 < argc) {
            g_backend = argv[++i];
            continue;
        }
        rest.push_back(argv[i]);
    }
    ctx.applyCommandLine(static_cast<int>(rest.size()), rest.data());
    return ctx.run();
}
