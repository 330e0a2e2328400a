// Accounts over HTTP (SPEC §7, §12, §13; the admins' screen of §15) through a real server: only an
// admin changes accounts (403, nothing written otherwise); a new token is in the answer once and
// works at once, the replaced one stops at once; R10 holds (no account grants itself a role);
// disabling an account ends its page sessions; the require-signatures switch refuses unsigned
// decisions from then on; every change is on the log as the admin's and verify agrees.
#include <doctest/doctest.h>

#include "serve_process.hpp"

using namespace servetest;

namespace {

httplib::Result post(httplib::Client& c, const std::string& path, const json& body) {
    return c.Post(path.c_str(), body.dump(), "application/json");
}

int status(const httplib::Result& r) { return r ? r->status : -1; }

std::size_t accounts_in(const Desk& d) {
    return json::parse(d.cli({"agent", "list", "--json"}).out).size();
}

}  // namespace

TEST_CASE("accounts API: an admin adds an account; its token is shown once and works at once") {
    Desk d;
    Server s(d);
    auto boss = s.client(d.tokens.at("boss"));
    const std::size_t before = accounts_in(d);
    const auto r =
        post(boss, "/api/v1/accounts", {{"name", "erin"}, {"roles", {"agent", "approver"}}});
    REQUIRE_MESSAGE(status(r) == 201, describe(r));
    const json erin = body_of(r);
    CHECK(erin.at("roles") == json::array({"agent", "approver"}));
    const std::string token = erin.at("token");
    CHECK(token.rfind("tfa_", 0) == 0);
    CHECK(r->get_header_value("Cache-Control").find("no-store") != std::string::npos);
    auto as_erin = s.client(token);
    const auto me = as_erin.Get("/api/v1/me");
    REQUIRE(status(me) == 200);
    CHECK(body_of(me).at("name") == "erin");
    // Listed without any token in it.
    const auto list = boss.Get("/api/v1/accounts");
    REQUIRE(status(list) == 200);
    CHECK(list->body.find(token) == std::string::npos);
    CHECK(body_of(list).size() == before + 1);
    CHECK(s.stop() == 0);
    const json h = json::parse(d.cli({"agent", "history", "erin", "--json"}).out);
    CHECK(h.at(0).at("by") == "boss");
    CHECK(d.cli({"verify"}).code == 0);
}

TEST_CASE("accounts API: only an admin changes accounts; others get 403 and nothing is written") {
    Desk d;
    Server s(d);
    for (const std::string who : {"alice", "bob", "olga", "audrey"}) {
        auto c = s.client(d.tokens.at(who));
        const std::size_t before = accounts_in(d);
        CHECK(status(post(c, "/api/v1/accounts", {{"name", "x-" + who}, {"roles", {"agent"}}})) ==
              403);
        CHECK(status(post(c, "/api/v1/accounts/carol/roles", {{"grant", "admin"}})) == 403);
        CHECK(status(post(c, "/api/v1/accounts/carol/enabled", {{"enabled", false}})) == 403);
        CHECK(status(post(c, "/api/v1/accounts/carol/token", json::object())) == 403);
        CHECK(status(post(c, "/api/v1/require-signatures", {{"on", true}})) == 403);
        CHECK(accounts_in(d) == before);
    }
    // No account grants a role to itself (R10), not even an admin.
    auto boss = s.client(d.tokens.at("boss"));
    const auto self = post(boss, "/api/v1/accounts/boss/roles", {{"grant", "approver"}});
    CHECK_MESSAGE(status(self) == 409, describe(self));
    // Malformed bodies: 400 naming the field.
    for (const auto& [path, body] : std::vector<std::pair<std::string, json>>{
             {"/api/v1/accounts", {{"name", "y"}, {"roles", "agent"}}},
             {"/api/v1/accounts", {{"name", "y"}, {"roles", {"wizard"}}}},
             {"/api/v1/accounts", {{"name", "y"}, {"roles", {"agent"}}, {"agent", "boss"}}},
             {"/api/v1/accounts/carol/roles", {{"grant", "agent"}, {"revoke", "agent"}}},
             {"/api/v1/accounts/carol/enabled", {{"enabled", "no"}}}}) {
        const auto r = post(boss, path, body);
        CHECK_MESSAGE(status(r) == 400, path, " ", body.dump(), " -> ", describe(r));
    }
    CHECK(status(post(boss, "/api/v1/accounts/nobody/enabled", {{"enabled", false}})) == 404);
    CHECK(s.stop() == 0);
}

