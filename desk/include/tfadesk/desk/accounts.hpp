// Accounts and roles (SPEC §7): every change is an entry of the hash-chained log, made by an
// admin (or, for the very first account, by whoever sets the desk up), in one transaction.
// Tokens are 256 random bits, shown once, stored only as their SHA-256.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

struct IssuedToken {
    engine::Account account;
    std::string token;  // printed once; never stored
};

// Roles from a comma-separated list ("agent,approver"): Error(invalid_input) naming an unknown one.
std::set<std::string, std::less<>> parse_roles(std::string_view list);

// `agent add`: Error(conflict) for a duplicate name; the first account must hold admin (refused).
IssuedToken add_account(engine::Store& store, const std::string& name, const std::set<std::string, std::less<>>& roles,
                        const std::string& by);
// `agent grant` / `agent revoke`: Error(not_found) for an unknown account; the last enabled admin
// cannot lose admin (refused, exit 3).
engine::Account grant_role(engine::Store& store, const std::string& name, const std::string& role, const std::string& by);
engine::Account revoke_role(engine::Store& store, const std::string& name, const std::string& role, const std::string& by);
// `agent disable` / `agent enable`: the last enabled admin cannot be disabled (refused).
engine::Account set_enabled(engine::Store& store, const std::string& name, bool enabled, const std::string& by);
// `agent token`: a new token replaces the old one at once.
IssuedToken issue_token(engine::Store& store, const std::string& name, const std::string& by);

// The enabled account a token belongs to, or nothing (one indexed lookup, constant-time compare).
std::optional<engine::Account> authenticate(engine::Store& store, std::string_view token);

// `agent list --json` and `agent history [NAME] --json` (SPEC §7).
nlohmann::json list_accounts(engine::Store& store);
nlohmann::json account_history(engine::Store& store, const std::optional<std::string>& name);

// The stored form of a token (hex SHA-256).
std::string token_hash(std::string_view token);

}  // namespace tfadesk::desk
