// Passkeys (SPEC §13): the WebAuthn relying-party checks, rule by rule, as pure functions over
// bytes and JSON - no HTTP, no store, no clock. The page sends PublicKeyCredential.toJSON() (binary
// fields in base64url without padding); the desk keeps a Credential per passkey in the account's
// log entries; a signed decision records the assertion's raw authenticator data, client data JSON
// and signature, which `verify` checks again with check_recorded_assertion.
//
// Accepted: attestation "none" (and "packed", whose statement is not checked: like "none", it
// proves nothing about the authenticator's make), COSE keys ES256 (EC2, P-256) and EdDSA (OKP,
// Ed25519). Every check is WebAuthn Level 2 §7.1 (registration) or §7.2 (assertion) with that
// section's wording in the message.
//
// Errors are engine::Error, one line starting "passkey: ":
//   - invalid_input (exit 2, HTTP 400) for what cannot be decoded: bad base64url, bad JSON, bad
//     CBOR, a missing field, a field of the wrong type or size;
//   - forbidden (exit 7, HTTP 403) for a well-formed credential that breaks a rule; rule() then
//     names it: "passkey.type", "passkey.challenge", "passkey.origin", "passkey.cross-origin",
//     "passkey.rp-id-hash", "passkey.user-present", "passkey.attested-data",
//     "passkey.attestation-format", "passkey.algorithm", "passkey.public-key",
//     "passkey.credential-id", "passkey.signature", "passkey.sign-count".
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace tfadesk::desk::webauthn {

inline constexpr int kAlgES256 = -7;  // COSE: ECDSA with SHA-256 on P-256
inline constexpr int kAlgEdDSA = -8;  // COSE: EdDSA (Ed25519 only, crv 6)

// A registered passkey, as an account entry records it.
struct Credential {
    std::string id_b64url;         // the credential id, base64url without padding
    int alg = 0;                   // kAlgES256 or kAlgEdDSA
    std::string cose_key_b64url;   // the COSE_Key bytes exactly as the authenticator sent them
    std::string origin;            // the origin of the page that registered it
    std::string rp_id;             // the relying party id it is scoped to
    std::uint32_t sign_count = 0;  // the authenticator's counter, last seen
};

// `bytes` in base64url (RFC 4648 §5) without padding.
std::string base64url_encode(std::string_view bytes);

// The bytes `text` spells in base64url without padding. Strict: '=', '+', '/', whitespace, any
// other character, a length of 4k+1 and non-zero unused bits are refused, so one byte string has
// one spelling. Error(invalid_input) "passkey: WHAT is not base64url without padding" otherwise.
std::string base64url_decode(std::string_view text, std::string_view what);

// Checks a registration (navigator.credentials.create()'s answer as toJSON()) against the
// challenge the desk issued (raw bytes), its relying party id and the page's origin, and returns
// the credential to record. Checks, in order: credential.type is "public-key"; clientDataJSON's
// type is "webauthn.create", its challenge is base64url(expected_challenge), its origin is
// `origin`, crossOrigin is not true; the attestation object is a CBOR map of exactly fmt,
// attStmt and authData with fmt "none" (attStmt empty) or "packed"; in authData the rpIdHash is
// SHA-256(rp_id), the user-present (UP) and attested-credential-data (AT) flags are set, the
// credential id equals credential.id (and rawId); the COSE key is EC2/ES256/P-256 with a point on
// the curve, or OKP/EdDSA/Ed25519. Nothing may follow the key but the extensions the ED flag
// announces. Throws as the file comment says.
Credential verify_registration(const nlohmann::json& credential,
                               std::string_view expected_challenge, std::string_view rp_id,
                               std::string_view origin);

// Checks an assertion (navigator.credentials.get()'s answer as toJSON()) by `registered` over
// the challenge the desk issued (raw bytes) and returns the authenticator's new sign count.
// credential.type must be "public-key" and credential.id (and rawId) registered.id_b64url; the
// rest is check_recorded_assertion's.
std::uint32_t verify_assertion(const nlohmann::json& credential, const Credential& registered,
                               std::string_view expected_challenge);

// The assertion checks over recorded raw bytes (what a signed decision's entry holds), for
// verify_assertion and for `verify`: clientDataJSON's type is "webauthn.get", its challenge is
// base64url(expected_challenge), its origin registered.origin, crossOrigin not true; the
// authenticator data's rpIdHash is SHA-256(registered.rp_id), its UP flag is set and its AT flag
// clear; `signature` verifies by the registered key over authenticator_data ||
// SHA-256(client_data_json) (ES256: a strict DER SEQUENCE of two INTEGERs; EdDSA: 64 bytes); and,
// when either registered.sign_count or the new count is non-zero, the new count is above
// registered.sign_count (a counter that does not grow suggests a cloned authenticator). A caller
// that does not track counters passes sign_count 0. Returns the new sign count.
std::uint32_t check_recorded_assertion(std::string_view authenticator_data,
                                       std::string_view client_data_json,
                                       std::string_view signature, const Credential& registered,
                                       std::string_view expected_challenge);

}  // namespace tfadesk::desk::webauthn
