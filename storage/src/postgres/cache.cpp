// The ticket cache and the workspace's queries over it (TicketCache; SPEC §14).
#include <map>

#include "../workspace.hpp"
#include "impl.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::storage {

void PgStore::put_ticket(const Ticket& t) {
    auto& impl = *impl_;
    impl.require_write("put_ticket");
    impl.guard([&] {
        impl.queue_ticket(t);
        if (impl.pending_rows.size() >= kBatchRows) impl.flush();
    });
}

std::optional<Ticket> PgStore::ticket(std::string_view ref) {
    auto& impl = *impl_;
    const auto queued = impl.pending_row_of.find(std::string(ref));
    if (queued != impl.pending_row_of.end()) return impl.pending_rows[queued->second].t;
    return impl.guard([&]() -> std::optional<Ticket> {
        if (!impl.ready()) return std::nullopt;
        const auto r = impl.q.exec_prepared(
            impl.schema >= kPgWorkspaceSchema ? "ticket" : "ticket_v2", std::string(ref));
        if (r.empty()) return std::nullopt;
        return ticket_from(r[0]);
    });
}

void PgStore::for_each_ticket(const std::optional<std::string>& state,
                              const std::function<void(const Ticket&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (!impl.ready()) return;
        impl.flush();
        std::string sql = std::string("SELECT ") + impl.ticket_columns() + " FROM tickets";
        if (state) sql += " WHERE state = " + impl.q.quote(*state);
        impl.scan(sql + " ORDER BY ref", [&](const pqxx::row& r) { fn(ticket_from(r)); });
    });
}

std::function<std::optional<Ticket>()> PgStore::ticket_cursor() {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::function<std::optional<Ticket>()> {
        if (!impl.ready()) return [] { return std::optional<Ticket>(); };
        impl.flush();
        struct State {
            explicit State(Impl& i)
                : impl(i),
                  cursor(i, std::string("SELECT ") + i.ticket_columns() +
                                " FROM tickets ORDER BY ref") {}
            Impl& impl;
            PgCursor cursor;
            pqxx::result batch;
            pqxx::result::size_type next = 0;
            bool done = false;
        };
        auto state = std::make_shared<State>(impl);
        return [state]() -> std::optional<Ticket> {
            auto& s = *state;
            return s.impl.guard([&]() -> std::optional<Ticket> {
                if (s.next == s.batch.size()) {
                    if (s.done) return std::nullopt;
                    s.batch = s.cursor.fetch();
                    s.next = 0;
                    s.done = s.batch.size() < static_cast<pqxx::result::size_type>(kFetchRows);
                    if (s.batch.empty()) return std::nullopt;
                }
                return ticket_from(s.batch[s.next++]);
            });
        };
    });
}

std::vector<std::string> PgStore::refs_in_state(std::string_view state) {
    auto& impl = *impl_;
    return impl.guard([&] {
        std::vector<std::string> out;
        if (!impl.ready()) return out;
        impl.flush();
        for (const auto& row : impl.q.exec_prepared("refs_in_state", std::string(state)))
            out.push_back(text(row[0]));
        return out;
    });
}

std::pair<std::vector<engine::Store::Related>, std::int64_t> PgStore::related(
    std::string_view ref, std::string_view phone, std::string_view email, std::size_t limit) {
    auto& impl = *impl_;
    return impl.guard([&] {
        std::pair<std::vector<Related>, std::int64_t> out{{}, 0};
        if (!impl.ready()) return out;
        impl.flush();
        const std::string r(ref), p(phone), e(email);
        for (const auto& row :
             impl.q.exec_prepared("related", r, p, e, static_cast<std::int64_t>(limit)))
            out.first.push_back({text(row[0]), text(row[1]), text(row[2])});
        out.second = number(impl.q.exec_prepared("related_count", r, p, e)[0][0]);
        return out;
    });
}

// --- the workspace (SPEC §14) ----------------------------------------------------------------

namespace {

pqxx::result exec_sql(pqxx::nontransaction& q, const workspace::Sql& sql) {
    Params p;
    for (const auto& v : sql.params) p.add(v);
    return q.exec_params(sql.text, p.dynamic());
}

}  // namespace

