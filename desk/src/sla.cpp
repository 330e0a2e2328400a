#include "tfadesk/desk/sla.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <cstdlib>

#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/desk/workspace.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/text.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;

std::int64_t parse_sla_hours(std::string_view text, std::string_view field) {
    const Error bad = Error::about(
        ErrorKind::invalid_input, field,
        "must be a number of hours above 0 and at most " + std::to_string(rules::kMaxSlaHours) +
            " (e.g. 168 or 0.5), got '" + rules::escape_control(text) + "'");
    // Digits with at most one decimal point: no sign, exponent, inf or nan reach strtod.
    const auto dot = text.find('.');
    if (text.empty() || text.size() > 32 ||
        text.find_first_not_of("0123456789.") != std::string_view::npos ||
        (dot != std::string_view::npos && text.find('.', dot + 1) != std::string_view::npos) ||
        text == ".")
        throw bad;
    const double hours = std::strtod(std::string(text).c_str(), nullptr);
    if (!(hours > 0) || hours > static_cast<double>(rules::kMaxSlaHours)) throw bad;
    const auto ms = static_cast<std::int64_t>(std::llround(hours * 3600000.0));
    if (ms < 1) throw bad;
    return ms;
}

DueTickets due_tickets(engine::Store& store, std::int64_t sla_ms, std::int64_t now_ms) {
    // Read by the stored due_at (SPEC §14's index), a page at a time: only the tickets already
    // due, then the first one not yet due, never every ticket that waits.
    DueTickets out;
    const std::string bound = overdue_bound(rules::format_utc_ms(now_ms), sla_ms);
    engine::TicketQuery q;
    q.states = {"awaiting_requester"};
    q.sort = "due_at";
    q.limit = 500;
    q.overdue_at = bound;  // R7: expired once it waited MORE than the SLA
    for (;;) {
        const auto [page, more] = store.find_tickets(q);
        for (const auto& t : page) out.due.push_back(t.fields.ref);
        if (!more || page.empty()) break;
        q.after = std::pair(engine::sort_value(page.back(), "due_at"), page.back().fields.ref);
    }
    engine::TicketQuery next;
    next.states = {"awaiting_requester"};
    next.sort = "due_at";
    next.limit = 1;
    next.after = std::pair(bound, std::string());  // due_at at or past the bound
    const auto [first, more] = store.find_tickets(next);
    if (!first.empty())
        if (const auto due = engine::due_at(first.front(), sla_ms))
            out.next_due_ms = rules::parse_utc(*due);
    return out;
}

std::vector<std::string> expire_due(engine::Store& store, const std::vector<std::string>& refs,
                                    std::int64_t sla_ms) {
    engine::Command c;
    c.kind = engine::EventKind::expire;
    c.agent = std::string(kSlaAgent);
    // Whole hours are written as sweep writes them; anything finer in milliseconds.
    if (sla_ms % 3600000 == 0)
        c.sla_hours = sla_ms / 3600000;
    else
        c.sla_ms = sla_ms;
    engine::validate(c);
    return engine::in_transaction(store, [&] {
        c.at = now_utc();
        std::vector<std::string> expired;
        for (const auto& ref : refs) {
            const auto t = store.ticket(ref);
            if (!t || t->state != "awaiting_requester") continue;  // another writer was first
            if (engine::apply_event(store, ref, c).outcome.accepted) expired.push_back(ref);
        }
        if (!expired.empty())
            spdlog::info("SLA: {} expired {} of {} due ticket(s)", kSlaAgent, expired.size(),
                         refs.size());
        return expired;
    });
}

}  // namespace tfadesk::desk
