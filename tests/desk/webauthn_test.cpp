// Passkeys (desk/webauthn.hpp, SPEC §13). A software authenticator (tests/support) - P-256 by
// Nettle, Ed25519 by libsodium, CBOR by libcbor - registers and signs; each negative test starts
// from a ceremony the positive tests accept and breaks exactly one rule. The known answers at the
// end are real browser credentials from duo-labs/py_webauthn's test suite (BSD-3-Clause), so the
// parsing is checked against bytes this code did not make.
#include "tfadesk/desk/webauthn.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <optional>

#include "../support/soft_authenticator.hpp"
#include "tfadesk/engine/error.hpp"

namespace {

using namespace softauth;

using namespace tfadesk;
using desk::webauthn::base64url_decode;
using desk::webauthn::Credential;
using engine::ErrorKind;
using nlohmann::json;

Credential registered(Authenticator& a) {
    Ceremony c;
    c.flags = kUP | kAT;
    return desk::webauthn::verify_registration(create(a, c), c.challenge, kRpId, kOrigin);
}

// `f` throws engine::Error of `kind` (and, for a refusal, rule `rule`) whose message holds `words`.
void expect_error(const std::function<void()>& f, ErrorKind kind, const std::string& rule,
                  const std::string& words) {
    try {
        f();
        FAIL_CHECK("accepted; expected an error saying: " << words);
    } catch (const engine::Error& e) {
        const std::string what = e.what();
        CHECK_MESSAGE(what.find(words) != std::string::npos, what);
        CHECK_MESSAGE(what.rfind("passkey: ", 0) == 0, what);
        CHECK(e.kind() == kind);
        CHECK(e.rule() == rule);
    }
}

void expect_refused(const std::function<void()>& f, const std::string& rule,
                    const std::string& words) {
    expect_error(f, ErrorKind::forbidden, "passkey." + rule, words);
}

void expect_malformed(const std::function<void()>& f, const std::string& words) {
    expect_error(f, ErrorKind::invalid_input, "", words);
}

std::string field(const json& credential, const char* name) {
    return base64url_decode(credential["response"][name].get<std::string>(), name);
}

void set_field(json& credential, const char* name, std::string_view bytes) {
    credential["response"][name] = base64url_encode(bytes);
}

}  // namespace

// ---- base64url ----------------------------------------------------------------------------------

TEST_CASE("webauthn: base64url without padding, one spelling per byte string") {
    CHECK(desk::webauthn::base64url_encode("") == "");
    CHECK(desk::webauthn::base64url_encode("A") == "QQ");
    CHECK(desk::webauthn::base64url_encode("\xfb\xff") == "-_8");
    CHECK(base64url_decode("-_8", "x") == "\xfb\xff");
    CHECK(base64url_decode("QUJD", "x") == "ABC");
    for (const char* bad : {"QQ==", "QQ=", "+/8", "-_8=", "QR", "QUJDR", "QU JD", "QUJD\n", "Q$"}) {
        CAPTURE(bad);
        expect_malformed([&] { base64url_decode(bad, "the field"); },
                         "the field is not base64url without padding");
    }
}

// ---- the ceremonies that pass -------------------------------------------------------------------

TEST_CASE("webauthn: an ES256 passkey registers and signs") {
    Authenticator a(-7);
    const Credential cred = registered(a);
    CHECK(cred.alg == -7);
    CHECK(cred.id_b64url == base64url_encode(a.credential_id));
    CHECK(cred.cose_key_b64url == base64url_encode(a.cose_key()));
    CHECK(cred.origin == kOrigin);
    CHECK(cred.rp_id == kRpId);
    CHECK(cred.sign_count == 1);

    Ceremony c;
    c.flags = kUP | kUV;
    CHECK(desk::webauthn::verify_assertion(get(a, c), cred, c.challenge) == 2);
    SUBCASE("and the recorded bytes check again") {
        Ceremony c2;
        const json assertion = get(a, c2);
        CHECK(desk::webauthn::check_recorded_assertion(
                  field(assertion, "authenticatorData"), field(assertion, "clientDataJSON"),
                  field(assertion, "signature"), cred, c2.challenge) == 3);
    }
}

