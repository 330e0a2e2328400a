// The ticket's state machine against SPEC §3. The expected table below is typed in by hand from
// the spec, never read from Machine::transitions().
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "tfadesk/engine/machine.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using tfadesk::engine::Command;
using tfadesk::engine::EventKind;
using tfadesk::engine::Machine;
using tfadesk::engine::Outcome;
using tfadesk::engine::Ticket;
using tfadesk::rules::Access;
using tfadesk::rules::Fields;
using tfadesk::rules::Role;

constexpr const char* kOpenedAt = "2026-03-01T10:00:00.000Z";
constexpr const char* kFarFuture = "2030-01-01T00:00:00.000Z";

// SPEC §3, states (■ = terminal).
const std::vector<std::pair<std::string, bool>> kSpecStates = {
    {"received", false},        {"awaiting_requester", false},
    {"identity_check", false},  {"self_service_advised", true},
    {"partner_rejected", true}, {"identity_rejected", true},
    {"approved", false},        {"disable_submitted", false},
    {"completed", true},        {"cancelled", true},
    {"expired", true},
};

const std::vector<std::string> kSpecEvents = {
    "triage",  "update",         "check-passed",     "check-failed",   "partner-detected",
    "approve", "submit-disable", "confirm-disabled", "disable-failed", "cancel",
    "expire",  "claim",          "release",  // SPEC §14
};

Fields fields(Role role, Access access) {
    Fields f;
    f.ref = "HD-1";
    f.phone = "+491512345678";
    f.client_id = "acct-1";
    f.requester_email = "owner@example.com";
    f.requester_role = role;
    f.portfolio_access = access;
    f.submitted_at = "2026-03-01T09:00:00Z";
    return f;
}

// Builds commands with a clock that moves one second per command.
struct Clock {
    int tick = 0;
    std::string next() {
        ++tick;
        char buf[64];
        std::snprintf(buf, sizeof buf, "2026-03-01T10:%02d:%02d.000Z", tick / 60, tick % 60);
        return buf;
    }
};

Command cmd(EventKind kind, const std::string& agent, const std::string& at) {
    Command c;
    c.kind = kind;
    c.agent = agent;
    c.at = at;
    return c;
}

// The command for each event, carrying the flags that make its guard pass (SPEC §3).
Command passing(EventKind kind, const std::string& at) {
    Command c = cmd(kind, "a2", at);
    switch (kind) {
        case EventKind::update:
            c.note = "the requester answered";
            break;
        case EventKind::check_passed:
            c.check = "client_of_record";
            c.agent = "a1";
            break;
        case EventKind::check_failed:
            c.check = "number_ownership";
            c.note = "could not prove control of the number";
            c.agent = "a1";
            break;
        case EventKind::submit_disable:
            c.reference = "WAM-2026-0042";
            break;
        case EventKind::disable_failed:
            c.note = "the provider bounced it";
            break;
        case EventKind::cancel:
            c.note = "withdrawn by the requester";
            break;
        case EventKind::expire:
            c.at = kFarFuture;
            break;  // SPEC §12: judged at the entry's own time
        default:
            break;
    }
    return c;
}

EventKind kind_of(const std::string& name) {
    auto k = tfadesk::engine::parse_event(name);
    REQUIRE_MESSAGE(k.has_value(), "unknown event " << name);
    return *k;
}

void must_accept(Machine& m, const Command& c, const std::string& expected_state) {
    const Outcome o = m.fire(c);
    REQUIRE_MESSAGE(o.accepted, "setup event " << tfadesk::engine::to_string(c.kind) << " refused: "
                                               << o.message(tfadesk::engine::to_string(c.kind)));
    REQUIRE(o.state == expected_state);
}

void pass_all_checks(Machine& m, Clock& clock, const std::string& agent = "a1") {
    for (const char* check : {"client_of_record", "number_ownership", "lost_access"}) {
        Command c = cmd(EventKind::check_passed, agent, clock.next());
        c.check = check;
        must_accept(m, c, "identity_check");
    }
}

