#include "tfadesk/desk/signatures.hpp"

#include <sodium.h>

#include <map>
#include <nlohmann/json.hpp>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/desk/webauthn.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;

namespace {

std::string hex8(std::uint32_t v) {
    static const char* hex = "0123456789abcdef";
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = hex[v & 0xF];
    return out;
}

std::string base64(const unsigned char* data, std::size_t size) {
    std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();
    return out;
}

// The 64 bytes of a signature in canonical standard base64, or nothing.
std::optional<std::array<unsigned char, 64>> signature_bytes(std::string_view b64) {
    std::array<unsigned char, 64> out{};
    if (b64.size() != 88) return std::nullopt;
    std::size_t size = 0;
    if (sodium_base642bin(out.data(), out.size(), b64.data(), b64.size(), nullptr, &size, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        size != out.size() || base64(out.data(), out.size()) != b64)
        return std::nullopt;
    return out;
}

nlohmann::json signature_json(const SigningKey& key, std::string_view text) {
    const auto sig = key.sign(text);
    return {{"key", hex8(key.key_id())}, {"sig", base64(sig.data(), sig.size())}};
}

// The accounts as the log has them, and whether signatures are required: one pass.
struct DeskState {
    std::map<std::string, engine::Account, std::less<>> accounts;
    bool required = false;
};

DeskState desk_state(engine::Store& store) {
    DeskState s;
    for (const auto& e : store.account_entries()) {
        const std::string name = e.ref.substr(engine::kAccountPrefix.size());
        const auto it = s.accounts.find(name);
        auto after = engine::apply_account_entry(
            it == s.accounts.end() ? std::nullopt : std::optional(it->second), e);
        s.accounts.insert_or_assign(name, std::move(after));
        if (e.event == "account-require-signatures")
            s.required = nlohmann::json::parse(e.details).value("on", false);
    }
    return s;
}

const engine::Account* find(const DeskState& s, std::string_view name) {
    const auto it = s.accounts.find(name);
    return it == s.accounts.end() ? nullptr : &it->second;
}

}  // namespace

SigningKey generate_personal_key(const std::string& name) {
    if (!is_valid_key_name(name))
        throw Error(ErrorKind::invalid_input, "account '" + rules::escape_control(name) +
                                                  "': a personal key is named after its account, "
                                                  "and a key NAME is 1-64 of A-Z a-z 0-9 . _ - /");
    return generate_key(name);
}

GivenSignature parse_given_signature(const std::string& key, const std::string& sig,
                                     std::string_view field) {
    if (!engine::is_key_id(key))
        throw Error(ErrorKind::invalid_input,
                    std::string(field) + ".key: must be a key id (8 lowercase hex digits)");
    if (!signature_bytes(sig))
        throw Error(ErrorKind::invalid_input,
                    std::string(field) +
                        ".sig: must be the standard base64 of a 64-byte Ed25519 signature");
    GivenSignature g;
    g.key = key;
    g.sig = sig;
    return g;
}

GivenSignature parse_given_assertion(const nlohmann::json& credential, std::string_view field) {
    const std::string f(field);
    const auto member = [&](const nlohmann::json& in, const char* key, const std::string& name) {
        if (!in.is_object() || !in.contains(key) || !in[key].is_string())
            throw Error(ErrorKind::invalid_input, f + "." + name + ": must be a base64url string");
        const std::string v = in[key].get<std::string>();
        webauthn::base64url_decode(v, f + "." + name);  // well-formed, or invalid_input
        return v;
    };
    if (!credential.is_object() || !credential.contains("response") ||
        !credential["response"].is_object())
        throw Error(
            ErrorKind::invalid_input,
            f + ": must be a passkey assertion, PublicKeyCredential.toJSON() with its response");
    const auto& r = credential["response"];
    GivenSignature g;
    g.passkey = member(credential, "id", "id");
    g.authenticator_data = member(r, "authenticatorData", "response.authenticatorData");
    g.client_data_json = member(r, "clientDataJSON", "response.clientDataJSON");
    g.sig = member(r, "signature", "response.signature");
    return g;
}

std::string decision_challenge(std::string_view text) {
    std::string out(crypto_hash_sha256_BYTES, '\0');
    crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                       reinterpret_cast<const unsigned char*>(text.data()), text.size());
    return out;
}

namespace {

// A passkey's assertion over `text` (its challenge is SHA-256 of the text), by a passkey `owner`
// held then; the sign count is not judged here (the log keeps no counter per passkey).
std::optional<std::string> passkey_problem(const engine::RecordedSignature& sig,
                                           std::string_view text, const engine::Account& owner,
                                           const std::string& who) {
    const auto it = owner.passkeys.find(sig.passkey);
    if (it == owner.passkeys.end())
        return "it is signed by passkey " + rules::escape_control(sig.passkey) +
               ", which was not a passkey registered to " + who + " then";
    const webauthn::Credential registered{
        sig.passkey, it->second.alg, it->second.public_key, it->second.origin, it->second.rp_id, 0};
    try {
        webauthn::check_recorded_assertion(
            webauthn::base64url_decode(sig.authenticator_data, "authenticator_data"),
            webauthn::base64url_decode(sig.client_data_json, "client_data_json"),
            webauthn::base64url_decode(sig.sig, "sig"), registered, decision_challenge(text));
    } catch (const Error& e) {
        return "its assertion by passkey " + rules::escape_control(sig.passkey) + " of " + who +
               " does not hold over its decision text (" + e.what() + ")";
    }
    return std::nullopt;
}

}  // namespace

