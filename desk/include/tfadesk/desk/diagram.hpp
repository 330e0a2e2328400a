// The state diagram (SPEC §4 `diagram`, §9 `GET /api/v1/diagram`), generated from the machine's
// own transition table (engine::Machine::transitions()), never from a second list. Given a
// ticket's log entries, the path that ticket took is highlighted. Shared by cli/ and serve/.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/journal.hpp"

namespace tfadesk::desk {

// The formats `diagram` knows: "dot", "mermaid", "svg".
bool is_diagram_format(std::string_view format);

// The diagram in `format`. `ref` and `path` (the ticket's entries in tseq order, non-empty when
// `ref` is) highlight the states it visited and the transitions it took. "svg" renders the DOT
// through Graphviz's `dot` (a child process, no shell); Error(unexpected) when that fails,
// Error(invalid_input) for an unknown format. Thread-safe.
std::string render_diagram(std::string_view format, const std::string& ref = {},
                           const std::vector<engine::LogEntry>& path = {});

}  // namespace tfadesk::desk