// A machine driven from a fresh `open` into `state` along a known path.
Machine machine_in(const std::string& state, Clock& clock) {
    if (state == "received") return Machine(fields(Role::client, Access::no), kOpenedAt);
    if (state == "awaiting_requester" || state == "expired") {
        Machine m(fields(Role::unknown, Access::unknown), kOpenedAt);
        must_accept(m, cmd(EventKind::triage, "a1", clock.next()), "awaiting_requester");
        if (state == "expired") must_accept(m, passing(EventKind::expire, clock.next()), "expired");
        return m;
    }
    if (state == "self_service_advised") {
        Machine m(fields(Role::client, Access::yes), kOpenedAt);
        must_accept(m, cmd(EventKind::triage, "a1", clock.next()), state);
        return m;
    }
    if (state == "partner_rejected") {
        Machine m(fields(Role::partner, Access::no), kOpenedAt);
        must_accept(m, cmd(EventKind::triage, "a1", clock.next()), state);
        return m;
    }
    if (state == "cancelled") {
        Machine m(fields(Role::client, Access::no), kOpenedAt);
        must_accept(m, passing(EventKind::cancel, clock.next()), state);
        return m;
    }
    Machine m(fields(Role::client, Access::no), kOpenedAt);
    must_accept(m, cmd(EventKind::triage, "a1", clock.next()), "identity_check");
    if (state == "identity_rejected") {
        must_accept(m, passing(EventKind::check_failed, clock.next()), state);
        return m;
    }
    pass_all_checks(m, clock);
    if (state == "identity_check") return m;
    must_accept(m, cmd(EventKind::approve, "a2", clock.next()), "approved");
    if (state == "approved") return m;
    must_accept(m, passing(EventKind::submit_disable, clock.next()), "disable_submitted");
    if (state == "disable_submitted") return m;
    must_accept(m, cmd(EventKind::confirm_disabled, "a2", clock.next()), "completed");
    if (state == "completed") return m;
    FAIL("no path to state " << state);
    return m;
}

// Everything a refused event must leave alone.
void check_unchanged(const Ticket& before, const Ticket& after) {
    CHECK(after.state == before.state);
    CHECK(after.version == before.version);
    CHECK(after.checks == before.checks);
    CHECK(after.check_agents == before.check_agents);
    CHECK(after.updated_at == before.updated_at);
    CHECK(after.fields == before.fields);
}

void check_refused(Machine& m, const Command& c, const std::string& rule) {
    const Ticket before = m.ticket();
    const Outcome o = m.fire(c);
    const std::string event(tfadesk::engine::to_string(c.kind));
    CHECK_FALSE(o.accepted);
    CHECK(o.state == before.state);
    REQUIRE(o.refusal.has_value());
    CHECK(o.refusal->rule == rule);
    const std::string msg = o.message(event);
    CHECK(msg.find(rule) != std::string::npos);
    CHECK(msg.find(before.state) != std::string::npos);
    CHECK(msg.find(event) != std::string::npos);
    check_unchanged(before, m.ticket());
}

}  // namespace

