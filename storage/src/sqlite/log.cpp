// The log on SQLite: appends (seq, prev_hash and hash assigned here from the head), the reads
// verify and export stream, and the seals.
#include "sqlite_impl.hpp"

namespace tfadesk::storage {

using engine::LogEntry;

namespace {

constexpr const char* kEntryColumns =
    "seq, ref, tseq, event, details, agent, at, state, policy_version, prev_hash, hash";

LogEntry entry_from(SQLite::Statement& q) {
    LogEntry e;
    e.seq = q.getColumn(0).getInt64();
    e.ref = q.getColumn(1).getString();
    e.tseq = q.getColumn(2).getInt64();
    e.event = q.getColumn(3).getString();
    e.details = q.getColumn(4).getString();
    e.agent = q.getColumn(5).getString();
    e.at = q.getColumn(6).getString();
    e.state = q.getColumn(7).getString();
    e.policy_version = q.getColumn(8).getInt();
    e.prev_hash = q.getColumn(9).getString();
    e.hash = q.getColumn(10).getString();
    return e;
}

// Inserts `e`; with `if_new`, only when its (ref, tseq) is not taken (false, nothing written).
bool insert_row(Database::Impl& impl, const LogEntry& e, bool if_new = false) {
    auto& ins = if_new ? impl.insert_open : impl.insert_event;
    if (!ins)
        ins.emplace(impl.db, std::string("INSERT INTO events (") + kEntryColumns +
                                 ") VALUES (?,?,?,?,?,?,?,?,?,?,?)" +
                                 (if_new ? " ON CONFLICT (ref, tseq) DO NOTHING" : ""));
    ins->reset();
    ins->bind(1, static_cast<int64_t>(e.seq));
    ins->bindNoCopy(2, e.ref);
    ins->bind(3, static_cast<int64_t>(e.tseq));
    ins->bindNoCopy(4, e.event);
    ins->bindNoCopy(5, e.details);
    ins->bindNoCopy(6, e.agent);
    ins->bindNoCopy(7, e.at);
    ins->bindNoCopy(8, e.state);
    ins->bind(9, e.policy_version);
    ins->bindNoCopy(10, e.prev_hash);
    ins->bindNoCopy(11, e.hash);
    if (ins->exec() == 0) return false;
    impl.head = Head{e.seq, e.hash};
    return true;
}

// Assigns the entry its place at the head and inserts it (see insert_row for `if_new`).
bool insert_entry(Database::Impl& impl, Database& db, LogEntry& e, bool if_new = false) {
    if (!impl.head) impl.head = db.head();
    if (!impl.head_before) impl.head_before = impl.head;
    e.seq = impl.head->seq + 1;
    e.prev_hash = impl.head->hash;
    e.hash = engine::entry_hash(e);
    if (!insert_row(impl, e, if_new)) return false;
    impl.appended = true;
    return true;
}

}  // namespace

std::vector<LogEntry> Database::entries(std::string_view ref) {
    return guarded(path_, [&] {
        auto& q = impl_->select_entries;
        if (!q)
            q.emplace(impl_->db, std::string("SELECT ") + kEntryColumns +
                                     " FROM events WHERE ref = ? ORDER BY tseq");
        q->reset();
        q->bind(1, std::string(ref));
        std::vector<LogEntry> out;
        while (q->executeStep()) out.push_back(entry_from(*q));
        return out;
    });
}

bool Database::exists(std::string_view ref) {
    return guarded(path_, [&] {
        auto& q = impl_->select_exists;
        if (!q) q.emplace(impl_->db, "SELECT 1 FROM events WHERE ref = ? AND tseq = 1");
        q->reset();
        q->bind(1, std::string(ref));
        const bool found = q->executeStep();
        q->reset();  // a statement left mid-step keeps its read snapshot open past the transaction
        return found;
    });
}

void Database::append(LogEntry& e, const engine::Ticket& t) {
    guarded(path_, [&] {
        insert_entry(*impl_, *this, e);
        queue_outbox(*impl_, e);
        impl_->keep_row(t);
    });
}

bool Database::append_open(LogEntry& e, const engine::Ticket& t) {
    return guarded(path_, [&] {
        if (!insert_entry(*impl_, *this, e, true)) return false;
        impl_->keep_row(t);
        return true;
    });
}

void Database::for_each_entry(const std::function<void(const LogEntry&)>& fn) {
    guarded(path_, [&] {
        SQLite::Statement q(impl_->db,
                            std::string("SELECT ") + kEntryColumns + " FROM events ORDER BY seq");
        while (q.executeStep()) fn(entry_from(q));
    });
}

void Database::for_each_entry_by_ticket(
    const std::function<void(LogEntry&&, const std::optional<engine::PrevEntry>&)>& fn) {
    // verify's scan reads every row of the log, so it reads them through SQLite's own API into
    // one entry and one previous-entry that keep their buffers (SQLiteCpp makes a string, and
    // copies a shared pointer, per value read): the 2M-event verify spent a fifth of its time
    // in malloc. A callback that keeps the entry swaps it out with one whose buffers it reuses.
    guarded(path_, [&] {
        sqlite3* db = impl_->db.getHandle();
        sqlite3_stmt* raw = nullptr;
        const char* sql =
            "SELECT e.seq, e.ref, e.tseq, e.event, e.details, e.agent, e.at, e.state, "
            "e.policy_version, e.prev_hash, e.hash, p.hash, p.at FROM events e "
            "LEFT JOIN events p ON p.seq = e.seq - 1 ORDER BY e.ref, e.tseq";
        if (const int rc = sqlite3_prepare_v2(db, sql, -1, &raw, nullptr); rc != SQLITE_OK)
            throw SQLite::Exception(db, rc);
        const std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> q(raw, sqlite3_finalize);
        auto text = [&](int column, std::string& out) {
            const auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(raw, column));
            out.assign(p ? p : "",
                       p ? static_cast<std::size_t>(sqlite3_column_bytes(raw, column)) : 0);
        };
        LogEntry e;
        std::optional<engine::PrevEntry> prev;
        int rc = SQLITE_ROW;
        while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
            e.seq = sqlite3_column_int64(raw, 0);
            text(1, e.ref);
            e.tseq = sqlite3_column_int64(raw, 2);
            text(3, e.event);
            text(4, e.details);
            text(5, e.agent);
            text(6, e.at);
            text(7, e.state);
            e.policy_version = sqlite3_column_int(raw, 8);
            text(9, e.prev_hash);
            text(10, e.hash);
            if (sqlite3_column_type(raw, 11) == SQLITE_NULL) {
                prev.reset();
            } else {
                if (!prev) prev.emplace();
                text(11, prev->hash);
                text(12, prev->at);
            }
            fn(std::move(e), prev);
        }
        if (rc != SQLITE_DONE) throw SQLite::Exception(db, rc);
    });
}

