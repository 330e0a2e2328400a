// The helpdesk connector of SPEC §17 through a real `tfadesk serve --connectors` and a fake
// helpdesk (fake_helpdesk.py, started by the test on 127.0.0.1) that records what the outbox
// sends. Intake: forged, missing, stale, replayed and malformed deliveries, a row failing §2 (422,
// nothing stored), open (triaged) and update as the connector's account, verify after. Outbox: a
// helpdesk that times out, answers 429 with Retry-After, 503, then 200; dead letters and --retry;
// a restart with deliveries pending; a desk migrated from before the connector.
//
// The store is SQLite, or PostgreSQL when CONNECTOR_STORE=postgres (then $TFADESK_TEST_PG must
// name a server: scripts/pg-test-cluster; without it the test fails).
#include <doctest/doctest.h>
#include <libpq-fe.h>
#include <nettle/hmac.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <thread>

#include "serve_process.hpp"

namespace {

using clitest::Result;
using nlohmann::json;
using servetest::Server;

// --- signing, as a helpdesk does it (Nettle's HMAC, libsodium's base64)
// ----------------------------

std::string hmac_b64(const std::string& key, const std::string& message) {
    hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, key.size(), reinterpret_cast<const std::uint8_t*>(key.data()));
    hmac_sha256_update(&ctx, message.size(), reinterpret_cast<const std::uint8_t*>(message.data()));
    std::uint8_t mac[SHA256_DIGEST_SIZE];
    hmac_sha256_digest(&ctx, sizeof mac, mac);
    char out[sodium_base64_ENCODED_LEN(SHA256_DIGEST_SIZE, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(out, sizeof out, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

// The standard source's secret, as a helpdesk shows it, and the key it stands for.
const std::string kStandardKey = "connector-test-key-0123456789abcdef";
std::string standard_secret() {
    char out[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(out, sizeof out, reinterpret_cast<const unsigned char*>(kStandardKey.data()),
                      kStandardKey.size(), sodium_base64_VARIANT_ORIGINAL);
    return std::string("whsec_") + out;
}
const std::string kZendeskSecret = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3RpbmdfcHVycG9zZXNfb25seQ==";

long long now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string iso(long long seconds) {
    char buf[32];
    const std::time_t t = seconds;
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

// A webhook body as the helpdesk sends it; the mapping file points into it.
json ticket_hook(const std::string& ref, const std::string& role = "client",
                 const std::string& access = "unknown") {
    return {{"ticket",
             {{"id", ref},
              {"phone", "+49 151 2345 6789"},
              {"client", "acme-gmbh"},
              {"email", "ops@acme.example"},
              {"role", role},
              {"access", access}}}};
}

// --- the desk, on either store
// ---------------------------------------------------------------------

bool on_postgres() {
    const char* s = std::getenv("CONNECTOR_STORE");
    return s && std::string(s) == "postgres";
}

std::string with_database(const std::string& uri, const std::string& db) {
    const auto start = uri.find("://") + 3;
    const auto path = uri.find_first_of("/?", start);
    if (path == std::string::npos) return uri + "/" + db;
    const auto query = uri.find('?', start);
    if (uri[path] == '?') return uri.substr(0, path) + "/" + db + uri.substr(path);
    return uri.substr(0, path) + "/" + db + (query == std::string::npos ? "" : uri.substr(query));
}

// Runs `sql` on the PostgreSQL database `uri`; the error, or "".
std::string pg_exec(const std::string& uri, const std::string& sql) {
    PGconn* c = PQconnectdb(uri.c_str());
    std::string err;
    if (PQstatus(c) != CONNECTION_OK) {
        err = PQerrorMessage(c);
    } else {
        PGresult* r = PQexec(c, sql.c_str());
        const auto st = PQresultStatus(r);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) err = PQresultErrorMessage(r);
        PQclear(r);
    }
    PQfinish(c);
    return err;
}

struct Desk {
    clitest::TempDir dir;
    std::string db;
    std::string pg_admin, pg_name;

    // admin `boss`, agents `alice` and the two connectors' accounts, operator `olga`.
    Desk() {
        if (on_postgres()) {
            const char* admin = std::getenv("TFADESK_TEST_PG");
            if (!admin || !*admin)
                throw std::runtime_error(
                    "CONNECTOR_STORE=postgres needs TFADESK_TEST_PG (scripts/pg-test-cluster)");
            static std::atomic<int> n{0};
            pg_admin = admin;
            pg_name = "tfadesk_conn" + std::to_string(getpid()) + "_" + std::to_string(++n);
            if (auto err = pg_exec(pg_admin, "CREATE DATABASE " + pg_name); !err.empty())
                throw std::runtime_error("CREATE DATABASE: " + err);
            db = with_database(pg_admin, pg_name);
        } else {
            db = dir / "desk.db";
        }
        must(cli({"agent", "add", "boss", "--role", "admin", "--agent", "setup"}));
        for (const auto& [name, role] :
             std::vector<std::pair<std::string, std::string>>{{"alice", "agent"},
                                                              {"zd-bot", "agent"},
                                                              {"std-bot", "agent"},
                                                              {"olga", "operator"}})
            must(cli({"agent", "add", name, "--role", role, "--agent", "boss"}));
        write(dir / "zd.secret", kZendeskSecret + "\n");
        write(dir / "std.secret", standard_secret() + "\n");
    }
    ~Desk() {
        if (!pg_name.empty())
            pg_exec(pg_admin, "DROP DATABASE IF EXISTS " + pg_name + " WITH (FORCE)");
    }
    Result cli(const std::vector<std::string>& args, const clitest::RunOptions& o = {}) const {
        return clitest::tfadesk(db, args, o);
    }
    static void must(const Result& r) {
        if (r.code != 0) throw std::runtime_error(r.describe());
    }
    static void write(const std::string& path, const std::string& text) {
        std::ofstream(path) << text;
    }
    std::string token(const std::string& name) const { return clitest::keychain()[db][name]; }

    // The connectors file; `outbox` is the standard source's outbox URL, when given.
    std::string connectors(const std::optional<std::string>& outbox = std::nullopt,
                           json extra = {}) const {
        const json fields = {{"ref", "/ticket/id"},
                             {"phone", "/ticket/phone"},
                             {"client_id", "/ticket/client"},
                             {"requester_email", "/ticket/email"},
                             {"requester_role", "/ticket/role"},
                             {"portfolio_access", "/ticket/access"},
                             {"note", "/ticket/note"}};
        json doc = {{"sources",
                     {{"zd",
                       {{"kind", "zendesk"},
                        {"secret_file", dir / "zd.secret"},
                        {"account", "zd-bot"},
                        {"fields", fields}}},
                      {"std",
                       {{"kind", "standard"},
                        {"secret_file", dir / "std.secret"},
                        {"account", "std-bot"},
                        {"fields", fields}}}}}};
        if (outbox) doc["sources"]["std"]["outbox"] = *outbox;
        if (!extra.is_null()) doc.merge_patch(extra);
        const std::string path = dir / "connectors.json";
        write(path, doc.dump(2));
        return path;
    }

    std::unique_ptr<Server> serve(const std::string& connectors_file,
                                  std::vector<std::string> extra = {}) const {
        extra.insert(extra.begin(), {"--connectors", connectors_file});
        return std::make_unique<Server>(db, dir / "serve.err", extra);
    }
};

// --- sending deliveries
// ------------------------------------------------------------------------------

httplib::Result send_standard(const Server& s, const std::string& id, const std::string& body,
                              long long ts = now_s(), const std::string& key = kStandardKey,
                              const std::string& source = "std") {
    const std::string t = std::to_string(ts);
    httplib::Headers h{{"webhook-id", id},
                       {"webhook-timestamp", t},
                       {"webhook-signature", "v1," + hmac_b64(key, id + "." + t + "." + body)}};
    return s.client().Post(("/intake/" + source).c_str(), h, body, "application/json");
}

httplib::Result send_zendesk(const Server& s, const std::string& id, const std::string& body,
                             long long ts = now_s(), const std::string& secret = kZendeskSecret) {
    const std::string t = iso(ts);
    httplib::Headers h{{"X-Zendesk-Webhook-Invocation-Id", id},
                       {"X-Zendesk-Webhook-Signature-Timestamp", t},
                       {"X-Zendesk-Webhook-Signature", hmac_b64(secret, t + body)}};
    return s.client().Post("/intake/zd", h, body, "application/json");
}

int status(const httplib::Result& r) { return r ? r->status : -1; }

json tickets(const Server& s, const Desk& d) {
    return servetest::body_of(s.client(d.token("alice")).Get("/api/v1/tickets"));
}

json outbox(const Desk& d, bool dead = false) {
    std::vector<std::string> args = {"outbox", "--json"};
    if (dead) args.push_back("--dead");
    const auto r = d.cli(args);
    if (r.code != 0) throw std::runtime_error(r.describe());
    return json::parse(r.out);
}

// --- the fake helpdesk
// ---------------------------------------------------------------------------------

class FakeHelpdesk {
public:
    explicit FakeHelpdesk(const std::string& secret_file) {
        tfadesk_test::Spawn spawn;
        spawn.argv = {PYTHON3_BIN, FAKE_HELPDESK, "--secret-file", secret_file};
        spawn.env = tfadesk_test::environment([](const std::string&) { return false; });
        spawn.err = tfadesk_test::Sink::inherit();
        child_ = std::make_unique<tfadesk_test::Child>(spawn);
        const std::string line = child_->read_line(std::chrono::seconds(20));
        if (line.rfind("listening on ", 0) != 0)
            throw std::runtime_error("fake helpdesk did not start: " + line);
        port_ = std::stoi(line.substr(13));
    }
    ~FakeHelpdesk() {
        child_->signal(SIGTERM);
        child_->wait();
    }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(port_) + "/hooks/tfadesk";
    }
    void script(const json& steps) const {
        httplib::Client c("127.0.0.1", port_);
        if (status(c.Post("/control", json{{"script", steps}}.dump(), "application/json")) != 200)
            throw std::runtime_error("fake helpdesk: cannot set the script");
    }
    json deliveries() const {
        httplib::Client c("127.0.0.1", port_);
        const auto r = c.Get("/control");
        if (!r) throw std::runtime_error("fake helpdesk: no answer");
        return json::parse(r->body).at("deliveries");
    }
    // Waits (at most `seconds`) until `done(deliveries)` holds; the deliveries then.
    json wait_for(const std::function<bool(const json&)>& done, int seconds = 60) const {
        json d;
        for (int i = 0; i < seconds * 10; ++i) {
            d = deliveries();
            if (done(d)) return d;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return d;
    }

private:
    std::unique_ptr<tfadesk_test::Child> child_;
    int port_ = 0;
};

std::size_t answered_200(const json& deliveries) {
    std::size_t n = 0;
    for (const auto& d : deliveries) n += d.at("answer") == "200";
    return n;
}

}  // namespace

TEST_CASE("serve --connectors refuses a bad file at start, naming the source and the key") {
    Desk d;
    SUBCASE("a required field not mapped") {
        const auto file = d.connectors(
            std::nullopt, {{"sources", {{"std", {{"fields", {{"phone", nullptr}}}}}}}});
        const auto r = d.cli({"serve", "--listen", "127.0.0.1:0", "--connectors", file});
        CHECK(r.code == 2);
        CHECK(r.err.find("source 'std'") != std::string::npos);
        CHECK(r.err.find("fields.phone") != std::string::npos);
    }
    SUBCASE("a standard secret without whsec_") {
        Desk::write(d.dir / "std.secret", "plain\n");
        const auto r = d.cli({"serve", "--listen", "127.0.0.1:0", "--connectors", d.connectors()});
        CHECK(r.code == 2);
        CHECK(r.err.find("source 'std': secret_file") != std::string::npos);
    }
    SUBCASE("an account without the agent role") {
        const auto file =
            d.connectors(std::nullopt, {{"sources", {{"zd", {{"account", "olga"}}}}}});
        const auto r = d.cli({"serve", "--listen", "127.0.0.1:0", "--connectors", file});
        CHECK(r.code == 2);
        CHECK(r.err.find("source 'zd': account") != std::string::npos);
    }
    SUBCASE("a disabled account") {
        Desk::must(d.cli({"agent", "disable", "zd-bot", "--agent", "boss"}));
        const auto r = d.cli({"serve", "--listen", "127.0.0.1:0", "--connectors", d.connectors()});
        CHECK(r.code == 2);
        CHECK(r.err.find("source 'zd': account") != std::string::npos);
    }
    SUBCASE("an unknown key") {
        const auto file = d.connectors(std::nullopt, {{"sources", {{"std", {{"secret", "x"}}}}}});
        const auto r = d.cli({"serve", "--listen", "127.0.0.1:0", "--connectors", file});
        CHECK(r.code == 2);
        CHECK(r.err.find("source 'std': unknown key 'secret'") != std::string::npos);
    }
}

TEST_CASE("intake: signatures on the raw bytes, the timestamp window, replays, the mapping, 422") {
    Desk d;
    auto s = d.serve(d.connectors());
    const std::string body = ticket_hook("HD-1").dump();

    // Refused before anything is parsed or stored.
    CHECK(status(send_standard(*s, "msg-1", body, now_s(), "another key")) == 401);
    CHECK(status(s->client().Post("/intake/std", body, "application/json")) == 401);
    CHECK(status(send_standard(*s, "msg-1", body, now_s() - 600)) == 401);
    CHECK(status(send_standard(*s, "msg-1", body, now_s() + 600)) == 401);
    CHECK(status(send_standard(*s, "msg-1", body + " ")) == 200);  // signed as sent: fine
    CHECK(tickets(*s, d).size() == 1);
    CHECK(status(send_standard(*s, "msg-x", body, now_s(), kStandardKey, "nope")) == 404);
    CHECK(status(send_standard(*s, "msg-bad", "{not json")) == 400);

    // A row that fails §2: 422 naming the field; nothing stored, and the id not spent.
    auto bad = ticket_hook("HD-2");
    bad["ticket"]["phone"] = "call me";
    auto r = send_standard(*s, "msg-2", bad.dump());
    CHECK(status(r) == 422);
    CHECK(servetest::body_of(r).value("field", "") == "phone");
    bad = ticket_hook("HD-2");
    bad["ticket"]["client"] = json::object();
    r = send_standard(*s, "msg-2", bad.dump());
    CHECK(status(r) == 422);
    CHECK(servetest::body_of(r).value("field", "") == "client_id");
    CHECK(tickets(*s, d).size() == 1);
    CHECK(d.cli({"show", "HD-2"}).code == 4);

    // Opened and triaged as the connector's account, recorded as coming through it.
    r = send_standard(*s, "msg-3", ticket_hook("HD-3").dump());
    REQUIRE(status(r) == 200);
    CHECK(servetest::body_of(r).at("state") == "awaiting_requester");
    const json history = json::parse(d.cli({"history", "HD-3", "--json"}).out);
    REQUIRE(history.size() == 2);
    CHECK(history[0].at("agent") == "std-bot");
    CHECK(history[0].at("details").at("via") == "intake:std");
    CHECK(history[1].at("event") == "triage");
    CHECK(history[1].at("details").at("via") == "intake:std");

    // A repeat is answered and applied once.
    r = send_standard(*s, "msg-3", ticket_hook("HD-3").dump());
    CHECK(status(r) == 200);
    CHECK(servetest::body_of(r).value("duplicate", false) == true);
    CHECK(json::parse(d.cli({"show", "HD-3", "--json"}).out).at("version") == 2);

    // The requester answered: update with what the delivery carries.
    r = send_standard(*s, "msg-4", ticket_hook("HD-3", "client", "yes").dump());
    CHECK(status(r) == 200);
    const json shown = json::parse(d.cli({"show", "HD-3", "--json"}).out);
    CHECK(shown.at("version") == 3);
    CHECK(shown.at("portfolio_access") == "yes");
    CHECK(shown.at("state") == "awaiting_requester");

    // Zendesk: timestamp ‖ body.
    const std::string zbody = ticket_hook("ZD-1", "client", "no").dump();
    CHECK(status(send_zendesk(*s, "inv-1", zbody, now_s(), "wrong secret")) == 401);
    CHECK(status(send_zendesk(*s, "inv-1", zbody, now_s() - 400)) == 401);
    r = send_zendesk(*s, "inv-1", zbody);
    CHECK(status(r) == 200);
    CHECK(servetest::body_of(r).value("state", "") == "identity_check");
    CHECK(servetest::body_of(send_zendesk(*s, "inv-1", zbody)).value("duplicate", false) == true);
    CHECK(json::parse(d.cli({"show", "ZD-1", "--json"}).out).at("version") == 2);

    // A ticket past received/awaiting_requester is not updated by a delivery.
    r = send_zendesk(*s, "inv-2", ticket_hook("ZD-1", "client", "yes").dump());
    CHECK(status(r) == 409);
    CHECK(json::parse(d.cli({"show", "ZD-1", "--json"}).out).at("version") == 2);

    // The connector's account disabled meanwhile: refused, nothing stored.
    Desk::must(d.cli({"agent", "disable", "std-bot", "--agent", "boss"}));
    CHECK(status(send_standard(*s, "msg-5", ticket_hook("HD-5").dump())) == 403);
    CHECK(d.cli({"show", "HD-5"}).code == 4);

    CHECK(s->stop() == 0);
    const auto v = d.cli({"verify"});
    CHECK_MESSAGE(v.code == 0, v.describe());
}

TEST_CASE(
    "outbox: time-out, 429 with Retry-After, 503, then 200; signed; dead letters and --retry") {
    Desk d;
    FakeHelpdesk helpdesk(d.dir / "std.secret");
    helpdesk.script({"timeout:12", "429:1", "503", "200"});
    auto s = d.serve(d.connectors(helpdesk.url()), {"--outbox-backoff-ms", "300"});

    REQUIRE(status(send_standard(*s, "out-1", ticket_hook("HD-10").dump())) == 200);
    // A ticket not opened by the connector sends nothing.
    REQUIRE(status(s->client(d.token("alice"))
                       .Post("/api/v1/tickets", servetest::ticket_body("API-1").dump(),
                             "application/json")) == 201);
    const json got = helpdesk.wait_for([](const json& all) { return answered_200(all) >= 1; }, 90);
    REQUIRE(got.size() == 4);
    CHECK(got[0].at("answer") == "timeout:12");
    CHECK(got[1].at("answer") == "429:1");
    CHECK(got[2].at("answer") == "503");
    CHECK(got[3].at("answer") == "200");
    CHECK(got[2].at("at").get<double>() - got[1].at("at").get<double>() >= 0.95);  // Retry-After: 1
    const std::string id = got[0].at("headers").at("webhook-id");
    CHECK(id.size() == 64);
    for (const auto& one : got) {
        CHECK(one.at("path") == "/hooks/tfadesk");
        CHECK(one.at("signature_ok") == true);
        CHECK(one.at("headers").at("webhook-id") == id);
        CHECK(one.at("headers").at("idempotency-key") == id);
    }
    const json body = json::parse(got[3].at("body").get<std::string>());
    CHECK(body.at("ref") == "HD-10");
    CHECK(body.at("state") == "awaiting_requester");
    CHECK(body.at("event") == "triage");
    CHECK(body.at("seq") == 2);
    CHECK(!body.at("reply").at("subject").get<std::string>().empty());
    CHECK(body.at("reply").at("body").get<std::string>().find("HD-10") != std::string::npos);
    // The webhook-id is the entry's hash.
    const auto exported = d.cli({"export"});
    CHECK(exported.out.find(id) != std::string::npos);
    CHECK(outbox(d).empty());

    // Operators see the outbox over the API; agents do not.
    CHECK(status(s->client(d.token("alice")).Get("/api/v1/outbox")) == 403);
    CHECK(servetest::body_of(s->client(d.token("olga")).Get("/api/v1/outbox")) == json::array());

    // A 4xx other than 408/429 is a dead letter at once.
    helpdesk.script({"400"});
    REQUIRE(s->client(d.token("alice"))
                .Post("/api/v1/tickets/HD-10/events",
                      json{{"event", "cancel"}, {"note", "withdrawn"}}.dump(), "application/json")
                ->status == 200);
    json dead;
    for (int i = 0; i < 100 && dead.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        dead = outbox(d, true);
    }
    REQUIRE(dead.size() == 1);
    CHECK(dead[0].at("ref") == "HD-10");
    CHECK(dead[0].at("last_error") == "HTTP 400");
    CHECK(servetest::body_of(s->client(d.token("olga")).Get("/api/v1/outbox?dead=true")).size() ==
          1);
    const std::string dead_id = std::to_string(dead[0].at("id").get<long long>());

    // --retry is an operator's write: it needs the token.
    CHECK(d.cli({"outbox", "--retry", dead_id}).code == 7);
    CHECK(d.cli({"outbox", "--retry", dead_id, "--agent", "alice"}).code == 7);
    CHECK(d.cli({"outbox", "--retry", "999", "--agent", "olga"}).code == 4);
    const auto retried = d.cli({"outbox", "--retry", dead_id, "--agent", "olga"});
    CHECK_MESSAGE(retried.code == 0, retried.describe());
    const json after = helpdesk.wait_for([](const json& all) { return answered_200(all) >= 2; });
    REQUIRE(answered_200(after) == 2);
    CHECK(json::parse(after.back().at("body").get<std::string>()).at("state") == "cancelled");
    CHECK(outbox(d, true).empty());
    CHECK(outbox(d).empty());
    CHECK(after.size() == 6);  // nothing for API-1

    CHECK(s->stop() == 0);
    CHECK(d.cli({"verify"}).code == 0);
}

TEST_CASE("outbox: a restart with deliveries pending sends each once, in order per ticket") {
    Desk d;
    FakeHelpdesk helpdesk(d.dir / "std.secret");
    helpdesk.script(json(std::vector<std::string>(1000, "503")));
    auto s = d.serve(d.connectors(helpdesk.url()), {"--outbox-backoff-ms", "200"});
    REQUIRE(status(send_standard(*s, "r-1", ticket_hook("HD-20", "client", "no").dump())) == 200);
    REQUIRE(s->client(d.token("alice"))
                .Post("/api/v1/tickets/HD-20/events", json{{"event", "partner-detected"}}.dump(),
                      "application/json")
                ->status == 200);
    helpdesk.wait_for([](const json& all) { return all.size() >= 2; });
    CHECK(s->stop() == 0);
    const json pending = outbox(d);
    REQUIRE(pending.size() == 2);
    CHECK(pending[0].at("status") == "pending");
    CHECK(pending[0].at("attempts").get<int>() >= 1);
    const auto before = helpdesk.deliveries().size();
    CHECK(answered_200(helpdesk.deliveries()) == 0);

    helpdesk.script(json::array());
    s = d.serve(d.connectors(helpdesk.url()), {"--outbox-backoff-ms", "200"});
    const json got = helpdesk.wait_for([](const json& all) { return answered_200(all) >= 2; });
    REQUIRE(answered_200(got) == 2);
    std::vector<json> sent;
    for (std::size_t i = before; i < got.size(); ++i)
        sent.push_back(json::parse(got[i].at("body").get<std::string>()));
    REQUIRE(sent.size() == 2);
    CHECK(sent[0].at("state") == "identity_check");
    CHECK(sent[0].at("seq") == 2);
    CHECK(sent[1].at("state") == "partner_rejected");
    CHECK(sent[1].at("seq") == 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    CHECK(helpdesk.deliveries().size() == got.size());  // nothing sent twice
    CHECK(outbox(d).empty());
    CHECK(s->stop() == 0);
    CHECK(d.cli({"verify"}).code == 0);
}

TEST_CASE("a desk from before the connector is migrated on its first write, and takes deliveries") {
    Desk d;
    // Back to the schema before the connector's tables: SQLite 5, PostgreSQL 3.
    const std::string drop =
        "DROP TABLE outbox; DROP TABLE outbox_links; DROP TABLE intake_deliveries;";
    if (on_postgres()) {
        REQUIRE(pg_exec(d.db, drop + "UPDATE tfadesk_meta SET schema_version = 3;") == "");
    } else {
        const auto r = clitest::run({SQLITE3_BIN, d.db, drop + "PRAGMA user_version = 5;"});
        REQUIRE_MESSAGE(r.code == 0, r.describe());
    }
    CHECK(d.cli({"outbox", "--json"}).out == "[]\n");
    auto s = d.serve(d.connectors());
    CHECK(status(send_standard(*s, "m-1", ticket_hook("OLD-1").dump())) == 200);
    CHECK(servetest::body_of(send_standard(*s, "m-1", ticket_hook("OLD-1").dump()))
              .value("duplicate", false));
    CHECK(s->stop() == 0);
    CHECK(d.cli({"verify"}).code == 0);
}

TEST_CASE("outbox: two servers on one desk send each delivery once") {
    Desk d;
    FakeHelpdesk helpdesk(d.dir / "std.secret");
    const auto file = d.connectors(helpdesk.url());
    auto a = d.serve(file, {"--outbox-backoff-ms", "200"});
    auto b = std::make_unique<Server>(
        d.db, d.dir / "serve-b.err",
        std::vector<std::string>{"--connectors", file, "--outbox-backoff-ms", "200"});
    constexpr int kTickets = 12;
    for (int i = 0; i < kTickets; ++i) {
        const auto& s = i % 2 ? *a : *b;
        REQUIRE(status(send_standard(s, "two-" + std::to_string(i),
                                     ticket_hook("TWO-" + std::to_string(i)).dump())) == 200);
    }
    helpdesk.wait_for([](const json& all) { return answered_200(all) >= kTickets; });
    std::this_thread::sleep_for(std::chrono::milliseconds(800));
    const json all = helpdesk.deliveries();
    std::set<std::string> ids;
    for (const auto& one : all) ids.insert(one.at("headers").at("webhook-id").get<std::string>());
    CHECK(all.size() == static_cast<std::size_t>(kTickets));
    CHECK(ids.size() == static_cast<std::size_t>(kTickets));
    CHECK(outbox(d).empty());
    CHECK(a->stop() == 0);
    CHECK(b->stop() == 0);
    CHECK(d.cli({"verify"}).code == 0);
}
