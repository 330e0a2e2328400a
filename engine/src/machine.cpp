// The Boost.MSM machine of SPEC §3 - the only translation unit that includes Boost.MSM.
// The MPL limits it needs are set on the tfadesk::msm_config INTERFACE target (engine/CMakeLists).
#include "tfadesk/engine/machine.hpp"

#include <boost/mpl/for_each.hpp>
#include <boost/mpl/vector.hpp>
#include <boost/msm/back/state_machine.hpp>
#include <boost/msm/back/tools.hpp>
#include <boost/msm/front/functor_row.hpp>
#include <boost/msm/front/state_machine_def.hpp>
#include <boost/type_traits/add_pointer.hpp>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::engine {
namespace {

namespace msm = boost::msm;
namespace mpl = boost::mpl;
using msm::front::none;
using msm::front::Row;

// ---- States: PascalCase nouns; `name` is what the log and the ticket row store. ----
#define TFADESK_STATE(Type, text)                 \
    struct Type : msm::front::state<> {           \
        static constexpr const char* name = text; \
    }
TFADESK_STATE(Received, "received");
TFADESK_STATE(AwaitingRequester, "awaiting_requester");
TFADESK_STATE(IdentityCheck, "identity_check");
TFADESK_STATE(SelfServiceAdvised, "self_service_advised");
TFADESK_STATE(PartnerRejected, "partner_rejected");
TFADESK_STATE(IdentityRejected, "identity_rejected");
TFADESK_STATE(Approved, "approved");
TFADESK_STATE(DisableSubmitted, "disable_submitted");
TFADESK_STATE(Completed, "completed");
TFADESK_STATE(Cancelled, "cancelled");
TFADESK_STATE(Expired, "expired");
#undef TFADESK_STATE

// ---- Events: snake_case verbs carrying the command they came from. ----
#define TFADESK_EVENT(Type, kind_)                          \
    struct Type {                                           \
        static constexpr EventKind kind = EventKind::kind_; \
        const Command& cmd;                                 \
    }
TFADESK_EVENT(triage, triage);
TFADESK_EVENT(update, update);
TFADESK_EVENT(check_passed, check_passed);
TFADESK_EVENT(check_failed, check_failed);
TFADESK_EVENT(partner_detected, partner_detected);
TFADESK_EVENT(approve, approve);
TFADESK_EVENT(submit_disable, submit_disable);
TFADESK_EVENT(confirm_disabled, confirm_disabled);
TFADESK_EVENT(disable_failed, disable_failed);
TFADESK_EVENT(cancel, cancel);
TFADESK_EVENT(expire, expire);
TFADESK_EVENT(claim, claim);
TFADESK_EVENT(release, release);
#undef TFADESK_EVENT

// ---- Guards: a few lines that call rules::. A refusing guard leaves its reason in the
// machine, so the caller sees which rule refused. Guards on one (state, event) exclude each
// other: triage's four partition every (role, access) pair. ----
template <rules::TriageOutcome Wanted>
struct triage_leads_to {
    template <class Evt, class Fsm, class S, class T>
    bool operator()(const Evt&, Fsm& fsm, S&, T&) const {
        const auto& f = fsm.ticket_->fields;
        return rules::triage(f.requester_role, f.portfolio_access) == Wanted;
    }
};
struct is_partner : triage_leads_to<rules::TriageOutcome::partner_rejected> {
    static constexpr const char* name = "is_partner";
};
struct has_portfolio_access : triage_leads_to<rules::TriageOutcome::self_service_advised> {
    static constexpr const char* name = "has_portfolio_access";
};
struct has_lost_access : triage_leads_to<rules::TriageOutcome::identity_check> {
    static constexpr const char* name = "has_lost_access";
};
struct is_unanswered : triage_leads_to<rules::TriageOutcome::awaiting_requester> {
    static constexpr const char* name = "is_unanswered";
};

template <class Fsm>
bool allow(Fsm& fsm, std::optional<rules::Refusal> refusal) {
    if (!refusal) return true;
    fsm.refusal_ = std::move(refusal);
    return false;
}

struct can_approve {
    static constexpr const char* name = "can_approve";
    template <class Evt, class Fsm, class S, class T>
    bool operator()(const Evt& e, Fsm& fsm, S&, T&) const {
        const Ticket& t = *fsm.ticket_;
        std::set<std::string, std::less<>> passed;
        for (const auto& [check, agent] : t.checks) passed.insert(check);
        auto refusal = rules::may_disable_for(t.fields.requester_role);
        if (!refusal) refusal = rules::all_checks_passed(passed);
        if (!refusal) refusal = rules::approver_is_independent(e.cmd.agent, t.check_agents);
        return allow(fsm, std::move(refusal));
    }
};

struct allows_role_change {
    static constexpr const char* name = "allows_role_change";
    template <class Evt, class Fsm, class S, class T>
    bool operator()(const Evt& e, Fsm& fsm, S&, T&) const {
        return allow(fsm,
                     rules::role_change_allowed(fsm.ticket_->fields.requester_role, e.cmd.role));
    }
};

struct has_reference {
    static constexpr const char* name = "has_reference";
    template <class Evt, class Fsm, class S, class T>
    bool operator()(const Evt& e, Fsm& fsm, S&, T&) const {
        return allow(fsm, rules::has_reference(e.cmd.reference));
    }
};

struct is_past_sla {
    static constexpr const char* name = "is_past_sla";
    template <class Evt, class Fsm, class S, class T>
    bool operator()(const Evt& e, Fsm& fsm, S&, T&) const {
        // SPEC §14: claim and release are not activity; active_at is the last other entry's time.
        const auto last = rules::parse_utc(fsm.ticket_->active_at);
        const auto at = rules::parse_utc(e.cmd.at);
        auto now = rules::parse_utc(e.cmd.now.value_or(e.cmd.at));
        if (!last || !now || !at) throw Error(ErrorKind::invalid_input, "expire: unreadable time");
        // SPEC §12: the SLA is judged at the entry's own time, never later (a `now` in the future
        // would expire every waiting ticket at once).
        if (*now > *at) now = at;
        if (e.cmd.sla_ms) return allow(fsm, rules::sla_elapsed_ms(*last, *now, *e.cmd.sla_ms));
        return allow(fsm, rules::sla_elapsed(*last, *now,
                                             e.cmd.sla_hours.value_or(rules::kDefaultSlaHours)));
    }
};

// SPEC §14: a claim of a ticket another agent holds is a take-over, which names that agent (the
// workflow fills it in from the ticket, so a stored entry that names another is refused).
struct is_free_or_taken_over {
    static constexpr const char* name = "is_free_or_taken_over";
    template <class Evt, class Fsm, class S, class T>
    bool operator()(const Evt& e, Fsm& fsm, S&, T&) const {
        const auto& held = fsm.ticket_->assignee;
        const bool other = held && *held != e.cmd.agent;
        if (other ? e.cmd.takes_over == held : !e.cmd.takes_over) return true;
        fsm.refusal_ = rules::Refusal{
            "R8",
            other ? "the ticket is held by " + *held + "; a claim takes it over from that agent"
                  : "the ticket is not held by another agent, so there is nothing to take over"};
        return false;
    }
};

// ---- Actions: verb phrases; they change the in-memory ticket only. ----
struct apply_answer {
    static constexpr const char* name = "apply_answer";
    template <class Evt, class Fsm, class S, class T>
    void operator()(const Evt& e, Fsm& fsm, S&, T&) const {
        auto& f = fsm.ticket_->fields;
        if (e.cmd.role) f.requester_role = *e.cmd.role;
        if (e.cmd.access) f.portfolio_access = *e.cmd.access;
        if (e.cmd.requester_email) f.requester_email = *e.cmd.requester_email;
        if (e.cmd.note) f.note = *e.cmd.note;
    }
};

struct record_check {
    static constexpr const char* name = "record_check";
    template <class Evt, class Fsm, class S, class T>
    void operator()(const Evt& e, Fsm& fsm, S&, T&) const {
        Ticket& t = *fsm.ticket_;
        t.check_agents.insert(e.cmd.agent);
        if (Evt::kind == EventKind::check_passed) t.checks.emplace(*e.cmd.check, e.cmd.agent);
    }
};

struct mark_partner {
    static constexpr const char* name = "mark_partner";
    template <class Evt, class Fsm, class S, class T>
    void operator()(const Evt&, Fsm& fsm, S&, T&) const {
        fsm.ticket_->fields.requester_role = rules::Role::partner;
    }
};

struct assign_to_agent {
    static constexpr const char* name = "assign_to_agent";
    template <class Evt, class Fsm, class S, class T>
    void operator()(const Evt& e, Fsm& fsm, S&, T&) const {
        fsm.ticket_->assignee = e.cmd.agent;
    }
};

struct clear_assignee {
    static constexpr const char* name = "clear_assignee";
    template <class Evt, class Fsm, class S, class T>
    void operator()(const Evt&, Fsm& fsm, S&, T&) const {
        fsm.ticket_->assignee.reset();
    }
};

// The rule that governs an event, named when the event arrives in a state with no row for it.
std::string governing_rule(EventKind k) {
    switch (k) {
        case EventKind::triage:
        case EventKind::update:
            return "R2";
        case EventKind::partner_detected:
            return "R3";
        case EventKind::confirm_disabled:
        case EventKind::disable_failed:
            return "R4";
        case EventKind::expire:
            return "R7";
        case EventKind::cancel:
        case EventKind::claim:
        case EventKind::release:
            return "R8";
        default:
            return "R5";
    }
}

const std::vector<std::string>& state_names_by_id();

// ---- The machine. ----
struct Desk_ : msm::front::state_machine_def<Desk_> {
    using initial_state = Received;

