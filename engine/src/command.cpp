#include "tfadesk/engine/command.hpp"

#include <array>

#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::engine {

using nlohmann::json;

namespace {
constexpr std::array<std::pair<EventKind, std::string_view>, 13> kNames = {{
    {EventKind::triage, "triage"},
    {EventKind::update, "update"},
    {EventKind::check_passed, "check-passed"},
    {EventKind::check_failed, "check-failed"},
    {EventKind::partner_detected, "partner-detected"},
    {EventKind::approve, "approve"},
    {EventKind::submit_disable, "submit-disable"},
    {EventKind::confirm_disabled, "confirm-disabled"},
    {EventKind::disable_failed, "disable-failed"},
    {EventKind::cancel, "cancel"},
    {EventKind::expire, "expire"},
    {EventKind::claim, "claim"},
    {EventKind::release, "release"},
}};

// Invalid input about `name`, worded "FIELD: words".
[[noreturn]] void invalid(std::string_view name, const Words& words) {
    throw Error::about(ErrorKind::invalid_input, name, words);
}
[[noreturn]] void invalid(std::string_view name, std::string_view text) {
    throw Error::about(ErrorKind::invalid_input, name, text);
}

bool has_text(const std::optional<std::string>& s) {
    return s && s->find_first_not_of(" \t\r\n") != std::string::npos;
}
}  // namespace

std::string_view to_string(EventKind k) {
    for (const auto& [kind, name] : kNames)
        if (kind == k) return name;
    return "?";
}

std::optional<EventKind> parse_event(std::string_view name) {
    for (const auto& [kind, n] : kNames)
        if (n == name) return kind;
    return std::nullopt;
}

const std::vector<EventKind>& all_events() {
    static const std::vector<EventKind> v = [] {
        std::vector<EventKind> out;
        for (const auto& [kind, name] : kNames) out.push_back(kind);
        return out;
    }();
    return v;
}

void validate(const Command& c, rules::Origin origin) {
    const std::string event(to_string(c.kind));
    if (c.agent.empty() || c.agent.find_first_not_of(" \t") == std::string::npos)
        invalid("agent", "an agent name is required" + action("agent_elsewhere", ""));
    if (auto bad = rules::check_utf8(c.agent))
        throw Error(ErrorKind::invalid_input, field("agent") + " " + *bad).on("agent");
    if (c.kind == EventKind::check_passed || c.kind == EventKind::check_failed) {
        if (!c.check)
            invalid("check", event + " needs " + field("check") +
                                 " client_of_record|number_ownership|lost_access");
        if (!rules::is_check_name(*c.check))
            invalid("check", "unknown check '" + *c.check +
                                 "' (expected client_of_record, number_ownership or lost_access)");
    }
    const bool needs_note = c.kind == EventKind::check_failed ||
                            c.kind == EventKind::disable_failed || c.kind == EventKind::cancel;
    if (needs_note && !has_text(c.note))
        invalid("note", event + " needs a " + field("note") + " saying why");
    if (c.note)
        if (auto bad = rules::check_note(*c.note, origin)) invalid("note", *bad);
    if (c.reference)
        if (auto bad = rules::check_utf8(*c.reference))
            throw Error(ErrorKind::invalid_input, field("reference") + " " + *bad).on("reference");
    if (c.requester_email)
        if (auto bad = rules::check_email(*c.requester_email)) invalid("requester_email", *bad);
    if (c.kind == EventKind::update && !c.role && !c.access && !c.requester_email && !c.note)
        throw Error(ErrorKind::invalid_input, "update: give at least one of " + field("role") +
                                                  ", " + field("access") + ", " +
                                                  field("requester_email") + ", " + field("note"));
    if (c.now && !rules::parse_utc(*c.now)) invalid("now", "must be an ISO 8601 UTC time");
    if (c.sla_hours && (*c.sla_hours <= 0 || *c.sla_hours > rules::kMaxSlaHours))
        invalid("sla_hours",
                "must be a whole number of hours from 1 to " + std::to_string(rules::kMaxSlaHours));
    if (c.sla_ms && (c.sla_hours || *c.sla_ms <= 0 || *c.sla_ms > rules::kMaxSlaHours * 3600000))
        invalid("sla_hours",
                "must be above 0 and at most " + std::to_string(rules::kMaxSlaHours) + " hours");
}

