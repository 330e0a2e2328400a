// The caches on SQLite: ticket rows and account rows, rebuilt from the log by every append and
// compared with it by verify.
#include <algorithm>
#include <map>

#include "../rows.hpp"
#include "../workspace.hpp"
#include "sqlite_impl.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::storage {

using engine::Ticket;

namespace {

constexpr const char* kTicketColumns =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at, assignee, "
    "active_at";
// A desk read before schema 5 (read-only: not migrated) has no claims: nobody holds a ticket and
// its last activity is its last entry.
constexpr const char* kTicketColumnsV4 =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at, NULL, "
    "updated_at";
// Written: the read columns and schema 5's derived ones (storage/src/workspace.hpp).
constexpr const char* kTicketWriteColumns =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at, assignee, "
    "active_at, "
    "due_at, phone_rev, is_open";
constexpr const char* kAccountColumns = "name, roles, enabled, created_at, updated_at, version";

const char* ticket_columns(int schema) { return schema >= 5 ? kTicketColumns : kTicketColumnsV4; }

void bind_opt(SQLite::Statement& s, int index, const std::optional<std::string>& v) {
    if (v)
        s.bindNoCopy(index, *v);
    else
        s.bind(index);
}

Ticket ticket_from(SQLite::Statement& q) {
    Ticket t;
    auto& f = t.fields;
    f.ref = q.getColumn(0).getString();
    f.phone = q.getColumn(1).getString();
    f.client_id = q.getColumn(2).getString();
    f.requester_email = q.getColumn(3).getString();
    rows::read_role_access(t, q.getColumn(4).getString(), q.getColumn(5).getString());
    f.reason = q.getColumn(6).getString();
    f.waba_id = opt_text(q.getColumn(7));
    f.portfolio_id = opt_text(q.getColumn(8));
    f.submitted_at = q.getColumn(9).getString();
    f.note = opt_text(q.getColumn(10));
    t.state = q.getColumn(11).getString();
    t.version = q.getColumn(12).getInt64();
    rows::read_checks(t, q.getColumn(13).getString(), q.getColumn(14).getString());
    t.updated_at = q.getColumn(15).getString();
    t.assignee = opt_text(q.getColumn(16));
    t.active_at = q.getColumn(17).getString();
    return t;
}

engine::Account account_from(SQLite::Statement& q) {
    engine::Account a;
    a.name = q.getColumn(0).getString();
    a.roles = rows::roles_from(q.getColumn(1).getString());
    a.enabled = q.getColumn(2).getInt() != 0;
    a.created_at = q.getColumn(3).getString();
    a.updated_at = q.getColumn(4).getString();
    a.version = q.getColumn(5).getInt64();
    return a;
}

}  // namespace

