// Accounts (SPEC §7) as the log knows them. Every account change is a log entry in the same
// hash-chained log as the tickets, under the key `account:NAME` - a ':' can never appear in a
// ticket ref (SPEC §2), so the two key spaces never collide. The account row a store keeps is a
// cache of those entries, rebuilt and compared by verify exactly like a ticket row.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/journal.hpp"

namespace tfadesk::engine {

inline constexpr std::string_view kAccountPrefix = "account:";
inline bool is_account_key(std::string_view ref) {
    return ref.substr(0, kAccountPrefix.size()) == kAccountPrefix;
}
inline std::string account_key(std::string_view name) {
    return std::string(kAccountPrefix) + std::string(name);
}

// SPEC §12: a token's id is the first 16 hex digits of its SHA-256. An account entry that issues a
// token records its id under "token_id"; every entry written by an authenticated account records
// the id of the token that authenticated it under "by_token" (in its details, so in its hash).
inline constexpr std::string_view kTokenIdKey = "token_id";
inline constexpr std::string_view kByTokenKey = "by_token";
// SPEC §17: an entry written by a helpdesk connector (acting as its account, with no token of
// its own in hand) records where it came from under "via": "intake:SOURCE", SOURCE 1-64 chars of
// A-Z a-z 0-9 . _ -. It is part of the details, so of the hash.
inline constexpr std::string_view kViaKey = "via";
inline constexpr std::string_view kViaIntakePrefix = "intake:";
bool is_via(std::string_view via);
// The id of the token whose SHA-256 is `token_hash` (lowercase hex).
std::string token_id_of(std::string_view token_hash);
bool is_token_id(std::string_view id);
// A personal key's id (SPEC §13, the KEYID of §8): 8 lowercase hex digits.
bool is_key_id(std::string_view id);
// The token id an entry's details record under "by_token", or "" (none, or details that are not
// a flat object).
std::string recorded_by_token(const LogEntry& e);

// SPEC §13: whether `event` adds or removes one of an account's own keys or passkeys (written
// by the account itself), and whether `e` registers the first one of `before` (nothing: the
// account had no entry), for which another admin vouches.
bool is_own_key_change(std::string_view event);
struct Account;
bool registers_first_key(const LogEntry& e, const Account* before);

// SPEC §7's roles, sorted.
const std::vector<std::string>& all_roles();
bool is_role(std::string_view role);

// The changes an admin makes; stored as event "account-CHANGE". SPEC §13 adds the account's own
// personal keys (key-add, key-remove: made by the account itself) and the desk-wide switch
// require-signatures (made by an admin, recorded under the admin's own account).
enum class AccountChange {
    add,
    grant,
    revoke,
    disable,
    enable,
    token,
    key_add,
    key_remove,
    require_signatures,
    passkey_add,  // SPEC §13: a WebAuthn credential, registered by the account itself
    passkey_remove
};
std::string_view to_string(AccountChange c);
std::optional<AccountChange> parse_account_change(std::string_view event);  // "account-add" ...

struct Account {
    std::string name;
    std::set<std::string, std::less<>> roles;
    bool enabled = true;
    std::string created_at;
    std::string updated_at;
    std::int64_t version = 0;  // its number of log entries
    // The id of its token of record, as the log says (SPEC §12); "" when the entry that issued it
    // was written before token ids were recorded. Never part of the cached row's comparison.
    std::string token_id;
    // SPEC §13: its personal keys as the log registered them, key id (8 hex digits) -> the
    // verifier key text NAME+KEYID+BASE64. Never part of the cached row's comparison.
    std::map<std::string, std::string, std::less<>> keys;
    // SPEC §13: its passkeys as the log registered them, by credential id (base64url).
    struct Passkey {
        int alg = 0;             // COSE: -7 ES256, -8 EdDSA
        std::string public_key;  // the COSE key, base64url, as the authenticator gave it
        std::string origin;      // the page's origin at registration: assertions must come from it
        std::string rp_id;       // the relying party id it is scoped to
        bool operator==(const Passkey& o) const {
            return alg == o.alg && public_key == o.public_key && origin == o.origin &&
                   rp_id == o.rp_id;
        }
    };
    std::map<std::string, Passkey, std::less<>> passkeys;  // never part of the row's comparison
    // Whether it holds any personal key or passkey (who vouches for a first key, SPEC §13).
    bool holds_keys() const { return !keys.empty() || !passkeys.empty(); }
    bool has(std::string_view role) const { return roles.count(role) != 0; }
};

bool operator==(const Account& a, const Account& b);
inline bool operator!=(const Account& a, const Account& b) { return !(a == b); }

// The log entry of one change (not yet appended): `role` for grant/revoke, `roles` for add;
// `issued` the id of the token an add or token change issues; `by_token` the id of the token
// that authenticated `by` ("" when the desk had no accounts).
LogEntry account_entry(const std::optional<Account>& before, AccountChange change,
                       const std::string& name, const std::set<std::string, std::less<>>& roles,
                       const std::string& by, const std::string& at, const std::string& issued = {},
                       const std::string& by_token = {});

// Applies one change entry to the account as it was before it (nothing for `add`). Throws
// Error(integrity) naming the entry when it does not apply (edited, reordered, inserted).
Account apply_account_entry(const std::optional<Account>& before, const LogEntry& e);

// Rebuilds an account from its entries alone (in tseq order).
Account replay_account(const std::vector<LogEntry>& entries);

// Names of the fields in which two accounts differ ("roles", "enabled", ...).
std::vector<std::string> differences(const Account& expected, const Account& actual);

}  // namespace tfadesk::engine
