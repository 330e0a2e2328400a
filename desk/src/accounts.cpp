#include "tfadesk/desk/accounts.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <map>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/signatures.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/engine/chain.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::desk {

using engine::Account;
using engine::AccountChange;
using engine::Error;
using engine::ErrorKind;
using Roles = std::set<std::string, std::less<>>;

namespace {

std::string new_token() {
    if (sodium_init() < 0) throw Error(ErrorKind::unexpected, "libsodium failed to initialise");
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    std::string token = "tfa_" + engine::to_hex(bytes, sizeof bytes);
    sodium_memzero(bytes, sizeof bytes);
    return token;
}

Account existing(engine::Store& store, const std::string& name) {
    auto a = account_from_log(store, name);
    if (!a) throw Error(ErrorKind::not_found, "no such account: '" + name + "'");
    return *a;
}

// Whether another enabled admin than `name` exists (as the log says).
bool other_admin(engine::Store& store, const std::string& name) {
    for (const auto& [other, a] : accounts_from_log(store))
        if (other != name && a.enabled && a.has("admin")) return true;
    return false;
}

void refuse_self_raising(const std::string& by, const Account& a, bool self_raising) {
    if (auto r = rules::privilege_four_eyes(by, a.name, self_raising))
        throw Error(ErrorKind::refused, "account '" + a.name + "': " + r->message(), r->rule,
                    a.enabled ? "enabled" : "disabled");
}

void refuse_last_admin(engine::Store& store, const Account& a, const char* what) {
    if (a.enabled && a.has("admin") && !other_admin(store, a.name))
        throw Error(
            ErrorKind::refused,
            "account '" + a.name + "' is the last enabled admin and cannot " + what +
                ": the desk would have nobody to manage it (grant admin to another account first)",
            "accounts", a.enabled ? "enabled" : "disabled");
}

// Appends one change by `by` (who must be an admin) and returns the account after it. `extra`:
// members of the change's details beyond account_entry's (SPEC §13's keys and switch); the
// decision is signed as `signer` says (signatures.hpp) before it is appended.
Account change(engine::Store& store, const std::optional<Account>& before, AccountChange kind,
               const std::string& name, const Roles& roles, const Actor& by,
               const std::optional<std::string>& token_hash = {}, const DecisionSigner& signer = {},
               const nlohmann::json& extra = nlohmann::json::object()) {
    const std::string issued = token_hash ? engine::token_id_of(*token_hash) : std::string();
    engine::LogEntry e =
        engine::account_entry(before, kind, name, roles, by.name, now_utc(), issued, by.token_id);
    if (!extra.empty()) {
        auto d = nlohmann::json::parse(e.details);
        d.update(extra);
        e.details = d.dump();
    }
    sign_and_check(store, e, signer);
    const Account after = engine::apply_account_entry(before, e);
    store.append_account(e, after, token_hash);
    spdlog::info("account {} {} by {}", name, to_string(kind), by.name);
    return after;
}

// Runs one account change: canonical names, the admin check, one transaction.
template <class Fn>
auto admin_change(engine::Store& store, const std::string& raw_name, const Actor& raw_by, Fn&& fn) {
    const std::string name = canonical_agent(raw_name, "name");
    const Actor by{canonical_agent(raw_by.name), raw_by.token_id};
    return engine::in_transaction(store, [&] {
        authorize(store, by, "admin", "manage accounts");
        return fn(name, by);
    });
}

}  // namespace

