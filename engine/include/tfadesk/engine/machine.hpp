// The ticket's state machine (SPEC §3), a Boost.MSM machine hidden behind a small value-like
// API so that only machine.cpp pays for compiling it.
//
// A Machine starts from an `open` (state `received`, version 1) and is fed events in order.
// Accepted events update the ticket; refused ones change nothing and come back as an Outcome
// naming the state, the event and the rule. The machine does no I/O and reads no clock: replaying
// the same commands always gives the same ticket.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tfadesk/engine/command.hpp"
#include "tfadesk/engine/ticket.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::engine {

struct Outcome {
    bool accepted = false;
    std::string state;  // the state after the event (unchanged when refused)
    std::optional<rules::Refusal> refusal;

    // "R5: ... (state identity_check, event approve)"
    std::string message(std::string_view event) const;
};

// One row of the transition table, as names (for `diagram` and for "next events").
struct Transition {
    std::string source;
    std::string event;
    std::string target;
    std::string action;  // "" when none
    std::string guard;   // "" when none
};

class Machine {
public:
    // A new ticket in `received`, as its `open` entry made it.
    Machine(rules::Fields opened, const std::string& opened_at);
    ~Machine();
    Machine(Machine&&) noexcept;
    Machine& operator=(Machine&&) noexcept;

    // Applies one event. On acceptance the ticket's state, version and updated_at move on.
    Outcome fire(const Command& c);

    const Ticket& ticket() const;
    bool terminal() const;

    // The events the table accepts from `state` (guards not evaluated), in table order; empty
    // for a terminal state.
    static std::vector<std::string> events_from(std::string_view state);

    // The transition table, generated from the MSM table itself.
    static const std::vector<Transition>& transitions();
    // State names in table order, with the terminal ones (no outgoing row) flagged.
    static const std::vector<std::pair<std::string, bool>>& states();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tfadesk::engine