TEST_CASE("every (state, event) pair is accepted or refused as SPEC §3 says") {
    // SPEC §3's events table, typed in by hand: (state, event) -> target. Anything absent is
    // refused. Guards are made to pass by the setup and by passing(); the guard refusals have their
    // own tests.
    std::map<std::pair<std::string, std::string>, std::string> expected = {
        {{"received", "triage"}, "identity_check"},  // opened as client / access no
        {{"received", "update"}, "received"},
        {{"received", "cancel"}, "cancelled"},
        {{"awaiting_requester", "triage"}, "awaiting_requester"},  // role and access still unknown
        {{"awaiting_requester", "update"}, "awaiting_requester"},
        {{"awaiting_requester", "partner-detected"}, "partner_rejected"},
        {{"awaiting_requester", "cancel"}, "cancelled"},
        {{"awaiting_requester", "expire"}, "expired"},
        {{"identity_check", "check-passed"}, "identity_check"},
        {{"identity_check", "check-failed"}, "identity_rejected"},
        {{"identity_check", "partner-detected"}, "partner_rejected"},
        {{"identity_check", "approve"}, "approved"},
        {{"identity_check", "cancel"}, "cancelled"},
        {{"approved", "partner-detected"}, "partner_rejected"},
        {{"approved", "submit-disable"}, "disable_submitted"},
        {{"approved", "cancel"}, "cancelled"},
        {{"disable_submitted", "confirm-disabled"}, "completed"},
        {{"disable_submitted", "disable-failed"}, "approved"},
        {{"disable_submitted", "cancel"}, "cancelled"},
    };
    // SPEC §14: claim and release are self-loops in every non-terminal state.
    for (const auto& [state, terminal] : kSpecStates)
        if (!terminal)
            for (const char* event : {"claim", "release"}) expected[{state, event}] = state;
    REQUIRE(kSpecStates.size() == 11);
    REQUIRE(kSpecEvents.size() == 13);

    int accepted = 0, refused = 0;
    for (const auto& [state, terminal] : kSpecStates) {
        for (const std::string& event : kSpecEvents) {
            CAPTURE(state);
            CAPTURE(event);
            Clock clock;
            Machine m = machine_in(state, clock);
            REQUIRE(m.ticket().state == state);
            CHECK(m.terminal() == terminal);
            const Ticket before = m.ticket();
            const Command c = passing(kind_of(event), clock.next());
            const Outcome o = m.fire(c);

            const auto row = expected.find({state, event});
            if (row != expected.end()) {
                ++accepted;
                CHECK_MESSAGE(o.accepted, o.message(event));
                CHECK(o.state == row->second);
                CHECK(m.ticket().state == row->second);
                CHECK(m.ticket().version == before.version + 1);
                CHECK(m.ticket().updated_at == c.at);
                CHECK_FALSE(o.refusal.has_value());
            } else {
                ++refused;
                CHECK_FALSE(o.accepted);
                CHECK(o.state == state);
                REQUIRE(o.refusal.has_value());
                const std::string& rule = o.refusal->rule;
                CHECK(rule.size() == 2);
                CHECK(rule[0] == 'R');
                CHECK(rule[1] >= '1');
                CHECK(rule[1] <= '8');
                if (terminal) CHECK(rule == "R8");
                const std::string msg = o.message(event);
                CHECK(msg.find(rule) != std::string::npos);
                CHECK(msg.find(state) != std::string::npos);
                check_unchanged(before, m.ticket());
            }
        }
    }
    CHECK(accepted == 19 + 10);
    CHECK(refused == 143 - 19 - 10);
}

TEST_CASE("the machine's own lists agree with SPEC §3") {
    SUBCASE("35 rows in the transition table") { CHECK(Machine::transitions().size() == 35); }
    SUBCASE("every spec state appears once, terminal exactly where the spec marks it") {
        const auto& states = Machine::states();
        CHECK(states.size() == kSpecStates.size());
        for (const auto& [name, terminal] : kSpecStates) {
            CAPTURE(name);
            const auto it = std::find_if(states.begin(), states.end(),
                                         [&](const auto& s) { return s.first == name; });
            REQUIRE(it != states.end());
            CHECK(it->second == terminal);
            CHECK(Machine::events_from(name).empty() == terminal);
        }
    }
    SUBCASE("every row names spec states and spec events") {
        for (const auto& t : Machine::transitions()) {
            CAPTURE(t.source);
            CAPTURE(t.event);
            CAPTURE(t.target);
            auto is_state = [&](const std::string& s) {
                return std::any_of(kSpecStates.begin(), kSpecStates.end(),
                                   [&](const auto& p) { return p.first == s; });
            };
            CHECK(is_state(t.source));
            CHECK(is_state(t.target));
            CHECK(std::find(kSpecEvents.begin(), kSpecEvents.end(), t.event) != kSpecEvents.end());
        }
    }
    SUBCASE("event names round-trip") {
        CHECK(tfadesk::engine::all_events().size() == kSpecEvents.size());
        for (const std::string& name : kSpecEvents)
            CHECK(tfadesk::engine::to_string(kind_of(name)) == name);
        CHECK_FALSE(tfadesk::engine::parse_event("open").has_value());
        CHECK_FALSE(tfadesk::engine::parse_event("check_passed").has_value());
    }
}

