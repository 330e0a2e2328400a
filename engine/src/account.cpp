#include "tfadesk/engine/account.hpp"

#include <nlohmann/json.hpp>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/json_text.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::engine {

namespace {

constexpr std::string_view kChanges[] = {"add",         "grant",         "revoke",
                                         "disable",     "enable",        "token",
                                         "key-add",     "key-remove",    "require-signatures",
                                         "passkey-add", "passkey-remove"};
constexpr std::string_view kEventPrefix = "account-";

std::string where(const LogEntry& e) {
    return "account '" + e.ref.substr(kAccountPrefix.size()) + "' entry seq " +
           std::to_string(e.seq) + " (#" + std::to_string(e.tseq) + ", " + e.event + ")";
}

}  // namespace

std::string token_id_of(std::string_view token_hash) {
    return std::string(token_hash.substr(0, 16));
}

bool is_via(std::string_view via) {
    if (via.substr(0, kViaIntakePrefix.size()) != kViaIntakePrefix) return false;
    const auto source = via.substr(kViaIntakePrefix.size());
    return !source.empty() && source.size() <= 64 &&
           source.find_first_not_of(
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
               std::string_view::npos;
}

bool is_own_key_change(std::string_view event) {
    return event == "account-key-add" || event == "account-key-remove" ||
           event == "account-passkey-add" || event == "account-passkey-remove";
}

bool registers_first_key(const LogEntry& e, const Account* before) {
    return (e.event == "account-key-add" || e.event == "account-passkey-add") &&
           (!before || !before->holds_keys());
}

bool is_key_id(std::string_view id) {
    return id.size() == 8 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

bool is_token_id(std::string_view id) {
    return id.size() == 16 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

std::string recorded_by_token(const LogEntry& e) {
    if (e.details.find(kByTokenKey) == std::string::npos) return {};
    auto flat = parse_flat_object(e.details);
    if (!flat) {
        try {
            const auto j = nlohmann::json::parse(e.details);
            if (!j.is_object()) return {};
            const auto it = j.find(kByTokenKey);
            return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
        } catch (const nlohmann::json::exception&) {
            return {};
        }
    }
    for (const auto& m : *flat)
        if (m.key == kByTokenKey && m.kind == FlatMember::Kind::text) return m.text;
    return {};
}

const std::vector<std::string>& all_roles() {
    static const std::vector<std::string> roles = {"admin", "agent", "approver", "auditor",
                                                   "operator"};
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
    return a.name == b.name && a.roles == b.roles && a.enabled == b.enabled &&
           a.created_at == b.created_at && a.updated_at == b.updated_at && a.version == b.version;
}

LogEntry account_entry(const std::optional<Account>& before, AccountChange change,
                       const std::string& name, const std::set<std::string, std::less<>>& roles,
                       const std::string& by, const std::string& at, const std::string& issued,
                       const std::string& by_token) {
    LogEntry e;
    e.ref = account_key(name);
    e.tseq = before ? before->version + 1 : 1;
    e.event = std::string(kEventPrefix) + std::string(to_string(change));
    nlohmann::json details = nlohmann::json::object();
    if (change == AccountChange::add)
        details["roles"] = nlohmann::json(std::vector<std::string>(roles.begin(), roles.end()));
    if (change == AccountChange::grant || change == AccountChange::revoke)
        details["role"] = *roles.begin();
    if (!issued.empty()) details[std::string(kTokenIdKey)] = issued;
    if (!by_token.empty()) details[std::string(kByTokenKey)] = by_token;
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
                    where(e) + (before ? ": the account was added before"
                                       : ": the account's log does not start with add"));
    if (e.tseq != (before ? before->version + 1 : 1))
        throw Error(ErrorKind::integrity,
                    where(e) + ": expected #" + std::to_string(before ? before->version + 1 : 1));
    nlohmann::json details;
    try {
        details = nlohmann::json::parse(e.details);
    } catch (const nlohmann::json::exception&) {
        throw Error(ErrorKind::integrity, where(e) + ": details are not JSON");
    }
    Account a = before.value_or(Account{});
    auto role_of = [&](const nlohmann::json& v) {
        if (!v.is_string() || !is_role(v.get<std::string>()))
            throw Error(ErrorKind::integrity, where(e) + ": not a role: " + v.dump());
        return v.get<std::string>();
    };
    if (!details.is_object())
        throw Error(ErrorKind::integrity, where(e) + ": details are not an object");
    // The token ids (SPEC §12) are checked here and taken out; the change's own keys remain.
    auto take_id = [&](std::string_view key) {
        const auto it = details.find(key);
        if (it == details.end()) return std::string();
        if (!it->is_string() || !is_token_id(it->get<std::string>()))
            throw Error(ErrorKind::integrity,
                        where(e) + ": " + std::string(key) + " is not a token id");
        std::string id = it->get<std::string>();
        details.erase(it);
        return id;
    };
    take_id(kByTokenKey);
    // SPEC §13: the signatures over the decision text are judged by verify, not here.
    details.erase("signature");
    details.erase("countersignature");
    const std::string issued = take_id(kTokenIdKey);
    if (!issued.empty() && *change != AccountChange::add && *change != AccountChange::token)
        throw Error(ErrorKind::integrity, where(e) + ": only add and token issue a token");
    if (!issued.empty())
        a.token_id = issued;
    else if (*change == AccountChange::add || *change == AccountChange::token)
        a.token_id.clear();
    const std::size_t keys = details.size();
    switch (*change) {
        case AccountChange::add:
            if (!details.is_object() || keys != 1 || !details.contains("roles") ||
                !details["roles"].is_array() || details["roles"].empty())
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
                throw Error(ErrorKind::integrity, where(e) +
                                                      (held ? ": the account already holds "
                                                            : ": the account does not hold ") +
                                                      role);
            if (held)
                a.roles.erase(role);
            else
                a.roles.insert(role);
            break;
        }
        // --- SPEC §13: personal keys and the desk's require-signatures switch
        // ---------------------
        case AccountChange::key_add: {
            const auto it = details.find("public_key");
            if (keys != 1 || it == details.end() || !it->is_string())
                throw Error(ErrorKind::integrity,
                            where(e) + ": a key-add must carry its public_key");
            const std::string text = it->get<std::string>();
            const std::string name = e.ref.substr(kAccountPrefix.size());
            const auto plus = text.find('+');
            const auto id = plus == std::string::npos ? std::string() : text.substr(plus + 1, 8);
            if (plus == std::string::npos || text.substr(0, plus) != name || !is_key_id(id) ||
                text.size() < plus + 10 || text[plus + 9] != '+')
                throw Error(ErrorKind::integrity, where(e) +
                                                      ": public_key is not a verifier key "
                                                      "NAME+KEYID+BASE64 named after the account");
            if (a.keys.count(id))
                throw Error(ErrorKind::integrity,
                            where(e) + ": the account holds key " + id + " already");
            a.keys.emplace(id, text);
            break;
        }
        case AccountChange::key_remove: {
            const auto it = details.find("key_id");
            if (keys != 1 || it == details.end() || !it->is_string() ||
                !is_key_id(it->get<std::string>()))
                throw Error(ErrorKind::integrity,
                            where(e) + ": a key-remove must carry its key_id");
            if (!a.keys.erase(it->get<std::string>()))
                throw Error(ErrorKind::integrity,
                            where(e) + ": the account holds no key " + it->get<std::string>());
            break;
        }
        case AccountChange::passkey_add: {
            const auto it = details.find("passkey");
            const auto str = [&](const char* k) {
                return it != details.end() && it->is_object() && it->contains(k) &&
                       (*it)[k].is_string() && !(*it)[k].get<std::string>().empty();
            };
            if (keys != 1 || !str("id") || !str("public_key") || !str("origin") || !str("rp_id") ||
                !(*it)["alg"].is_number_integer() || it->size() != 5)
                throw Error(ErrorKind::integrity, where(e) +
                                                      ": a passkey-add must carry its passkey {id, "
                                                      "alg, public_key, origin, rp_id}");
            const std::string id = (*it)["id"].get<std::string>();
            if (a.passkeys.count(id))
                throw Error(ErrorKind::integrity,
                            where(e) + ": the account holds passkey " + id + " already");
            a.passkeys.emplace(id, Account::Passkey{(*it)["alg"].get<int>(),
                                                    (*it)["public_key"].get<std::string>(),
                                                    (*it)["origin"].get<std::string>(),
                                                    (*it)["rp_id"].get<std::string>()});
            break;
        }
        case AccountChange::passkey_remove: {
            const auto it = details.find("passkey_id");
            if (keys != 1 || it == details.end() || !it->is_string())
                throw Error(ErrorKind::integrity,
                            where(e) + ": a passkey-remove must carry its passkey_id");
            if (!a.passkeys.erase(it->get<std::string>()))
                throw Error(ErrorKind::integrity,
                            where(e) + ": the account holds no passkey " + it->get<std::string>());
            break;
        }
        case AccountChange::require_signatures: {
            const auto it = details.find("on");
            if (keys != 1 || it == details.end() || !it->is_boolean())
                throw Error(ErrorKind::integrity,
                            where(e) + ": require-signatures must carry on: true or false");
            break;
        }
        case AccountChange::disable:
        case AccountChange::enable:
        case AccountChange::token:
            if (!details.is_object() || keys != 0)
                throw Error(ErrorKind::integrity, where(e) + ": unexpected details");
            if (*change == AccountChange::disable) a.enabled = false;
            if (*change == AccountChange::enable) a.enabled = true;
            break;
    }
    if (e.state != (a.enabled ? "enabled" : "disabled"))
        throw Error(ErrorKind::integrity, where(e) + ": stored state '" + e.state +
                                              "' but the changes give '" +
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
