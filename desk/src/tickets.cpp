#include "tfadesk/desk/tickets.hpp"

#include <spdlog/spdlog.h>

#include <limits>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/signatures.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/lookup.hpp"
#include "tfadesk/rules/mask.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/text.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;

namespace {

template <class T>
std::optional<T> parse_field(const std::optional<std::string>& text, const char* name,
                             const char* expected, std::optional<T> (*parse)(std::string_view)) {
    if (!text) return std::nullopt;
    auto v = parse(*text);
    if (!v)
        throw Error::about(
            ErrorKind::invalid_input, name,
            std::string("must be ") + expected + " (got '" + rules::escape_control(*text) + "')");
    return v;
}

// SPEC §4: a field the event does not use is invalid input, so nothing is stored that was not
// applied.
void refuse_unused_fields(engine::EventKind kind, const EventRequest& r) {
    using engine::EventKind;
    auto unused = [&](bool given, const char* name, const char* only) {
        if (given)
            throw Error::about(
                ErrorKind::invalid_input, name,
                "not used by " + std::string(engine::to_string(kind)) + " (only by " + only + ")");
    };
    const bool checks = kind == EventKind::check_passed || kind == EventKind::check_failed;
    if (!checks) unused(r.check.has_value(), "check", "check-passed and check-failed");
    if (kind != EventKind::submit_disable)
        unused(r.reference.has_value(), "reference", "submit-disable");
    if (kind != EventKind::approve) unused(!r.ack_related.empty(), "ack_related", "approve");
    if (kind != EventKind::update) {
        unused(r.role.has_value(), "role", "update");
        unused(r.access.has_value(), "access", "update");
        unused(r.requester_email.has_value(), "requester_email", "update");
    }
}

engine::Command command_of(const EventRequest& r, std::string agent) {
    const auto kind = engine::parse_event(r.event);
    if (!kind) {
        std::string names;
        for (auto k : engine::all_events())
            names += (names.empty() ? "" : ", ") + std::string(engine::to_string(k));
        throw Error(ErrorKind::invalid_input, "unknown event '" + rules::escape_control(r.event) +
                                                  "' (expected one of: " + names + ")");
    }
    refuse_unused_fields(*kind, r);
    engine::Command c;
    c.kind = *kind;
    c.agent = std::move(agent);
    c.check = r.check;
    c.note = blank_to_nullopt(r.note, "note", true);
    c.reference = blank_to_nullopt(r.reference, "reference", false);
    c.requester_email = r.requester_email;
    c.role = parse_field(r.role, "role", "client, portfolio_admin, partner or unknown",
                         &rules::parse_role);
    c.access = parse_field(r.access, "access", "yes, no or unknown", &rules::parse_access);
    if (r.check) c.check = blank_to_nullopt(r.check, "check", false);
    for (const auto& ref : r.ack_related) {
        if (!rules::is_valid_ref(ref))
            throw Error::about(ErrorKind::invalid_input, "ack_related",
                               "'" + rules::escape_control(ref) +
                                   "' is not a ticket ref (1-64 of A-Z a-z 0-9 . _ -)");
        c.ack_related.insert(ref);
    }
    c.by_token = r.token_id;
    c.via = r.via;
    engine::validate(c);
    return c;
}

}  // namespace

namespace {

rules::Fields valid_fields(const rules::RawFields& raw) {
    auto result = rules::validate_fields(raw, now_utc());
    if (auto* bad = std::get_if<rules::FieldError>(&result))
        throw Error(ErrorKind::invalid_input, rules::escape_control(bad->message())).on(bad->field);
    return std::get<rules::Fields>(std::move(result));
}

engine::Ticket open_valid(engine::Store& store, const rules::Fields& fields, const Actor& agent,
                          bool triage) {
    authorize(store, agent, "agent", "open tickets");
    // The entry's time is read under the write lock, so times never go backwards along the log.
    auto t = engine::open_ticket(store, fields, agent.name, now_utc(), triage, agent.token_id,
                                 agent.via);
    spdlog::info("opened {} for {} ({}) by {}", fields.ref, rules::mask_phone(fields.phone),
                 rules::mask_email(fields.requester_email), agent.name);
    return t;
}

// R9: an approval names every related ticket rejected under R3 (re-judged by verify).
void check_partner_memory(engine::Store& store, const std::string& ref, const engine::Command& c) {
    const auto t = store.ticket(ref);
    if (!t || t->state != "identity_check")
        return;  // the workflow refuses it anyway, with its own rule
    std::vector<std::string> rejected;
    for (const auto& r : store
                             .related(ref, t->fields.phone, t->fields.requester_email,
                                      std::numeric_limits<std::int64_t>::max())
                             .first)
        if (r.state == "partner_rejected")
            rejected.push_back(r.ref);
        else
            break;  // partner-rejected ones come first
    if (auto refusal = rules::partner_memory(rejected, c.ack_related)) {
        spdlog::info("{} approve refused: R9", ref);
        throw Error(ErrorKind::refused,
                    "ticket '" + ref + "': approve refused: " + refusal->message(), refusal->rule,
                    t->state);
    }
}

}  // namespace

