#include "tfadesk/storage/database.hpp"

#include <sodium.h>
#include <sqlite3.h>

#include <SQLiteCpp/SQLiteCpp.h>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>
#include <nlohmann/json.hpp>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/json_text.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::storage {

using engine::Error;
using engine::ErrorKind;
using engine::LogEntry;
using engine::Ticket;
using nlohmann::json;

namespace {

constexpr int kApplicationId = 0x54464144;  // "TFAD"

// Each step brings the schema from version (index) to version (index + 1).
const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE events (
        seq            INTEGER PRIMARY KEY,
        ref            TEXT    NOT NULL,
        tseq           INTEGER NOT NULL,
        event          TEXT    NOT NULL,
        details        TEXT    NOT NULL,
        agent          TEXT    NOT NULL,
        at             TEXT    NOT NULL,
        state          TEXT    NOT NULL,
        policy_version INTEGER NOT NULL,
        prev_hash      TEXT    NOT NULL,
        hash           TEXT    NOT NULL,
        UNIQUE (ref, tseq)
    );
    CREATE TRIGGER events_no_update BEFORE UPDATE ON events
    BEGIN SELECT RAISE(ABORT, 'R8: the event log is append-only; entries cannot be changed'); END;
    CREATE TRIGGER events_no_delete BEFORE DELETE ON events
    BEGIN SELECT RAISE(ABORT, 'R8: the event log is append-only; entries cannot be deleted'); END;
    CREATE TABLE tickets (
        ref              TEXT PRIMARY KEY,
        phone            TEXT NOT NULL,
        client_id        TEXT NOT NULL,
        requester_email  TEXT NOT NULL,
        requester_role   TEXT NOT NULL,
        portfolio_access TEXT NOT NULL,
        reason           TEXT NOT NULL,
        waba_id          TEXT,
        portfolio_id     TEXT,
        submitted_at     TEXT NOT NULL,
        note             TEXT,
        state            TEXT NOT NULL,
        version          INTEGER NOT NULL,
        checks           TEXT NOT NULL,
        check_agents     TEXT NOT NULL,
        updated_at       TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX tickets_by_state ON tickets (state, updated_at);
    )sql",
};

constexpr const char* kTicketColumns =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at";
constexpr const char* kEntryColumns =
    "seq, ref, tseq, event, details, agent, at, state, policy_version, prev_hash, hash";

[[noreturn]] void rethrow_sqlite(const SQLite::Exception& e, const std::string& path) {
    const int code = e.getErrorCode();
    std::string what = std::string(e.what()) + " (SQLite code " + std::to_string(e.getExtendedErrorCode()) + ")";
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        throw Error(ErrorKind::unexpected, path + " is not a tfadesk database or is corrupt: " + what);
    if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM)
        throw Error(ErrorKind::unexpected, "cannot write " + path + ": " + what);
    if (code == SQLITE_FULL) throw Error(ErrorKind::unexpected, "disk full writing " + path + ": " + what);
    throw Error(ErrorKind::unexpected, path + ": " + what);
}

// A file name as the path part of an SQLite URI: '%', '?' and '#' percent-encoded.
std::string uri_path(const std::string& path) {
    std::string out;
    for (char c : path) {
        if (c == '%') out += "%25";
        else if (c == '?') out += "%3f";
        else if (c == '#') out += "%23";
        else out += c;
    }
    return out;
}

std::optional<std::string> opt_text(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getString();
}

void bind_opt(SQLite::Statement& s, int index, const std::optional<std::string>& v) {
    if (v) s.bindNoCopy(index, *v);
    else s.bind(index);
}

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

std::string to_hex(const unsigned char* bytes, std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(2 * n, '0');
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = kHex[bytes[i] >> 4];
        out[2 * i + 1] = kHex[bytes[i] & 0xF];
    }
    return out;
}

