#include "output.hpp"

#include <algorithm>

#include "tfadesk/desk/text.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::cli {

using nlohmann::json;

void print_ticket(std::ostream& out, const engine::Ticket& t) {
    const json j = engine::to_json(t);
    auto line = [&](const char* key) {
        if (j.contains(key))
            out << key << ": "
                << rules::escape_control(j[key].is_string() ? j[key].get<std::string>()
                                                            : j[key].dump())
                << "\n";
    };
    for (const char* key : {"ref", "state", "version"}) line(key);
    for (const auto& field : rules::field_names())
        if (field != "ref") line(std::string(field).c_str());
    std::string checks;
    for (const auto& [check, agent] : t.checks)
        checks += (checks.empty() ? "" : ", ") + check + " (" + rules::escape_control(agent) + ")";
    out << "checks: " << (checks.empty() ? "none passed" : checks) << "\n";
    line("updated_at");
    out << "waiting for: " << desk::waiting_for(t) << "\n";
    std::string next;
    for (const auto& e : engine::Machine::events_from(t.state))
        next += (next.empty() ? "" : ", ") + e;
    out << "next: " << (next.empty() ? "none (terminal state)" : next) << "\n";
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
        for (std::size_t i = 0; i < row.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], row[i].size());
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
