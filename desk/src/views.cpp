#include "tfadesk/desk/views.hpp"

#include <algorithm>

#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::desk {

using nlohmann::json;

std::string waiting_for(const engine::Ticket& t) {
    const std::string& s = t.state;
    if (s == "received") return "triage";
    if (s == "awaiting_requester")
        return "the requester's answer (role or portfolio access unknown)";
    if (s == "identity_check") {
        std::string missing;
        for (auto check : rules::kChecks)
            if (t.checks.count(check) == 0)
                missing += (missing.empty() ? "" : ", ") + std::string(check);
        if (!missing.empty())
            return missing + " check" + (missing.find(',') == std::string::npos ? "" : "s");
        return "approval by an agent who recorded none of the checks";
    }
    if (s == "approved")
        return "the disable to be submitted in WhatsApp Manager (with its reference)";
    if (s == "disable_submitted") return "confirmation that 2FA was disabled";
    return "nothing: the ticket is closed";
}

json ticket_view(const engine::Ticket& t, std::int64_t sla_ms) {
    json j = engine::to_json(t, sla_ms);
    j["waiting_for"] = waiting_for(t);
    j["next_events"] = engine::Machine::events_from(t.state);
    return j;
}

json ticket_view(engine::Store& store, const engine::Ticket& t, std::int64_t sla_ms) {
    json j = ticket_view(t, sla_ms);
    const auto [related, total] = related_tickets(store, t);
    json list = json::array();
    for (const auto& r : related)
        list.push_back({{"ref", r.ref}, {"state", r.state}, {"match", r.match}});
    j["related"] = std::move(list);
    j["related_total"] = total;
    return j;
}

json history_view(const engine::LogEntry& e) {
    json details;
    try {
        details = json::parse(e.details);
    } catch (const json::exception&) {
        details = e.details;  // an edited entry: show what is there; verify names it
    }
    return json{{"seq", e.tseq},    {"global_seq", e.seq}, {"at", e.at},      {"agent", e.agent},
                {"event", e.event}, {"details", details},  {"state", e.state}};
}

json account_view(const engine::Account& a) {
    return json{{"name", a.name},
                {"roles", std::vector<std::string>(a.roles.begin(), a.roles.end())},
                {"enabled", a.enabled},
                {"created_at", a.created_at},
                {"updated_at", a.updated_at}};
}

json account_change_view(const engine::LogEntry& e, const engine::Account& after) {
    const auto change = engine::parse_account_change(e.event);
    return json{{"seq", e.seq},
                {"at", e.at},
                {"by", e.agent},
                {"change", change ? std::string(engine::to_string(*change)) : e.event},
                {"name", after.name},
                {"roles", std::vector<std::string>(after.roles.begin(), after.roles.end())}};
}

json stats_view(engine::Store& store, const std::optional<std::string>& since) {
    auto s = store.stats(since);
    std::int64_t total = 0, closed = 0;
    json per_state = json::object(), outcomes = json::object();
    for (const auto& [state, count] : s.per_state) {
        total += count;
        per_state[state] = count;
        if (engine::Machine::events_from(state).empty()) {
            outcomes[state] = count;
            closed += count;
        }
    }
    std::optional<std::int64_t> median;
    auto& d = s.open_to_completed_ms;
    if (!d.empty()) {
        std::sort(d.begin(), d.end());
        median = d.size() % 2 ? d[d.size() / 2] : (d[d.size() / 2 - 1] + d[d.size() / 2]) / 2;
    }
    json oldest = json::object();
    for (const auto& [state, who] : s.oldest)
        if (!engine::Machine::events_from(state).empty())
            oldest[state] = {{"ref", who.first}, {"updated_at", who.second}};
    json j = {{"tickets", total},     {"open", total - closed}, {"per_state", per_state},
              {"outcomes", outcomes}, {"completed", d.size()},  {"oldest_waiting", oldest}};
    j["median_open_to_completed_ms"] = median ? json(*median) : json(nullptr);
    if (since) j["since"] = *since;
    return j;
}

nlohmann::json outbox_view(const engine::OutboxDelivery& d) {
    return {{"id", d.id},
            {"seq", d.seq},
            {"ref", d.ref},
            {"source", d.source},
            {"hash", d.hash},
            {"status", d.status},
            {"attempts", d.attempts},
            {"created_at", d.created_at},
            {"next_at", d.next_at},
            {"last_error", d.last_error}};
}

}  // namespace tfadesk::desk
