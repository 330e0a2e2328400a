// The SLA that fires by itself (SPEC §16): which waiting tickets are due, and their expiry as an
// ordinary `expire` event by the reserved agent `tfadesk-sla`. The server's scheduler calls
// these; `sweep` (tickets.hpp) stays for desks without a server. Both judge R7 in the machine,
// so an expiry by either is re-judged by verify from the entry alone.
//
// Invariants:
//  - `tfadesk-sla` is no account and no agent name anyone may use (canonical_agent refuses it);
//    verify accepts it for `expire` entries only.
//  - An expiry that another writer made first (two servers on one PostgreSQL desk) is a refusal
//    of the machine (R8), skipped quietly: each ticket expires once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

// The reserved agent of the server's SLA scheduler.
inline constexpr std::string_view kSlaAgent = "tfadesk-sla";

// An SLA of H hours (a decimal number above 0, e.g. 168 or 0.002) as milliseconds; throws
// Error(invalid_input) about the input `field` for anything else (empty, a sign, an exponent,
// 0, more than rules::kMaxSlaHours).
std::int64_t parse_sla_hours(std::string_view text, std::string_view field = "sla_hours");

// What waits on the requester, against an SLA of `sla_ms` at `now_ms`: the refs already due
// (waited more than the SLA), and the earliest due time of the others (ms since the epoch).
struct DueTickets {
    std::vector<std::string> due;
    std::optional<std::int64_t> next_due_ms;
};
DueTickets due_tickets(engine::Store& store, std::int64_t sla_ms, std::int64_t now_ms);

// Expires each of `refs` still due, by kSlaAgent, in one transaction of `store` (which seals it
// when it holds a key). A ticket no longer waiting or not yet due (another writer got there
// first, or the requester answered) is skipped. Returns the refs it expired.
std::vector<std::string> expire_due(engine::Store& store, const std::vector<std::string>& refs,
                                    std::int64_t sla_ms);

}  // namespace tfadesk::desk
