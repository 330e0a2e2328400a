// Building desks for the store suite through the engine, as the desk layer does: tickets opened
// and walked through the machine, account changes, times one second apart.
#pragma once

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "backend.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/store.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/time.hpp"
#include "tfadesk/storage/open.hpp"

namespace store_test {

using namespace tfadesk;
using engine::Error;
using engine::ErrorKind;
using engine::EventKind;
using engine::LogEntry;
using engine::Store;
using rules::Access;
using rules::Role;

inline std::unique_ptr<Store> open_rw(const std::string& location) {
    return storage::open_store(location, Store::Mode::read_write);
}
inline std::unique_ptr<Store> open_ro(const std::string& location) {
    return storage::open_store(location, Store::Mode::read_only);
}

// 2026-03-01T10:00:00.000Z plus `s` seconds.
inline std::string at(int s) {
    static const std::int64_t base = *rules::parse_utc("2026-03-01T10:00:00.000Z");
    return rules::format_utc_ms(base + std::int64_t{s} * 1000);
}

inline rules::Fields fields(const std::string& ref, Role role = Role::client,
                            Access access = Access::no) {
    rules::Fields f;
    f.ref = ref;
    f.phone = "+491512345678";
    f.client_id = "acct-" + ref;
    f.requester_email = "owner@example.com";
    f.requester_role = role;
    f.portfolio_access = access;
    f.submitted_at = "2026-03-01T09:00:00Z";
    return f;
}

inline engine::Command cmd(EventKind kind, int second, const std::string& agent = "a1") {
    engine::Command c;
    c.kind = kind;
    c.agent = agent;
    c.at = at(second);
    return c;
}

inline engine::Command check(const std::string& name, int second) {
    engine::Command c = cmd(EventKind::check_passed, second);
    c.check = name;
    return c;
}

inline void open(Store& s, const rules::Fields& f, int second) {
    engine::in_transaction(s, [&] { engine::open_ticket(s, f, "a1", at(second)); });
}

inline void event(Store& s, const std::string& ref, const engine::Command& c) {
    engine::in_transaction(s, [&] {
        const auto r = engine::apply_event(s, ref, c);
        REQUIRE_MESSAGE(r.outcome.accepted, r.outcome.message(engine::to_string(c.kind)));
    });
}

// Appends account change `change` for `name` in its own transaction.
inline engine::Account account_change(Store& s, engine::AccountChange change,
                                      const std::string& name,
                                      const std::set<std::string, std::less<>>& roles, int second,
                                      const std::optional<std::string>& token_hash = std::nullopt) {
    return engine::in_transaction(s, [&] {
        const auto before = s.account(name);
        LogEntry e = engine::account_entry(before, change, name, roles, "setup", at(second));
        const engine::Account after = engine::apply_account_entry(before, e);
        s.append_account(e, after, token_hash);
        return after;
    });
}

// Refs whose byte order differs from a natural-language collation ('B' < '_' < 'a' in bytes).
// Global order interleaves them, so it differs from per-ticket order too:
//   b-1: open, triage, 3 checks, approve (a2)      -> approved, 6 entries
//   B-2: open (client, access yes), triage          -> self_service_advised, 2 entries
//   a.3: open (unknown, unknown), triage            -> awaiting_requester, 2 entries
//   _z, 0x: open only                               -> received, 1 entry each
//   account:admin: one account change (add)
// 13 entries in all.
inline void populate(Store& s) {
    open(s, fields("b-1"), 1);
    open(s, fields("B-2", Role::client, Access::yes), 2);
    event(s, "b-1", cmd(EventKind::triage, 3));
    open(s, fields("a.3", Role::unknown, Access::unknown), 4);
    event(s, "b-1", check("client_of_record", 5));
    event(s, "B-2", cmd(EventKind::triage, 6));
    account_change(s, engine::AccountChange::add, "admin", {"admin"}, 7, std::string(64, 'a'));
    event(s, "b-1", check("number_ownership", 8));
    open(s, fields("_z"), 9);
    event(s, "a.3", cmd(EventKind::triage, 10));
    event(s, "b-1", check("lost_access", 11));
    open(s, fields("0x"), 12);
    event(s, "b-1", cmd(EventKind::approve, 13, "a2"));
}
inline constexpr int kPopulated = 13;

inline std::vector<LogEntry> all_entries(Store& s) {
    std::vector<LogEntry> out;
    s.for_each_entry([&](const LogEntry& e) { out.push_back(e); });
    return out;
}

inline std::vector<engine::Ticket> all_tickets(Store& s) {
    std::vector<engine::Ticket> out;
    s.for_each_ticket(std::nullopt, [&](const engine::Ticket& t) { out.push_back(t); });
    return out;
}

// The Error that `f` throws; a failed check (and an `unexpected` placeholder) when it throws none.
template <class F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    FAIL_CHECK("expected an Error, but nothing was thrown");
    return Error(ErrorKind::unexpected, "<nothing was thrown>");
}

inline bool same_entry(const LogEntry& a, const LogEntry& b) {
    return a.seq == b.seq && a.ref == b.ref && a.tseq == b.tseq && a.event == b.event &&
           a.details == b.details && a.agent == b.agent && a.at == b.at && a.state == b.state &&
           a.policy_version == b.policy_version && a.prev_hash == b.prev_hash && a.hash == b.hash;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

}  // namespace store_test