TEST_CASE("a fresh machine is the opened ticket") {
    const Fields f = fields(Role::client, Access::no);
    const Machine m(f, kOpenedAt);
    CHECK(m.ticket().state == "received");
    CHECK(m.ticket().version == 1);
    CHECK(m.ticket().updated_at == kOpenedAt);
    CHECK(m.ticket().fields == f);
    CHECK(m.ticket().checks.empty());
    CHECK_FALSE(m.terminal());
}

TEST_CASE("triage through the machine, from received and after the requester answers") {
    struct Row {
        Role role;
        Access access;
        const char* expected;
    };
    const Row table[] = {
        {Role::client, Access::yes, "self_service_advised"},
        {Role::client, Access::no, "identity_check"},
        {Role::client, Access::unknown, "awaiting_requester"},
        {Role::portfolio_admin, Access::yes, "self_service_advised"},
        {Role::portfolio_admin, Access::no, "identity_check"},
        {Role::portfolio_admin, Access::unknown, "awaiting_requester"},
        {Role::partner, Access::yes, "partner_rejected"},
        {Role::partner, Access::no, "partner_rejected"},
        {Role::partner, Access::unknown, "partner_rejected"},
        {Role::unknown, Access::yes, "awaiting_requester"},
        {Role::unknown, Access::no, "awaiting_requester"},
        {Role::unknown, Access::unknown, "awaiting_requester"},
    };
    for (const Row& row : table) {
        CAPTURE(tfadesk::rules::to_string(row.role));
        CAPTURE(tfadesk::rules::to_string(row.access));
        Clock clock;
        Machine fresh(fields(row.role, row.access), kOpenedAt);
        CHECK(fresh.fire(cmd(EventKind::triage, "a1", clock.next())).state == row.expected);

        // Same answer given later with `update` while awaiting the requester.
        Machine later(fields(Role::unknown, Access::unknown), kOpenedAt);
        must_accept(later, cmd(EventKind::triage, "a1", clock.next()), "awaiting_requester");
        Command answer = cmd(EventKind::update, "a1", clock.next());
        answer.role = row.role;
        answer.access = row.access;
        must_accept(later, answer, "awaiting_requester");
        CHECK(later.ticket().fields.requester_role == row.role);
        CHECK(later.ticket().fields.portfolio_access == row.access);
        const Outcome o = later.fire(cmd(EventKind::triage, "a1", clock.next()));
        CHECK(o.accepted);
        CHECK(o.state == row.expected);
    }
}

TEST_CASE("update records what the requester answered") {
    Clock clock;
    Machine m(fields(Role::unknown, Access::unknown), kOpenedAt);
    Command c = cmd(EventKind::update, "a1", clock.next());
    c.role = Role::portfolio_admin;
    c.access = Access::no;
    c.requester_email = "admin@example.org";
    c.note = "called back";
    must_accept(m, c, "received");
    CHECK(m.ticket().fields.requester_role == Role::portfolio_admin);
    CHECK(m.ticket().fields.portfolio_access == Access::no);
    CHECK(m.ticket().fields.requester_email == "admin@example.org");
    CHECK(m.ticket().fields.note == std::optional<std::string>("called back"));
    CHECK(m.ticket().version == 2);
    CHECK(m.ticket().updated_at == c.at);
}

