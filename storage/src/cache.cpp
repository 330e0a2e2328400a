// The caches on SQLite: ticket rows and account rows, rebuilt from the log by every append and
// compared with it by verify.
#include "rows.hpp"
#include "sqlite_impl.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::storage {

using engine::Ticket;

namespace {

constexpr const char* kTicketColumns =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at";
constexpr const char* kAccountColumns = "name, roles, enabled, created_at, updated_at, version";

void bind_opt(SQLite::Statement& s, int index, const std::optional<std::string>& v) {
    if (v) s.bindNoCopy(index, *v);
    else s.bind(index);
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
    auto& up = upsert_ticket;
    if (!up) up.emplace(db, std::string("INSERT OR REPLACE INTO tickets (") + kTicketColumns +
                                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    const auto& f = t.fields;
    const std::string checks = rows::checks_text(t), agents = rows::check_agents_text(t);
    const std::string role(rules::to_string(f.requester_role)), access(rules::to_string(f.portfolio_access));
    up->reset();
    up->bindNoCopy(1, f.ref);
    up->bindNoCopy(2, f.phone);
    up->bindNoCopy(3, f.client_id);
    up->bindNoCopy(4, f.requester_email);
    up->bindNoCopy(5, role);
    up->bindNoCopy(6, access);
    up->bindNoCopy(7, f.reason);
    bind_opt(*up, 8, f.waba_id);
    bind_opt(*up, 9, f.portfolio_id);
    up->bindNoCopy(10, f.submitted_at);
    bind_opt(*up, 11, f.note);
    up->bindNoCopy(12, t.state);
    up->bind(13, static_cast<int64_t>(t.version));
    up->bindNoCopy(14, checks);
    up->bindNoCopy(15, agents);
    up->bindNoCopy(16, t.updated_at);
    up->exec();
}

void Database::Impl::write_account(const engine::Account& a, const std::optional<std::string>& token_hash) {
    const std::string roles = rows::roles_text(a);
    SQLite::Statement q(db,
                        "INSERT INTO accounts (name, roles, enabled, created_at, updated_at, version, token_hash) "
                        "VALUES (?,?,?,?,?,?,?) ON CONFLICT (name) DO UPDATE SET roles = excluded.roles, "
                        "enabled = excluded.enabled, created_at = excluded.created_at, updated_at = excluded.updated_at, "
                        "version = excluded.version, token_hash = coalesce(excluded.token_hash, accounts.token_hash)");
    q.bind(1, a.name);
    q.bind(2, roles);
    q.bind(3, a.enabled ? 1 : 0);
    q.bind(4, a.created_at);
    q.bind(5, a.updated_at);
    q.bind(6, static_cast<int64_t>(a.version));
    if (token_hash) q.bind(7, *token_hash);
    else q.bind(7);
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
        SQLite::Statement q(impl_->db, "SELECT token_hash FROM accounts WHERE name = ?");
        q.bind(1, std::string(name));
        if (!q.executeStep()) return std::nullopt;
        return opt_text(q.getColumn(0));
    });
}

std::optional<Ticket> Database::ticket(std::string_view ref) {
    return guarded(path_, [&]() -> std::optional<Ticket> {
        impl_->flush();
        auto& q = impl_->select_ticket;
        if (!q) q.emplace(impl_->db, std::string("SELECT ") + kTicketColumns + " FROM tickets WHERE ref = ?");
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
        std::string sql = std::string("SELECT ") + kTicketColumns + " FROM tickets";
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
        auto q = std::make_shared<SQLite::Statement>(impl_->db, std::string("SELECT ") + kTicketColumns +
                                                                    " FROM tickets ORDER BY ref");
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
        SQLite::Statement q(
            impl_->db,
            std::string("SELECT ref, state, CASE WHEN phone = ?2 THEN 'phone' ELSE 'email' END") +
                kWhere +
                " ORDER BY state = 'partner_rejected' DESC, updated_at DESC, ref LIMIT ?4");
        SQLite::Statement n(impl_->db, std::string("SELECT count(*)") + kWhere);
        for (auto* s : {&q, &n}) {
            s->bind(1, std::string(ref));
            s->bind(2, std::string(phone));
            s->bind(3, std::string(email));
        }
        q.bind(4, static_cast<int64_t>(limit));
        std::vector<engine::Store::Related> out;
        while (q.executeStep())
            out.push_back({q.getColumn(0).getString(), q.getColumn(1).getString(),
                           q.getColumn(2).getString()});
        n.executeStep();
        return std::pair(std::move(out), static_cast<std::int64_t>(n.getColumn(0).getInt64()));
    });
}

