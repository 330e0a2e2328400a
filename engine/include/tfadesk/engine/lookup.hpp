// Finding a ticket in the log, and the one way every front end and use case says it is not there.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/journal.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::engine {

// Error(not_found) about `ref`: "no such ticket: 'REF'" (control characters escaped).
inline Error no_such_ticket(std::string_view ref) {
    return Error(ErrorKind::not_found, "no such ticket: '" + rules::escape_control(ref) + "'")
        .of(std::string(ref));
}

// The entries of ticket `ref` in per-ticket order, answered by the log; no_such_ticket when it has
// none (an account's key is no ticket).
inline std::vector<LogEntry> entries_of(Journal& log, std::string_view ref) {
    auto entries = is_account_key(ref) ? std::vector<LogEntry>{} : log.entries(ref);
    if (entries.empty()) throw no_such_ticket(ref);
    return entries;
}

}  // namespace tfadesk::engine
