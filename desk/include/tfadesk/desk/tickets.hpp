// The ticket use cases every front end calls: open, apply an event, sweep, replay. Each validates
// its input, checks the acting agent's role (access.hpp), and runs in one write transaction of
// the store; a refusal or an error writes nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/engine/command.hpp"
#include "tfadesk/engine/store.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/fields.hpp"

namespace tfadesk::desk {

struct DecisionSigner;  // signatures.hpp

// Validates the §2 fields (Error(invalid_input) naming the first bad one) and opens the ticket,
// triaging it too when asked. Error(conflict) when the ref exists (the log decides).
engine::Ticket open_ticket(engine::Store& store, const rules::RawFields& raw, const Actor& agent,
                           bool triage = false);

// The same, for a batch judged in one open transaction (the server's group commit): no
// transaction of its own. Like apply_event_in, it validates, authorizes and checks the ref
// before it appends anything, so an Error other than unexpected leaves the store untouched.
engine::Ticket open_ticket_in(engine::Store& store, const rules::RawFields& raw, const Actor& agent,
                              bool triage = false);

// What the agent asked for, as front ends receive it: the event name and its flags as text.
struct EventRequest {
    std::string event;
    std::string agent;
    std::string token_id;  // the id of the token that authenticated the agent (SPEC §12), if any
    std::string via;       // "intake:SOURCE" when a helpdesk connector sent it (SPEC §17)
    std::optional<std::string> check, note, reference, role, access, requester_email;
    std::vector<std::string> ack_related;  // approve: R9's acknowledged refs
    std::optional<std::int64_t> expect_version;
    // SPEC §13: what signs the decision (the agent's key, or a signature the client made).
    std::shared_ptr<const DecisionSigner> signer;
};

// Validates the request (exit 2: unknown event, a flag the event does not use, a bad value),
// checks the role (approver for approve, agent otherwise), and applies it. A refusal throws
// Error(refused) carrying the rule and the state; a stale expect_version Error(conflict).
engine::Ticket apply_event(engine::Store& store, const std::string& ref,
                           const EventRequest& request);

// The input checks of apply_event alone (exit 2), touching no store.
void validate_event(const EventRequest& request);

// The same, for a batch judged in one open transaction (the server's group commit): no
// transaction of its own.
engine::Ticket apply_event_in(engine::Store& store, const std::string& ref,
                              const EventRequest& request);

struct SweepResult {
    std::vector<std::string> expired;
    std::size_t waiting = 0;
};
// Expires every ticket that waited on the requester past the SLA (R7), in one transaction.
// `now` (the time the SLA is judged at) may not be later than the time of the write (exit 2).
SweepResult sweep(engine::Store& store, const Actor& agent, const std::optional<std::string>& now,
                  std::int64_t sla_hours);

// R9's related tickets of `t` (same phone, or same requester email case-insensitively): those
// rejected under R3 first, then the newest; at most 50, and how many there are.
std::pair<std::vector<engine::Store::Related>, std::int64_t> related_tickets(
    engine::Store& store, const engine::Ticket& t);

// The ticket rebuilt from its log alone (as it stood at `as_of`); Error(not_found).
engine::Ticket replay_ticket(engine::Store& store, const std::string& ref,
                             const std::optional<std::string>& as_of);

// The cached ticket; Error(not_found) naming the ref.
engine::Ticket get_ticket(engine::Store& store, const std::string& ref);

}  // namespace tfadesk::desk