    // clang-format off
    struct transition_table : mpl::vector<
    //      Start              Event             Target              Action         Guard
    //    +------------------+-----------------+-------------------+--------------+----------------------+
    Row   < Received         , triage          , PartnerRejected   , none         , is_partner           >,
    Row   < Received         , triage          , SelfServiceAdvised, none         , has_portfolio_access >,
    Row   < Received         , triage          , IdentityCheck     , none         , has_lost_access      >,
    Row   < Received         , triage          , AwaitingRequester , none         , is_unanswered        >,
    Row   < Received         , update          , Received          , apply_answer , allows_role_change        >,
    Row   < Received         , cancel          , Cancelled         , none         , none                 >,
    Row   < Received         , claim           , Received          , assign_to_agent, is_free_or_taken_over >,
    Row   < Received         , release         , Received          , clear_assignee, none                 >,
    //    +------------------+-----------------+-------------------+--------------+----------------------+
    Row   < AwaitingRequester, triage          , PartnerRejected   , none         , is_partner           >,
    Row   < AwaitingRequester, triage          , SelfServiceAdvised, none         , has_portfolio_access >,
    Row   < AwaitingRequester, triage          , IdentityCheck     , none         , has_lost_access      >,
    Row   < AwaitingRequester, triage          , AwaitingRequester , none         , is_unanswered        >,
    Row   < AwaitingRequester, update          , AwaitingRequester , apply_answer , allows_role_change        >,
    Row   < AwaitingRequester, partner_detected, PartnerRejected   , mark_partner , none                 >,
    Row   < AwaitingRequester, cancel          , Cancelled         , none         , none                 >,
    Row   < AwaitingRequester, expire          , Expired           , none         , is_past_sla          >,
    Row   < AwaitingRequester, claim           , AwaitingRequester , assign_to_agent, is_free_or_taken_over >,
    Row   < AwaitingRequester, release         , AwaitingRequester , clear_assignee, none                 >,
    //    +------------------+-----------------+-------------------+--------------+----------------------+
    Row   < IdentityCheck    , check_passed    , IdentityCheck     , record_check , none                 >,
    Row   < IdentityCheck    , check_failed    , IdentityRejected  , record_check , none                 >,
    Row   < IdentityCheck    , partner_detected, PartnerRejected   , mark_partner , none                 >,
    Row   < IdentityCheck    , approve         , Approved          , none         , can_approve          >,
    Row   < IdentityCheck    , cancel          , Cancelled         , none         , none                 >,
    Row   < IdentityCheck    , claim           , IdentityCheck     , assign_to_agent, is_free_or_taken_over >,
    Row   < IdentityCheck    , release         , IdentityCheck     , clear_assignee, none                 >,
    //    +------------------+-----------------+-------------------+--------------+----------------------+
    Row   < Approved         , partner_detected, PartnerRejected   , mark_partner , none                 >,
    Row   < Approved         , submit_disable  , DisableSubmitted  , none         , has_reference        >,
    Row   < Approved         , cancel          , Cancelled         , none         , none                 >,
    Row   < Approved         , claim           , Approved          , assign_to_agent, is_free_or_taken_over >,
    Row   < Approved         , release         , Approved          , clear_assignee, none                 >,
    //    +------------------+-----------------+-------------------+--------------+----------------------+
    Row   < DisableSubmitted , confirm_disabled, Completed         , none         , none                 >,
    Row   < DisableSubmitted , disable_failed  , Approved          , none         , none                 >,
    Row   < DisableSubmitted , cancel          , Cancelled         , none         , none                 >,
    Row   < DisableSubmitted , claim           , DisableSubmitted  , assign_to_agent, is_free_or_taken_over >,
    Row   < DisableSubmitted , release         , DisableSubmitted  , clear_assignee, none                 >
    //    +------------------+-----------------+-------------------+--------------+----------------------+
    > {};
    // clang-format on