TEST_CASE("accounts API: a new token replaces the old at once; disabling ends sessions at once") {
    Desk d;
    Server s(d);
    auto boss = s.client(d.tokens.at("boss"));
    // carol signs in to the page.
    auto page = s.client();
    const auto in = post(page, "/api/v1/session", {{"token", d.tokens.at("carol")}});
    REQUIRE(status(in) == 201);
    const std::string set_cookie = in->get_header_value("Set-Cookie");
    const httplib::Headers cookie = {{"Cookie", set_cookie.substr(0, set_cookie.find(';'))}};
    REQUIRE(status(page.Get("/api/v1/me", cookie)) == 200);
    const auto off = post(boss, "/api/v1/accounts/carol/enabled", {{"enabled", false}});
    REQUIRE_MESSAGE(status(off) == 200, describe(off));
    CHECK(body_of(off).at("enabled") == false);
    CHECK(status(page.Get("/api/v1/me", cookie)) == 401);
    CHECK(status(s.client(d.tokens.at("carol")).Get("/api/v1/me")) == 401);
    // alice's token rotated: the old one is refused, the new one works.
    const auto t = post(boss, "/api/v1/accounts/alice/token", json::object());
    REQUIRE_MESSAGE(status(t) == 200, describe(t));
    const std::string fresh = body_of(t).at("token");
    CHECK(fresh != d.tokens.at("alice"));
    CHECK(status(s.client(d.tokens.at("alice")).Get("/api/v1/me")) == 401);
    CHECK(status(s.client(fresh).Get("/api/v1/me")) == 200);
    // An admin signed in to the page changes accounts only with X-Requested-With.
    const auto boss_in = post(page, "/api/v1/session", {{"token", d.tokens.at("boss")}});
    const std::string boss_cookie = boss_in->get_header_value("Set-Cookie");
    httplib::Headers h = {{"Cookie", boss_cookie.substr(0, boss_cookie.find(';'))}};
    const std::string grant = json{{"grant", "approver"}}.dump();
    CHECK(status(page.Post("/api/v1/accounts/olga/roles", h, grant, "application/json")) == 403);
    h.emplace("X-Requested-With", "tfadesk");
    CHECK(status(page.Post("/api/v1/accounts/olga/roles", h, grant, "application/json")) == 200);
    CHECK(s.stop() == 0);
    CHECK(d.cli({"verify"}).code == 0);
}

TEST_CASE("accounts API: require-signatures from the API refuses unsigned decisions from then on") {
    Desk d;
    Server s(d);
    auto boss = s.client(d.tokens.at("boss"));
    auto alice = s.client(d.tokens.at("alice"));
    REQUIRE(status(post(alice, "/api/v1/tickets", ticket_body("RS-1"))) == 201);
    REQUIRE(status(post(alice, "/api/v1/tickets/RS-1/events", {{"event", "triage"}})) == 200);
    const auto on = post(boss, "/api/v1/require-signatures", {{"on", true}});
    REQUIRE_MESSAGE(status(on) == 200, describe(on));
    CHECK(body_of(on).at("require_signatures") == true);
    CHECK(status(post(boss, "/api/v1/require-signatures", {{"on", true}})) == 409);  // already on
    const auto unsigned_check = post(alice, "/api/v1/tickets/RS-1/events",
                                     {{"event", "check-passed"}, {"check", "client_of_record"}});
    CHECK_MESSAGE(status(unsigned_check) == 403, describe(unsigned_check));
    // Turning it off is itself a decision now: unsigned, refused.
    CHECK(status(post(boss, "/api/v1/require-signatures", {{"on", false}})) == 403);
    CHECK(s.stop() == 0);
}