TEST_CASE("webauthn: an EdDSA passkey registers and signs") {
    Authenticator a(-8);
    const Credential cred = registered(a);
    CHECK(cred.alg == -8);
    CHECK(cred.cose_key_b64url == base64url_encode(a.cose_key()));
    Ceremony c;
    CHECK(desk::webauthn::verify_assertion(get(a, c), cred, c.challenge) == 2);
}

TEST_CASE("webauthn: an authenticator without a counter (always 0) is accepted") {
    Authenticator a(-8);
    Credential cred = registered(a);
    cred.sign_count = 0;
    a.counter = std::uint32_t(-1);  // the next auth_data wraps to 0
    Ceremony c;
    CHECK(desk::webauthn::verify_assertion(get(a, c), cred, c.challenge) == 0);
}

TEST_CASE("webauthn: 'packed' attestation is accepted as 'none'") {
    Authenticator a(-7);
    Ceremony c;
    c.flags = kUP | kAT;
    c.fmt = "packed";
    CHECK(desk::webauthn::verify_registration(create(a, c), c.challenge, kRpId, kOrigin).alg == -7);
}

// ---- registration: one rule each ----------------------------------------------------------------

TEST_CASE("webauthn: registration refusals name the rule") {
    Authenticator a(-7);
    Ceremony c;
    c.flags = kUP | kAT;
    const auto refused = [&](const std::string& rule, const std::string& words) {
        expect_refused(
            [&] { desk::webauthn::verify_registration(create(a, c), c.challenge, kRpId, kOrigin); },
            rule, words);
    };
    SUBCASE("wrong type") {
        c.type = "webauthn.get";
        refused("type", "clientDataJSON.type is 'webauthn.get', not 'webauthn.create'");
    }
    SUBCASE("wrong challenge") {
        expect_refused(
            [&] {
                desk::webauthn::verify_registration(create(a, c), random_bytes(32), kRpId, kOrigin);
            },
            "challenge", "clientDataJSON.challenge does not match");
    }
    SUBCASE("wrong origin") {
        c.origin = "https://desk.example.evil";
        refused("origin",
                "clientDataJSON.origin 'https://desk.example.evil' is not 'https://desk.example'");
    }
    SUBCASE("cross-origin frame") {
        c.cross_origin = true;
        refused("cross-origin", "clientDataJSON.crossOrigin is true");
    }
    SUBCASE("rpIdHash of another rp id") {
        c.rp_id = "evil.example";
        refused("rp-id-hash", "authenticator data rpIdHash is not SHA-256 of rp id 'desk.example'");
    }
    SUBCASE("user-present flag clear") {
        c.flags = kAT;
        refused("user-present", "user-present flag not set");
    }
    SUBCASE("attested-credential-data flag clear") {
        c.flags = kUP;
        refused("attested-data", "attested-credential-data flag not set on a registration");
    }
    SUBCASE("unsupported algorithm: RS256") {
        cbor_item_t* rsa = cbor_new_definite_map(4);
        add(rsa, cbor_int(1), cbor_int(3));
        add(rsa, cbor_int(3), cbor_int(-257));
        add(rsa, cbor_int(-1), cbor_bstr(random_bytes(256)));
        add(rsa, cbor_int(-2), cbor_bstr("\x01\x00\x01"));
        c.cose_key = serialize(rsa);
        refused("algorithm", "COSE key algorithm -257 is not accepted (ES256 -7 or EdDSA -8)");
    }
    SUBCASE("ES256 on another curve: P-384") {
        cbor_item_t* p384 = cbor_new_definite_map(5);
        add(p384, cbor_int(1), cbor_int(2));
        add(p384, cbor_int(3), cbor_int(-7));
        add(p384, cbor_int(-1), cbor_int(2));
        add(p384, cbor_int(-2), cbor_bstr(random_bytes(32)));
        add(p384, cbor_int(-3), cbor_bstr(random_bytes(32)));
        c.cose_key = serialize(p384);
        refused("algorithm", "ES256 key is not on curve 1 (P-256)");
    }
    SUBCASE("ES256 point not on the curve") {
        const auto [x, y] = a.ec.xy();
        std::string bad_y = y;
        bad_y[31] = static_cast<char>(bad_y[31] ^ 1);
        cbor_item_t* key = cbor_new_definite_map(5);
        add(key, cbor_int(1), cbor_int(2));
        add(key, cbor_int(3), cbor_int(-7));
        add(key, cbor_int(-1), cbor_int(1));
        add(key, cbor_int(-2), cbor_bstr(x));
        add(key, cbor_int(-3), cbor_bstr(bad_y));
        c.cose_key = serialize(key);
        refused("public-key", "the ES256 public key is not a valid point of its curve");
    }
    SUBCASE("credential id in the authenticator data is not credential.id") {
        json cred = create(a, c);
        cred["id"] = cred["rawId"] = base64url_encode(random_bytes(32));
        expect_refused(
            [&] { desk::webauthn::verify_registration(cred, c.challenge, kRpId, kOrigin); },
            "credential-id", "credential id in authenticator data does not match credential.id");
    }
    SUBCASE("rawId is not id") {
        json cred = create(a, c);
        cred["rawId"] = base64url_encode(random_bytes(32));
        expect_refused(
            [&] { desk::webauthn::verify_registration(cred, c.challenge, kRpId, kOrigin); },
            "credential-id", "credential.rawId does not match credential.id");
    }
    SUBCASE("an attestation format other than none or packed") {
        c.fmt = "tpm";
        refused("attestation-format", "attestation format 'tpm' is not accepted (none or packed)");
    }
}