Ticket ticket_from(SQLite::Statement& q) {
    Ticket t;
    auto& f = t.fields;
    f.ref = q.getColumn(0).getString();
    f.phone = q.getColumn(1).getString();
    f.client_id = q.getColumn(2).getString();
    f.requester_email = q.getColumn(3).getString();
    f.requester_role = rules::parse_role(q.getColumn(4).getString()).value_or(rules::Role::unknown);
    f.portfolio_access = rules::parse_access(q.getColumn(5).getString()).value_or(rules::Access::unknown);
    f.reason = q.getColumn(6).getString();
    f.waba_id = opt_text(q.getColumn(7));
    f.portfolio_id = opt_text(q.getColumn(8));
    f.submitted_at = q.getColumn(9).getString();
    f.note = opt_text(q.getColumn(10));
    t.state = q.getColumn(11).getString();
    t.version = q.getColumn(12).getInt64();
    try {
        const json checks = json::parse(q.getColumn(13).getString());
        for (const auto& [check, agent] : checks.items()) t.checks.emplace(check, agent.get<std::string>());
        const json agents = json::parse(q.getColumn(14).getString());
        for (const auto& agent : agents)
            t.check_agents.insert(agent.get<std::string>());
    } catch (const json::exception&) {
        t.checks.emplace("?", "unreadable checks column");
    }
    t.updated_at = q.getColumn(15).getString();
    return t;
}

}  // namespace

static void require_sodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw Error(ErrorKind::unexpected, "libsodium failed to initialise");
}

std::string sha256_hex(std::string_view data) {
    require_sodium();
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    return to_hex(digest, sizeof digest);
}

std::string sqlite_version() { return SQLite::getLibVersion(); }

std::string canonical(const LogEntry& e) {
    std::string s;
    s.reserve(e.details.size() + e.ref.size() + e.agent.size() + 128);
    s += '[';
    s += std::to_string(e.seq);
    s += ',';
    engine::append_json_string(s, e.ref);
    s += ',';
    s += std::to_string(e.tseq);
    s += ',';
    engine::append_json_string(s, e.event);
    s += ',';
    engine::append_json_string(s, e.agent);
    s += ',';
    engine::append_json_string(s, e.at);
    s += ',';
    engine::append_json_string(s, e.state);
    s += ',';
    s += std::to_string(e.policy_version);
    s += ',';
    s += e.details;
    s += ']';
    return s;
}

std::string entry_hash(const LogEntry& e) {
    require_sodium();
    const std::string content = canonical(e);
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(e.prev_hash.data()), e.prev_hash.size());
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(content.data()), content.size());
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, digest);
    return to_hex(digest, sizeof digest);
}

struct Database::Impl {
    SQLite::Database db;
    std::optional<SQLite::Statement> insert_event, upsert_ticket, select_entries, select_exists, select_ticket;
    std::optional<Head> head;  // cached inside a write transaction
    // The last appended ticket's new cache row, written when another ticket is appended, before
    // any read of the ticket table, and at commit: an import that opens and triages a ticket
    // writes its row once.
    std::optional<Ticket> pending;

    void write_ticket(const Ticket& t);
    void flush() {
        if (!pending) return;
        write_ticket(*pending);
        pending.reset();
    }

    Impl(const std::string& path, int flags) : db(path, flags) {}
};