TEST_CASE("partner detected late: R3 at any later point") {
    for (const char* state : {"awaiting_requester", "identity_check", "approved"}) {
        CAPTURE(state);
        Clock clock;
        Machine m = machine_in(state, clock);
        must_accept(m, cmd(EventKind::partner_detected, "a3", clock.next()), "partner_rejected");
        CHECK(m.ticket().fields.requester_role == Role::partner);
        CHECK(m.terminal());
    }
}

TEST_CASE("triage of a partner is rejected by R3, whatever the access") {
    for (Access access : {Access::yes, Access::no, Access::unknown}) {
        Clock clock;
        Machine m(fields(Role::partner, access), kOpenedAt);
        must_accept(m, cmd(EventKind::triage, "a1", clock.next()), "partner_rejected");
        CHECK(m.terminal());
        check_refused(m, passing(EventKind::cancel, clock.next()), "R8");
    }
}

TEST_CASE("identity checks are recorded with their agents") {
    Clock clock;
    Machine m = machine_in("received", clock);
    must_accept(m, cmd(EventKind::triage, "a1", clock.next()), "identity_check");
    Command c = cmd(EventKind::check_passed, "a1", clock.next());
    c.check = "client_of_record";
    must_accept(m, c, "identity_check");
    c = cmd(EventKind::check_passed, "a3", clock.next());
    c.check = "client_of_record";  // passed again by someone else: the first agent stays
    must_accept(m, c, "identity_check");
    c = cmd(EventKind::check_passed, "a3", clock.next());
    c.check = "lost_access";
    must_accept(m, c, "identity_check");
    CHECK(m.ticket().checks == std::map<std::string, std::string, std::less<>>{
                                   {"client_of_record", "a1"}, {"lost_access", "a3"}});
    CHECK(m.ticket().check_agents == std::set<std::string, std::less<>>{"a1", "a3"});
    CHECK(m.ticket().version == 5);

    Command failed = passing(EventKind::check_failed, clock.next());
    failed.agent = "a4";
    must_accept(m, failed, "identity_rejected");
    CHECK(m.ticket().check_agents.count("a4") == 1);
    CHECK(m.ticket().checks.count("number_ownership") == 0);
}

TEST_CASE("approve: R5 all three checks, R6 four eyes") {
    Clock clock;
    Machine m = machine_in("received", clock);
    must_accept(m, cmd(EventKind::triage, "a1", clock.next()), "identity_check");

    SUBCASE("no check passed") {
        check_refused(m, cmd(EventKind::approve, "a2", clock.next()), "R5");
    }
    SUBCASE("two of three passed: the refusal names the missing one") {
        for (const char* check : {"client_of_record", "number_ownership"}) {
            Command c = cmd(EventKind::check_passed, "a1", clock.next());
            c.check = check;
            must_accept(m, c, "identity_check");
        }
        const Outcome o = m.fire(cmd(EventKind::approve, "a2", clock.next()));
        CHECK_FALSE(o.accepted);
        REQUIRE(o.refusal.has_value());
        CHECK(o.refusal->rule == "R5");
        CHECK(o.refusal->reason.find("lost_access") != std::string::npos);
        CHECK(o.message("approve") ==
              o.refusal->message() + " (state identity_check, event approve)");
        CHECK(m.ticket().state == "identity_check");
        CHECK(m.ticket().version == 4);
    }
    SUBCASE("approved by the agent who recorded the checks") {
        pass_all_checks(m, clock, "a1");
        check_refused(m, cmd(EventKind::approve, "a1", clock.next()), "R6");
    }
    SUBCASE("approved by an agent who recorded only one check") {
        Command c = cmd(EventKind::check_passed, "a1", clock.next());
        c.check = "client_of_record";
        must_accept(m, c, "identity_check");
        c = cmd(EventKind::check_passed, "a3", clock.next());
        c.check = "number_ownership";
        must_accept(m, c, "identity_check");
        c = cmd(EventKind::check_passed, "a1", clock.next());
        c.check = "lost_access";
        must_accept(m, c, "identity_check");
        check_refused(m, cmd(EventKind::approve, "a3", clock.next()), "R6");
        must_accept(m, cmd(EventKind::approve, "a2", clock.next()), "approved");
    }
    SUBCASE("a second agent approves after all three") {
        pass_all_checks(m, clock, "a1");
        must_accept(m, cmd(EventKind::approve, "a2", clock.next()), "approved");
        CHECK(m.ticket().version == 6);
    }
}