TEST_CASE("webauthn: malformed registrations are invalid input") {
    Authenticator a(-8);
    Ceremony c;
    c.flags = kUP | kAT;
    json cred = create(a, c);
    const auto malformed = [&](const std::string& words) {
        expect_malformed(
            [&] { desk::webauthn::verify_registration(cred, c.challenge, kRpId, kOrigin); }, words);
    };
    SUBCASE("bad base64url: padding") {
        cred["response"]["clientDataJSON"] =
            cred["response"]["clientDataJSON"].get<std::string>() + "=";
        malformed("credential.response.clientDataJSON is not base64url without padding");
    }
    SUBCASE("bad base64url: standard alphabet") {
        std::string att = cred["response"]["attestationObject"];
        att[3] = '+';
        cred["response"]["attestationObject"] = att;
        malformed("credential.response.attestationObject is not base64url without padding");
    }
    SUBCASE("bad base64url: credential.id") {
        cred["id"] = "a/b";
        cred.erase("rawId");
        malformed("credential.id is not base64url without padding");
    }
    SUBCASE("clientDataJSON is not JSON") {
        set_field(cred, "clientDataJSON", "{\"type\":");
        malformed("clientDataJSON is not JSON");
    }
    SUBCASE("clientDataJSON names a member twice") {
        const std::string cdj = client_data(with_type(c, "webauthn.create"));
        set_field(cred, "clientDataJSON",
                  cdj.substr(0, cdj.size() - 1) + ",\"challenge\":\"AAAA\"}");
        malformed("clientDataJSON has the member 'challenge' twice");
    }
    SUBCASE("the attestation object is not CBOR") {
        set_field(cred, "attestationObject", "\xa3\x63");
        malformed("the attestation object is not valid CBOR");
    }
    SUBCASE("a CBOR header that claims 2^32 entries (libcbor would allocate them)") {
        set_field(cred, "attestationObject", std::string("\xbb\0\0\0\x01\0\0\0\0", 9));
        malformed("the attestation object is not valid CBOR (a length past its end");
    }
    SUBCASE("a credential public key that claims 2^32 entries") {
        c.cose_key = std::string("\xbb\0\0\0\x01\0\0\0\0\x01\x02", 11);
        cred = create(a, c);
        malformed("the credential public key is not valid CBOR (a length past its end");
    }
    SUBCASE("an indefinite-length map") {
        set_field(cred, "attestationObject",
                  "\xbf\x63"
                  "fmt\x64none\xff");
        malformed("the attestation object is not valid CBOR (a length past its end, an indefinite");
    }
    SUBCASE("CBOR nested too deep") {
        set_field(cred, "attestationObject", std::string(64, '\x81') + "\x01");
        malformed("nesting deeper than 8)");
    }
    SUBCASE("the attestation object is followed by bytes") {
        set_field(cred, "attestationObject", field(cred, "attestationObject") + "x");
        malformed("the attestation object is followed by other bytes");
    }
    SUBCASE("the authenticator data is followed by bytes") {
        c.cose_key = a.cose_key() + "x";
        cred = create(a, c);
        malformed("authenticator data has 1 bytes too many");
    }
    SUBCASE("no response") {
        cred.erase("response");
        malformed("credential.response is missing");
    }
}

