// Who may do what (SPEC §7, §12), checked in one place for every front end. A desk with no
// accounts lets any valid agent name write, as version 1 did; once an account exists, every write
// must come from an enabled account holding the role it needs, authenticated by its token of
// record. Every answer comes from the account entries of the log, never from a cached row alone.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

// The canonical spelling of an agent name (SPEC §2): trimmed, lower-cased, 1-64 chars of
// a-z 0-9 . _ - @. Throws Error(invalid_input) about the input `field` otherwise, and for the
// reserved name of the SLA scheduler (sla.hpp's kSlaAgent), which no one may act or sign in as.
std::string canonical_agent(std::string_view raw, std::string_view field = "agent");

// Who is acting: a name and, when a token authenticated it, that token's id (SPEC §12), which
// every entry it writes records. A bare name (a desk without accounts) converts implicitly.
struct Actor {
    Actor(std::string n = {}, std::string token = {}, std::string v = {})
        : name(std::move(n)), token_id(std::move(token)), via(std::move(v)) {}
    Actor(const char* n) : name(n) {}
    std::string name;
    std::string token_id;
    std::string via;  // "intake:SOURCE" when a helpdesk connector acts as the account (SPEC §17)
};

// The account as its log entries make it now (SPEC §12), or nothing when it has none.
std::optional<engine::Account> account_from_log(engine::Store& store, std::string_view name);
// Every account as the log makes it, by name.
std::map<std::string, engine::Account, std::less<>> accounts_from_log(engine::Store& store);

// Throws Error(forbidden) naming the account and what it lacks, unless the desk has no accounts
// or `actor` is an enabled account holding `role` whose token of record authenticated it.
// `what` names the action ("open tickets", "approve tickets", ...).
void authorize(engine::Store& store, const Actor& actor, std::string_view role,
               std::string_view what);

// SPEC §17: the actor a helpdesk connector acts as. The connector holds no token (its webhook
// signature authenticated the delivery), so it acts as `account` under that account's token of
// record as the log says it is now, and every entry it writes records "via": "intake:SOURCE":
// authorize() and verify judge those entries exactly as any other of the account's. Throws
// Error(forbidden) naming the account unless the log holds it enabled, with the `agent` role and
// a token of record (issue one with `agent token`).
Actor connector_actor(engine::Store& store, std::string_view account, std::string_view source);

}  // namespace tfadesk::desk
