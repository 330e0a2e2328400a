// Passkeys through a real `tfadesk serve` (SPEC §13), with a software authenticator
// (tests/support/soft_authenticator.hpp) playing the browser's: registration options and the
// credential, sign-in with a passkey, decisions signed by assertions over SHA-256 of their decision
// text, verify counting them; then as an attacker: a replayed challenge, another site's origin, an
// assertion over another decision, and an approval re-attributed in the database after the fact.
// The server listens on 127.0.0.1; the requests say Host: localhost:PORT, as a page opened at
// http://localhost:PORT does (an IP address is no relying party id).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "../cli/log_forge.hpp"
#include "../support/soft_authenticator.hpp"
#include "serve_process.hpp"

using namespace servetest;
using softauth::Authenticator;
using softauth::Ceremony;

namespace {

// The raw challenge of WebAuthn options (base64url in the JSON).
// A ceremony answering the options `r` gave (their challenge).
Ceremony answering(const httplib::Result& r, unsigned char flags = softauth::kUP) {
    Ceremony c;
    c.flags = flags;
    c.challenge = softauth::base64url_decode(body_of(r).at("challenge").get<std::string>());
    return c;
}

// A person at the page: their session (from their token) and their authenticator.
struct Person {
    std::string name;
    Authenticator key;
    std::string cookie;
    Person(std::string n, int alg) : name(std::move(n)), key(alg) { key.user = name; }
};

class Page {
public:
    Page(const Server& s)
        : client_(s.client()), origin_("http://localhost:" + std::to_string(s.port())) {
        softauth::kRpId = "localhost";
        softauth::kOrigin = origin_;
    }
    const std::string& origin() const { return origin_; }

    httplib::Headers headers(const Person* p, const std::string& origin) const {
        httplib::Headers h = {{"Host", "localhost:" + origin_.substr(origin_.rfind(':') + 1)},
                              {"Origin", origin},
                              {"X-Requested-With", "tfadesk"}};
        if (p && !p->cookie.empty()) h.emplace("Cookie", "tfadesk_session=" + p->cookie);
        return h;
    }
    httplib::Result post(const Person* p, const std::string& path, const json& body,
                         const std::string& origin = {}) {
        return client_.Post(path.c_str(), headers(p, origin.empty() ? origin_ : origin),
                            body.dump(), "application/json");
    }
    httplib::Result get(const Person* p, const std::string& path) {
        return client_.Get(path.c_str(), headers(p, origin_));
    }

    void sign_in_with_token(Person& p, const std::string& token) {
        const auto r = post(nullptr, "/api/v1/session", {{"token", token}});
        REQUIRE_MESSAGE((r && r->status == 201), describe(r));
        p.cookie = cookie_of(r);
    }
    static std::string cookie_of(const httplib::Result& r) {
        const std::string h = r->get_header_value("Set-Cookie");
        return h.substr(16, h.find(';') - 16);  // after "tfadesk_session="
    }

    // The registration ceremony: options, create() at the page `at` (the desk's by default), the
    // credential posted back.
    json register_passkey(Person& p, const std::string& at = {}) {
        const auto o = post(&p, "/api/v1/me/passkeys/options", json::object());
        REQUIRE_MESSAGE((o && o->status == 200), describe(o));
        Ceremony c = answering(o, softauth::kUP | softauth::kAT);
        if (!at.empty()) c.origin = at;
        return softauth::create(p.key, c);
    }

    // Signs the decision `body` would make on `ref` (its options, get(), the event posted).
    httplib::Result signed_event(Person& p, const std::string& ref, json body) {
        const std::string path = "/api/v1/tickets/" + ref + "/events";
        const auto o = post(&p, path + "/options", body);
        REQUIRE_MESSAGE((o && o->status == 200), describe(o));
        Ceremony c = answering(o);
        body["assertion"] = softauth::get(p.key, c);
        return post(&p, path, body);
    }

private:
    httplib::Client client_;
    std::string origin_;
};

int status(const httplib::Result& r) { return r ? r->status : -1; }

}  // namespace