// ---- assertion: one rule each -------------------------------------------------------------------

TEST_CASE("webauthn: assertion refusals name the rule") {
    Authenticator a(-7);
    const Credential cred = registered(a);
    Ceremony c;
    const auto refused = [&](const std::string& rule, const std::string& words) {
        expect_refused([&] { desk::webauthn::verify_assertion(get(a, c), cred, c.challenge); },
                       rule, words);
    };
    SUBCASE("wrong type") {
        c.type = "webauthn.create";
        refused("type", "clientDataJSON.type is 'webauthn.create', not 'webauthn.get'");
    }
    SUBCASE("wrong challenge") {
        expect_refused([&] { desk::webauthn::verify_assertion(get(a, c), cred, random_bytes(32)); },
                       "challenge",
                       "clientDataJSON.challenge does not match the challenge the desk issued");
    }
    SUBCASE("wrong origin") {
        c.origin = "http://desk.example";
        refused("origin",
                "clientDataJSON.origin 'http://desk.example' is not 'https://desk.example'");
    }
    SUBCASE("rpIdHash of another rp id") {
        c.rp_id = "example";
        refused("rp-id-hash", "authenticator data rpIdHash is not SHA-256 of rp id 'desk.example'");
    }
    SUBCASE("user-present flag clear") {
        c.flags = kUV;
        refused("user-present", "user-present flag not set");
    }
    SUBCASE("wrong credential id") {
        json assertion = get(a, c);
        assertion["id"] = assertion["rawId"] = base64url_encode(random_bytes(32));
        expect_refused([&] { desk::webauthn::verify_assertion(assertion, cred, c.challenge); },
                       "credential-id", "is not the registered '" + cred.id_b64url + "'");
    }
    SUBCASE("signature by another key") {
        Authenticator other(-7);
        other.credential_id = a.credential_id;
        other.counter = 10;
        expect_refused([&] { desk::webauthn::verify_assertion(get(other, c), cred, c.challenge); },
                       "signature", "signature does not verify");
    }
    SUBCASE("signature over tampered authenticator data") {
        json assertion = get(a, c);
        std::string data = field(assertion, "authenticatorData");
        data[32] = static_cast<char>(data[32] | kUV);  // claims a user verification it did not do
        set_field(assertion, "authenticatorData", data);
        expect_refused([&] { desk::webauthn::verify_assertion(assertion, cred, c.challenge); },
                       "signature", "signature does not verify");
    }
    SUBCASE("signature over other client data") {
        json assertion = get(a, c);
        set_field(assertion, "clientDataJSON", client_data(with_type(c, "webauthn.get")) + " ");
        expect_refused([&] { desk::webauthn::verify_assertion(assertion, cred, c.challenge); },
                       "signature", "signature does not verify");
    }
    SUBCASE("sign count not increasing") {
        Credential later = cred;
        later.sign_count = 5;
        a.counter = 2;  // the assertion carries 3
        expect_refused([&] { desk::webauthn::verify_assertion(get(a, c), later, c.challenge); },
                       "sign-count", "sign count 3 is not above 5 (a cloned authenticator?)");
    }
    SUBCASE("sign count repeated") {
        Credential later = cred;
        later.sign_count = 2;
        expect_refused([&] { desk::webauthn::verify_assertion(get(a, c), later, c.challenge); },
                       "sign-count", "sign count 2 is not above 2");
    }
    SUBCASE("a counter that falls back to 0") {
        Credential later = cred;
        later.sign_count = 7;
        a.counter = std::uint32_t(-1);
        expect_refused([&] { desk::webauthn::verify_assertion(get(a, c), later, c.challenge); },
                       "sign-count", "sign count 0 is not above 7");
    }
    SUBCASE("attested credential data on an assertion") {
        c.flags = kUP | kAT;
        refused("attested-data", "attested-credential-data flag set on an assertion");
    }
}

