// The workspace of SPEC §14, for every front end: a search and page request read into a
// TicketQuery, the opaque keyset cursor, the events a caller may apply now, and the counts.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tfadesk/engine/store.hpp"
#include "tfadesk/engine/ticket.hpp"

namespace tfadesk::desk {

// A list request as the API's query string and `list`'s flags spell it (text, checked here).
struct ListRequest {
    std::optional<std::string> q;
    std::vector<std::string> states;
    bool open = false;
    std::optional<std::string> assignee;  // "me", "none" or an agent name
    bool overdue = false;
    std::optional<std::string> ready_for;  // only "me"
    std::optional<std::string> sort;       // KEY or -KEY
    std::optional<std::string> limit;      // 1..500, default 50
    std::optional<std::string> cursor;
    std::int64_t sla_ms = engine::kDefaultSlaMs;  // R7's SLA, which `overdue` is judged by
};

inline constexpr std::size_t kDefaultPage = 50;
inline constexpr std::size_t kMaxPage = 500;

// Reads `r` for agent `me` (who "me" is; "" when nobody is signed in) at time `now`. Throws
// Error(invalid_input) about the parameter (search, state, assignee, ready_for, sort, limit,
// cursor), which each front end words.
engine::TicketQuery ticket_query(const ListRequest& r, const std::string& me,
                                 const std::string& now);

// The opaque cursor that continues `q` after ticket `last`.
std::string next_cursor(const engine::TicketQuery& q, const engine::Ticket& last);

// SPEC §14 `allowed`: the machine's events for the ticket's state, less those the caller's
// roles (on a desk with accounts), R1/R5/R6 (approve), R9 (related partner-rejected tickets) or
// R7 (expire before the SLA) would refuse, judged by the same rules the workflow calls.
std::vector<std::string> allowed_events(engine::Store& store, const engine::Ticket& t,
                                        const std::set<std::string, std::less<>>& roles,
                                        const std::string& agent, const std::string& now,
                                        std::int64_t sla_ms = engine::kDefaultSlaMs);

// The time to compare the stored due_at with for "overdue" at `now` under `sla_ms`: the stored
// column holds the due time at the default SLA (its order is the same under any SLA), so another
// SLA moves the bound by the difference.
std::string overdue_bound(const std::string& now, std::int64_t sla_ms);

// `GET /api/v1/counts`.
nlohmann::json counts_view(const engine::WorkspaceCounts& c);

}  // namespace tfadesk::desk
