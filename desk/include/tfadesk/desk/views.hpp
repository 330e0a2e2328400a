// The JSON documents of SPEC §4 (and §7), built once here for every front end: the command
// line's --json and the server's answers are the same objects.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "tfadesk/desk/verify.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/journal.hpp"
#include "tfadesk/engine/store.hpp"
#include "tfadesk/engine/ticket.hpp"

namespace tfadesk::desk {

// What the ticket waits for, in words, from its state and checks.
std::string waiting_for(const engine::Ticket& t);

// `show`/`replay`/`list` element: the §2 fields, state, version, checks, updated_at, plus
// `waiting_for` and `next_events` (from the machine's table).
// due_at is judged at `sla_ms` (the server's --sla-hours).
nlohmann::json ticket_view(const engine::Ticket& t, std::int64_t sla_ms = engine::kDefaultSlaMs);
// dump() of ticket_view(t, sla_ms) (compact, invalid UTF-8 replaced), written without the DOM:
// the same bytes, for pages of many tickets.
std::string ticket_view_text(const engine::Ticket& t, std::int64_t sla_ms = engine::kDefaultSlaMs);
// The same for one ticket (`show`, the API's ticket object), with R9's `related`
// ([{"ref","state","match"}], partner-rejected first, at most 50) and `related_total` (SPEC §12).
nlohmann::json ticket_view(engine::Store& store, const engine::Ticket& t,
                           std::int64_t sla_ms = engine::kDefaultSlaMs);

// `verify --json` and GET /api/v1/verify: ok, tickets, accounts, entries, head, problems, adopted,
// rotations and SPEC §13's signed and unsigned decisions per agent. head is {"seq","hash"}, or the
// text "SEQ:HASH" (the form --expect-head takes) when `head_as_text`.
nlohmann::json verify_view(const VerifyReport& report, bool head_as_text = false);

// One `history` element: seq (per ticket), global_seq, at, agent, event, details (an object),
// state.
nlohmann::json history_view(const engine::LogEntry& e);

// `agent list` element: name, roles (sorted), enabled, created_at, updated_at.
nlohmann::json account_view(const engine::Account& a);

// One queued delivery of the helpdesk connector's outbox (SPEC §17), as `tfadesk outbox --json`
// and GET /api/v1/outbox show it.
nlohmann::json outbox_view(const engine::OutboxDelivery& d);

// `agent history` element: seq (global), at, by, change, name, roles (after the change).
nlohmann::json account_change_view(const engine::LogEntry& e, const engine::Account& after);

// `stats --json` over tickets opened at or after `since` (a canonical UTC time).
nlohmann::json stats_view(engine::Store& store, const std::optional<std::string>& since);

}  // namespace tfadesk::desk