TEST_CASE("webauthn: an EdDSA signature by another key or over other bytes is refused") {
    Authenticator a(-8);
    const Credential cred = registered(a);
    Ceremony c;
    SUBCASE("another key") {
        Authenticator other(-8);
        other.credential_id = a.credential_id;
        other.counter = 10;
        expect_refused([&] { desk::webauthn::verify_assertion(get(other, c), cred, c.challenge); },
                       "signature", "signature does not verify");
    }
    SUBCASE("tampered authenticator data: a higher counter") {
        json assertion = get(a, c);
        std::string data = field(assertion, "authenticatorData");
        data[36] = static_cast<char>(data[36] + 1);
        set_field(assertion, "authenticatorData", data);
        expect_refused([&] { desk::webauthn::verify_assertion(assertion, cred, c.challenge); },
                       "signature", "signature does not verify");
    }
    SUBCASE("a signature that is not 64 bytes") {
        json assertion = get(a, c);
        set_field(assertion, "signature", field(assertion, "signature") + "x");
        expect_malformed([&] { desk::webauthn::verify_assertion(assertion, cred, c.challenge); },
                         "the EdDSA signature is not 64 bytes");
    }
}

TEST_CASE("webauthn: an ES256 signature must be strict DER") {
    Authenticator a(-7);
    const Credential cred = registered(a);
    Ceremony c;
    json assertion;
    std::string der;
    do {  // one whose r has no sign byte, so that a zero put before it is superfluous
        assertion = get(a, c);
        der = field(assertion, "signature");
    } while (static_cast<unsigned char>(der[3]) > 32);
    const auto with_signature = [&](const std::string& sig) {
        return desk::webauthn::check_recorded_assertion(field(assertion, "authenticatorData"),
                                                        field(assertion, "clientDataJSON"), sig,
                                                        cred, c.challenge);
    };
    REQUIRE(with_signature(der) == a.counter);
    SUBCASE("trailing bytes after the SEQUENCE") {
        expect_malformed(
            [&] { with_signature(der + std::string(1, '\0')); },
            "the ES256 signature is not strict DER: trailing bytes after the SEQUENCE");
    }
    SUBCASE("trailing bytes inside the SEQUENCE") {
        std::string longer = der + std::string(1, '\0');
        longer[1] = static_cast<char>(longer[1] + 1);
        expect_malformed(
            [&] { with_signature(longer); },
            "the ES256 signature is not strict DER: trailing bytes inside the SEQUENCE");
    }
    SUBCASE("a superfluous leading zero") {
        const auto r_length = static_cast<char>(der[3] + 1);
        std::string padded = der.substr(0, 2) + std::string{0x02, r_length, 0} + der.substr(4);
        padded[1] = static_cast<char>(padded[1] + 1);
        expect_malformed([&] { with_signature(padded); }, "an INTEGER has a superfluous zero");
    }
    SUBCASE("truncated") {
        expect_malformed([&] { with_signature(der.substr(0, der.size() - 1)); },
                         "the ES256 signature is not strict DER: it is truncated");
    }
    SUBCASE("raw r||s instead of DER") {
        expect_malformed([&] { with_signature(random_bytes(64)); },
                         "the ES256 signature is not strict DER");
    }
}

// ---- known answers: real browser credentials ----------------------------------------------------
// From duo-labs/py_webauthn, tests/test_verify_registration_response.py and
// tests/test_verify_authentication_response.py (commit 00e5dc886b1ad6246134bbcf7950b8f93641eec9);
// rp id "localhost", origin "http://localhost:5000". Only the test vectors are copied.

namespace {

const std::string kPyOrigin = "http://localhost:5000";

json registration_json(const std::string& id, const std::string& att, const std::string& cdj) {
    return {{"id", id},
            {"rawId", id},
            {"type", "public-key"},
            {"response", {{"attestationObject", att}, {"clientDataJSON", cdj}}},
            {"clientExtensionResults", json::object()},
            {"transports", {"nfc", "usb"}}};
}

json assertion_json(const std::string& id, const std::string& data, const std::string& cdj,
                    const std::string& sig) {
    return {
        {"id", id},
        {"rawId", id},
        {"type", "public-key"},
        {"response", {{"authenticatorData", data}, {"clientDataJSON", cdj}, {"signature", sig}}},
        {"clientExtensionResults", json::object()}};
}

}  // namespace