void Database::Impl::write_ticket(const Ticket& t) {
    // Most writes move a ticket on without changing what was asked at intake. SQLite rewrites every
    // index holding a column an UPDATE sets, whatever its value, so `progress` sets only what an
    // event changes and leaves the six indexes over intake columns (phone, email, ids) untouched:
    // per event, about a third of the pages written. It matches only a row whose intake columns,
    // and whether it is open, are the ticket's; a new ticket, one that opens or closes, and a row
    // that differs from the log (edited by hand) take the upsert, which writes every column.
    // Both number their parameters alike, so one binding serves both.
    auto& progress = update_progress;
    if (!progress)
        progress.emplace(
            db,
            "UPDATE tickets SET requester_role = ?5, portfolio_access = ?6, note = ?11, "
            "state = ?12, version = ?13, checks = ?14, check_agents = ?15, "
            "updated_at = ?16, assignee = ?17, active_at = ?18, due_at = ?19 "
            "WHERE ref = ?1 AND phone = ?2 AND client_id = ?3 AND requester_email = ?4 "
            "AND reason = ?7 AND waba_id IS ?8 AND portfolio_id IS ?9 AND "
            "submitted_at = ?10 AND phone_rev = ?20 AND is_open = ?21");
    auto& up = upsert_ticket;
    // An upsert, not INSERT OR REPLACE: the per-state counts are kept by the row's UPDATE trigger.
    if (!up)
        up.emplace(
            db,
            std::string("INSERT INTO tickets (") + kTicketWriteColumns +
                ") VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,"
                "?21) ON CONFLICT (ref) DO UPDATE SET phone = excluded.phone, client_id = "
                "excluded.client_id, requester_email = excluded.requester_email, requester_role = "
                "excluded.requester_role, portfolio_access = excluded.portfolio_access, reason = "
                "excluded.reason, waba_id = excluded.waba_id, portfolio_id = "
                "excluded.portfolio_id, "
                "submitted_at = excluded.submitted_at, note = excluded.note, state = "
                "excluded.state, version = excluded.version, checks = excluded.checks, "
                "check_agents = excluded.check_agents, updated_at = excluded.updated_at, assignee "
                "= excluded.assignee, active_at = excluded.active_at, due_at = excluded.due_at, "
                "phone_rev = excluded.phone_rev, is_open = excluded.is_open");
    const std::string due = workspace::stored_due_at(t),
                      rev = workspace::phone_reversed(t.fields.phone);
    const auto& f = t.fields;
    const std::string checks = rows::checks_text(t), agents = rows::check_agents_text(t);
    const std::string role(rules::to_string(f.requester_role)),
        access(rules::to_string(f.portfolio_access));
    const auto bind = [&](SQLite::Statement& s) {
        s.reset();
        s.bindNoCopy(1, f.ref);
        s.bindNoCopy(2, f.phone);
        s.bindNoCopy(3, f.client_id);
        s.bindNoCopy(4, f.requester_email);
        s.bindNoCopy(5, role);
        s.bindNoCopy(6, access);
        s.bindNoCopy(7, f.reason);
        bind_opt(s, 8, f.waba_id);
        bind_opt(s, 9, f.portfolio_id);
        s.bindNoCopy(10, f.submitted_at);
        bind_opt(s, 11, f.note);
        s.bindNoCopy(12, t.state);
        s.bind(13, static_cast<int64_t>(t.version));
        s.bindNoCopy(14, checks);
        s.bindNoCopy(15, agents);
        s.bindNoCopy(16, t.updated_at);
        bind_opt(s, 17, t.assignee);
        s.bindNoCopy(18, t.active_at);
        s.bindNoCopy(19, due);
        s.bindNoCopy(20, rev);
        s.bind(21, workspace::is_open(t.state));
    };
    // A new ticket's first row goes straight to the upsert (there is no row to update).
    if (t.version > 1) {
        bind(*progress);
        if (progress->exec() == 1) return;
    }
    bind(*up);
    up->exec();
}

void Database::Impl::write_account(const engine::Account& a,
                                   const std::optional<std::string>& token_hash) {
    const std::string roles = rows::roles_text(a);
    SQLite::Statement q(
        db,
        "INSERT INTO accounts (name, roles, enabled, created_at, updated_at, version, token_hash) "
        "VALUES (?,?,?,?,?,?,?) ON CONFLICT (name) DO UPDATE SET roles = excluded.roles, "
        "enabled = excluded.enabled, created_at = excluded.created_at, updated_at = "
        "excluded.updated_at, "
        "version = excluded.version, token_hash = coalesce(excluded.token_hash, "
        "accounts.token_hash)");
    q.bind(1, a.name);
    q.bind(2, roles);
    q.bind(3, a.enabled ? 1 : 0);
    q.bind(4, a.created_at);
    q.bind(5, a.updated_at);
    q.bind(6, static_cast<int64_t>(a.version));
    if (token_hash)
        q.bind(7, *token_hash);
    else
        q.bind(7);
    q.exec();
}

void Database::put_ticket(const Ticket& t) {
    guarded(path_, [&] {
        impl_->flush();
        impl_->write_ticket(t);
    });
}

void Database::put_account(const engine::Account& a, const std::optional<std::string>& token_hash) {
    guarded(path_, [&] { impl_->write_account(a, token_hash); });
}

std::optional<std::string> Database::account_token_hash(std::string_view name) {
    if (impl_->schema < 2) return std::nullopt;
    return guarded(path_, [&]() -> std::optional<std::string> {
        auto q = impl_->prepared("SELECT token_hash FROM accounts WHERE name = ?");
        q->bind(1, std::string(name));
        if (!q->executeStep()) return std::nullopt;
        return opt_text(q->getColumn(0));
    });
}

std::optional<Ticket> Database::ticket(std::string_view ref) {
    return guarded(path_, [&]() -> std::optional<Ticket> {
        impl_->flush();
        auto& q = impl_->select_ticket;
        if (!q)
            q.emplace(impl_->db, std::string("SELECT ") + ticket_columns(impl_->schema) +
                                     " FROM tickets WHERE ref = ?");
        q->reset();
        q->bind(1, std::string(ref));
        if (!q->executeStep()) return std::nullopt;
        auto t = ticket_from(*q);
        q->reset();  // a statement left mid-step keeps its read snapshot open past the transaction
        return t;
    });
}

