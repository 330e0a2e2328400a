// Private to storage/: the workspace queries of SPEC §14 (search, keyset pages, counts) as SQL
// text for either store, so that SQLite and PostgreSQL answer the same. Every value is a text
// parameter; the stores only differ in placeholders and in two functions.
#pragma once

#include <string>
#include <vector>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::storage::workspace {

enum class Dialect { sqlite, postgres };

// The derived columns of a cache row (schema 5 on SQLite, 3 on PostgreSQL): the phone's digits
// reversed (a search by its last digits is a prefix search), due_at as stored ("~" for none, so
// that it sorts after every time in both stores), and whether the state is open (1) or terminal.
std::string phone_reversed(const std::string& phone);
std::string stored_due_at(const engine::Ticket& t);
int is_open(const std::string& state);
// Every state's name and whether it is open, from the machine.
const std::vector<std::string>& open_states();

// The tickets ready for approval (identity_check, all three checks passed) as SQL, word for word
// the WHERE of the partial index tickets_ready_for_approval (a planner uses such an index only
// for a query that repeats its condition): constants, no parameters.
std::string ready_for_approval(Dialect d);

struct Sql {
    std::string text;
    std::vector<std::string> params;
};

// SELECT <columns> FROM tickets WHERE ... ORDER BY ... LIMIT query.limit + 1. `ready_index`:
// the desk has tickets_ready_for_approval, which a ready_for query on SQLite names (SQLite's
// planner, without statistics, would take the state index and read every ticket in
// identity_check).
Sql page(const engine::TicketQuery& q, const std::string& columns, Dialect d,
         bool ready_index = true);
// The number of tickets `q` matches (after and limit ignored): the sum of the kept per-state
// counts (ticket_counts) when only states or open are asked for, else SELECT count(*) FROM
// tickets WHERE ...
Sql count(const engine::TicketQuery& q, Dialect d, bool ready_index = true);

}  // namespace tfadesk::storage::workspace