TEST_CASE(
    "passkeys: registered from the page, the options name the desk; replays and other sites "
    "refused") {
    Desk d;
    Server s(d);
    Page page(s);
    Person alice("alice", -8);
    page.sign_in_with_token(alice, d.tokens.at("alice"));
    const auto o = page.post(&alice, "/api/v1/me/passkeys/options", json::object());
    REQUIRE_MESSAGE(status(o) == 200, describe(o));
    const json options = body_of(o);
    CHECK(options.at("rp").at("id") == "localhost");
    CHECK(options.at("attestation") == "none");
    CHECK(options.at("user").at("name") == "alice");
    CHECK(softauth::base64url_decode(options.at("challenge").get<std::string>()).size() == 32);
    std::set<int> algs;
    for (const auto& p : options.at("pubKeyCredParams")) algs.insert(p.at("alg").get<int>());
    CHECK(algs == std::set<int>{-7, -8});

    // Another site's page cannot register one (its Origin is not the desk's).
    const json from_elsewhere = page.register_passkey(alice);
    const auto evil =
        page.post(&alice, "/api/v1/me/passkeys", from_elsewhere, "https://evil.example");
    CHECK_MESSAGE(status(evil) == 403, describe(evil));
    // Nor a phishing page relaying a ceremony made there: its clientDataJSON and its Origin header
    // agree with each other, but neither is the desk's.
    for (const std::string at :
         {"https://evil.example", "http://localhost.evil.example:8080", "https://evil-localhost"}) {
        const auto relayed =
            page.post(&alice, "/api/v1/me/passkeys", page.register_passkey(alice, at), at);
        CHECK_MESSAGE(status(relayed) == 403, at, " ", describe(relayed));
        CHECK(body_of(relayed).at("error").get<std::string>().find("relying party") !=
              std::string::npos);
    }
    const json credential = page.register_passkey(alice);
    const auto r = page.post(&alice, "/api/v1/me/passkeys", credential);
    REQUIRE_MESSAGE(status(r) == 201, describe(r));
    CHECK(body_of(r).at("id") == credential.at("id"));
    CHECK(body_of(r).at("alg") == -8);
    // The same credential again: its challenge is used up.
    const auto again = page.post(&alice, "/api/v1/me/passkeys", credential);
    CHECK_MESSAGE(status(again) == 403, describe(again));
    const auto list = page.get(&alice, "/api/v1/me/passkeys");
    REQUIRE(status(list) == 200);
    CHECK(body_of(list).size() == 1);
    // On record as alice's own account entry; verify agrees.
    const json h = json::parse(d.cli({"agent", "history", "alice", "--json"}).out);
    CHECK(h.back().at("change") == "passkey-add");
    CHECK(h.back().at("by") == "alice");

    CHECK(s.stop() == 0);
    CHECK(d.cli({"verify"}).code == 0);
}

TEST_CASE(
    "passkeys: sign-in with a passkey alone; a replayed or foreign assertion starts nothing") {
    Desk d;
    Server s(d);
    Page page(s);
    Person bob("bob", -7);
    page.sign_in_with_token(bob, d.tokens.at("bob"));
    REQUIRE(status(page.post(&bob, "/api/v1/me/passkeys", page.register_passkey(bob))) == 201);

    Person fresh("bob", -7);  // the same person later, with no session
    const auto o = page.post(nullptr, "/api/v1/session/options", json::object());
    REQUIRE_MESSAGE(status(o) == 200, describe(o));
    Ceremony c = answering(o);
    const json assertion = softauth::get(bob.key, c);
    const auto r = page.post(nullptr, "/api/v1/session", {{"assertion", assertion}});
    REQUIRE_MESSAGE(status(r) == 201, describe(r));
    CHECK(body_of(r).at("name") == "bob");
    CHECK(body_of(r).at("signed_in_with") == "passkey");
    fresh.cookie = Page::cookie_of(r);
    CHECK(status(page.get(&fresh, "/api/v1/me")) == 200);
    // The assertion posted as it is (no {"assertion": …} around it) signs in the same way.
    const auto bare = page.post(nullptr, "/api/v1/session/options", json::object());
    const auto r_bare =
        page.post(nullptr, "/api/v1/session", softauth::get(bob.key, answering(bare)));
    CHECK_MESSAGE(status(r_bare) == 201, describe(r_bare));
    // Replayed: the challenge was used.
    CHECK(status(page.post(nullptr, "/api/v1/session", {{"assertion", assertion}})) == 401);
    // A challenge the desk never gave, or an authenticator the desk does not know.
    Ceremony made_up;
    CHECK(status(page.post(nullptr, "/api/v1/session",
                           {{"assertion", softauth::get(bob.key, made_up)}})) == 401);
    Authenticator stranger(-7);
    const auto o2 = page.post(nullptr, "/api/v1/session/options", json::object());
    Ceremony c2 = answering(o2);
    CHECK(status(page.post(nullptr, "/api/v1/session",
                           {{"assertion", softauth::get(stranger, c2)}})) == 401);
    // Disabled: its passkey signs nobody in.
    REQUIRE(d.cli({"agent", "disable", "bob", "--agent", "boss"}).code == 0);
    const auto o3 = page.post(nullptr, "/api/v1/session/options", json::object());
    Ceremony c3 = answering(o3);
    CHECK(status(page.post(nullptr, "/api/v1/session",
                           {{"assertion", softauth::get(bob.key, c3)}})) == 401);
    CHECK(status(page.get(&fresh, "/api/v1/me")) == 401);
    CHECK(s.stop() == 0);
}

