#include "output.hpp"

#include <algorithm>

#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::cli {

using nlohmann::json;

std::string waiting_for(const engine::Ticket& t) {
    const std::string& s = t.state;
    if (s == "received") return "triage";
    if (s == "awaiting_requester") return "the requester's answer (role or portfolio access unknown)";
    if (s == "identity_check") {
        std::string missing;
        for (auto check : rules::kChecks)
            if (t.checks.count(check) == 0) missing += (missing.empty() ? "" : ", ") + std::string(check);
        if (!missing.empty()) return missing + " check" + (missing.find(',') == std::string::npos ? "" : "s");
        return "approval by an agent who recorded none of the checks";
    }
    if (s == "approved") return "the disable to be submitted in WhatsApp Manager (with its reference)";
    if (s == "disable_submitted") return "confirmation that 2FA was disabled";
    return "nothing: the ticket is closed";
}

json ticket_json(const engine::Ticket& t) {
    json j = engine::to_json(t);
    j["waiting_for"] = waiting_for(t);
    j["next_events"] = engine::Machine::events_from(t.state);
    return j;
}

void print_ticket(std::ostream& out, const engine::Ticket& t) {
    const json j = engine::to_json(t);
    auto line = [&](const char* key) {
        if (j.contains(key)) out << key << ": " << (j[key].is_string() ? j[key].get<std::string>() : j[key].dump()) << "\n";
    };
    for (const char* key : {"ref", "state", "version"}) line(key);
    for (const auto& field : rules::field_names())
        if (field != "ref") line(std::string(field).c_str());
    std::string checks;
    for (const auto& [check, agent] : t.checks) checks += (checks.empty() ? "" : ", ") + check + " (" + agent + ")";
    out << "checks: " << (checks.empty() ? "none passed" : checks) << "\n";
    line("updated_at");
    out << "waiting for: " << waiting_for(t) << "\n";
    std::string next;
    for (const auto& e : engine::Machine::events_from(t.state)) next += (next.empty() ? "" : ", ") + e;
    out << "next: " << (next.empty() ? "none (terminal state)" : next) << "\n";
}

json history_json(const engine::LogEntry& e) {
    json details;
    try {
        details = json::parse(e.details);
    } catch (const json::exception&) {
        details = e.details;  // an edited entry: show what is there; verify names it
    }
    return json{{"seq", e.tseq},  {"global_seq", e.seq}, {"at", e.at},       {"agent", e.agent},
                {"event", e.event}, {"details", details},  {"state", e.state}};
}

void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows, bool aligned) {
    if (!aligned) {
        for (const auto& row : rows) {
            for (std::size_t i = 0; i < row.size(); ++i) out << (i ? "\t" : "") << row[i];
            out << "\n";
        }
        return;
    }
    std::vector<std::size_t> width(header.size());
    for (std::size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
    for (const auto& row : rows)
        for (std::size_t i = 0; i < row.size() && i < width.size(); ++i) width[i] = std::max(width[i], row[i].size());
    auto print_row = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size(); ++i) {
            out << row[i];
            if (i + 1 < row.size()) out << std::string(width[i] - row[i].size() + 2, ' ');
        }
        out << "\n";
    };
    print_row(header);
    for (const auto& row : rows) print_row(row);
}

}  // namespace tfadesk::cli
