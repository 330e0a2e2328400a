#include "tfadesk/engine/account.hpp"

#include <nlohmann/json.hpp>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::engine {

namespace {

constexpr std::string_view kChanges[] = {"add", "grant", "revoke", "disable", "enable", "token"};
constexpr std::string_view kEventPrefix = "account-";

std::string where(const LogEntry& e) {
    return "account '" + e.ref.substr(kAccountPrefix.size()) + "' entry seq " + std::to_string(e.seq) + " (#" +
           std::to_string(e.tseq) + ", " + e.event + ")";
}

}  // namespace

const std::vector<std::string>& all_roles() {
    static const std::vector<std::string> roles = {"admin", "agent", "approver", "auditor", "operator"};
    return roles;
}

bool is_role(std::string_view role) {
    for (const auto& r : all_roles())
        if (r == role) return true;
    return false;
}

std::string_view to_string(AccountChange c) { return kChanges[static_cast<int>(c)]; }

std::optional<AccountChange> parse_account_change(std::string_view event) {
    if (event.substr(0, kEventPrefix.size()) != kEventPrefix) return std::nullopt;
    event.remove_prefix(kEventPrefix.size());
    for (std::size_t i = 0; i < std::size(kChanges); ++i)
        if (kChanges[i] == event) return static_cast<AccountChange>(i);
    return std::nullopt;
}

bool operator==(const Account& a, const Account& b) {
    return a.name == b.name && a.roles == b.roles && a.enabled == b.enabled && a.created_at == b.created_at &&
           a.updated_at == b.updated_at && a.version == b.version;
}

LogEntry account_entry(const std::optional<Account>& before, AccountChange change, const std::string& name,
                       const std::set<std::string, std::less<>>& roles, const std::string& by, const std::string& at) {
    LogEntry e;
    e.ref = account_key(name);
    e.tseq = before ? before->version + 1 : 1;
    e.event = std::string(kEventPrefix) + std::string(to_string(change));
    nlohmann::json details = nlohmann::json::object();
    if (change == AccountChange::add) details["roles"] = nlohmann::json(std::vector<std::string>(roles.begin(), roles.end()));
    if (change == AccountChange::grant || change == AccountChange::revoke) details["role"] = *roles.begin();
    e.details = details.dump();
    e.agent = by;
    e.at = at;
    bool enabled = before ? before->enabled : true;
    if (change == AccountChange::disable) enabled = false;
    if (change == AccountChange::enable) enabled = true;
    e.state = enabled ? "enabled" : "disabled";
    e.policy_version = rules::kPolicyVersion;
    return e;
}

Account apply_account_entry(const std::optional<Account>& before, const LogEntry& e) {
    const auto change = parse_account_change(e.event);
    if (!change) throw Error(ErrorKind::integrity, where(e) + ": not an account change");
    if ((*change == AccountChange::add) != !before)
        throw Error(ErrorKind::integrity,
                    where(e) + (before ? ": the account was added before" : ": the account's log does not start with add"));
    if (e.tseq != (before ? before->version + 1 : 1))
        throw Error(ErrorKind::integrity, where(e) + ": expected #" + std::to_string(before ? before->version + 1 : 1));
    nlohmann::json details;
    try {
        details = nlohmann::json::parse(e.details);
    } catch (const nlohmann::json::exception&) {
        throw Error(ErrorKind::integrity, where(e) + ": details are not JSON");
    }
    Account a = before.value_or(Account{});
    auto role_of = [&](const nlohmann::json& v) {
        if (!v.is_string() || !is_role(v.get<std::string>())) throw Error(ErrorKind::integrity, where(e) + ": not a role: " + v.dump());
        return v.get<std::string>();
    };
    const std::size_t keys = details.is_object() ? details.size() : 0;
    switch (*change) {
        case AccountChange::add:
            if (!details.is_object() || keys != 1 || !details.contains("roles") || !details["roles"].is_array() ||
                details["roles"].empty())
                throw Error(ErrorKind::integrity, where(e) + ": an add must carry its roles");
            a.name = e.ref.substr(kAccountPrefix.size());
            for (const auto& r : details["roles"]) a.roles.insert(role_of(r));
            a.created_at = e.at;
            break;
        case AccountChange::grant:
        case AccountChange::revoke: {
            if (!details.is_object() || keys != 1 || !details.contains("role"))
                throw Error(ErrorKind::integrity, where(e) + ": must carry one role");
            const std::string role = role_of(details["role"]);
            const bool held = a.has(role);
            if (held == (*change == AccountChange::grant))
                throw Error(ErrorKind::integrity, where(e) + (held ? ": the account already holds " : ": the account does not hold ") + role);
            if (held) a.roles.erase(role);
            else a.roles.insert(role);
            break;
        }
        case AccountChange::disable:
        case AccountChange::enable:
        case AccountChange::token:
            if (!details.is_object() || keys != 0) throw Error(ErrorKind::integrity, where(e) + ": unexpected details");
            if (*change == AccountChange::disable) a.enabled = false;
            if (*change == AccountChange::enable) a.enabled = true;
            break;
    }
    if (e.state != (a.enabled ? "enabled" : "disabled"))
        throw Error(ErrorKind::integrity, where(e) + ": stored state '" + e.state + "' but the changes give '" +
                                              (a.enabled ? "enabled" : "disabled") + "'");
    a.updated_at = e.at;
    a.version = e.tseq;
    return a;
}

Account replay_account(const std::vector<LogEntry>& entries) {
    std::optional<Account> a;
    for (const auto& e : entries) a = apply_account_entry(a, e);
    if (!a) throw Error(ErrorKind::not_found, "no such account");
    return *a;
}

std::vector<std::string> differences(const Account& expected, const Account& actual) {
    std::vector<std::string> out;
    if (expected.name != actual.name) out.emplace_back("name");
    if (expected.roles != actual.roles) out.emplace_back("roles");
    if (expected.enabled != actual.enabled) out.emplace_back("enabled");
    if (expected.created_at != actual.created_at) out.emplace_back("created_at");
    if (expected.updated_at != actual.updated_at) out.emplace_back("updated_at");
    if (expected.version != actual.version) out.emplace_back("version");
    return out;
}

}  // namespace tfadesk::engine
