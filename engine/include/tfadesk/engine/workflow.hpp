// The service that runs one command against a journal: load the ticket's entries, rebuild the
// ticket through the machine, fire the event, append the entry. The caller owns the
// transaction; nothing here commits.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tfadesk/engine/command.hpp"
#include "tfadesk/engine/journal.hpp"
#include "tfadesk/engine/machine.hpp"

namespace tfadesk::engine {

// The `open` entry of a new ticket (tseq 1, state received), not yet appended.
// `by_token`: the id of the token that authenticated the agent (SPEC §12), "" for none.
// `via`: "intake:SOURCE" when a helpdesk connector opened it (SPEC §17), "" otherwise.
LogEntry open_entry(const rules::Fields& fields, const std::string& agent, const std::string& at,
                    const std::string& by_token = {}, const std::string& via = {});

// The entry recording an accepted command on `machine`'s ticket (after fire()).
LogEntry event_entry(const Machine& machine, const Command& c);

// Opens a ticket: appends its `open` entry and, when `triage` is set, triages it through the
// machine like any other ticket (agent and time the same). Throws Error(conflict) when the ref
// exists.
Ticket open_ticket(Journal& journal, const rules::Fields& fields, const std::string& agent,
                   const std::string& at, bool triage = false, const std::string& by_token = {},
                   const std::string& via = {});

// As open_ticket, but a ref that exists already is not an error: returns false and writes nothing
// (import counts such rows as duplicates).
bool open_if_new(Journal& journal, rules::Fields fields, const std::string& agent,
                 const std::string& at, bool triage = false, const std::string& by_token = {},
                 const std::string& via = {});

// Rebuilds a ticket from its entries alone (in tseq order), re-judging every event. Entries after
// `as_of` (a UTC time) are left out when it is given. Throws Error(integrity) naming the entry
// when the entries do not replay (not starting with `open`, a refused event, a state that
// differs from the one stored) and Error(not_found) when `entries` is empty.
Machine replay(const std::vector<LogEntry>& entries, const std::optional<std::string>& as_of = {});

struct EventResult {
    Outcome outcome;
    Ticket ticket;  // after the event (unchanged when refused)
};

// Applies one event to ticket `ref`. Throws Error(not_found) for an unknown ref and
// Error(conflict) when `expect_version` is given and differs from the ticket's version.
// A refusal is returned, not thrown, and appends nothing. `before_append`, when given, sees the
// accepted entry before it is appended and may add to its details (the signatures of SPEC §13)
// or throw to refuse it.
EventResult apply_event(Journal& journal, const std::string& ref, const Command& c,
                        std::optional<std::int64_t> expect_version = std::nullopt,
                        const std::function<void(LogEntry&)>& before_append = {});

}  // namespace tfadesk::engine
