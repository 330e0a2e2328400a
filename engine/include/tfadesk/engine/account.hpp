// Accounts (SPEC §7) as the log knows them. Every account change is a log entry in the same
// hash-chained log as the tickets, under the key `account:NAME` - a ':' can never appear in a
// ticket ref (SPEC §2), so the two key spaces never collide. The account row a store keeps is a
// cache of those entries, rebuilt and compared by verify exactly like a ticket row.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/journal.hpp"

namespace tfadesk::engine {

inline constexpr std::string_view kAccountPrefix = "account:";
inline bool is_account_key(std::string_view ref) { return ref.substr(0, kAccountPrefix.size()) == kAccountPrefix; }
inline std::string account_key(std::string_view name) { return std::string(kAccountPrefix) + std::string(name); }

// SPEC §7's roles, sorted.
const std::vector<std::string>& all_roles();
bool is_role(std::string_view role);

// The changes an admin makes; stored as event "account-CHANGE".
enum class AccountChange { add, grant, revoke, disable, enable, token };
std::string_view to_string(AccountChange c);
std::optional<AccountChange> parse_account_change(std::string_view event);  // "account-add" ...

struct Account {
    std::string name;
    std::set<std::string, std::less<>> roles;
    bool enabled = true;
    std::string created_at;
    std::string updated_at;
    std::int64_t version = 0;  // its number of log entries
    bool has(std::string_view role) const { return roles.count(role) != 0; }
};

bool operator==(const Account& a, const Account& b);
inline bool operator!=(const Account& a, const Account& b) { return !(a == b); }

// The log entry of one change (not yet appended): `role` for grant/revoke, `roles` for add.
LogEntry account_entry(const std::optional<Account>& before, AccountChange change, const std::string& name,
                       const std::set<std::string, std::less<>>& roles, const std::string& by, const std::string& at);

// Applies one change entry to the account as it was before it (nothing for `add`). Throws
// Error(integrity) naming the entry when it does not apply (edited, reordered, inserted).
Account apply_account_entry(const std::optional<Account>& before, const LogEntry& e);

// Rebuilds an account from its entries alone (in tseq order).
Account replay_account(const std::vector<LogEntry>& entries);

// Names of the fields in which two accounts differ ("roles", "enabled", ...).
std::vector<std::string> differences(const Account& expected, const Account& actual);

}  // namespace tfadesk::engine