json details_of(const Command& c) {
    json d = json::object();
    if (c.check) d["check"] = *c.check;
    if (c.note) d["note"] = *c.note;
    if (c.reference) d["reference"] = *c.reference;
    if (c.role) d["requester_role"] = rules::to_string(*c.role);
    if (c.access) d["portfolio_access"] = rules::to_string(*c.access);
    if (c.requester_email) d["requester_email"] = *c.requester_email;
    if (c.now) d["now"] = *c.now;
    if (c.sla_hours) d["sla_hours"] = *c.sla_hours;
    if (c.sla_ms) d["sla_ms"] = *c.sla_ms;
    if (!c.ack_related.empty()) {
        std::string refs;
        for (const auto& r : c.ack_related) refs += (refs.empty() ? "" : ",") + r;
        d[std::string(kAckRelatedKey)] = refs;
    }
    if (!c.by_token.empty()) d["by_token"] = c.by_token;
    if (!c.via.empty()) d[std::string(kViaKey)] = c.via;
    if (c.takes_over) d[std::string(kTakesOverKey)] = *c.takes_over;
    return d;
}

Command command_from_entry(std::string_view event, const FlatObject& d, const std::string& agent,
                           const std::string& at) {
    auto fail = [&](const auto& why) -> Error {
        return Error(ErrorKind::integrity, "entry '" + std::string(event) + "': " + why);
    };
    auto kind = parse_event(event);
    if (!kind) throw fail("unknown event name");
    Command c;
    c.kind = *kind;
    c.agent = agent;
    c.at = at;
    for (const auto& m : d) {
        const std::string_view key = m.key;
        if (key == "signature") continue;  // SPEC §13: over the decision text, judged by verify
        if (key == "sla_hours") {
            if (m.kind != FlatMember::Kind::integer) throw fail("sla_hours is not an integer");
            c.sla_hours = m.integer;
            continue;
        }
        if (key == "sla_ms") {
            if (m.kind != FlatMember::Kind::integer) throw fail("sla_ms is not an integer");
            c.sla_ms = m.integer;
            continue;
        }
        if (m.kind != FlatMember::Kind::text)
            throw fail("detail '" + std::string(key) + "' is not text");
        const std::string& v = m.text;
        if (key == "check")
            c.check = v;
        else if (key == "note")
            c.note = v;
        else if (key == "reference")
            c.reference = v;
        else if (key == "requester_email")
            c.requester_email = v;
        else if (key == "now")
            c.now = v;
        else if (key == "by_token") {
            if (v.size() != 16 || v.find_first_not_of("0123456789abcdef") != std::string::npos)
                throw fail("by_token is not a token id");
            c.by_token = v;
        } else if (key == kViaKey) {
            if (!is_via(v)) throw fail("via is not intake:SOURCE");
            c.via = v;
        } else if (key == kTakesOverKey) {
            if (c.kind != EventKind::claim) throw fail("takes_over on an event other than claim");
            c.takes_over = v;
        } else if (key == kAckRelatedKey) {
            if (c.kind != EventKind::approve)
                throw fail("ack_related on an event other than approve");
            std::size_t start = 0;
            while (start <= v.size()) {
                const auto comma = v.find(',', start);
                const auto ref =
                    v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
                if (!rules::is_valid_ref(ref)) throw fail("ack_related holds a bad ref");
                c.ack_related.insert(ref);
                if (comma == std::string::npos) break;
                start = comma + 1;
            }
        } else if (key == "requester_role") {
            c.role = rules::parse_role(v);
            if (!c.role) throw fail("bad requester_role");
        } else if (key == "portfolio_access") {
            c.access = rules::parse_access(v);
            if (!c.access) throw fail("bad portfolio_access");
        } else {
            throw fail("unknown detail '" + std::string(key) + "'");
        }
    }
    try {
        validate(c, rules::Origin::log);
    } catch (const Error& e) {
        throw fail(e.words());
    }
    return c;
}

Command command_from_entry(std::string_view event, const json& d, const std::string& agent,
                           const std::string& at) {
    if (!parse_event(event))
        return command_from_entry(event, FlatObject{}, agent, at);  // names the event
    if (!d.is_object())
        throw Error(ErrorKind::integrity,
                    "entry '" + std::string(event) + "': details are not an object");
    return command_from_entry(event, flat_members(d), agent, at);
}

}  // namespace tfadesk::engine
