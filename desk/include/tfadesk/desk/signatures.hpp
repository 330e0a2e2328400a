// Signed decisions (SPEC §13): personal Ed25519 keys, the decision text they sign, and the desk's
// require-signatures switch. A decision entry records {"key": KEYID, "sig": BASE64} under
// "signature" in its details (so in its hash); a first key registered while signatures are
// required records another admin's "countersignature" {"agent", "key", "sig"} instead.
// Checked twice: when the entry is written (a bad signature, or a missing one where required,
// is Error(forbidden): exit 7, HTTP 403, nothing written) and by verify, from the log alone.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "tfadesk/desk/note.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/decision.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

// A signature a client made itself: the API's "signature": {"key", "sig"}, or a passkey's
// "assertion" (PublicKeyCredential.toJSON() of navigator.credentials.get() over the challenge
// SHA-256(decision text)).
struct GivenSignature {
    std::string key;  // KEYID, 8 lowercase hex digits ("" for a passkey)
    std::string sig;  // standard base64 of the 64-byte Ed25519 signature over the decision text
                      // (a passkey: the assertion's signature, base64url)
    std::string passkey, authenticator_data, client_data_json;  // a passkey's, base64url
};

// Thrown by sign_and_check instead of writing when the signer asks only for the decision text
// (DecisionSigner::text_only: the page asks what its passkey must sign). Nothing is written.
class DecisionTextOnly : public engine::Error {
public:
    explicit DecisionTextOnly(std::string decision_text)
        : Error(engine::ErrorKind::refused, "the decision text only: nothing is written"),
          text(std::move(decision_text)) {}
    std::string text;
};

// What signs the decision a write makes: the acting agent's own key (--sign-key) or a signature
// it made itself, and for an account's first key on a desk that requires signatures another
// admin's key (--countersign-key). Empty: nothing is signed.
struct DecisionSigner {
    std::optional<SigningKey> key;
    std::optional<GivenSignature> given;
    std::optional<SigningKey> countersign;
    bool text_only = false;  // throw DecisionTextOnly with the decision text, write nothing
};

// A new personal key for account `name` (the key's NAME, SPEC §8's verifier-key form).
// Error(invalid_input) when the account name cannot be a key NAME (it holds '@').
SigningKey generate_personal_key(const std::string& name);

// Signs `e` (when it is a decision) as `signer` says and checks it against the accounts as the
// log has them before `e`: Error(forbidden) for a signature that is not by a key registered to
// the entry's agent (or does not verify), a countersignature that is not another enabled
// admin's, and, while the desk requires signatures, a decision without a valid signature.
// Non-decisions are left as they are. For the write path (engine::apply_event's before_append).
void sign_and_check(engine::Store& store, engine::LogEntry& e, const DecisionSigner& signer);

// Whether the desk requires signed decisions now (the last require-signatures entry of the log).
bool signatures_required(engine::Store& store);

// Why `sig` is not a valid signature over `text` by a key `owner` held (keys: the account's keys
// at that point of the log), or nothing when it is.
std::optional<std::string> signature_problem(const engine::RecordedSignature& sig,
                                             std::string_view text, const engine::Account* owner,
                                             std::string_view owner_name);

// The signature a client sends, checked for shape (8 hex digits, canonical base64 of 64 bytes):
// Error(invalid_input) naming `field` otherwise.
GivenSignature parse_given_signature(const std::string& key, const std::string& sig,
                                     std::string_view field);
// The challenge a passkey signs a decision with: SHA-256 of its decision text (32 raw bytes).
std::string decision_challenge(std::string_view text);

// A passkey assertion as the page sends it (PublicKeyCredential.toJSON()): id and
// response.authenticatorData, clientDataJSON and signature, each base64url. Error(invalid_input)
// naming `field` otherwise.
GivenSignature parse_given_assertion(const nlohmann::json& credential, std::string_view field);

}  // namespace tfadesk::desk