    // An event with no row from the current state: a refusal value, never an assert.
    template <class Fsm, class Evt>
    void no_transition(const Evt&, Fsm&, int state_id) {
        const std::string& state = state_names_by_id()[static_cast<std::size_t>(state_id)];
        if (Machine::events_from(state).empty()) {
            refusal_ = rules::terminal_state(state);
            return;
        }
        std::string allowed;
        for (const auto& e : Machine::events_from(state))
            allowed += (allowed.empty() ? "" : ", ") + e;
        refusal_ =
            rules::Refusal{governing_rule(Evt::kind), "'" + std::string(to_string(Evt::kind)) +
                                                          "' is not allowed in state '" + state +
                                                          "'; allowed here: " + allowed};
    }

    template <class Fsm, class Evt>
    void exception_caught(const Evt&, Fsm&, std::exception&) {
        throw;
    }

    Ticket* ticket_ = nullptr;
    std::optional<rules::Refusal> refusal_;
};

using Desk = msm::back::state_machine<Desk_>;
using Table = Desk_::transition_table;

// ---- Reading the table back as names, for the diagram and for "allowed here". ----
template <class T>
std::string name_of() {
    return T::name;
}
template <>
std::string name_of<none>() {
    return "";
}

template <class E>
std::string event_name() {
    return std::string(to_string(E::kind));
}

struct TableReader {
    std::vector<Transition>* out;
    template <class R>
    void operator()(R*) const {
        out->push_back({name_of<typename R::Source>(), event_name<typename R::Evt>(),
                        name_of<typename R::Target>(), name_of<typename R::Action>(),
                        name_of<typename R::Guard>()});
    }
};

struct StateNamer {
    std::vector<std::string>* names;
    template <class S>
    void operator()(S*) const {
        (*names)[msm::back::get_state_id<Desk::stt, S>::value] = S::name;
    }
};

const std::vector<std::string>& state_names_by_id() {
    static const std::vector<std::string> names = [] {
        using States = msm::back::generate_state_set<Desk::stt>::type;
        std::vector<std::string> v(mpl::size<States>::value);
        mpl::for_each<States, boost::add_pointer<mpl::_1>>(StateNamer{&v});
        return v;
    }();
    return names;
}

}  // namespace