DeskStats Database::stats(const std::optional<std::string>& since) {
    return guarded(path_, [&]() -> DeskStats {
        impl_->flush();
        DeskStats out;
        const std::string opened = "(SELECT at FROM events o WHERE o.ref = t.ref AND o.tseq = 1)";
        const std::string where = since ? " WHERE " + opened + " >= ?" : std::string();
        SQLite::Statement per_state(impl_->db, "SELECT state, count(*) FROM tickets t" + where + " GROUP BY state ORDER BY state");
        if (since) per_state.bind(1, *since);
        while (per_state.executeStep())
            out.per_state.emplace_back(per_state.getColumn(0).getString(), per_state.getColumn(1).getInt64());
        SQLite::Statement done(impl_->db, "SELECT " + opened + ", updated_at FROM tickets t WHERE state = 'completed'" +
                                              (since ? " AND " + opened + " >= ?" : std::string()));
        if (since) done.bind(1, *since);
        while (done.executeStep()) {
            const auto a = rules::parse_utc(done.getColumn(0).getString());
            const auto b = rules::parse_utc(done.getColumn(1).getString());
            if (a && b) out.open_to_completed_ms.push_back(*b - *a);
        }
        SQLite::Statement oldest(impl_->db, "SELECT state, ref, min(updated_at) FROM tickets t" + where +
                                                " GROUP BY state ORDER BY state");
        if (since) oldest.bind(1, *since);
        while (oldest.executeStep())
            out.oldest.push_back({oldest.getColumn(0).getString(),
                                  {oldest.getColumn(1).getString(), oldest.getColumn(2).getString()}});
        return out;
    });
}

bool Database::has_accounts() {
    if (impl_->schema < 2) return false;
    return guarded(path_, [&] {
        impl_->flush();
        return SQLite::Statement(
                   impl_->db,
                   "SELECT 1 FROM events WHERE ref >= 'account:' AND ref < 'account;' LIMIT 1")
            .executeStep();
    });
}

std::optional<engine::Account> Database::account(std::string_view name) {
    if (impl_->schema < 2) return std::nullopt;
    return guarded(path_, [&]() -> std::optional<engine::Account> {
        SQLite::Statement q(impl_->db, std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE name = ?");
        q.bind(1, std::string(name));
        if (!q.executeStep()) return std::nullopt;
        return account_from(q);
    });
}

std::optional<engine::Account> Database::account_by_token(std::string_view token_hash) {
    if (impl_->schema < 2) return std::nullopt;
    return guarded(path_, [&]() -> std::optional<engine::Account> {
        SQLite::Statement q(impl_->db, std::string("SELECT ") + kAccountColumns + " FROM accounts WHERE token_hash = ?");
        q.bind(1, std::string(token_hash));
        if (!q.executeStep()) return std::nullopt;
        return account_from(q);
    });
}

void Database::for_each_account(const std::function<void(const engine::Account&)>& fn) {
    if (impl_->schema < 2) return;
    guarded(path_, [&] {
        SQLite::Statement q(impl_->db, std::string("SELECT ") + kAccountColumns + " FROM accounts ORDER BY name");
        while (q.executeStep()) fn(account_from(q));
    });
}

}  // namespace tfadesk::storage
