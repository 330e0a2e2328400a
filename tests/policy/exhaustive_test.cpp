// Exhaustive policy check: every sequence of events from every kind of freshly opened ticket,
// explored breadth-first through the real engine::Machine, with the security invariants of
// SPEC §1 asserted on every ticket reached and after every event fired.
//
// What is explored. Starts: a fresh Machine for each (requester_role x portfolio_access), 4 x 3.
// Steps: each of the 11 events with every flag value that can make a difference — the three
// check names, three agents (a1, a2, a3), `update` with every role and access alone and in
// every combination plus email-only and note-only answers, `submit-disable` with no, an empty,
// a blank and a real reference, `expire` judged at the event's own time, at an explicit `now`
// equal to it, and far in the future (written then: the SLA is judged at the entry's time); notes
// wherever §3 requires one. 40 commands per agent, 120 per step, every one valid for
// engine::validate (the malformed ones are exit 2 before the machine is asked, so they are not the
// machine's business).
//
// What the explorer knows on its own. The invariants are judged on facts the explorer collects
// from the events it saw accepted (ever a partner, checks passed, agents who recorded a check,
// the approver), never on what the machine says about itself; the machine's own bookkeeping is
// then checked against those facts.
//
// Why it terminates. Sequences are unbounded (update can be repeated forever, disable-failed and
// submit-disable loop), so states are de-duplicated on an ABSTRACT STATE: the future of a ticket
// (which events are accepted, where they lead, what the invariants say) depends only on
//   - the machine state name;
//   - requester_role and portfolio_access (read by the triage guards and by can_approve);
//   - the NAMES of the checks passed (can_approve reads the names, not who passed them);
//   - the set of agents who recorded any check (can_approve, R6);
//   - the explorer's facts: ever a partner, checks passed, check recorders, approver (read by
//     the invariants).
// Left out, and why that is safe: requester_email and note (no guard reads them); version (no
// guard reads it); which agent FIRST passed each check (stored, never read by a guard);
// updated_at, because the only guard reading it (is_past_sla) compares it with `now`, and the
// test clock moves one second per event, so over any explored path "now = the event's time" is
// always within the 168 h SLA and "now = 2035" always beyond it: the guard's answer depends on
// which `expire` variant was fired, never on the exact updated_at. Breadth-first order makes
// the first visit of an abstract state the shallowest, so de-duplication loses no sequence up
// to the depth bound; when the queue empties before the bound, the whole abstract graph has
// been explored, i.e. sequences of ANY length are covered.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <array>
#include <cstdio>
#include <deque>
#include <iostream>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "tfadesk/engine/command.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/policy.hpp"

namespace {

using tfadesk::engine::Command;
using tfadesk::engine::EventKind;
using tfadesk::engine::Machine;
using tfadesk::engine::Outcome;
using tfadesk::engine::Ticket;
using tfadesk::rules::Access;
using tfadesk::rules::Fields;
using tfadesk::rules::Role;
using StringSet = std::set<std::string, std::less<>>;

constexpr int kMaxDepth = 16;  // the longest path of SPEC §3 is 9 events
constexpr const char* kOpenedAt = "2026-03-01T10:00:00.000Z";
constexpr const char* kFarFuture = "2035-01-01T00:00:00.000Z";

// SPEC §3's states, typed in from the spec (not read from the machine).
const std::vector<std::string> kSpecStates = {
    "received",         "awaiting_requester", "identity_check", "self_service_advised",
    "partner_rejected", "identity_rejected",  "approved",       "disable_submitted",
    "completed",        "cancelled",          "expired",
};
const StringSet kTerminal = {"self_service_advised",
                             "partner_rejected",
                             "identity_rejected",
                             "completed",
                             "cancelled",
                             "expired"};
const StringSet kApprovedOrLater = {"approved", "disable_submitted", "completed"};
const std::array<const char*, 3> kAgents = {"a1", "a2", "a3"};
const std::array<const char*, 3> kCheckNames = {"client_of_record", "number_ownership",
                                                "lost_access"};
const std::array<Role, 4> kRoles = {Role::client, Role::portfolio_admin, Role::partner,
                                    Role::unknown};
const std::array<Access, 3> kAccesses = {Access::yes, Access::no, Access::unknown};

Fields opened_fields(Role role, Access access) {
    Fields f;
    f.ref = "HD-EXH-1";
    f.phone = "+491512345678";
    f.client_id = "acct-1";
    f.requester_email = "owner@example.com";
    f.requester_role = role;
    f.portfolio_access = access;
    f.submitted_at = "2026-03-01T09:00:00Z";
    return f;
}

// The test clock: event number n (1-based) happens n seconds after the open.
std::string time_of_step(int n) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "2026-03-01T10:%02d:%02d.000Z", n / 60, n % 60);
    return buf;
}