Database::Database(const std::string& path, Mode mode) : path_(path) {
    namespace fs = std::filesystem;
    try {
        if (mode == Mode::read_only) {
            std::error_code ec;
            if (!fs::exists(path, ec))
                throw Error(ErrorKind::unexpected, "no database at " + path + " (read-only commands never create one)");
            // Opened read-write but with query_only set: SQLite then refuses every write, while
            // the connection can still share the writers' WAL and, as the last one to close,
            // remove the -wal/-shm files it needed - a read leaves the folder as it found it.
            // A file or folder we may not write falls back to reading the main file as it is.
            impl_ = std::make_unique<Impl>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
            try {
                impl_->db.setBusyTimeout(30000);
                impl_->db.exec("PRAGMA query_only=1");
                impl_->db.exec("SELECT count(*) FROM sqlite_master");
            } catch (const SQLite::Exception& e) {
                if (e.getErrorCode() != SQLITE_CANTOPEN && e.getErrorCode() != SQLITE_READONLY &&
                    e.getErrorCode() != SQLITE_IOERR && e.getErrorCode() != SQLITE_PERM)
                    throw;
                impl_.reset();
                impl_ = std::make_unique<Impl>("file:" + uri_path(path) + "?immutable=1",
                                               SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX);
            }
            impl_->db.setBusyTimeout(30000);
            // One read transaction for the whole command: every query sees the same snapshot,
            // however many writers commit meanwhile (verify compares several queries).
            impl_->db.exec("BEGIN");
            if (impl_->db.execAndGet("PRAGMA application_id").getInt() != kApplicationId)
                throw Error(ErrorKind::unexpected,
                            impl_->db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 0
                                ? path + " holds no tfadesk data yet (its creation did not finish)"
                                : path + " is not a tfadesk database");
            const int version = impl_->db.execAndGet("PRAGMA user_version").getInt();
            if (version > kSchemaVersion)
                throw Error(ErrorKind::unexpected, path + " was written by a newer tfadesk (schema " +
                                                       std::to_string(version) + ")");
            return;
        }
        // Processes racing to create the same new file can meet SQLITE_BUSY on the journal-mode
        // switch, where SQLite calls no busy handler: start again a little later.
        for (int attempt = 0;; ++attempt) {
            try {
                impl_ = std::make_unique<Impl>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
                impl_->db.setBusyTimeout(30000);
                // Judge the file before changing anything in it (journal mode included), reading the
                // id and the schema in one snapshot: another process may be creating it right now.
                int app = 0;
                {
                    SQLite::Transaction read(impl_->db);
                    app = impl_->db.execAndGet("PRAGMA application_id").getInt();
                    if (app != kApplicationId && impl_->db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() != 0)
                        throw Error(ErrorKind::unexpected, path + " is not a tfadesk database");
                    read.commit();
                }
                impl_->db.exec("PRAGMA journal_mode=WAL");
                impl_->db.exec("PRAGMA synchronous=FULL");
                int version = impl_->db.execAndGet("PRAGMA user_version").getInt();
                if (app == kApplicationId && version == kSchemaVersion) return;
                // Create or migrate under the write lock, re-reading what another writer may have done.
                SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
                version = impl_->db.execAndGet("PRAGMA user_version").getInt();
                const int app_now = impl_->db.execAndGet("PRAGMA application_id").getInt();
                const bool empty = impl_->db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 0;
                if (app_now != kApplicationId && !empty)
                    throw Error(ErrorKind::unexpected, path + " is not a tfadesk database");
                if (version > kSchemaVersion)
                    throw Error(ErrorKind::unexpected, path + " was written by a newer tfadesk (schema " +
                                                           std::to_string(version) + ")");
                for (int v = version; v < kSchemaVersion; ++v) impl_->db.exec(kMigrations[v]);
                impl_->db.exec("PRAGMA application_id=" + std::to_string(kApplicationId));
                impl_->db.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
                tx.commit();
                return;
            } catch (const SQLite::Exception& e) {
                const int code = e.getErrorCode();
                if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || attempt >= 40) throw;
                impl_.reset();
                std::this_thread::sleep_for(std::chrono::milliseconds(std::min(250, 20 * (attempt + 1))));
            }
        }
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path);
    }
}

Database::~Database() = default;

Database::WriteTransaction::WriteTransaction(Database& db) : db_(db) {
    try {
        db_.impl_->db.exec("BEGIN IMMEDIATE");
        db_.impl_->head.reset();
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, db_.path_);
    }
}

Database::WriteTransaction::~WriteTransaction() {
    if (done_) return;
    db_.impl_->head.reset();
    db_.impl_->pending.reset();
    try {
        db_.impl_->db.exec("ROLLBACK");
    } catch (...) {  // never throw from a destructor; SQLite rolls back on close anyway
    }
}

void Database::WriteTransaction::commit() {
    try {
        db_.impl_->flush();
        db_.impl_->db.exec("COMMIT");
        done_ = true;
        db_.impl_->head.reset();
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, db_.path_);
    }
}