std::optional<LogEntry> Database::entry_at(std::int64_t seq) {
    return guarded(path_, [&]() -> std::optional<LogEntry> {
        SQLite::Statement q(impl_->db,
                            std::string("SELECT ") + kEntryColumns + " FROM events WHERE seq = ?");
        q.bind(1, static_cast<int64_t>(seq));
        if (!q.executeStep()) return std::nullopt;
        return entry_from(q);
    });
}

std::vector<LogEntry> Database::account_entries() {
    if (impl_->schema < 2) return {};
    return guarded(path_, [&] {
        impl_->flush();
        SQLite::Statement q(
            impl_->db,
            std::string("SELECT ") + kEntryColumns +
                " FROM events WHERE ref >= 'account:' AND ref < 'account;' ORDER BY seq");
        std::vector<LogEntry> out;
        while (q.executeStep()) out.push_back(entry_from(q));
        return out;
    });
}

Head Database::head() {
    return guarded(path_, [&] {
        SQLite::Statement q(impl_->db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
        if (!q.executeStep()) return Head{};
        return Head{q.getColumn(0).getInt64(), q.getColumn(1).getString()};
    });
}

std::int64_t Database::entry_count() {
    return guarded(path_,
                   [&] { return impl_->db.execAndGet("SELECT count(*) FROM events").getInt64(); });
}

std::optional<engine::Seal> Database::last_seal() {
    if (impl_->schema < 2) return std::nullopt;
    return guarded(path_, [&]() -> std::optional<engine::Seal> {
        SQLite::Statement q(impl_->db,
                            "SELECT seq, hash, note FROM seals ORDER BY seq DESC LIMIT 1");
        if (!q.executeStep()) return std::nullopt;
        return engine::Seal{q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                            q.getColumn(2).getString()};
    });
}

void Database::for_each_seal(
    const std::function<void(const engine::Seal&, const std::optional<std::string>&)>& fn) {
    if (impl_->schema < 2) return;
    guarded(path_, [&] {
        SQLite::Statement q(impl_->db,
                            "SELECT s.seq, s.hash, s.note, e.hash FROM seals s LEFT JOIN events e "
                            "ON e.seq = s.seq ORDER BY s.seq");
        while (q.executeStep())
            fn(engine::Seal{q.getColumn(0).getInt64(), q.getColumn(1).getString(),
                            q.getColumn(2).getString()},
               opt_text(q.getColumn(3)));
    });
}

void Database::append_account(LogEntry& e, const engine::Account& a,
                              const std::optional<std::string>& token_hash) {
    append_desk_entry(e);  // the entry itself, as any entry without a ticket row
    guarded(path_, [&] { impl_->write_account(a, token_hash); });
}

void Database::append_desk_entry(LogEntry& e) {
    guarded(path_, [&] {
        impl_->flush();
        insert_entry(*impl_, *this, e);
    });
}

void Database::append_verbatim(const LogEntry& e) {
    guarded(path_, [&] {
        if (!impl_->head) impl_->head = head();
        engine::check_follows(impl_->head->seq, impl_->head->hash, e);
        insert_row(*impl_, e);
    });
}

void Database::put_seal(const engine::Seal& seal) {
    guarded(path_, [&] {
        SQLite::Statement q(impl_->db, "INSERT INTO seals (seq, hash, note) VALUES (?, ?, ?)");
        q.bind(1, static_cast<int64_t>(seal.seq));
        q.bind(2, seal.hash);
        q.bind(3, seal.note);
        q.exec();
    });
}

}  // namespace tfadesk::storage