std::vector<std::string> Machine::events_from(std::string_view state) {
    std::vector<std::string> out;
    for (const auto& t : Machine::transitions())
        if (t.source == state && std::find(out.begin(), out.end(), t.event) == out.end())
            out.push_back(t.event);
    return out;
}

struct Machine::Impl {
    Ticket ticket;
    Desk desk;

    const std::string& state_name() const { return state_names_by_id()[desk.current_state()[0]]; }

    template <class Evt>
    int process(const Command& c) {
        return desk.process_event(Evt{c});
    }
};

std::string Outcome::message(std::string_view event) const {
    if (!refusal) return "";
    return refusal->message() + " (state " + state + ", event " + std::string(event) + ")";
}

Machine::Machine(rules::Fields opened, const std::string& opened_at)
    : impl_(std::make_unique<Impl>()) {
    impl_->ticket.fields = std::move(opened);
    impl_->ticket.version = 1;
    impl_->ticket.updated_at = opened_at;
    impl_->ticket.active_at = opened_at;
    impl_->desk.ticket_ = &impl_->ticket;
    impl_->desk.start();
}

Machine::~Machine() = default;
Machine::Machine(Machine&& other) noexcept = default;
Machine& Machine::operator=(Machine&& other) noexcept = default;

Outcome Machine::fire(const Command& c) {
    Impl& m = *impl_;
    m.desk.ticket_ = &m.ticket;  // survive moves of the Impl's owner
    m.desk.refusal_.reset();
    int handled = 0;
    switch (c.kind) {
        case EventKind::triage:
            handled = m.process<triage>(c);
            break;
        case EventKind::update:
            handled = m.process<update>(c);
            break;
        case EventKind::check_passed:
            handled = m.process<check_passed>(c);
            break;
        case EventKind::check_failed:
            handled = m.process<check_failed>(c);
            break;
        case EventKind::partner_detected:
            handled = m.process<partner_detected>(c);
            break;
        case EventKind::approve:
            handled = m.process<approve>(c);
            break;
        case EventKind::submit_disable:
            handled = m.process<submit_disable>(c);
            break;
        case EventKind::confirm_disabled:
            handled = m.process<confirm_disabled>(c);
            break;
        case EventKind::disable_failed:
            handled = m.process<disable_failed>(c);
            break;
        case EventKind::cancel:
            handled = m.process<cancel>(c);
            break;
        case EventKind::expire:
            handled = m.process<expire>(c);
            break;
        case EventKind::claim:
            handled = m.process<claim>(c);
            break;
        case EventKind::release:
            handled = m.process<release>(c);
            break;
    }
    Outcome out;
    out.state = m.state_name();
    if (handled != msm::back::HANDLED_TRUE) {
        // Every guard and no_transition name their rule; a refusal without one is a bug here.
        if (!m.desk.refusal_)
            throw Error(ErrorKind::unexpected, "internal error: the workflow refused " +
                                                   std::string(to_string(c.kind)) + " in state " +
                                                   out.state + " without naming a rule");
        out.refusal = m.desk.refusal_;
        return out;
    }
    out.accepted = true;
    m.ticket.state = out.state;
    m.ticket.version += 1;
    m.ticket.updated_at = c.at;
    if (c.kind != EventKind::claim && c.kind != EventKind::release) m.ticket.active_at = c.at;
    return out;
}

const Ticket& Machine::ticket() const { return impl_->ticket; }

bool Machine::terminal() const { return events_from(impl_->ticket.state).empty(); }

const std::vector<Transition>& Machine::transitions() {
    static const std::vector<Transition> rows = [] {
        std::vector<Transition> v;
        mpl::for_each<Table, boost::add_pointer<mpl::_1>>(TableReader{&v});
        return v;
    }();
    return rows;
}

const std::vector<std::pair<std::string, bool>>& Machine::states() {
    static const std::vector<std::pair<std::string, bool>> list = [] {
        std::vector<std::pair<std::string, bool>> v;
        for (const auto& name : state_names_by_id())
            v.emplace_back(name, events_from(name).empty());
        return v;
    }();
    return list;
}

}  // namespace tfadesk::engine