std::pair<std::vector<Ticket>, bool> PgStore::find_tickets(const engine::TicketQuery& query) {
    auto& impl = *impl_;
    return impl.guard([&] {
        std::pair<std::vector<Ticket>, bool> out{{}, false};
        if (!impl.ready()) return out;
        if (impl.schema < kPgWorkspaceSchema)
            throw Error(ErrorKind::unexpected, impl.shown + " predates search and claims (schema " +
                                                   std::to_string(impl.schema) +
                                                   "): any write command brings it up to date");
        impl.flush();
        const auto r =
            exec_sql(impl.q, workspace::page(query, kTicketColumns, workspace::Dialect::postgres));
        for (const auto& row : r) {
            if (out.first.size() == query.limit) {
                out.second = true;
                break;
            }
            out.first.push_back(ticket_from(row));
        }
        return out;
    });
}

std::int64_t PgStore::count_tickets(const engine::TicketQuery& query) {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::int64_t {
        if (!impl.ready() || impl.schema < kPgWorkspaceSchema) return 0;
        impl.flush();
        return number(
            exec_sql(impl.q, workspace::count(query, workspace::Dialect::postgres))[0][0]);
    });
}

engine::WorkspaceCounts PgStore::workspace_counts(std::string_view me, std::string_view now) {
    auto& impl = *impl_;
    return impl.guard([&] {
        engine::WorkspaceCounts out;
        std::map<std::string, std::int64_t> per_state;
        for (const auto& [name, terminal] : engine::Machine::states()) per_state[name] = 0;
        if (impl.ready() && impl.schema >= kPgWorkspaceSchema) {
            impl.flush();
            for (const auto& row : impl.q.exec("SELECT state, assigned, n FROM ticket_counts")) {
                const std::string state = text(row[0]);
                const std::int64_t n = number(row[2]);
                per_state[state] += n;
                if (workspace::is_open(state)) {
                    out.open += n;
                    if (number(row[1]) == 0) out.unassigned += n;
                }
            }
            auto one = [&](const engine::TicketQuery& q) {
                return number(
                    exec_sql(impl.q, workspace::count(q, workspace::Dialect::postgres))[0][0]);
            };
            engine::TicketQuery mine;
            mine.open_only = true;
            mine.assignee = std::string(me);
            out.mine = me.empty() ? 0 : one(mine);
            engine::TicketQuery overdue;
            overdue.overdue_at = std::string(now);
            out.overdue = one(overdue);
            engine::TicketQuery ready;
            ready.ready_for = std::string(me);
            out.ready_for_me = me.empty() ? 0 : one(ready);
        }
        out.states.assign(per_state.begin(), per_state.end());
        return out;
    });
}

engine::DeskStats PgStore::stats(const std::optional<std::string>& since) {
    auto& impl = *impl_;
    return impl.guard([&] {
        engine::DeskStats out;
        if (!impl.ready()) return out;
        impl.flush();
        const std::string opened = "(SELECT at FROM events o WHERE o.ref = t.ref AND o.tseq = 1)";
        const std::string where = since ? " WHERE " + opened + " >= $1" : std::string();
        auto run = [&](const std::string& sql) {
            return since ? impl.q.exec_params(sql, *since) : impl.q.exec(sql);
        };
        for (const auto& r : run("SELECT state, count(*) FROM tickets t" + where +
                                 " GROUP BY state ORDER BY state"))
            out.per_state.emplace_back(text(r[0]), number(r[1]));
        for (const auto& r :
             run("SELECT " + opened + ", updated_at FROM tickets t WHERE state = 'completed'" +
                 (since ? " AND " + opened + " >= $1" : std::string()))) {
            const auto a = r[0].is_null() ? std::nullopt : rules::parse_utc(text(r[0]));
            const auto b = rules::parse_utc(text(r[1]));
            if (a && b) out.open_to_completed_ms.push_back(*b - *a);
        }
        // SQLite's min() names the first row holding the minimum: ties go to the smallest ref.
        for (const auto& r :
             run("SELECT DISTINCT ON (state) state, ref, updated_at FROM tickets t" + where +
                 " ORDER BY state, updated_at, ref"))
            out.oldest.push_back({text(r[0]), {text(r[1]), text(r[2])}});
        return out;
    });
}

}  // namespace tfadesk::storage
