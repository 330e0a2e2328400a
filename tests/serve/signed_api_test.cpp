// Signed decisions (SPEC §13) through a real `tfadesk serve`: an API client holding a personal key
// posts events with "signature": {"key", "sig"} over the decision text it builds itself from the
// SPEC's words; on a desk that requires signatures an unsigned decision, a signature over another
// text (a stale version, another event) or by another person's key is 403 and writes nothing, a
// malformed one 400; non-decisions need none; verify agrees with what was written.
#include <doctest/doctest.h>
#include <sodium.h>

#include "../cli/log_forge.hpp"
#include "serve_process.hpp"

using namespace servetest;

namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// The BASE64 field of NAME+KEYID+BASE64 (with "PRIVATE+KEY+" before it in a key file): base64
// holds '+' itself, so the field starts 10 characters after the end of NAME.
std::string key_field(std::string text) {
    if (text.rfind("PRIVATE+KEY+", 0) == 0) text = text.substr(12);
    return text.substr(text.find('+') + 10);
}

std::vector<unsigned char> unbase64(const std::string& b64) {
    std::vector<unsigned char> out(b64.size());
    std::size_t n = 0;
    if (sodium_base642bin(out.data(), out.size(), b64.data(), b64.size(), nullptr, &n, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        throw std::runtime_error("bad base64");
    out.resize(n);
    return out;
}

std::string base64(const unsigned char* data, std::size_t size) {
    std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();
    return out;
}

struct PersonalKey {
    std::string name, file, id;
    // The signature as the API takes it, over `text`, with the seed from the key file.
    json sign(const std::string& text) const {
        const std::string secret = first_line(clitest::slurp(file));
        const auto raw = unbase64(key_field(secret));
        unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[64];
        crypto_sign_seed_keypair(pk, sk, raw.data() + 1);
        crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(text.data()),
                             text.size(), sk);
        return {{"key", id}, {"sig", base64(sig, sizeof sig)}};
    }
};

PersonalKey register_key(const Desk& d, const std::string& name) {
    PersonalKey k{name, d.dir / (name + ".key"), {}};
    const Result g = d.cli({"agent", "key", "generate", "--out", k.file, "--agent", name});
    if (g.code != 0) throw std::runtime_error(g.describe());
    const std::string pub = first_line(g.out);
    k.id = pub.substr(name.size() + 1, 8);
    const Result a = d.cli({"agent", "key", "add", pub, "--agent", name});
    if (a.code != 0) throw std::runtime_error(a.describe());
    return k;
}

// SPEC §13: canonical JSON of {"agent","details","event","ref","version"}; SPEC §12: the details
// name the token that authenticated the write (the first 16 hex digits of its SHA-256).
std::string decision_text(const Desk& d, const std::string& agent, json details,
                          const std::string& event, const std::string& ref, std::int64_t version) {
    details["by_token"] = clitest::sha256_hex(d.tokens.at(agent)).substr(0, 16);
    return json{{"agent", agent},
                {"details", details},
                {"event", event},
                {"ref", ref},
                {"version", version}}
        .dump();
}

httplib::Result post(httplib::Client& c, const std::string& path, const json& body) {
    return c.Post(path.c_str(), body.dump(), "application/json");
}

int status_of(const httplib::Result& r) { return r ? r->status : -1; }

}  // namespace

TEST_CASE(
    "serve signed: decisions posted with a signature; unsigned or wrong ones 403, malformed 400") {
    Desk d;
    const auto boss = register_key(d, "boss");
    const auto alice = register_key(d, "alice");
    const auto bob = register_key(d, "bob");
    REQUIRE(d.cli({"agent", "require-signatures", "on", "--agent", "boss", "--sign-key", boss.file})
                .code == 0);
    Server s(d);
    auto as_alice = s.client(d.tokens.at("alice"));
    auto as_bob = s.client(d.tokens.at("bob"));
    const std::string events = "/api/v1/tickets/HD-7/events";
    REQUIRE(status_of(post(as_alice, "/api/v1/tickets", ticket_body("HD-7"))) == 201);
    REQUIRE(status_of(post(as_alice, events, {{"event", "triage"}})) == 200);  // not a decision
    // Unsigned check: 403, nothing written.
    const auto unsigned_check =
        post(as_alice, events, {{"event", "check-passed"}, {"check", "client_of_record"}});
    CHECK_MESSAGE(status_of(unsigned_check) == 403, describe(unsigned_check));
    std::int64_t version = 2;
    for (const std::string check : {"client_of_record", "number_ownership", "lost_access"}) {
        const json body = {{"event", "check-passed"}, {"check", check}};
        const auto sig = alice.sign(
            decision_text(d, "alice", {{"check", check}}, "check-passed", "HD-7", version));
        auto signed_body = body;
        signed_body["signature"] = sig;
        const auto r = post(as_alice, events, signed_body);
        REQUIRE_MESSAGE(status_of(r) == 200, describe(r));
        ++version;
    }
    CHECK(body_of(as_bob.Get("/api/v1/tickets/HD-7")).at("version") == 5);
    // Approvals that must not pass: unsigned, a stale version, another event's text, alice's key.
    const std::string text = decision_text(d, "bob", json::object(), "approve", "HD-7", 5);
    for (const json& sig :
         {json(nullptr), bob.sign(decision_text(d, "bob", json::object(), "approve", "HD-7", 4)),
          bob.sign(decision_text(d, "bob", json::object(), "cancel", "HD-7", 5)), alice.sign(text),
          json{{"key", alice.id}, {"sig", alice.sign(text).at("sig")}},
          json{{"key", bob.id}, {"sig", alice.sign(text).at("sig")}}}) {
        json body = {{"event", "approve"}};
        if (!sig.is_null()) body["signature"] = sig;
        const auto r = post(as_bob, events, body);
        CHECK_MESSAGE(status_of(r) == 403, describe(r), " for ", body.dump());
    }
    CHECK(body_of(as_bob.Get("/api/v1/tickets/HD-7")).at("version") == 5);
    // Malformed signatures: 400.
    for (const json& sig : {json("x"), json{{"key", "XYZ"}, {"sig", "AAAA"}}, json{{"key", bob.id}},
                            json{{"key", bob.id}, {"sig", "not base64"}}}) {
        const auto r = post(as_bob, events, {{"event", "approve"}, {"signature", sig}});
        CHECK_MESSAGE(status_of(r) == 400, describe(r), " for ", sig.dump());
    }
    const auto ok = post(as_bob, events, {{"event", "approve"}, {"signature", bob.sign(text)}});
    REQUIRE_MESSAGE(status_of(ok) == 200, describe(ok));
    CHECK(body_of(ok).at("state") == "approved");
    s.stop();
    const Result v = d.cli({"verify", "--json"});
    INFO(v.describe());
    REQUIRE(v.code == 0);
    const json report = json::parse(v.out);
    CHECK(report.at("signatures").at("bob") ==
          json{{"signed", 1}, {"unsigned", 1}});  // its key-add: before
    CHECK(report.at("signatures").at("alice") == json{{"signed", 3}, {"unsigned", 1}});
}