TEST_CASE(
    "passkeys: decisions signed at the page pass verify; required signatures refuse unsigned ones; "
    "a re-attributed approval fails verify") {
    Desk d;
    Server s(d);
    Page page(s);
    Person alice("alice", -8), dave("dave", -7), carol("carol", -7);
    for (Person* p : {&alice, &dave, &carol}) {
        page.sign_in_with_token(*p, d.tokens.at(p->name));
        REQUIRE(status(page.post(p, "/api/v1/me/passkeys", page.register_passkey(*p))) == 201);
    }
    REQUIRE(status(page.post(&alice, "/api/v1/tickets", ticket_body("PK-1"))) == 201);
    REQUIRE(status(page.post(&alice, "/api/v1/tickets/PK-1/events", {{"event", "triage"}})) == 200);
    // A non-decision needs no signature, and has no options.
    CHECK(status(page.post(&alice, "/api/v1/tickets/PK-1/events/options", {{"event", "triage"}})) ==
          400);
    for (const std::string check : {"client_of_record", "number_ownership", "lost_access"}) {
        const auto r =
            page.signed_event(alice, "PK-1", {{"event", "check-passed"}, {"check", check}});
        REQUIRE_MESSAGE(status(r) == 200, describe(r));
    }
    REQUIRE(d.cli({"agent", "require-signatures", "on", "--agent", "boss"}).code == 0);
    // Unsigned, or signed over a decision text that no longer holds (the ticket moved on after the
    // options: another version), or by carol's passkey posted by dave: 403, nothing written.
    CHECK(status(page.post(&dave, "/api/v1/tickets/PK-1/events", {{"event", "approve"}})) == 403);
    const auto stale =
        page.post(&dave, "/api/v1/tickets/PK-1/events/options", {{"event", "approve"}});
    REQUIRE(status(stale) == 200);
    REQUIRE(status(page.post(&alice, "/api/v1/tickets/PK-1/events", {{"event", "claim"}})) == 200);
    Ceremony c = answering(stale);
    const auto over_stale =
        page.post(&dave, "/api/v1/tickets/PK-1/events",
                  {{"event", "approve"}, {"assertion", softauth::get(dave.key, c)}});
    CHECK_MESSAGE(status(over_stale) == 403, describe(over_stale));
    const auto daves =
        page.post(&dave, "/api/v1/tickets/PK-1/events/options", {{"event", "approve"}});
    Ceremony dc = answering(daves);
    CHECK(status(page.post(&dave, "/api/v1/tickets/PK-1/events",
                           {{"event", "approve"}, {"assertion", softauth::get(carol.key, dc)}})) ==
          403);
    CHECK(json::parse(d.cli({"show", "PK-1", "--json"}).out).at("state") == "identity_check");
    const auto ok = page.signed_event(dave, "PK-1", {{"event", "approve"}});
    REQUIRE_MESSAGE(status(ok) == 200, describe(ok));
    CHECK(body_of(ok).at("state") == "approved");
    CHECK(s.stop() == 0);

    const Result v = d.cli({"verify", "--json"});
    REQUIRE_MESSAGE(v.code == 0, v.describe());
    const json report = json::parse(v.out);
    CHECK(report.at("signatures").at("alice").at("signed") == 3);
    CHECK(report.at("signatures").at("dave").at("signed") == 1);
    const json h = json::parse(d.cli({"history", "PK-1", "--json"}).out);
    CHECK(h.back().at("details").at("signature").at("passkey") ==
          softauth::base64url_encode(dave.key.credential_id));

    // Whoever holds the database rewrites the approval as carol's (her token of record, dave's
    // assertion kept) and re-hashes the chain: only the signature gives it away.
    auto log = clitest::read_log(d.db);
    std::size_t i = 0;
    while (!(log[i].ref == "PK-1" && log[i].event == "approve")) ++i;
    json details = json::parse(log[i].details);
    log[i].agent = "carol";
    details["by_token"] = clitest::sha256_hex(d.tokens.at("carol")).substr(0, 16);
    log[i].details = details.dump();
    clitest::tamper_db(d.db, clitest::forge_chain_sql(log, i));
    const Result forged = d.cli({"verify"});
    CHECK(forged.code == 6);
    CHECK_MESSAGE(forged.out.find("seq " + std::to_string(log[i].seq)) != std::string::npos,
                  forged.describe());
    CHECK_MESSAGE(forged.out.find("not a passkey registered to 'carol'") != std::string::npos,
                  forged.describe());
}