TEST_CASE("webauthn: known answer - an ES256 'none' registration") {
    const std::string id =
        "9y1xA8Tmg1FEmT-c7_fvWZ_uoTuoih3OvR45_oAK-cwHWhAbXrl2q62iLVTjiyEZ7O7n-CROOY494k7Q3xrs_w";
    const json cred = registration_json(id,
                                        "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVjESZYN5YgOjGh0NBcPZH"
                                        "ZgW4_krrmihjLHmVzzuoMdl2NFAAAAFwAAAA"
                                        "AAAAAAAAAAAAAAAAAAQPctcQPE5oNRRJk_nO_"
                                        "371mf7qE7qIodzr0eOf6ACvnMB1oQG165dqutoi1U44shGezu5_gkTjmO"
                                        "PeJO0N8a7P-lAQIDJiABIVggSFbUJF-42Ug3pdM8rDRFu_"
                                        "N5oiVEysPDB6n66r_7dZAiWCDUVnB39FlGypL-qAoIO9xWHt"
                                        "Jygo2jfDmHl-_eKFRLDA",
                                        "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiVHdON2"
                                        "40V1R5R0tMYzRaWS1xR3NGcUtuSE00bmdscXN5"
                                        "VjBJQ0psTjJUTzlYaVJ5RnRya2FEd1V2c3FsLWdrTEpYUDZmbkYxTWxyWj"
                                        "UzTW00UjdDdnciLCJvcmlnaW4iOiJodHRwOi8v"
                                        "bG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9");
    const std::string challenge = base64url_decode(
        "TwN7n4WTyGKLc4ZY-qGsFqKnHM4nglqsyV0ICJlN2TO9XiRyFtrkaDwUvsql-gkLJXP6fnF1MlrZ53Mm4R7Cvw",
        "c");

    const Credential got =
        desk::webauthn::verify_registration(cred, challenge, "localhost", kPyOrigin);
    CHECK(got.id_b64url == id);
    CHECK(got.alg == -7);
    CHECK(got.cose_key_b64url ==
          "pQECAyYgASFYIEhW1CRfuNlIN6XTPKw0RbvzeaIlRMrDwwep-uq_-3WQIlgg1FZwd_RZRsqS_"
          "qgKCDvcVh7ScoKNo3w5h5"
          "fv3ihUSww");
    CHECK(got.sign_count == 23);
    expect_refused(
        [&] { desk::webauthn::verify_registration(cred, challenge, "127.0.0.1", kPyOrigin); },
        "rp-id-hash", "rp id '127.0.0.1'");
    expect_refused(
        [&] {
            desk::webauthn::verify_registration(cred, challenge, "localhost",
                                                "http://localhost:5001");
        },
        "origin", "is not 'http://localhost:5001'");
}

