// What the read commands print: a ticket for a person, tables that are aligned on a terminal and
// tab-separated when piped (so cut and awk work), and the JSON documents of SPEC §4.
#pragma once

#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "tfadesk/engine/journal.hpp"
#include "tfadesk/engine/ticket.hpp"

namespace tfadesk::cli {

// `show`/`replay` text: one "key: value" line per field, then what it waits for and what may come
// next.
void print_ticket(std::ostream& out, const engine::Ticket& t);

// Rows of cells: aligned columns under a header when `aligned`, else tab-separated without header.
void print_table(std::ostream& out, const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows, bool aligned);

}  // namespace tfadesk::cli
