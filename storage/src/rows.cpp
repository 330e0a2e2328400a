#include "rows.hpp"

#include <nlohmann/json.hpp>

#include "tfadesk/engine/json_text.hpp"

namespace tfadesk::storage::rows {

using nlohmann::json;

std::string checks_text(const engine::Ticket& t) {
    std::string checks = "{";
    for (const auto& [check, agent] : t.checks) {
        if (checks.size() > 1) checks += ',';
        engine::append_json_string(checks, check);
        checks += ':';
        engine::append_json_string(checks, agent);
    }
    checks += '}';
    return checks;
}

std::string check_agents_text(const engine::Ticket& t) {
    std::string agents = "[";
    for (const auto& agent : t.check_agents) {
        if (agents.size() > 1) agents += ',';
        engine::append_json_string(agents, agent);
    }
    agents += ']';
    return agents;
}

void read_role_access(engine::Ticket& t, const std::string& role, const std::string& access) {
    const auto parsed_role = rules::parse_role(role);
    const auto parsed_access = rules::parse_access(access);
    if (!parsed_role) t.unreadable.push_back("requester_role '" + role + "'");
    if (!parsed_access) t.unreadable.push_back("portfolio_access '" + access + "'");
    t.fields.requester_role = parsed_role.value_or(rules::Role::unknown);
    t.fields.portfolio_access = parsed_access.value_or(rules::Access::unknown);
}

void read_checks(engine::Ticket& t, const std::string& checks, const std::string& agents) {
    if (checks == "{}" && agents == "[]") return;  // no check recorded yet: most rows
    try {
        const json c = json::parse(checks);
        for (const auto& [check, agent] : c.items())
            t.checks.emplace(check, agent.get<std::string>());
        const json a = json::parse(agents);
        for (const auto& agent : a) t.check_agents.insert(agent.get<std::string>());
    } catch (const json::exception&) {
        t.unreadable.emplace_back("checks");
    }
}

std::string roles_text(const engine::Account& a) {
    std::string roles;
    for (const auto& r : a.roles) roles += (roles.empty() ? "" : ",") + r;
    return roles;
}

std::set<std::string, std::less<>> roles_from(const std::string& text) {
    std::set<std::string, std::less<>> roles;
    for (std::size_t start = 0; start < text.size();) {
        const auto comma = text.find(',', start);
        roles.insert(
            text.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return roles;
}

std::string refs_needle(const std::string& ref) {
    std::string needle;
    engine::append_json_string(needle, ref);
    return needle;
}

std::string refs_text(const std::vector<std::string>& refs) {
    std::string text = "[";
    for (const auto& ref : refs) {
        if (text.size() > 1) text += ',';
        engine::append_json_string(text, ref);
    }
    text += ']';
    return text;
}

std::vector<std::string> refs_from(const std::string& text) {
    std::vector<std::string> refs;
    try {
        const json parsed = json::parse(text);
        if (!parsed.is_array()) return {text};
        for (const auto& ref : parsed) refs.push_back(ref.get<std::string>());
    } catch (const json::exception&) {
        return {text};
    }
    return refs;
}

}  // namespace tfadesk::storage::rows