std::vector<LogEntry> Database::entries(std::string_view ref) {
    try {
        auto& q = impl_->select_entries;
        if (!q) q.emplace(impl_->db, std::string("SELECT ") + kEntryColumns + " FROM events WHERE ref = ? ORDER BY tseq");
        q->reset();
        q->bind(1, std::string(ref));
        std::vector<LogEntry> out;
        while (q->executeStep()) out.push_back(entry_from(*q));
        return out;
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

bool Database::exists(std::string_view ref) {
    try {
        impl_->flush();
        auto& q = impl_->select_exists;
        if (!q) q.emplace(impl_->db, "SELECT 1 FROM tickets WHERE ref = ?");
        q->reset();
        q->bind(1, std::string(ref));
        return q->executeStep();
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

void Database::append(LogEntry& e, const Ticket& t) {
    try {
        if (!impl_->head) impl_->head = head();
        e.seq = impl_->head->seq + 1;
        e.prev_hash = impl_->head->hash;
        e.hash = entry_hash(e);

        auto& ins = impl_->insert_event;
        if (!ins) ins.emplace(impl_->db, std::string("INSERT INTO events (") + kEntryColumns +
                                             ") VALUES (?,?,?,?,?,?,?,?,?,?,?)");
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
        ins->exec();
        impl_->head = Head{e.seq, e.hash};
        if (impl_->pending && impl_->pending->fields.ref != t.fields.ref) impl_->flush();
        impl_->pending = t;
    } catch (const SQLite::Exception& ex) {
        rethrow_sqlite(ex, path_);
    }
}

void Database::Impl::write_ticket(const Ticket& t) {
    auto& up = upsert_ticket;
    if (!up) up.emplace(db, std::string("INSERT OR REPLACE INTO tickets (") + kTicketColumns +
                                ") VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    const auto& f = t.fields;
    std::string checks = "{";
    for (const auto& [check, agent] : t.checks) {
        if (checks.size() > 1) checks += ',';
        engine::append_json_string(checks, check);
        checks += ':';
        engine::append_json_string(checks, agent);
    }
    checks += '}';
    std::string agents = "[";
    for (const auto& agent : t.check_agents) {
        if (agents.size() > 1) agents += ',';
        engine::append_json_string(agents, agent);
    }
    agents += ']';
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

std::optional<Ticket> Database::ticket(std::string_view ref) {
    try {
        impl_->flush();
        auto& q = impl_->select_ticket;
        if (!q) q.emplace(impl_->db, std::string("SELECT ") + kTicketColumns + " FROM tickets WHERE ref = ?");
        q->reset();
        q->bind(1, std::string(ref));
        if (!q->executeStep()) return std::nullopt;
        return ticket_from(*q);
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

void Database::for_each_ticket(const std::optional<std::string>& state,
                               const std::function<void(const Ticket&)>& fn) {
    try {
        impl_->flush();
        std::string sql = std::string("SELECT ") + kTicketColumns + " FROM tickets";
        if (state) sql += " WHERE state = ?";
        sql += " ORDER BY ref";
        SQLite::Statement q(impl_->db, sql);
        if (state) q.bind(1, *state);
        while (q.executeStep()) fn(ticket_from(q));
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

std::function<std::optional<Ticket>()> Database::ticket_cursor() {
    try {
        impl_->flush();
        auto q = std::make_shared<SQLite::Statement>(impl_->db, std::string("SELECT ") + kTicketColumns +
                                                                    " FROM tickets ORDER BY ref");
        return [q, path = path_]() -> std::optional<Ticket> {
            try {
                if (!q->executeStep()) return std::nullopt;
                return ticket_from(*q);
            } catch (const SQLite::Exception& e) {
                rethrow_sqlite(e, path);
            }
        };
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

void Database::for_each_entry(const std::function<void(const LogEntry&)>& fn) {
    try {
        SQLite::Statement q(impl_->db, std::string("SELECT ") + kEntryColumns + " FROM events ORDER BY seq");
        while (q.executeStep()) fn(entry_from(q));
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

void Database::for_each_entry_by_ticket(
    const std::function<void(const LogEntry&, const std::optional<std::string>&)>& fn) {
    try {
        SQLite::Statement q(impl_->db,
                            "SELECT e.seq, e.ref, e.tseq, e.event, e.details, e.agent, e.at, e.state, "
                            "e.policy_version, e.prev_hash, e.hash, p.hash FROM events e "
                            "LEFT JOIN events p ON p.seq = e.seq - 1 ORDER BY e.ref, e.tseq");
        while (q.executeStep()) fn(entry_from(q), opt_text(q.getColumn(11)));
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

std::optional<LogEntry> Database::entry_at(std::int64_t seq) {
    try {
        SQLite::Statement q(impl_->db, std::string("SELECT ") + kEntryColumns + " FROM events WHERE seq = ?");
        q.bind(1, static_cast<int64_t>(seq));
        if (!q.executeStep()) return std::nullopt;
        return entry_from(q);
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

std::vector<std::string> Database::refs_in_state(std::string_view state) {
    try {
        impl_->flush();
        SQLite::Statement q(impl_->db, "SELECT ref FROM tickets WHERE state = ? ORDER BY ref");
        q.bind(1, std::string(state));
        std::vector<std::string> out;
        while (q.executeStep()) out.push_back(q.getColumn(0).getString());
        return out;
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

DeskStats Database::stats(const std::optional<std::string>& since) {
    try {
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
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

Head Database::head() {
    try {
        SQLite::Statement q(impl_->db, "SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1");
        if (!q.executeStep()) return Head{};
        return Head{q.getColumn(0).getInt64(), q.getColumn(1).getString()};
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

std::int64_t Database::entry_count() {
    try {
        return impl_->db.execAndGet("SELECT count(*) FROM events").getInt64();
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path_);
    }
}

}  // namespace tfadesk::storage