TEST_CASE("webauthn: known answer - a 'packed' registration, its statement not checked") {
    const std::string id =
        "syGQPDZRUYdb4m3rdWeyPaIMYlbmydGp1TP_33vE_lqJ3PHNyTd0iKsnKr5WjnCcBzcesZrDEfB_RBLFzU3k4w";
    const json cred = registration_json(
        id,
        "o2NmbXRmcGFja2VkZ2F0dFN0bXSjY2FsZyZjc2lnWEcwRQIhAOfrFlQpbavT6dJeTDJSCDzYSYPjBDHli2-"
        "syT2c1IiKAi"
        "Ax5gQ2z5cHjdQX-"
        "jEHTb7JcjfQoVSW8fXszF5ihSgeOGN4NWOBWQLBMIICvTCCAaWgAwIBAgIEKudiYzANBgkqhkiG9w0B"
        "AQsFADAuMSwwKgYDVQQDEyNZdWJpY28gVTJGIFJvb3QgQ0EgU2VyaWFsIDQ1NzIwMDYzMTAgFw0xNDA4MDEwMDAwMD"
        "BaGA"
        "8yMDUwMDkwNDAwMDAwMFowbjELMAkGA1UEBhMCU0UxEjAQBgNVBAoMCVl1YmljbyBBQjEiMCAGA1UECwwZQXV0aGVu"
        "dGlj"
        "YXRvciBBdHRlc3RhdGlvbjEnMCUGA1UEAwweWXViaWNvIFUyRiBFRSBTZXJpYWwgNzE5ODA3MDc1MFkwEwYHKoZIzj"
        "0CAQ"
        "YIKoZIzj0DAQcDQgAEKgOGXmBD2Z4R_xCqJVRXhL8Jr45rHjsyFykhb1USGozZENOZ3cdovf5Ke8fj2rxi5tJGn_"
        "VnW4_6"
        "iQzKdIaeP6NsMGowIgYJKwYBBAGCxAoCBBUxLjMuNi4xLjQuMS40MTQ4Mi4xLjEwEwYLKwYBBAGC5RwCAQEEBAMCBD"
        "AwIQ"
        "YLKwYBBAGC5RwBAQQEEgQQbUS6m_"
        "bsLkm5MAyP6SDLczAMBgNVHRMBAf8EAjAAMA0GCSqGSIb3DQEBCwUAA4IBAQByV9A8"
        "3MPhFWmEkNb4DvlbUwcjc9nmRzJjKxHc3HeK7GvVkm0H4XucVDB4jeMvTke0WHb_"
        "jFUiApvpOHh5VyMx5ydwFoKKcRs5x0"
        "_WwSWL0eTZ5WbVcHkDR9pSNcA_D_"
        "5AsUKOBcbpF5nkdVRxaQHuuIuwV4k1iK2IqtMNcU8vL6w21U261xCcWwJ6sMq4zzVO"
        "8QCKCQhsoIaWrwz828GDmPzfAjFsJiLJXuYivdHACkeJ5KHMt0mjVLpfJ2BCML7_"
        "rgbmvwL7wBW80VHfNdcKmKjkLcpEiP"
        "zwcQQhiN_qHV90t-p4iyr5xRSpurlP5zic2hlRkLKxMH2_"
        "kRjhqSn4aGF1dGhEYXRhWMRJlg3liA6MaHQ0Fw9kdmBbj-Su"
        "uaKGMseZXPO6gx2XY0UAAAA0bUS6m_bsLkm5MAyP6SDLcwBAsyGQPDZRUYdb4m3rdWeyPaIMYlbmydGp1TP_33vE_"
        "lqJ3P"
        "HNyTd0iKsnKr5WjnCcBzcesZrDEfB_RBLFzU3k46UBAgMmIAEhWCBAX_i3O3DvBnkGq_uLNk_PeAX5WwO_"
        "MIxBp0mhX6Lw"
        "7yJYIOW-1-Fch829McWvRUYAHTWZTx5IycKSGECL1UzUaK_8",
        "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiOExCQ2lPWTNxMWNCWkhGQVd0UzRBWlpDaHpHcG"
        "h5Njds"
        "SzdJNzB6S2k0eUM3cGdyUTJQY2g3bkFqTGsxd3E5Z3Jlc2hJQXNXMkFqaWJoWGpqSTBUbVEiLCJvcmlnaW4iOiJodH"
        "RwOi8v"
        "bG9jYWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9");
    const std::string challenge = base64url_decode(
        "8LBCiOY3q1cBZHFAWtS4AZZChzGphy67lK7I70zKi4yC7pgrQ2Pch7nAjLk1wq9greshIAsW2AjibhXjjI0TmQ",
        "c");

    const Credential got =
        desk::webauthn::verify_registration(cred, challenge, "localhost", kPyOrigin);
    CHECK(got.id_b64url == id);
    CHECK(got.alg == -7);
    CHECK(got.sign_count == 0x34);
}