void Database::for_each_ticket(const std::optional<std::string>& state,
                               const std::function<void(const Ticket&)>& fn) {
    guarded(path_, [&] {
        impl_->flush();
        std::string sql = std::string("SELECT ") + ticket_columns(impl_->schema) + " FROM tickets";
        if (state) sql += " WHERE state = ?";
        sql += " ORDER BY ref";
        SQLite::Statement q(impl_->db, sql);
        if (state) q.bind(1, *state);
        while (q.executeStep()) fn(ticket_from(q));
    });
}

std::function<std::optional<Ticket>()> Database::ticket_cursor() {
    return guarded(path_, [&]() -> std::function<std::optional<Ticket>()> {
        impl_->flush();
        auto q = std::make_shared<SQLite::Statement>(
            impl_->db,
            std::string("SELECT ") + ticket_columns(impl_->schema) + " FROM tickets ORDER BY ref");
        auto done = std::make_shared<bool>(false);
        return [q, done, path = path_]() {
            return guarded(path, [&]() -> std::optional<Ticket> {
                if (*done || !q->executeStep()) {
                    *done = true;  // SQLite refuses a step after the last row: stay at the end
                    return std::nullopt;
                }
                return ticket_from(*q);
            });
        };
    });
}

std::vector<std::string> Database::refs_in_state(std::string_view state) {
    return guarded(path_, [&]() -> std::vector<std::string> {
        impl_->flush();
        SQLite::Statement q(impl_->db, "SELECT ref FROM tickets WHERE state = ? ORDER BY ref");
        q.bind(1, std::string(state));
        std::vector<std::string> out;
        while (q.executeStep()) out.push_back(q.getColumn(0).getString());
        return out;
    });
}

std::pair<std::vector<engine::Store::Related>, std::int64_t> Database::related(
    std::string_view ref, std::string_view phone, std::string_view email, std::size_t limit) {
    return guarded(path_, [&] {
        impl_->flush();
        constexpr const char* kWhere =
            " FROM tickets WHERE (phone = ?2 OR requester_email = ?3 COLLATE NOCASE) AND ref <> ?1";
        auto q = impl_->prepared(
            std::string("SELECT ref, state, CASE WHEN phone = ?2 THEN 'phone' ELSE 'email' END") +
            kWhere + " ORDER BY state = 'partner_rejected' DESC, updated_at DESC, ref LIMIT ?4");
        auto n = impl_->prepared(std::string("SELECT count(*)") + kWhere);
        for (auto* s : {&*q, &*n}) {
            s->bind(1, std::string(ref));
            s->bind(2, std::string(phone));
            s->bind(3, std::string(email));
        }
        q->bind(4, static_cast<int64_t>(limit));
        std::vector<engine::Store::Related> out;
        while (q->executeStep())
            out.push_back({q->getColumn(0).getString(), q->getColumn(1).getString(),
                           q->getColumn(2).getString()});
        n->executeStep();
        return std::pair(std::move(out), static_cast<std::int64_t>(n->getColumn(0).getInt64()));
    });
}

DeskStats Database::stats(const std::optional<std::string>& since) {
    return guarded(path_, [&]() -> DeskStats {
        impl_->flush();
        DeskStats out;
        const std::string opened = "(SELECT at FROM events o WHERE o.ref = t.ref AND o.tseq = 1)";
        const std::string where = since ? " WHERE " + opened + " >= ?" : std::string();
        SQLite::Statement per_state(impl_->db, "SELECT state, count(*) FROM tickets t" + where +
                                                   " GROUP BY state ORDER BY state");
        if (since) per_state.bind(1, *since);
        while (per_state.executeStep())
            out.per_state.emplace_back(per_state.getColumn(0).getString(),
                                       per_state.getColumn(1).getInt64());
        SQLite::Statement done(impl_->db,
                               "SELECT " + opened +
                                   ", updated_at FROM tickets t WHERE state = 'completed'" +
                                   (since ? " AND " + opened + " >= ?" : std::string()));
        if (since) done.bind(1, *since);
        while (done.executeStep()) {
            const auto a = rules::parse_utc(done.getColumn(0).getString());
            const auto b = rules::parse_utc(done.getColumn(1).getString());
            if (a && b) out.open_to_completed_ms.push_back(*b - *a);
        }
        SQLite::Statement oldest(impl_->db, "SELECT state, ref, min(updated_at) FROM tickets t" +
                                                where + " GROUP BY state ORDER BY state");
        if (since) oldest.bind(1, *since);
        while (oldest.executeStep())
            out.oldest.push_back(
                {oldest.getColumn(0).getString(),
                 {oldest.getColumn(1).getString(), oldest.getColumn(2).getString()}});
        return out;
    });
}

