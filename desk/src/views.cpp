#include "tfadesk/desk/views.hpp"

#include <algorithm>
#include <map>

#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/engine/json_text.hpp"
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

namespace {

// next_events of a state as JSON text: the machine's table does not change while we run.
const std::string& next_events_text(const std::string& state) {
    static const auto texts = [] {
        std::map<std::string, std::string, std::less<>> m;
        for (const auto& [s, terminal] : engine::Machine::states())
            m.emplace(s, json(engine::Machine::events_from(s)).dump());
        return m;
    }();
    static const std::string none = "[]";
    const auto it = texts.find(state);
    return it == texts.end() ? none : it->second;
}

}  // namespace

std::string ticket_view_text(const engine::Ticket& t, std::int64_t sla_ms) {
    const rules::Fields& f = t.fields;
    // The cache holds the log's text, which is valid UTF-8; a row that is not (an edited file)
    // goes through nlohmann, whose replacement characters stay the reference.
    bool valid = true;
    auto check = [&valid](std::string_view s) {
        if (valid && rules::check_utf8(s)) valid = false;
    };
    for (std::string_view s : {std::string_view(f.ref), std::string_view(f.phone),
                               std::string_view(f.client_id), std::string_view(f.requester_email),
                               std::string_view(f.reason), std::string_view(f.submitted_at),
                               std::string_view(t.state), std::string_view(t.updated_at)})
        check(s);
    for (const auto* o : {&f.waba_id, &f.portfolio_id, &f.note, &t.assignee})
        if (*o) check(**o);
    for (const auto& [c, agent] : t.checks) {
        check(c);
        check(agent);
    }
    if (!valid) return ticket_view(t, sla_ms).dump(-1, ' ', false, json::error_handler_t::replace);

    // nlohmann's objects keep their keys in byte order: so does this.
    std::string out;
    out.reserve(640);
    auto key = [&out](std::string_view k) {
        out += out.empty() ? "{\"" : ",\"";
        out += k;
        out += "\":";
    };
    auto text = [&](std::string_view k, std::string_view v) {
        key(k);
        engine::append_json_string(out, v);
    };
    auto text_or_null = [&](std::string_view k, const std::optional<std::string>& v) {
        if (v) return text(k, *v);
        key(k);
        out += "null";
    };
    text_or_null("assignee", t.assignee);
    key("checks");
    out += '{';
    for (const auto& [c, agent] : t.checks) {
        if (out.back() != '{') out += ',';
        engine::append_json_string(out, c);
        out += ':';
        engine::append_json_string(out, agent);
    }
    out += '}';
    text("client_id", f.client_id);
    text_or_null("due_at", engine::due_at(t, sla_ms));
    key("next_events");
    out += next_events_text(t.state);
    if (f.note) text("note", *f.note);
    text("phone", f.phone);
    text("portfolio_access", rules::to_string(f.portfolio_access));
    if (f.portfolio_id) text("portfolio_id", *f.portfolio_id);
    text("reason", f.reason);
    text("ref", f.ref);
    text("requester_email", f.requester_email);
    text("requester_role", rules::to_string(f.requester_role));
    text("state", t.state);
    text("submitted_at", f.submitted_at);
    text("updated_at", t.updated_at);
    key("version");
    out += std::to_string(t.version);
    if (f.waba_id) text("waba_id", *f.waba_id);
    text("waiting_for", waiting_for(t));
    out += '}';
    return out;
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

json verify_view(const VerifyReport& report, bool head_as_text) {
    json signatures = json::object();
    for (const auto& [agent, counts] : report.signatures)
        signatures[agent] = {{"signed", counts.signed_decisions},
                             {"unsigned", counts.unsigned_decisions}};
    return {{"ok", report.ok()},
            {"tickets", report.tickets},
            {"accounts", report.accounts},
            {"entries", report.entries},
            {"head", head_as_text ? json(std::to_string(report.head.seq) + ":" + report.head.hash)
                                  : json{{"seq", report.head.seq}, {"hash", report.head.hash}}},
            {"problems", report.problems},
            {"adopted", report.adopted},
            {"rotations", report.rotations},
            {"signatures", signatures}};
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
