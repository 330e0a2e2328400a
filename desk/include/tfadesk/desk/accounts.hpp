// Accounts and roles (SPEC §7): every change is an entry of the hash-chained log, made by an
// admin (or, for the very first account, by whoever sets the desk up), in one transaction.
// Tokens are 256 random bits, shown once, stored only as their SHA-256.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/signatures.hpp"
#include "tfadesk/desk/webauthn.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

struct IssuedToken {
    engine::Account account;
    std::string token;  // printed once; never stored
};

// Roles from a comma-separated list ("agent,approver"): Error(invalid_input) naming an unknown one.
std::set<std::string, std::less<>> parse_roles(std::string_view list);

// Every change is made by `by`, an admin authenticated by its token (SPEC §12), whose token id
// the entry records; only the first account of a desk is added by someone without an account.
// R10: no account grants a role to itself or enables itself (refused, exit 3).

// `agent add`: Error(conflict) for a duplicate name; the first account must hold admin (refused).
IssuedToken add_account(engine::Store& store, const std::string& name,
                        const std::set<std::string, std::less<>>& roles, const Actor& by,
                        const DecisionSigner& signer = {});
// `agent grant` / `agent revoke`: Error(not_found) for an unknown account; the last enabled admin
// cannot lose admin (refused, exit 3).
engine::Account grant_role(engine::Store& store, const std::string& name, const std::string& role,
                           const Actor& by, const DecisionSigner& signer = {});
engine::Account revoke_role(engine::Store& store, const std::string& name, const std::string& role,
                            const Actor& by, const DecisionSigner& signer = {});
// `agent disable` / `agent enable`: the last enabled admin cannot be disabled (refused).
engine::Account set_enabled(engine::Store& store, const std::string& name, bool enabled,
                            const Actor& by, const DecisionSigner& signer = {});
// `agent token`: a new token replaces the old one at once.
IssuedToken issue_token(engine::Store& store, const std::string& name, const Actor& by,
                        const DecisionSigner& signer = {});

// --- SPEC §13: personal keys and signed decisions ------------------------------------------------
// Every change above is a decision: `signer` signs it (signatures.hpp), and on a desk that
// requires signatures an unsigned one is Error(forbidden).

// `agent key add PUBLIC`: registers the verifier key (NAME+KEYID+BASE64, NAME = the account) for
// `by`'s own account. Error(invalid_input) for a malformed key or one named after someone else,
// Error(conflict) for a key the account holds already.
engine::Account add_key(engine::Store& store, const std::string& public_key, const Actor& by,
                        const DecisionSigner& signer = {});
// `agent key remove KEYID`: retires one of `by`'s own keys (Error(not_found) for one it lacks).
engine::Account remove_key(engine::Store& store, const std::string& key_id, const Actor& by,
                           const DecisionSigner& signer = {});
// SPEC §13, the page: registers a passkey (checked by webauthn::verify_registration) for `by`'s
// own account. Error(conflict) for a credential id the desk knows already (any account's).
engine::Account add_passkey(engine::Store& store, const webauthn::Credential& passkey,
                            const Actor& by, const DecisionSigner& signer = {});
// Retires one of `by`'s own passkeys (Error(not_found) for one it lacks).
engine::Account remove_passkey(engine::Store& store, const std::string& credential_id,
                               const Actor& by, const DecisionSigner& signer = {});
// The account holding the passkey `credential_id`, or nothing (sign-in with a passkey).
std::optional<engine::Account> passkey_owner(engine::Store& store, std::string_view credential_id);

// `agent require-signatures on|off` (admin): an entry under the admin's own account. Refused
// (exit 3) when the desk is already so.
bool require_signatures(engine::Store& store, bool on, const Actor& by,
                        const DecisionSigner& signer = {});

// The enabled account a token belongs to, as the log says (SPEC §12): the token's hash finds the
// cached row, and the account's log must name that token (its id) as its token of record and
// leave the account enabled; the row's full hash is compared in constant time. Nothing
// otherwise. An account whose token was issued before token ids were recorded is answered by
// its row alone (docs/admin-guide.md: re-issue such tokens).
std::optional<engine::Account> authenticate(engine::Store& store, std::string_view token);
// The Actor a token authenticates (its account's name and the token's id), or nothing.
std::optional<Actor> authenticate_actor(engine::Store& store, std::string_view token);

// The id of a token (SPEC §12: the first 16 hex digits of its SHA-256).
std::string token_id(std::string_view token);

// `agent list --json` and `agent history [NAME] --json` (SPEC §7).
nlohmann::json list_accounts(engine::Store& store);
nlohmann::json account_history(engine::Store& store, const std::optional<std::string>& name);

// The stored form of a token (hex SHA-256).
std::string token_hash(std::string_view token);

}  // namespace tfadesk::desk
