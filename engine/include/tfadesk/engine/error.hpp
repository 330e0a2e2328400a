// The one error type of tfadesk. Its kind maps one-to-one onto the exit codes of SPEC §4, so
// `main` can print one line and return the code. A refused event is NOT an error: it is an
// Outcome value (see machine.hpp); the CLI turns it into exit 3.
#pragma once

#include <stdexcept>
#include <string>

namespace tfadesk::engine {

enum class ErrorKind {
    unexpected = 1,     // I/O, corrupt file, anything unforeseen
    invalid_input = 2,  // bad flag, bad field value, rejected import rows
    refused = 3,        // the workflow refused (used only where a refusal must unwind)
    not_found = 4,      // no such ticket
    conflict = 5,       // duplicate ref, or --expect-version mismatch
    integrity = 6,      // verify found a difference, or the log cannot be replayed
    forbidden = 7,      // the desk has accounts and the agent may not do this (SPEC §7)
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& what) : std::runtime_error(what), kind_(kind) {}
    // A refusal by the workflow or an account rule: the rule and the state it was judged in.
    Error(ErrorKind kind, const std::string& what, std::string rule, std::string state)
        : std::runtime_error(what), kind_(kind), rule_(std::move(rule)), state_(std::move(state)) {}
    ErrorKind kind() const noexcept { return kind_; }
    int exit_code() const noexcept { return static_cast<int>(kind_); }
    const std::string& rule() const noexcept { return rule_; }
    const std::string& state() const noexcept { return state_; }

private:
    ErrorKind kind_;
    std::string rule_, state_;
};

}  // namespace tfadesk::engine