std::optional<std::string> signature_problem(const engine::RecordedSignature& sig,
                                             std::string_view text, const engine::Account* owner,
                                             std::string_view owner_name) {
    const std::string who = "'" + rules::escape_control(owner_name) + "'";
    if (!owner)
        return "it is signed by " +
               (sig.by_passkey() ? "passkey " + rules::escape_control(sig.passkey)
                                 : "key " + sig.key) +
               ", but " + who + " had no account then";
    if (sig.by_passkey()) return passkey_problem(sig, text, *owner, who);
    const auto it = owner->keys.find(sig.key);
    if (it == owner->keys.end())
        return "it is signed by key " + sig.key + ", which was not a key registered to " + who +
               " then";
    VerifierKey key;
    try {
        key = parse_verifier_key(it->second);
    } catch (const Error&) {
        return "key " + sig.key + " of " + who + " is not a valid verifier key";
    }
    if (key.name != owner_name || hex8(key.key_id) != sig.key)
        return "key " + sig.key + " is not named after " + who;
    const auto bytes = signature_bytes(sig.sig);
    if (!bytes || crypto_sign_verify_detached(bytes->data(),
                                              reinterpret_cast<const unsigned char*>(text.data()),
                                              text.size(), key.public_key.data()) != 0)
        return "its signature by key " + sig.key + " of " + who +
               " does not verify over its decision text";
    return std::nullopt;
}

bool signatures_required(engine::Store& store) { return desk_state(store).required; }

void sign_and_check(engine::Store& store, engine::LogEntry& e, const DecisionSigner& signer) {
    if (!engine::is_decision(e)) return;
    const std::string text = engine::decision_text(e);
    if (signer.text_only) throw DecisionTextOnly(text);
    if (signer.key || signer.given || signer.countersign) {
        nlohmann::json d = nlohmann::json::parse(e.details);
        if (signer.key) {
            if (signer.key->name() != e.agent)
                throw Error::about(ErrorKind::forbidden, "sign_key",
                                   "the key is named '" +
                                       rules::escape_control(signer.key->name()) +
                                       "', not after agent '" + e.agent + "'; nothing was written");
            d[std::string(engine::kSignatureKey)] = signature_json(*signer.key, text);
        } else if (signer.given && !signer.given->passkey.empty()) {
            d[std::string(engine::kSignatureKey)] = {
                {"passkey", signer.given->passkey},
                {"authenticator_data", signer.given->authenticator_data},
                {"client_data_json", signer.given->client_data_json},
                {"sig", signer.given->sig}};
        } else if (signer.given) {
            d[std::string(engine::kSignatureKey)] = {{"key", signer.given->key},
                                                     {"sig", signer.given->sig}};
        }
        if (signer.countersign) {
            auto cs = signature_json(*signer.countersign, text);
            cs["agent"] = signer.countersign->name();
            d[std::string(engine::kCountersignatureKey)] = std::move(cs);
        }
        e.details = d.dump();
    }
    const DeskState state = desk_state(store);
    const std::string subject = "the " + e.event + " by '" + e.agent + "'";
    const auto sig = engine::recorded_signature(e, engine::kSignatureKey);
    if (sig)
        if (auto bad = signature_problem(*sig, text, find(state, e.agent), e.agent))
            throw Error(ErrorKind::forbidden, subject + ": " + *bad + "; nothing was written");
    const auto cs = engine::recorded_signature(e, engine::kCountersignatureKey);
    const std::string owner =
        engine::is_account_key(e.ref) ? e.ref.substr(engine::kAccountPrefix.size()) : e.agent;
    if (cs) {
        const engine::Account* admin = find(state, cs->agent);
        if (cs->agent == owner || !admin || !admin->enabled || !admin->has("admin"))
            throw Error::about(ErrorKind::forbidden, "countersign_key",
                               "the countersigner '" + rules::escape_control(cs->agent) +
                                   "' must be another enabled admin than '" + owner +
                                   "'; nothing was written");
        if (auto bad = signature_problem(*cs, text, admin, cs->agent))
            throw Error::about(ErrorKind::forbidden, "countersign_key",
                               *bad + "; nothing was written");
    }
    if (!state.required || sig) return;
    const engine::Account* me = find(state, e.agent);
    const bool first_key = engine::registers_first_key(e, me);
    if (first_key && cs) return;
    engine::Words how = "this desk requires signed decisions (SPEC §13): " + subject +
                        " needs a signature by a key or passkey registered to '" + e.agent + "' " +
                        engine::action("sign_with_key", "(a signing key or a passkey)");
    if (first_key)
        how += ", or, for the account's first key, another admin's countersignature " +
               engine::action("countersign_with_key", "(with their key)");
    throw Error(ErrorKind::forbidden, how + "; nothing was written");
}

}  // namespace tfadesk::desk