TEST_CASE("approve works for a portfolio admin too") {
    Clock clock;
    Machine m(fields(Role::portfolio_admin, Access::no), kOpenedAt);
    must_accept(m, cmd(EventKind::triage, "a1", clock.next()), "identity_check");
    pass_all_checks(m, clock);
    must_accept(m, cmd(EventKind::approve, "a2", clock.next()), "approved");
}

TEST_CASE("submit-disable needs a non-empty reference (R4)") {
    Clock clock;
    Machine m = machine_in("approved", clock);
    SUBCASE("missing") {
        check_refused(m, cmd(EventKind::submit_disable, "a2", clock.next()), "R4");
    }
    SUBCASE("empty") {
        Command c = cmd(EventKind::submit_disable, "a2", clock.next());
        c.reference = "";
        check_refused(m, c, "R4");
    }
    SUBCASE("blank") {
        Command c = cmd(EventKind::submit_disable, "a2", clock.next());
        c.reference = "   ";
        check_refused(m, c, "R4");
    }
    SUBCASE("disable-failed goes back to approved and may be submitted again") {
        must_accept(m, passing(EventKind::submit_disable, clock.next()), "disable_submitted");
        must_accept(m, passing(EventKind::disable_failed, clock.next()), "approved");
        must_accept(m, passing(EventKind::submit_disable, clock.next()), "disable_submitted");
        must_accept(m, cmd(EventKind::confirm_disabled, "a2", clock.next()), "completed");
        CHECK(m.terminal());
    }
}

TEST_CASE("expire only after the SLA (R7)") {
    Clock clock;
    Machine m = machine_in("awaiting_requester", clock);
    const std::string last = m.ticket().updated_at;
    REQUIRE(last == "2026-03-01T10:00:01.000Z");
    // The expiry is written later than any `now` below: `now` may name an earlier time to judge by.
    const std::string kLaterWrite = "2026-04-01T00:00:00.000Z";

    SUBCASE("exactly 168 hours later is too early") {
        Command c = cmd(EventKind::expire, "sweeper", kLaterWrite);
        c.now = "2026-03-08T10:00:01.000Z";
        check_refused(m, c, "R7");
    }
    SUBCASE("168 hours and 1 ms later expires") {
        Command c = cmd(EventKind::expire, "sweeper", kLaterWrite);
        c.now = "2026-03-08T10:00:01.001Z";
        must_accept(m, c, "expired");
    }
    SUBCASE("without --now the event's own time is the clock") {
        check_refused(m, cmd(EventKind::expire, "sweeper", "2026-03-02T10:00:00.000Z"), "R7");
        must_accept(m, cmd(EventKind::expire, "sweeper", "2026-03-09T10:00:00.000Z"), "expired");
    }
    SUBCASE("a custom SLA") {
        Command c = cmd(EventKind::expire, "sweeper", kLaterWrite);
        c.now = "2026-03-01T12:00:01.000Z";
        c.sla_hours = 2;
        check_refused(m, c, "R7");
        c.now = "2026-03-01T12:00:01.001Z";
        must_accept(m, c, "expired");
    }
    SUBCASE("a `now` later than the entry's own time is judged at the entry's time (SPEC §12)") {
        Command c = cmd(EventKind::expire, "sweeper", clock.next());
        c.now = "9999-12-31T23:59:59.000Z";
        check_refused(m, c, "R7");
        c.at = "2026-03-08T10:00:01.001Z";  // the SLA has passed at the entry's own time
        must_accept(m, c, "expired");
    }
    SUBCASE("activity restarts the SLA") {
        Command answer = cmd(EventKind::update, "a1", "2026-03-05T10:00:00.000Z");
        answer.note = "still thinking";
        must_accept(m, answer, "awaiting_requester");
        Command c = cmd(EventKind::expire, "sweeper", kLaterWrite);
        c.now = "2026-03-09T10:00:00.000Z";  // 8 days after triage, 4 after the update
        check_refused(m, c, "R7");
    }
}