bool Database::has_accounts() {
    if (impl_->schema < 2) return false;
    return guarded(path_, [&] {
        impl_->flush();
        return impl_
            ->prepared("SELECT 1 FROM events WHERE ref >= 'account:' AND ref < 'account;' LIMIT 1")
            ->executeStep();
    });
}

std::optional<engine::Account> Database::account(std::string_view name) {
    if (impl_->schema < 2) return std::nullopt;
    return guarded(path_, [&]() -> std::optional<engine::Account> {
        auto q = impl_->prepared(std::string("SELECT ") + kAccountColumns +
                                 " FROM accounts WHERE name = ?");
        q->bind(1, std::string(name));
        if (!q->executeStep()) return std::nullopt;
        return account_from(*q);
    });
}

std::optional<engine::Account> Database::account_by_token(std::string_view token_hash) {
    if (impl_->schema < 2) return std::nullopt;
    return guarded(path_, [&]() -> std::optional<engine::Account> {
        auto q = impl_->prepared(std::string("SELECT ") + kAccountColumns +
                                 " FROM accounts WHERE token_hash = ?");
        q->bind(1, std::string(token_hash));
        if (!q->executeStep()) return std::nullopt;
        return account_from(*q);
    });
}

void Database::for_each_account(const std::function<void(const engine::Account&)>& fn) {
    if (impl_->schema < 2) return;
    guarded(path_, [&] {
        SQLite::Statement q(
            impl_->db, std::string("SELECT ") + kAccountColumns + " FROM accounts ORDER BY name");
        while (q.executeStep()) fn(account_from(q));
    });
}

// ---- the workspace (SPEC §14) ----------------------------------------------------------------

namespace {

constexpr int kReadyIndexSchema = 7;  // the first schema with tickets_ready_for_approval

void require_workspace(int schema, const std::string& path) {
    if (schema < 5)
        throw engine::Error(engine::ErrorKind::unexpected,
                            path + " predates search and claims (schema " + std::to_string(schema) +
                                "): any write command brings it up to date");
}

void bind_all(SQLite::Statement& s, const std::vector<std::string>& params) {
    for (std::size_t i = 0; i < params.size(); ++i) s.bind(static_cast<int>(i + 1), params[i]);
}

}  // namespace

std::pair<std::vector<Ticket>, bool> Database::find_tickets(const engine::TicketQuery& query) {
    require_workspace(impl_->schema, path_);
    return guarded(path_, [&] {
        impl_->flush();
        const auto sql = workspace::page(query, kTicketColumns, workspace::Dialect::sqlite,
                                         impl_->schema >= kReadyIndexSchema);
        auto q = impl_->prepared(sql.text);
        bind_all(*q, sql.params);
        std::vector<Ticket> out;
        bool more = false;
        while (q->executeStep()) {
            if (out.size() == query.limit) {
                more = true;
                break;
            }
            out.push_back(ticket_from(*q));
        }
        return std::pair(std::move(out), more);
    });
}

std::int64_t Database::count_tickets(const engine::TicketQuery& query) {
    require_workspace(impl_->schema, path_);
    return guarded(path_, [&]() -> std::int64_t {
        impl_->flush();
        const auto sql =
            workspace::count(query, workspace::Dialect::sqlite, impl_->schema >= kReadyIndexSchema);
        auto q = impl_->prepared(sql.text);
        bind_all(*q, sql.params);
        q->executeStep();
        return q->getColumn(0).getInt64();
    });
}

engine::WorkspaceCounts Database::workspace_counts(std::string_view me, std::string_view now) {
    require_workspace(impl_->schema, path_);
    return guarded(path_, [&] {
        impl_->flush();
        engine::WorkspaceCounts out;
        std::map<std::string, std::int64_t> per_state;
        for (const auto& [name, terminal] : engine::Machine::states()) per_state[name] = 0;
        auto kept = impl_->prepared("SELECT state, assigned, n FROM ticket_counts");
        while (kept->executeStep()) {
            const std::string state = kept->getColumn(0).getString();
            const std::int64_t n = kept->getColumn(2).getInt64();
            per_state[state] += n;
            if (workspace::is_open(state)) {
                out.open += n;
                if (kept->getColumn(1).getInt() == 0) out.unassigned += n;
            }
        }
        out.states.assign(per_state.begin(), per_state.end());
        auto one = [&](const engine::TicketQuery& q) {
            const auto sql =
                workspace::count(q, workspace::Dialect::sqlite, impl_->schema >= kReadyIndexSchema);
            auto s = impl_->prepared(sql.text);
            bind_all(*s, sql.params);
            s->executeStep();
            return s->getColumn(0).getInt64();
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
        return out;
    });
}

}  // namespace tfadesk::storage
