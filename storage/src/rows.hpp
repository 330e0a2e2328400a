// Private to storage/: the text form of the cache rows, shared by every store so that a ticket or
// an account reads back the same from SQLite and from PostgreSQL.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/ticket.hpp"

namespace tfadesk::storage::rows {

// `checks` as a JSON object {check: agent} and `check_agents` as a JSON array, both sorted.
std::string checks_text(const engine::Ticket& t);
std::string check_agents_text(const engine::Ticket& t);
// The stored role and access; a value the rules do not know is kept as a problem for verify
// (Ticket::unreadable), never read as `unknown`.
void read_role_access(engine::Ticket& t, const std::string& role, const std::string& access);
// The stored checks; text that is not the JSON written above is a problem for verify.
void read_checks(engine::Ticket& t, const std::string& checks, const std::string& agents);

// Account roles as one comma-separated, sorted list, and back.
std::string roles_text(const engine::Account& a);
std::set<std::string, std::less<>> roles_from(const std::string& text);

// An access record's refs as one JSON array, and back. Stored text that is not an array of
// strings (written behind tfadesk's back) is kept as the one element, so it stays visible.
std::string refs_text(const std::vector<std::string>& refs);
std::vector<std::string> refs_from(const std::string& text);
// What a ref is in that array (a JSON string, quotes included): the records that returned `ref`
// are those whose refs text contains it (refs never hold a quote, SPEC §2).
std::string refs_needle(const std::string& ref);

}  // namespace tfadesk::storage::rows