engine::Ticket open_ticket(engine::Store& store, const rules::RawFields& raw,
                           const Actor& raw_agent, bool triage) {
    const Actor agent{canonical_agent(raw_agent.name), raw_agent.token_id, raw_agent.via};
    const rules::Fields fields = valid_fields(raw);
    return engine::in_transaction(store, [&] { return open_valid(store, fields, agent, triage); });
}

engine::Ticket open_ticket_in(engine::Store& store, const rules::RawFields& raw,
                              const Actor& raw_agent, bool triage) {
    const Actor agent{canonical_agent(raw_agent.name), raw_agent.token_id, raw_agent.via};
    return open_valid(store, valid_fields(raw), agent, triage);
}

engine::Ticket apply_event_in(engine::Store& store, const std::string& ref,
                              const EventRequest& request) {
    engine::Command c = command_of(request, canonical_agent(request.agent));
    const bool approve = c.kind == engine::EventKind::approve;
    authorize(store, Actor{c.agent, c.by_token}, approve ? "approver" : "agent",
              approve ? "approve tickets" : "apply " + request.event + " to tickets");
    if (approve) check_partner_memory(store, ref, c);
    c.at = now_utc();
    const auto result =
        engine::apply_event(store, ref, c, request.expect_version, [&](engine::LogEntry& e) {
            sign_and_check(store, e, request.signer ? *request.signer : DecisionSigner{});
        });
    if (!result.outcome.accepted) {
        spdlog::info("{} {} refused: {}", ref, request.event, result.outcome.refusal->rule);
        throw Error(ErrorKind::refused,
                    "ticket '" + ref + "': " + result.outcome.message(request.event),
                    result.outcome.refusal->rule, result.ticket.state);
    }
    spdlog::info("{} {} by {} -> {}", ref, request.event, c.agent, result.outcome.state);
    return result.ticket;
}

void validate_event(const EventRequest& request) {
    command_of(request, canonical_agent(request.agent));
}

engine::Ticket apply_event(engine::Store& store, const std::string& ref,
                           const EventRequest& request) {
    validate_event(request);  // input errors first (exit 2), before the store is touched
    return engine::in_transaction(store, [&] { return apply_event_in(store, ref, request); });
}

SweepResult sweep(engine::Store& store, const Actor& raw_agent,
                  const std::optional<std::string>& now, std::int64_t sla_hours) {
    engine::Command c;
    c.kind = engine::EventKind::expire;
    c.agent = canonical_agent(raw_agent.name);
    c.by_token = raw_agent.token_id;
    c.now = now;
    c.sla_hours = sla_hours;
    engine::validate(c);
    return engine::in_transaction(store, [&] {
        authorize(store, Actor{c.agent, c.by_token}, "operator", "sweep");
        c.at = now_utc();
        // SPEC §12: the SLA is judged at the time of the entry, never later.
        if (c.now && *rules::parse_utc(*c.now) > *rules::parse_utc(c.at))
            throw Error::about(ErrorKind::invalid_input, "now",
                               *c.now + " is later than the time of this write (" + c.at +
                                   "): the SLA is judged at the time the expiry is recorded");
        SweepResult out;
        const auto waiting = store.refs_in_state("awaiting_requester");
        out.waiting = waiting.size();
        for (const auto& ref : waiting)
            if (engine::apply_event(store, ref, c).outcome.accepted) out.expired.push_back(ref);
        spdlog::info("sweep by {}: expired {} of {} waiting", c.agent, out.expired.size(),
                     waiting.size());
        return out;
    });
}

engine::Ticket replay_ticket(engine::Store& store, const std::string& ref,
                             const std::optional<std::string>& as_of) {
    if (as_of && !rules::parse_utc(*as_of))
        throw Error::about(ErrorKind::invalid_input, "as_of",
                           "must be an ISO 8601 UTC time like 2026-11-20T09:15:00Z");
    const auto entries = engine::entries_of(store, ref);
    const auto opened = rules::parse_utc(entries.front().at);
    if (as_of && opened && *rules::parse_utc(*as_of) < *opened)
        throw Error(ErrorKind::not_found, "ticket '" + ref + "' did not exist yet at " + *as_of +
                                              " (opened " + entries.front().at + ")");
    return engine::replay(entries, as_of).ticket();
}

std::pair<std::vector<engine::Store::Related>, std::int64_t> related_tickets(
    engine::Store& store, const engine::Ticket& t) {
    return store.related(t.fields.ref, t.fields.phone, t.fields.requester_email, 50);
}

engine::Ticket get_ticket(engine::Store& store, const std::string& ref) {
    auto t = store.ticket(ref);
    if (!t) throw engine::no_such_ticket(ref);
    return *t;
}

}  // namespace tfadesk::desk