TEST_CASE("webauthn: known answer - an ES256 assertion") {
    const std::string id =
        "EDx9FfAbp4obx6oll2oC4-CZuDidRVV4gZhxC529ytlnqHyqCStDUwfNdm1SNHAe3X5KvueWQdAX3x9R1a2b9Q";
    const json assertion = assertion_json(
        id, "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MBAAAATg",
        "eyJjaGFsbGVuZ2UiOiJ4aTMwR1BHQUZZUnhWRHBZMXNNMTBEYUx6VlFHNjZudi1fN1JVYXpIMHZJMll2RzhMWWdERW"
        "52TjVm"
        "WlpOVnV2RUR1TWk5dGUzVkxxYjQyTjBma0xHQSIsImNsaWVudEV4dGVuc2lvbnMiOnt9LCJoYXNoQWxnb3JpdGhtIj"
        "oiU0hB"
        "LTI1NiIsIm9yaWdpbiI6Imh0dHA6Ly9sb2NhbGhvc3Q6NTAwMCIsInR5cGUiOiJ3ZWJhdXRobi5nZXQifQ",
        "MEUCIGisVZOBapCWbnJJvjelIzwpixxIwkjCCb5aCHafQu68AiEA88v-2pJNNApPFwAKFiNuf82-"
        "2hBxYW5kGwVweeoxCwo");
    const std::string challenge = base64url_decode(
        "xi30GPGAFYRxVDpY1sM10DaLzVQG66nv-_7RUazH0vI2YvG8LYgDEnvN5fZZNVuvEDuMi9te3VLqb42N0fkLGA",
        "c");
    Credential cred{
        id,
        -7,
        "pQECAyYgASFYIIeDTe-gN8A-zQclHoRnGFWN8ehM1b7yAsa8I8KIvmplIlgg4nFGT5px8o6gpPZZhO01"
        "wdy9crDSA_Ngtkx0vGpvPHI",
        kPyOrigin,
        "localhost",
        77};

    CHECK(desk::webauthn::verify_assertion(assertion, cred, challenge) == 78);
    cred.sign_count = 78;
    expect_refused([&] { desk::webauthn::verify_assertion(assertion, cred, challenge); },
                   "sign-count", "sign count 78 is not above 78");
    cred.sign_count = 77;
    cred.cose_key_b64url =  // the key of the 'none' registration above: not the signer
        "pQECAyYgASFYIEhW1CRfuNlIN6XTPKw0RbvzeaIlRMrDwwep-uq_-3WQIlgg1FZwd_RZRsqS_"
        "qgKCDvcVh7ScoKNo3w5h5"
        "fv3ihUSww";
    expect_refused([&] { desk::webauthn::verify_assertion(assertion, cred, challenge); },
                   "signature", "signature does not verify");
}

TEST_CASE("webauthn: known answer - an EdDSA assertion") {
    const std::string id =
        "fq9Nj0nS24B5y6Pkw_h3-9GEAEA3-0LBPxE2zvTdLjDqtSeCSNYFe9VMRueSpAZxT3YDc6L1lWXdQNwI-"
        "sVNYrefEcRR1Nsb"
        "_0jpHE955WEtFud2xxZg3MvoLMxHLet63i5tajd1fHtP7I-00D6cehM8ZWlLp2T3s9lfZgVIFcA";
    const json assertion = assertion_json(
        id, "SZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2MBAAAABw",
        "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoiZVo0ZWVBM080ank1Rkl6cURhU0o2SkROR3UwYkJjNX"
        "pJMURq"
        "UV9rTHNvMVdOcWtHNms1bUNZZjFkdFFoVlVpQldaV2xaa3pSNU1GZWVXQ3BKUlVOWHciLCJvcmlnaW4iOiJodHRwOi"
        "8vbG9j"
        "YWxob3N0OjUwMDAiLCJjcm9zc09yaWdpbiI6ZmFsc2V9",
        "RRWV8mYDRvK7YdQgdtZD4pJ2dh1D_IWZ_D6jsZo6FHJBoenbj0CVT5nA20vUzlRhN4R6dOEUHmUwP1F8eRBhBg");
    const std::string challenge = base64url_decode(
        "eZ4eeA3O4jy5FIzqDaSJ6JDNGu0bBc5zI1DjQ_kLso1WNqkG6k5mCYf1dtQhVUiBWZWlZkzR5MFeeWCpJRUNXw",
        "c");
    const Credential cred{
        id,        -8,          "pAEBAycgBiFYIMz6_SUFLiDid2Yhlq0YboyJ-CDrIrNpkPUGmJp4D3Dp",
        kPyOrigin, "localhost", 3};

    CHECK(desk::webauthn::verify_assertion(assertion, cred, challenge) == 7);
    expect_refused([&] { desk::webauthn::verify_assertion(assertion, cred, challenge.substr(1)); },
                   "challenge", "clientDataJSON.challenge does not match");
}
