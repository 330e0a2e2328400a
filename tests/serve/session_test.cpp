// Browser sessions (SPEC §13) through a real `tfadesk serve`: the page signs in once with a token
// and then holds only a cookie (HttpOnly, SameSite=Strict, Path=/, Secure over TLS, 8 hours, 30
// minutes idle); a request that uses the cookie to change anything needs
// "X-Requested-With: tfadesk"; signing out, disabling the account or giving it a new token ends
// the session at once. Tried as another site would (a cross-site form post carries the cookie but
// cannot set the header) and as a thief of an old cookie would.
#include <doctest/doctest.h>

#include <thread>

#include "../cli/log_forge.hpp"
#include "serve_process.hpp"

using namespace servetest;

namespace {

httplib::Result sign_in(httplib::Client& c, const std::string& token) {
    return c.Post("/api/v1/session", json{{"token", token}}.dump(), "application/json");
}

// The cookie's value from a Set-Cookie header "tfadesk_session=VALUE; ...".
std::string cookie_of(const httplib::Result& r) {
    const std::string h = r->get_header_value("Set-Cookie");
    const std::string prefix = "tfadesk_session=";
    REQUIRE_MESSAGE(h.rfind(prefix, 0) == 0, h);
    return h.substr(prefix.size(), h.find(';') - prefix.size());
}

// The attributes of a Set-Cookie header, lowercased names, "; "-separated after the value.
std::set<std::string> attributes_of(const std::string& set_cookie) {
    std::set<std::string> out;
    std::size_t at = set_cookie.find(';');
    while (at != std::string::npos) {
        const auto next = set_cookie.find(';', at + 1);
        std::string a = set_cookie.substr(
            at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
        while (!a.empty() && a.front() == ' ') a.erase(0, 1);
        out.insert(a);
        at = next;
    }
    return out;
}

httplib::Headers with_cookie(const std::string& cookie, bool from_page = true) {
    httplib::Headers h = {{"Cookie", "other=1; tfadesk_session=" + cookie}};
    if (from_page) h.emplace("X-Requested-With", "tfadesk");
    return h;
}

std::size_t tickets_in(const Desk& d) { return json::parse(d.cli({"list", "--json"}).out).size(); }

}  // namespace

TEST_CASE("session: a token signs in once; the cookie is HttpOnly, SameSite=Strict, Path=/, 8 h") {
    Desk d;
    Server s(d);
    auto c = s.client();
    const auto r = sign_in(c, d.tokens.at("alice"));
    REQUIRE_MESSAGE((r && r->status == 201), describe(r));
    const json me = body_of(r);
    CHECK(me.at("name") == "alice");
    CHECK(me.at("roles") == json::array({"agent"}));
    CHECK(me.at("signed_in_with") == "token");
    CHECK(me.at("idle_timeout_seconds") == 1800);
    const std::string set_cookie = r->get_header_value("Set-Cookie");
    const auto attrs = attributes_of(set_cookie);
    const std::set<std::string> wanted = {"Path=/", "HttpOnly", "SameSite=Strict", "Max-Age=28800"};
    CHECK_MESSAGE(attrs == wanted,
                  set_cookie);  // no Secure over plain HTTP, or the browser would never send it
    const std::string cookie = cookie_of(r);
    CHECK(cookie.size() >= 43);  // 32 random bytes
    CHECK(cookie.find(d.tokens.at("alice")) == std::string::npos);
    // The cookie alone reads.
    const auto list = c.Get("/api/v1/tickets", with_cookie(cookie, false));
    CHECK_MESSAGE((list && list->status == 200), describe(list));
    const auto session = c.Get("/api/v1/session", with_cookie(cookie, false));
    REQUIRE_MESSAGE((session && session->status == 200), describe(session));
    CHECK(body_of(session).at("name") == "alice");
    // Each sign-in is a session of its own.
    const auto again = sign_in(c, d.tokens.at("alice"));
    REQUIRE(again);
    CHECK(cookie_of(again) != cookie);
    CHECK(s.stop() == 0);
}

TEST_CASE("session: a wrong token or a malformed body starts nothing") {
    Desk d;
    Server s(d);
    auto c = s.client();
    std::string wrong = d.tokens.at("alice");
    wrong.back() = wrong.back() == '0' ? '1' : '0';
    const auto r = sign_in(c, wrong);
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK_FALSE(r->has_header("Set-Cookie"));
    CHECK(s.stderr_text().find(wrong) == std::string::npos);  // never logged
    for (const std::string body :
         {"{}", "{\"token\": 5}", "[1]", "{\"token\": \"x\", \"agent\": \"bob\"}"}) {
        const auto b = c.Post("/api/v1/session", body, "application/json");
        REQUIRE(b);
        CHECK_MESSAGE(b->status == 400, body, " -> ", describe(b));
        CHECK_FALSE(b->has_header("Set-Cookie"));
    }
    // A made-up cookie is no session.
    const auto made_up =
        c.Get("/api/v1/tickets", with_cookie("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    REQUIRE(made_up);
    CHECK(made_up->status == 401);
    CHECK(s.stop() == 0);
}

TEST_CASE(
    "session: a change made with the cookie needs X-Requested-With: tfadesk (else 403, nothing "
    "written)") {
    Desk d;
    Server s(d);
    auto c = s.client();
    const auto r = sign_in(c, d.tokens.at("alice"));
    REQUIRE(r);
    const std::string cookie = cookie_of(r);
    // What another site's form or fetch can send: the cookie, without the header (or another
    // value).
    for (const auto& headers :
         {with_cookie(cookie, false), httplib::Headers{{"Cookie", "tfadesk_session=" + cookie},
                                                       {"X-Requested-With", "XMLHttpRequest"}}}) {
        const auto forged =
            c.Post("/api/v1/tickets", headers, ticket_body("CS-1").dump(), "application/json");
        REQUIRE(forged);
        CHECK_MESSAGE(forged->status == 403, describe(forged));
        CHECK(body_of(forged).at("error").get<std::string>().find("X-Requested-With") !=
              std::string::npos);
    }
    CHECK(tickets_in(d) == 0);
    // From the page: written as alice, with her token of record.
    const auto ok = c.Post("/api/v1/tickets", with_cookie(cookie), ticket_body("CS-1").dump(),
                           "application/json");
    REQUIRE_MESSAGE((ok && ok->status == 201), describe(ok));
    const json history = json::parse(d.cli({"history", "CS-1", "--json"}).out);
    CHECK(history.at(0).at("agent") == "alice");
    CHECK(history.at(0).at("details").at("by_token") ==
          clitest::sha256_hex(d.tokens.at("alice")).substr(0, 16));
    // A bearer token needs no such header (API clients and the command line).
    auto bob = s.client(d.tokens.at("bob"));
    const auto api = bob.Post("/api/v1/tickets", ticket_body("CS-2").dump(), "application/json");
    CHECK_MESSAGE((api && api->status == 201), describe(api));
    CHECK(s.stop() == 0);
    CHECK(d.cli({"verify"}).code == 0);
}

TEST_CASE("session: sign-out ends it (with X-Requested-With); the old cookie is refused after") {
    Desk d;
    Server s(d);
    auto c = s.client();
    const auto r = sign_in(c, d.tokens.at("bob"));
    REQUIRE(r);
    const std::string cookie = cookie_of(r);
    // Another site cannot sign the agent out either.
    const auto forged = c.Delete("/api/v1/session", with_cookie(cookie, false));
    REQUIRE(forged);
    CHECK(forged->status == 403);
    CHECK(c.Get("/api/v1/me", with_cookie(cookie, false))->status == 200);
    const auto out = c.Delete("/api/v1/session", with_cookie(cookie));
    REQUIRE_MESSAGE((out && out->status == 204), describe(out));
    CHECK(attributes_of(out->get_header_value("Set-Cookie")).count("Max-Age=0") == 1);
    const auto after = c.Get("/api/v1/me", with_cookie(cookie, false));
    REQUIRE(after);
    CHECK(after->status == 401);
    CHECK(s.stop() == 0);
}

TEST_CASE("session: disabling the account or giving it a new token ends its sessions at once") {
    Desk d;
    Server s(d);
    auto c = s.client();
    const std::string carol = cookie_of(sign_in(c, d.tokens.at("carol")));
    const std::string alice = cookie_of(sign_in(c, d.tokens.at("alice")));
    REQUIRE(c.Get("/api/v1/me", with_cookie(carol, false))->status == 200);
    // The admin disables carol (on the command line, beside the server): her next request is 401.
    REQUIRE(d.cli({"agent", "disable", "carol", "--agent", "boss"}).code == 0);
    const auto r = c.Get("/api/v1/me", with_cookie(carol, false));
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK(attributes_of(r->get_header_value("Set-Cookie")).count("Max-Age=0") == 1);
    // Enabled again, the ended session stays ended.
    REQUIRE(d.cli({"agent", "enable", "carol", "--agent", "boss"}).code == 0);
    CHECK(c.Get("/api/v1/me", with_cookie(carol, false))->status == 401);
    // A new token for alice (her old one leaked, say) ends the session the old one started.
    const Result t = d.cli({"agent", "token", "alice", "--agent", "boss"});
    REQUIRE_MESSAGE(t.code == 0, t.describe());
    CHECK(c.Get("/api/v1/me", with_cookie(alice, false))->status == 401);
    CHECK(s.stop() == 0);
}

TEST_CASE("session: it ends after its idle time without a request; requests keep it alive") {
    Desk d;
    Server s(d, {"--session-idle-minutes", "0.05"});  // 3 seconds
    auto c = s.client();
    const std::string used = cookie_of(sign_in(c, d.tokens.at("alice")));
    const std::string idle = cookie_of(sign_in(c, d.tokens.at("bob")));
    for (int i = 0; i < 5; ++i) {  // 5 s in all, a request a second
        std::this_thread::sleep_for(std::chrono::seconds(1));
        REQUIRE(c.Get("/api/v1/me", with_cookie(used, false))->status == 200);
    }
    CHECK(c.Get("/api/v1/me", with_cookie(idle, false))->status == 401);
    CHECK(c.Get("/api/v1/me", with_cookie(used, false))->status == 200);
    const Result bad = d.cli({"serve", "--listen", "127.0.0.1:0", "--session-idle-minutes", "0"});
    CHECK_MESSAGE(bad.code == 2, bad.describe());
    CHECK(bad.err.find("--session-idle-minutes") != std::string::npos);
    CHECK(s.stop() == 0);
}

TEST_CASE("session: over HTTPS the cookie is Secure") {
    Desk d;
    const auto [cert, key] = test_certificate(d.dir);
    Server s(d, {"--tls-cert", cert, "--tls-key", key});
    httplib::SSLClient tls("127.0.0.1", s.port());
    tls.enable_server_certificate_verification(false);
    const auto r = tls.Post("/api/v1/session", json{{"token", d.tokens.at("dave")}}.dump(),
                            "application/json");
    REQUIRE_MESSAGE((r && r->status == 201), describe(r));
    CHECK(attributes_of(r->get_header_value("Set-Cookie")).count("Secure") == 1);
    CHECK(s.stop() == 0);
}