// Every command tried at each step (without `at`, filled in per step).
std::vector<Command> all_commands() {
    std::vector<Command> out;
    for (const char* agent : kAgents) {
        auto make = [&](EventKind k) {
            Command c;
            c.kind = k;
            c.agent = agent;
            return c;
        };
        out.push_back(make(EventKind::triage));
        for (int r = -1; r < 4; ++r) {
            for (int a = -1; a < 3; ++a) {
                if (r < 0 && a < 0) continue;
                Command c = make(EventKind::update);
                if (r >= 0) c.role = kRoles[static_cast<std::size_t>(r)];
                if (a >= 0) c.access = kAccesses[static_cast<std::size_t>(a)];
                out.push_back(c);
            }
        }
        Command email = make(EventKind::update);
        email.requester_email = "other@example.org";
        out.push_back(email);
        Command note = make(EventKind::update);
        note.note = "the requester called back";
        out.push_back(note);
        for (const char* check : kCheckNames) {
            Command passed = make(EventKind::check_passed);
            passed.check = check;
            out.push_back(passed);
            Command failed = make(EventKind::check_failed);
            failed.check = check;
            failed.note = "could not confirm";
            out.push_back(failed);
        }
        out.push_back(make(EventKind::partner_detected));
        out.push_back(make(EventKind::approve));
        for (std::optional<std::string> ref :
             {std::optional<std::string>{}, std::optional<std::string>{""},
              std::optional<std::string>{"  "}, std::optional<std::string>{"WAM-2026-0042"}}) {
            Command c = make(EventKind::submit_disable);
            c.reference = ref;
            out.push_back(c);
        }
        out.push_back(make(EventKind::confirm_disabled));
        Command failed = make(EventKind::disable_failed);
        failed.note = "the provider bounced it";
        out.push_back(failed);
        Command cancel = make(EventKind::cancel);
        cancel.note = "withdrawn";
        out.push_back(cancel);
        out.push_back(make(EventKind::expire));  // judged at its own time
        Command now_same = make(EventKind::expire);
        now_same.now = "";  // filled in with the step's time
        out.push_back(now_same);
        Command far = make(EventKind::expire);
        far.now = kFarFuture;
        out.push_back(far);
    }
    return out;
}

Command at_step(Command c, int step) {
    c.at = time_of_step(step);
    if (c.now && c.now->empty()) c.now = c.at;
    // An expire judged far in the future is written then too: SPEC §12 judges the SLA at the
    // entry's own time, never at a later `now`.
    if (c.now && *c.now == kFarFuture) c.at = kFarFuture;
    return c;
}

std::string describe(const Command& c) {
    std::string s(tfadesk::engine::to_string(c.kind));
    s += "[" + c.agent;
    if (c.check) s += " check=" + *c.check;
    if (c.role) s += " role=" + std::string(tfadesk::rules::to_string(*c.role));
    if (c.access) s += " access=" + std::string(tfadesk::rules::to_string(*c.access));
    if (c.requester_email) s += " email";
    if (c.note && c.kind == EventKind::update) s += " note";
    if (c.reference) s += " ref='" + *c.reference + "'";
    if (c.now) s += " now=" + *c.now;
    return s + "]";
}

// What the explorer itself saw happen on the path (never read from the machine).
struct Facts {
    bool ever_partner = false;  // opened as partner, updated to partner, or partner detected
    StringSet passed;           // checks with an accepted check-passed
    StringSet recorders;        // agents of accepted check-passed / check-failed
    std::optional<std::string> approver;  // agent of the accepted approve
};

