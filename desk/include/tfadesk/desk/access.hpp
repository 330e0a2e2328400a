// Who may do what (SPEC §7), checked in one place for every front end. A desk with no accounts
// lets any valid agent name write, as version 1 did; once an account exists, every write must
// come from an enabled account holding the role it needs.
#pragma once

#include <string>
#include <string_view>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

// The canonical spelling of an agent name (SPEC §2): trimmed, lower-cased, 1-64 chars of
// a-z 0-9 . _ - @. Throws Error(invalid_input) naming `flag` otherwise.
std::string canonical_agent(std::string_view raw, std::string_view flag = "--agent");

// Throws Error(forbidden) naming the account and the missing role, unless the desk has no
// accounts or `agent` is an enabled account holding `role`. `what` names the action
// ("open", "event approve", ...).
void authorize(engine::Store& store, const std::string& agent, std::string_view role, std::string_view what);

}  // namespace tfadesk::desk
