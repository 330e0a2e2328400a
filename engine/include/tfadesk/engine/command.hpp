// Events as an agent asks for them (SPEC §3): one Command value per event, carrying the flags
// it needs. The same value is rebuilt from a log entry's details on replay, so what is stored
// is exactly what is judged again.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/json_text.hpp"
#include "tfadesk/rules/fields.hpp"

namespace tfadesk::engine {

enum class EventKind {
    triage,
    update,
    check_passed,
    check_failed,
    partner_detected,
    approve,
    submit_disable,
    confirm_disabled,
    disable_failed,
    cancel,
    expire,
    // SPEC §14: who works the ticket; self-loops that are not activity for R7.
    claim,
    release,
};

// The event's name on the command line and in the log ("check-passed", ...).
std::string_view to_string(EventKind k);
std::optional<EventKind> parse_event(std::string_view name);
const std::vector<EventKind>& all_events();

struct Command {
    EventKind kind = EventKind::triage;
    std::string agent;
    std::string at;  // when it was accepted (UTC, ms); filled in by the caller's clock
    std::optional<std::string> check;
    std::optional<std::string> note;
    std::optional<std::string> reference;
    std::optional<rules::Role> role;
    std::optional<rules::Access> access;
    std::optional<std::string> requester_email;
    std::optional<std::string> now;         // expire: the time the SLA is judged at
    std::optional<std::int64_t> sla_hours;  // expire: the SLA it is judged by
    // expire: the SLA in milliseconds, when it is not whole hours (serve --sla-hours 0.5, §16);
    // never with sla_hours.
    std::optional<std::int64_t> sla_ms;
    // approve: the related tickets rejected under R3 that the approver names (R9), sorted.
    std::set<std::string, std::less<>> ack_related;
    // The id of the token that authenticated the agent (SPEC §12), "" on a desk without accounts.
    std::string by_token;
    // Where the command came from when not from the agent's own hands (SPEC §17):
    // "intake:SOURCE", "" otherwise.
    std::string via;
    // claim: the agent who held the ticket when another claimed it (a take-over), filled in by
    // apply_event from the ticket, stored in the entry and re-checked on replay.
    std::optional<std::string> takes_over;
};

// The details key of takes_over.
inline constexpr std::string_view kTakesOverKey = "takes_over";

// The details key of ack_related: the refs, sorted, joined by commas (a ref never holds one).
inline constexpr std::string_view kAckRelatedKey = "ack_related";

// SPEC §3's "malformed before the workflow is asked" checks: a missing or unknown --check, a
// missing --note where one is required, a bad --requester-email, an `update` that changes
// nothing, an empty agent. Throws Error(invalid_input) naming the flag. A note is checked as
// rules::check_note(note, origin) does: new input (the default) by SPEC §2's text rules, a
// command rebuilt from the log (Origin::log) by the rules it was stored under.
void validate(const Command& c, rules::Origin origin = rules::Origin::input);

// The log entry's details: every flag the command carries, nothing else.
nlohmann::json details_of(const Command& c);

// Rebuilds the command from a log entry. Throws Error(integrity) when the details do not make a
// valid command for `event` (an edited entry).
Command command_from_entry(std::string_view event, const nlohmann::json& details,
                           const std::string& agent, const std::string& at);
// The same from details read by parse_flat_object (the fast path of replay).
Command command_from_entry(std::string_view event, const FlatObject& details,
                           const std::string& agent, const std::string& at);

}  // namespace tfadesk::engine