struct Node {
    int start = 0;  // index into the 12 starts
    std::vector<Command> path;
    Facts facts;
};

std::string join(const StringSet& s) {
    std::string out;
    for (const auto& x : s) out += x + ",";
    return out;
}

// The abstract state (see the header comment for what is kept and why).
std::string abstract_key(const Ticket& t, const Facts& f) {
    StringSet check_names;
    for (const auto& [name, agent] : t.checks) check_names.insert(name);
    std::ostringstream k;
    k << t.state << '|' << tfadesk::rules::to_string(t.fields.requester_role) << '|'
      << tfadesk::rules::to_string(t.fields.portfolio_access) << '|' << join(check_names) << '|'
      << join(t.check_agents) << '|' << f.ever_partner << '|' << join(f.passed) << '|'
      << join(f.recorders) << '|' << f.approver.value_or("-");
    return k.str();
}

Facts after(const Facts& f, const Command& c, const Ticket& t) {
    Facts n = f;
    if (c.kind == EventKind::update && c.role == Role::partner) n.ever_partner = true;
    if (c.kind == EventKind::partner_detected) n.ever_partner = true;
    if (t.fields.requester_role == Role::partner) n.ever_partner = true;
    if (c.kind == EventKind::check_passed) n.passed.insert(*c.check);
    if (c.kind == EventKind::check_passed || c.kind == EventKind::check_failed)
        n.recorders.insert(c.agent);
    if (c.kind == EventKind::approve) n.approver = c.agent;
    return n;
}

bool same_ticket(const Ticket& a, const Ticket& b) {
    return a.state == b.state && a.version == b.version && a.checks == b.checks &&
           a.check_agents == b.check_agents && a.updated_at == b.updated_at && a.fields == b.fields;
}

// The invariants; each collects counter-examples (shortest first: the search is breadth-first).
enum Inv { kPartner, kChecks, kFourEyes, kTerminalInv, kRefusedInv, kBookkeeping, kInvCount };
const char* const kInvNames[kInvCount] = {
    "(a) partner never reaches approved/disable_submitted/completed",
    "(b) approved or later only with all three checks passed",
    "(c) the approver recorded no check",
    "(d) a terminal state accepts no event and stays unchanged",
    "(e) a refused event changes nothing",
    "machine bookkeeping agrees with the events accepted",
};

struct Result {
    long long events_fired = 0;
    long long accepted = 0;
    long long refused = 0;
    long long sequences_expanded = 0;  // nodes whose every next event was tried
    std::size_t abstract_states = 0;
    int max_depth_reached = 0;
    std::size_t frontier_at_bound = 0;  // nodes left unexpanded at kMaxDepth (0: complete)
    std::map<std::string, std::set<std::string>> reach_per_start;  // start -> states reached
    std::map<std::string, std::size_t> abstract_per_start;
    std::set<std::string> reached;
    // The shortest counter-examples of each invariant: (events on the path, description).
    std::set<std::pair<std::size_t, std::string>> violations[kInvCount];
    std::size_t violation_count[kInvCount] = {};
};

std::string start_name(int i) {
    return std::string(tfadesk::rules::to_string(kRoles[static_cast<std::size_t>(i / 3)])) + "/" +
           std::string(tfadesk::rules::to_string(kAccesses[static_cast<std::size_t>(i % 3)]));
}

std::string path_text(const Node& n, const Command* last = nullptr) {
    std::string s = "open(" + start_name(n.start) + ")";
    for (const auto& c : n.path) s += " -> " + describe(c);
    if (last) s += " -> " + describe(*last);
    return s;
}

class Explorer {
public:
    Result run() {
        for (int start = 0; start < 12; ++start) explore_start(start);
        return std::move(r_);
    }

private:
    void violation(Inv inv, std::size_t events, const std::string& what) {
        ++r_.violation_count[inv];
        auto& kept = r_.violations[inv];
        kept.emplace(events, what);
        if (kept.size() > 5) kept.erase(std::prev(kept.end()));
    }