Roles parse_roles(std::string_view list) {
    Roles out;
    std::size_t start = 0;
    while (start <= list.size()) {
        const auto comma = list.find(',', start);
        std::string role(list.substr(
            start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
        while (!role.empty() && role.front() == ' ') role.erase(role.begin());
        while (!role.empty() && role.back() == ' ') role.pop_back();
        if (!engine::is_role(role)) {
            std::string all;
            for (const auto& r : engine::all_roles()) all += (all.empty() ? "" : ", ") + r;
            throw Error::about(ErrorKind::invalid_input, "roles",
                               "unknown role '" + role + "' (expected " + all + ")");
        }
        out.insert(role);
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

std::string token_hash(std::string_view token) { return engine::sha256_hex(token); }

IssuedToken add_account(engine::Store& store, const std::string& raw_name, const Roles& roles,
                        const Actor& raw_by, const DecisionSigner& signer) {
    if (roles.empty())
        throw Error::about(ErrorKind::invalid_input, "roles", "an account needs at least one role");
    for (const auto& r : roles)
        if (!engine::is_role(r))
            throw Error::about(ErrorKind::invalid_input, "roles", "unknown role '" + r + "'");
    const std::string name = canonical_agent(raw_name, "name");
    const Actor by{canonical_agent(raw_by.name), raw_by.token_id};
    return engine::in_transaction(store, [&] {
        if (store.has_accounts())
            authorize(store, by, "admin", "manage accounts");
        else if (!roles.count("admin"))
            throw Error(ErrorKind::refused,
                        "the first account of a desk must hold the role 'admin' (SPEC §7): "
                        "otherwise nobody could manage the desk",
                        "accounts", "no accounts");
        if (store.exists(engine::account_key(name)) || store.account(name))
            throw Error(ErrorKind::conflict, "account '" + name + "' already exists");
        IssuedToken out{{}, new_token()};
        out.account = change(store, std::nullopt, AccountChange::add, name, roles, by,
                             token_hash(out.token), signer);
        return out;
    });
}

Account grant_role(engine::Store& store, const std::string& raw_name, const std::string& role,
                   const Actor& raw_by, const DecisionSigner& signer) {
    const auto roles = parse_roles(role);
    if (roles.size() != 1) throw Error(ErrorKind::invalid_input, "ROLE: give one role");
    return admin_change(store, raw_name, raw_by, [&](const std::string& name, const Actor& by) {
        const Account a = existing(store, name);
        if (a.has(*roles.begin()))
            throw Error(ErrorKind::refused,
                        "account '" + name + "' already holds the role '" + *roles.begin() + "'",
                        "accounts", a.enabled ? "enabled" : "disabled");
        refuse_self_raising(by.name, a, true);
        return change(store, a, AccountChange::grant, name, roles, by, {}, signer);
    });
}

Account revoke_role(engine::Store& store, const std::string& raw_name, const std::string& role,
                    const Actor& raw_by, const DecisionSigner& signer) {
    const auto roles = parse_roles(role);
    if (roles.size() != 1) throw Error(ErrorKind::invalid_input, "ROLE: give one role");
    return admin_change(store, raw_name, raw_by, [&](const std::string& name, const Actor& by) {
        const Account a = existing(store, name);
        if (!a.has(*roles.begin()))
            throw Error(ErrorKind::refused,
                        "account '" + name + "' does not hold the role '" + *roles.begin() + "'",
                        "accounts", a.enabled ? "enabled" : "disabled");
        if (*roles.begin() == "admin") refuse_last_admin(store, a, "lose admin");
        if (a.roles.size() == 1)
            throw Error(ErrorKind::refused,
                        "account '" + name + "' would hold no role; disable it instead", "accounts",
                        a.enabled ? "enabled" : "disabled");
        return change(store, a, AccountChange::revoke, name, roles, by, {}, signer);
    });
}

Account set_enabled(engine::Store& store, const std::string& raw_name, bool enabled,
                    const Actor& raw_by, const DecisionSigner& signer) {
    return admin_change(store, raw_name, raw_by, [&](const std::string& name, const Actor& by) {
        const Account a = existing(store, name);
        if (a.enabled == enabled)
            throw Error(ErrorKind::refused,
                        "account '" + name + "' is already " + (enabled ? "enabled" : "disabled"),
                        "accounts", a.enabled ? "enabled" : "disabled");
        if (!enabled) refuse_last_admin(store, a, "be disabled");
        refuse_self_raising(by.name, a, enabled);
        return change(store, a, enabled ? AccountChange::enable : AccountChange::disable, name, {},
                      by, {}, signer);
    });
}

IssuedToken issue_token(engine::Store& store, const std::string& raw_name, const Actor& raw_by,
                        const DecisionSigner& signer) {
    return admin_change(store, raw_name, raw_by, [&](const std::string& name, const Actor& by) {
        const Account a = existing(store, name);
        IssuedToken out{{}, new_token()};
        out.account =
            change(store, a, AccountChange::token, name, {}, by, token_hash(out.token), signer);
        return out;
    });
}

// --- SPEC §13: personal keys and the require-signatures switch ----------------------------------

namespace {

// The acting account itself, enabled and authenticated by its token of record (any role).
Account own_account(engine::Store& store, const Actor& by, std::string_view what) {
    if (!store.has_accounts())
        throw Error(ErrorKind::forbidden,
                    "this desk has no accounts: " + std::string(what) + " needs one");
    const auto a = account_from_log(store, by.name);
    if (!a)
        throw Error(ErrorKind::forbidden, "agent '" + by.name + "' has no account on this desk");
    authorize(store, by, *a->roles.begin(), what);  // any role it holds: enabled, token of record
    return *a;
}

}  // namespace

Account add_key(engine::Store& store, const std::string& public_key, const Actor& raw_by,
                const DecisionSigner& signer) {
    const VerifierKey key = parse_verifier_key(public_key);
    const Actor by{canonical_agent(raw_by.name), raw_by.token_id};
    if (key.name != by.name)
        throw Error(ErrorKind::invalid_input,
                    "PUBLIC: the key is named '" + key.name + "', not after the account '" +
                        by.name + "' (a key is registered only by its own account)");
    return engine::in_transaction(store, [&] {
        const Account a = own_account(store, by, "register a key");
        const std::string text = verifier_key(key);
        const std::string id = text.substr(key.name.size() + 1, 8);
        if (a.keys.count(id))
            throw Error(ErrorKind::conflict,
                        "account '" + a.name + "' holds key " + id + " already");
        return change(store, a, AccountChange::key_add, a.name, {}, by, {}, signer,
                      {{"public_key", text}});
    });
}

Account remove_key(engine::Store& store, const std::string& key_id, const Actor& raw_by,
                   const DecisionSigner& signer) {
    if (!engine::is_key_id(key_id))
        throw Error(ErrorKind::invalid_input,
                    "KEYID: must be 8 lowercase hex digits (the key's id)");
    const Actor by{canonical_agent(raw_by.name), raw_by.token_id};
    return engine::in_transaction(store, [&] {
        const Account a = own_account(store, by, "remove a key");
        if (!a.keys.count(key_id))
            throw Error(ErrorKind::not_found, "account '" + a.name + "' holds no key " + key_id);
        return change(store, a, AccountChange::key_remove, a.name, {}, by, {}, signer,
                      {{"key_id", key_id}});
    });
}

std::optional<Account> passkey_owner(engine::Store& store, std::string_view credential_id) {
    for (auto& [name, a] : accounts_from_log(store))
        if (a.passkeys.count(credential_id)) return a;
    return std::nullopt;
}

Account add_passkey(engine::Store& store, const webauthn::Credential& passkey, const Actor& raw_by,
                    const DecisionSigner& signer) {
    const Actor by{canonical_agent(raw_by.name), raw_by.token_id};
    return engine::in_transaction(store, [&] {
        const Account a = own_account(store, by, "register a passkey");
        if (passkey_owner(store, passkey.id_b64url))
            throw Error(ErrorKind::conflict,
                        "passkey " + passkey.id_b64url + " is registered on this desk already");
        return change(store, a, AccountChange::passkey_add, a.name, {}, by, {}, signer,
                      {{"passkey",
                        {{"id", passkey.id_b64url},
                         {"alg", passkey.alg},
                         {"public_key", passkey.cose_key_b64url},
                         {"origin", passkey.origin},
                         {"rp_id", passkey.rp_id}}}});
    });
}

Account remove_passkey(engine::Store& store, const std::string& credential_id, const Actor& raw_by,
                       const DecisionSigner& signer) {
    const Actor by{canonical_agent(raw_by.name), raw_by.token_id};
    return engine::in_transaction(store, [&] {
        const Account a = own_account(store, by, "remove a passkey");
        if (!a.passkeys.count(credential_id))
            throw Error(ErrorKind::not_found, "account '" + a.name + "' holds no passkey " +
                                                  rules::escape_control(credential_id));
        return change(store, a, AccountChange::passkey_remove, a.name, {}, by, {}, signer,
                      {{"passkey_id", credential_id}});
    });
}

bool require_signatures(engine::Store& store, bool on, const Actor& raw_by,
                        const DecisionSigner& signer) {
    const Actor by{canonical_agent(raw_by.name), raw_by.token_id};
    return engine::in_transaction(store, [&] {
        authorize(store, by, "admin", "require signatures");
        if (signatures_required(store) == on)
            throw Error(ErrorKind::refused,
                        std::string("this desk ") + (on ? "requires" : "does not require") +
                            " signed decisions already",
                        "accounts", on ? "signatures required" : "signatures not required");
        const Account a = existing(store, by.name);
        change(store, a, AccountChange::require_signatures, a.name, {}, by, {}, signer,
               {{"on", on}});
        return on;
    });
}

std::string token_id(std::string_view token) { return engine::token_id_of(token_hash(token)); }

std::optional<Account> authenticate(engine::Store& store, std::string_view token) {
    if (token.size() != 68 || token.substr(0, 4) != "tfa_") return std::nullopt;
    const std::string hash = token_hash(token);
    // The row's index finds the candidate; the log decides (SPEC §12).
    const auto row = store.account_by_token(hash);
    if (!row) return std::nullopt;
    auto a = account_from_log(store, row->name);
    if (!a || !a->enabled) return std::nullopt;
    if (!a->token_id.empty() && a->token_id != engine::token_id_of(hash)) {
        spdlog::warn(
            "account {}: its row holds a token that its log never issued (an edited row?); refused",
            a->name);
        return std::nullopt;
    }
    const auto stored = store.account_token_hash(a->name);
    if (!stored || stored->size() != hash.size() ||
        sodium_memcmp(stored->data(), hash.data(), hash.size()) != 0)
        return std::nullopt;
    return a;
}

std::optional<Actor> authenticate_actor(engine::Store& store, std::string_view token) {
    auto a = authenticate(store, token);
    if (!a) return std::nullopt;
    return Actor{a->name, token_id(token)};
}

nlohmann::json list_accounts(engine::Store& store) {
    nlohmann::json out = nlohmann::json::array();
    store.for_each_account([&](const Account& a) { out.push_back(account_view(a)); });
    return out;
}

nlohmann::json account_history(engine::Store& store, const std::optional<std::string>& raw_name) {
    std::vector<engine::LogEntry> entries;
    if (raw_name) {
        const std::string name = canonical_agent(*raw_name, "name");
        entries = store.entries(engine::account_key(name));
        if (entries.empty()) throw Error(ErrorKind::not_found, "no such account: '" + name + "'");
    } else {
        store.for_each_entry([&](const engine::LogEntry& e) {
            if (engine::is_account_key(e.ref)) entries.push_back(e);
        });
    }
    nlohmann::json out = nlohmann::json::array();
    std::map<std::string, Account> state;
    for (const auto& e : entries) {
        const auto it = state.find(e.ref);
        const Account after = engine::apply_account_entry(
            it == state.end() ? std::nullopt : std::optional<Account>(it->second), e);
        state[e.ref] = after;
        out.push_back(account_change_view(e, after));
    }
    return out;
}

}  // namespace tfadesk::desk
