#include "tfadesk/engine/ticket.hpp"

#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/store.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::engine {

using nlohmann::json;

json fields_to_json(const rules::Fields& f) {
    json j = {
        {"ref", f.ref},
        {"phone", f.phone},
        {"client_id", f.client_id},
        {"requester_email", f.requester_email},
        {"requester_role", rules::to_string(f.requester_role)},
        {"portfolio_access", rules::to_string(f.portfolio_access)},
        {"reason", f.reason},
        {"submitted_at", f.submitted_at},
    };
    if (f.waba_id) j["waba_id"] = *f.waba_id;
    if (f.portfolio_id) j["portfolio_id"] = *f.portfolio_id;
    if (f.note) j["note"] = *f.note;
    return j;
}

rules::Fields fields_from_members(const FlatObject& members) {
    bool submitted = false;
    for (const auto& m : members) {
        if (m.key == kByTokenKey && m.kind == FlatMember::Kind::text)
            continue;  // who opened it (SPEC §12)
        if (m.key == kViaKey && m.kind == FlatMember::Kind::text) {
            if (!is_via(m.text))
                throw Error(ErrorKind::integrity,
                            "open details hold a 'via' that is not intake:SOURCE");
            continue;  // the connector that opened it (SPEC §17)
        }
        if (!rules::is_field_name(m.key) || m.kind != FlatMember::Kind::text)
            throw Error(ErrorKind::integrity, "open details hold an unknown or non-text field '" +
                                                  std::string(m.key) + "'");
        submitted = submitted || m.key == "submitted_at";
    }
    if (!submitted) throw Error(ErrorKind::integrity, "open details lack submitted_at");
    // The fields as they were accepted when the ticket was opened, under the rules of that day.
    // (Keys are distinct: nlohmann's objects and parse_flat_object's both are.)
    auto lookup = [&members](std::string_view key) -> std::optional<std::string_view> {
        for (const auto& m : members)
            if (m.key == key) return m.text;
        return std::nullopt;
    };
    auto result = rules::validate_fields(lookup, "", rules::Origin::log);
    if (auto* bad = std::get_if<rules::FieldError>(&result))
        throw Error(ErrorKind::integrity, "open details are invalid: " + bad->message());
    return std::get<rules::Fields>(std::move(result));
}

rules::Fields fields_from_json(const json& j) {
    if (!j.is_object()) throw Error(ErrorKind::integrity, "open details are not an object");
    return fields_from_members(flat_members(j));
}

std::optional<std::string> due_at(const Ticket& t, std::int64_t sla_ms) {
    if (t.state != "awaiting_requester") return std::nullopt;
    const auto active = rules::parse_utc(t.active_at);
    if (!active) return std::nullopt;
    return rules::format_utc_ms(*active + sla_ms);
}

std::string sort_value(const Ticket& t, std::string_view sort) {
    if (sort == "updated_at") return t.updated_at;
    if (sort == "submitted_at") return t.fields.submitted_at;
    if (sort == "due_at") return due_at(t).value_or("~");
    return t.fields.ref;
}

json to_json(const Ticket& t, std::int64_t sla_ms) {
    json j = fields_to_json(t.fields);
    json checks = json::object();
    for (const auto& [check, agent] : t.checks) checks[check] = agent;
    j["checks"] = std::move(checks);
    j["state"] = t.state;
    j["version"] = t.version;
    j["updated_at"] = t.updated_at;
    j["assignee"] = t.assignee ? json(*t.assignee) : json(nullptr);
    const auto due = due_at(t, sla_ms);
    j["due_at"] = due ? json(*due) : json(nullptr);
    return j;
}

std::vector<std::string> differences(const Ticket& a, const Ticket& b) {
    std::vector<std::string> out;
    auto differ = [&](const char* name, bool same) {
        if (!same) out.emplace_back(name);
    };
    const rules::Fields &fa = a.fields, &fb = b.fields;
    differ("ref", fa.ref == fb.ref);
    differ("phone", fa.phone == fb.phone);
    differ("client_id", fa.client_id == fb.client_id);
    differ("requester_email", fa.requester_email == fb.requester_email);
    auto unreadable = [&](const char* name) {
        for (const auto& u : b.unreadable)
            if (u.rfind(name, 0) == 0) return true;
        return false;
    };
    differ("requester_role",
           fa.requester_role == fb.requester_role && !unreadable("requester_role"));
    differ("portfolio_access",
           fa.portfolio_access == fb.portfolio_access && !unreadable("portfolio_access"));
    differ("reason", fa.reason == fb.reason);
    differ("waba_id", fa.waba_id == fb.waba_id);
    differ("portfolio_id", fa.portfolio_id == fb.portfolio_id);
    differ("submitted_at", fa.submitted_at == fb.submitted_at);
    differ("note", fa.note == fb.note);
    differ("state", a.state == b.state);
    differ("version", a.version == b.version);
    differ("checks", a.checks == b.checks && !unreadable("checks"));
    differ("check_agents", a.check_agents == b.check_agents);
    differ("updated_at", a.updated_at == b.updated_at);
    differ("assignee", a.assignee == b.assignee);
    differ("active_at", a.active_at == b.active_at);
    return out;
}

}  // namespace tfadesk::engine