    Machine rebuild(const Node& n) const {
        Machine m(opened_fields(kRoles[static_cast<std::size_t>(n.start / 3)],
                                kAccesses[static_cast<std::size_t>(n.start % 3)]),
                  kOpenedAt);
        for (const auto& c : n.path) {
            if (!m.fire(c).accepted) throw std::logic_error("replay refused " + describe(c));
        }
        return m;
    }

    // The invariants a reachable ticket must satisfy, judged on the explorer's facts.
    void check_ticket(const Node& n, const Ticket& t) {
        r_.reached.insert(t.state);
        r_.reach_per_start[start_name(n.start)].insert(t.state);
        const bool late = kApprovedOrLater.count(t.state) != 0;
        if (late && n.facts.ever_partner)
            violation(kPartner, n.path.size(), "reached " + t.state + " via " + path_text(n));
        if (late && n.facts.passed.size() != kCheckNames.size())
            violation(kChecks, n.path.size(),
                      "reached " + t.state + " with checks {" + join(n.facts.passed) + "} via " +
                          path_text(n));
        if (n.facts.approver && n.facts.recorders.count(*n.facts.approver) != 0)
            violation(kFourEyes, n.path.size(),
                      "approver " + *n.facts.approver + " recorded a check, via " + path_text(n));
        if (late && !n.facts.approver)
            violation(kFourEyes, n.path.size(),
                      "reached " + t.state + " with no approve, via " + path_text(n));
        StringSet names;
        for (const auto& [name, agent] : t.checks) names.insert(name);
        if (names != n.facts.passed || t.check_agents != n.facts.recorders ||
            t.version != static_cast<std::int64_t>(n.path.size()) + 1)
            violation(kBookkeeping, n.path.size(),
                      "checks/agents/version differ from the events, via " + path_text(n));
    }

    void explore_start(int start) {
        std::unordered_set<std::string> visited;
        std::deque<Node> queue;
        Node root;
        root.start = start;
        root.facts.ever_partner = kRoles[static_cast<std::size_t>(start / 3)] == Role::partner;
        {
            const Machine m = rebuild(root);
            visited.insert(abstract_key(m.ticket(), root.facts));
        }
        queue.push_back(std::move(root));
        while (!queue.empty()) {
            Node n = std::move(queue.front());
            queue.pop_front();
            const int depth = static_cast<int>(n.path.size());
            r_.max_depth_reached = std::max(r_.max_depth_reached, depth);
            Machine m = rebuild(n);
            check_ticket(n, m.ticket());
            if (depth >= kMaxDepth) {
                ++r_.frontier_at_bound;
                continue;
            }
            ++r_.sequences_expanded;
            expand(n, m, visited, queue);
        }
        r_.abstract_per_start[start_name(start)] = visited.size();
        r_.abstract_states += visited.size();
    }

    void expand(const Node& n, Machine& m, std::unordered_set<std::string>& visited,
                std::deque<Node>& queue) {
        const int step = static_cast<int>(n.path.size()) + 1;
        const bool terminal = kTerminal.count(m.ticket().state) != 0;
        for (const Command& proto : commands_) {
            const Command c = at_step(proto, step);
            const Ticket before = m.ticket();
            Outcome o;
            ++r_.events_fired;
            try {
                o = m.fire(c);
            } catch (const std::exception& e) {
                violation(kRefusedInv, n.path.size() + 1,
                          std::string("fire threw '") + e.what() + "' on " + path_text(n, &c));
                m = rebuild(n);
                continue;
            }
            if (!o.accepted) {
                ++r_.refused;
                const bool unchanged = same_ticket(before, m.ticket()) && o.state == before.state &&
                                       o.refusal.has_value();
                if (!unchanged) {
                    violation(
                        terminal ? kTerminalInv : kRefusedInv, n.path.size() + 1,
                        "refused event changed the ticket or gave no rule: " + path_text(n, &c));
                    m = rebuild(n);
                }
                if (terminal && (!o.refusal || o.refusal->rule != "R8"))
                    violation(kTerminalInv, n.path.size() + 1,
                              "terminal refusal not by R8: " + path_text(n, &c));
                continue;
            }
            ++r_.accepted;
            if (terminal)
                violation(kTerminalInv, n.path.size() + 1,
                          "terminal state accepted " + path_text(n, &c));
            if (m.ticket().version != before.version + 1 || m.ticket().updated_at != c.at ||
                m.ticket().state != o.state)
                violation(kBookkeeping, n.path.size() + 1,
                          "accepted event bookkeeping wrong: " + path_text(n, &c));
            Node child;
            child.start = n.start;
            child.facts = after(n.facts, c, m.ticket());
            if (visited.insert(abstract_key(m.ticket(), child.facts)).second) {
                child.path = n.path;
                child.path.push_back(c);
                queue.push_back(std::move(child));
            }
            m = rebuild(n);  // back to the parent for the next command
        }
    }