TEST_CASE("a terminal state accepts no event (R8)") {
    for (const char* state : {"self_service_advised", "partner_rejected", "identity_rejected",
                              "completed", "cancelled", "expired"}) {
        CAPTURE(state);
        Clock clock;
        Machine m = machine_in(state, clock);
        CHECK(m.terminal());
        CHECK(Machine::events_from(state).empty());
        for (const std::string& event : kSpecEvents) {
            CAPTURE(event);
            check_refused(m, passing(kind_of(event), clock.next()), "R8");
        }
    }
}

TEST_CASE("a refused event outside the table names the state") {
    Clock clock;
    Machine m = machine_in("received", clock);
    const Outcome o = m.fire(passing(EventKind::approve, clock.next()));
    CHECK_FALSE(o.accepted);
    CHECK(o.state == "received");
    REQUIRE(o.refusal.has_value());
    CHECK(o.message("approve").find("received") != std::string::npos);
    CHECK(m.ticket().version == 1);
    CHECK(o.message("approve").find(o.refusal->rule) == 0);
}

TEST_CASE("a moved machine keeps working") {
    Clock clock;
    Machine a = machine_in("identity_check", clock);
    Machine b = std::move(a);
    must_accept(b, cmd(EventKind::approve, "a2", clock.next()), "approved");
    Machine c = machine_in("received", clock);
    c = std::move(b);
    must_accept(c, passing(EventKind::submit_disable, clock.next()), "disable_submitted");
    CHECK(c.ticket().version == 7);
}

TEST_CASE("claim and release set the assignee and are not activity for R7 (SPEC §14)") {
    Clock clock;
    Machine m = machine_in("awaiting_requester", clock);
    const std::string active = m.ticket().active_at;
    CHECK(active == m.ticket().updated_at);
    CHECK_FALSE(m.ticket().assignee.has_value());

    must_accept(m, cmd(EventKind::claim, "alice", clock.next()), "awaiting_requester");
    CHECK(m.ticket().assignee == std::optional<std::string>("alice"));
    CHECK(m.ticket().active_at == active);  // not activity
    CHECK(m.ticket().updated_at != active);

    SUBCASE("a claim of a held ticket must name the holder it takes over from") {
        check_refused(m, cmd(EventKind::claim, "bob", clock.next()), "R8");
        Command c = cmd(EventKind::claim, "bob", clock.next());
        c.takes_over = "carol";
        check_refused(m, c, "R8");
        c.takes_over = "alice";
        must_accept(m, c, "awaiting_requester");
        CHECK(m.ticket().assignee == std::optional<std::string>("bob"));
        Command again = cmd(EventKind::claim, "bob", clock.next());
        again.takes_over = "bob";
        check_refused(m, again, "R8");  // nobody else holds it: nothing to take over
    }
    SUBCASE("release clears it, and neither moves R7's clock") {
        must_accept(m, cmd(EventKind::release, "alice", clock.next()), "awaiting_requester");
        CHECK_FALSE(m.ticket().assignee.has_value());
        CHECK(m.ticket().active_at == active);
        // The SLA counts from the triage, not from the claim or the release.
        Command e = cmd(EventKind::expire, "op", "2026-03-08T10:00:01.500Z");
        CHECK(m.fire(e).accepted);
    }
    SUBCASE("any other event is activity") {
        Command u = cmd(EventKind::update, "alice", clock.next());
        u.note = "answered";
        must_accept(m, u, "awaiting_requester");
        CHECK(m.ticket().active_at == u.at);
        CHECK(m.ticket().assignee == std::optional<std::string>("alice"));
    }
}
