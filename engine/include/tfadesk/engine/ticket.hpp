// The ticket model: what a ticket is after replaying its log. The stored ticket row is a cache
// of exactly this value (SPEC §6), and `verify` compares the two field by field.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "tfadesk/engine/json_text.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::engine {

struct Ticket {
    rules::Fields fields;
    std::string state = "received";
    std::int64_t version = 0;  // number of log entries, 1 after `open`
    // Identity checks passed: check name -> agent who first recorded it as passed.
    std::map<std::string, std::string, std::less<>> checks;
    // Every agent who recorded any identity check, passed or failed (R6).
    std::set<std::string, std::less<>> check_agents;
    std::string updated_at;  // time of the last log entry (UTC, ms)
    // SPEC §14: the agent who claimed the ticket (nothing when nobody holds it), and the time of
    // the last entry other than claim/release: R7's last activity.
    std::optional<std::string> assignee;
    std::string active_at;
    // Set only on a row read from a store's cache: columns holding values the rules do not know
    // (a tampered row), which verify reports as differences.
    std::vector<std::string> unreadable;
};

// The §2 fields as a JSON object (absent optional fields omitted): the `open` entry's details.
nlohmann::json fields_to_json(const rules::Fields& f);
// The inverse; throws Error(integrity) when `j` is not a valid §2 object.
rules::Fields fields_from_json(const nlohmann::json& j);
// The same from members read by parse_flat_object (the fast path of replay).
rules::Fields fields_from_members(const FlatObject& members);

// R7's SLA in milliseconds unless the desk is run with another (serve --sla-hours).
inline constexpr std::int64_t kDefaultSlaMs = rules::kDefaultSlaHours * 3600000;

// SPEC §14: when R7 expires the ticket (active_at plus the SLA) while it is in
// awaiting_requester; nothing in any other state.
std::optional<std::string> due_at(const Ticket& t, std::int64_t sla_ms = kDefaultSlaMs);

// `show --json`: the §2 fields plus state, version, checks, updated_at, assignee and due_at
// (SPEC §4, §14; due_at at `sla_ms`).
nlohmann::json to_json(const Ticket& t, std::int64_t sla_ms = kDefaultSlaMs);

// Names of the fields in which two tickets differ ("state", "version", "phone", ...).
std::vector<std::string> differences(const Ticket& expected, const Ticket& actual);

}  // namespace tfadesk::engine