    std::vector<Command> commands_ = all_commands();
    Result r_;
};

const Result& exploration() {
    static const Result result = [] {
        Result r = Explorer().run();
        std::ostringstream out;
        out << "policy_check: " << r.events_fired << " events fired (" << r.accepted
            << " accepted, " << r.refused << " refused) from " << r.sequences_expanded
            << " expanded sequences; " << r.abstract_states
            << " distinct abstract states; deepest sequence " << r.max_depth_reached
            << "; unexpanded at depth bound " << kMaxDepth << ": " << r.frontier_at_bound << "\n";
        for (const auto& [start, states] : r.reach_per_start) {
            out << "  start " << start << ": " << r.abstract_per_start.at(start)
                << " abstract states, reaches " << states.size() << " states:";
            for (const auto& s : states) out << ' ' << s;
            out << "\n";
        }
        for (int i = 0; i < kInvCount; ++i)
            out << "  invariant " << kInvNames[i] << ": " << r.violation_count[i]
                << " violation(s)\n";
        std::cout << out.str() << std::flush;
        return r;
    }();
    return result;
}

void require_no_violation(Inv inv) {
    const Result& r = exploration();
    const std::string invariant = kInvNames[inv];
    CAPTURE(invariant);
    for (const auto& [events, v] : r.violations[inv])
        MESSAGE("counter-example (" << events << " events): " << v);
    CHECK(r.violation_count[inv] == 0);
}

}  // namespace

TEST_CASE("the exploration covers every start and reaches every state of SPEC §3") {
    const Result& r = exploration();
    CHECK(r.events_fired > 0);
    CHECK(r.accepted > 0);
    CHECK(r.refused > 0);
    CHECK(r.abstract_states > 0);
    // Memoised: a revisit of an abstract state is not expanded again, so the deepest new state is
    // open(unknown) -> update -> triage -> 3 checks -> approve -> submit -> confirm, 8 events.
    CHECK(r.max_depth_reached >= 8);
    CHECK(r.reach_per_start.size() == 12);
    for (const auto& [start, states] : r.reach_per_start) {
        CAPTURE(start);
        CHECK(states.size() > 1);
    }
    for (const std::string& s : kSpecStates) {
        CAPTURE(s);
        CHECK(r.reached.count(s) == 1);
    }
    CHECK(r.reached.size() == kSpecStates.size());
    // The abstract graph is closed: no sequence is longer than what was explored.
    CHECK(r.frontier_at_bound == 0);
}

TEST_CASE("(a) R3: a ticket whose requester is or was a partner never gets approved") {
    require_no_violation(kPartner);
}

TEST_CASE("(b) R5: approved, disable_submitted and completed only after all three checks") {
    require_no_violation(kChecks);
}

TEST_CASE("(c) R6: the approver recorded none of the identity checks") {
    require_no_violation(kFourEyes);
}

TEST_CASE("(d) R8: a terminal state accepts no event and stays unchanged") {
    require_no_violation(kTerminalInv);
}

TEST_CASE("(e) a refused event changes nothing") { require_no_violation(kRefusedInv); }

TEST_CASE("the machine's checks, check agents and version agree with the events accepted") {
    require_no_violation(kBookkeeping);
}

TEST_CASE("every command the explorer fires is well-formed input (SPEC §3, exit 2 otherwise)") {
    const std::vector<Command> commands = all_commands();
    CHECK(commands.size() == 120);
    for (const Command& proto : commands) {
        const Command c = at_step(proto, 1);
        const std::string what = describe(c);
        CAPTURE(what);
        CHECK_NOTHROW(tfadesk::engine::validate(c));
    }
}
