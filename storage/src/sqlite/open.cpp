// Opening a SQLite store: the schema and its migrations, the file checks, and the write
// transaction (BEGIN IMMEDIATE; the seal is stored just before COMMIT).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>
#include <vector>

#include "../workspace.hpp"
#include "sqlite_impl.hpp"

namespace tfadesk::storage {

using engine::Error;
using engine::ErrorKind;

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
    R"sql(
    CREATE TABLE accounts (
        name       TEXT PRIMARY KEY,
        roles      TEXT    NOT NULL,
        enabled    INTEGER NOT NULL,
        created_at TEXT    NOT NULL,
        updated_at TEXT    NOT NULL,
        version    INTEGER NOT NULL,
        token_hash TEXT UNIQUE
    ) WITHOUT ROWID;
    CREATE TABLE seals (
        seq  INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        note TEXT NOT NULL
    );
    CREATE TRIGGER seals_no_update BEFORE UPDATE ON seals
    BEGIN SELECT RAISE(ABORT, 'R8: seals are append-only; they cannot be changed'); END;
    CREATE TRIGGER seals_no_delete BEFORE DELETE ON seals
    BEGIN SELECT RAISE(ABORT, 'R8: seals are append-only; they cannot be deleted'); END;
    )sql",
    // Schema 3: the state index without updated_at. Its key is (state, ref), which is the order
    // `queue` and sweep read in; keeping updated_at in it cost an import 12% (bench/README.md).
    R"sql(
    DROP INDEX tickets_by_state;
    CREATE INDEX tickets_by_state ON tickets (state);
    )sql",
    // Schema 4 (SPEC §12): R9's related tickets are found by phone and by email,
    // case-insensitively; and the access log, beside the log and not part of it. Each record keeps
    // its refs as a JSON array, in the answer's order, and (until schema 7) once more one row each
    // in access_log_refs. Append-only like the log. The same tables on PostgreSQL. Since schema 7
    // no row is added to access_log_refs: a record's refs are found in its array (a scan of the
    // access log, an auditor's occasional question), as the refs rows, scattered over the table
    // by ref, cost every read of a page of tickets some 50 page writes; the older rows stay.
    R"sql(
    CREATE INDEX tickets_by_phone ON tickets (phone);
    CREATE INDEX tickets_by_email ON tickets (requester_email COLLATE NOCASE);
    CREATE TABLE access_log (
        id        INTEGER PRIMARY KEY,
        at        TEXT    NOT NULL,
        account   TEXT    NOT NULL,
        route     TEXT    NOT NULL,
        refs      TEXT    NOT NULL,
        ref_count INTEGER NOT NULL,
        client    TEXT    NOT NULL
    );
    CREATE INDEX access_log_by_at ON access_log (at, id);
    CREATE INDEX access_log_by_account ON access_log (account, at, id);
    CREATE TABLE access_log_refs (
        ref TEXT    NOT NULL,
        id  INTEGER NOT NULL,
        PRIMARY KEY (ref, id)
    ) WITHOUT ROWID;
    CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only; records cannot be changed'); END;
    CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only; records cannot be deleted'); END;
    CREATE TRIGGER access_log_refs_no_update BEFORE UPDATE ON access_log_refs
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only; records cannot be changed'); END;
    CREATE TRIGGER access_log_refs_no_delete BEFORE DELETE ON access_log_refs
    BEGIN SELECT RAISE(ABORT, 'the access log is append-only; records cannot be deleted'); END;
    )sql",
    // ---- Schema 5 (SPEC §14, the workspace): who holds a ticket and R7's last activity (both
    // replayed, compared by verify), and columns derived from the row for search and order: the
    // phone's digits reversed (a search by the last digits is a prefix search), due_at ("~" for
    // none, so it sorts after every time), and whether the state is open. Every search and every
    // order of the open queue has its index; per-state counts are kept by triggers in the same
    // transaction as the row (a trigger's OR IGNORE would give way to the upsert's own conflict
    // clause, hence NOT EXISTS). tfadesk_phone_rev and tfadesk_due_at are registered by the opener.
    R"sql(
    ALTER TABLE tickets ADD COLUMN assignee TEXT;
    ALTER TABLE tickets ADD COLUMN active_at TEXT NOT NULL DEFAULT '';
    ALTER TABLE tickets ADD COLUMN due_at TEXT NOT NULL DEFAULT '~';
    ALTER TABLE tickets ADD COLUMN phone_rev TEXT NOT NULL DEFAULT '';
    ALTER TABLE tickets ADD COLUMN is_open INTEGER NOT NULL DEFAULT 0;
    UPDATE tickets SET active_at = updated_at, phone_rev = tfadesk_phone_rev(phone),
        is_open = state IN ('received', 'awaiting_requester', 'identity_check', 'approved', 'disable_submitted'),
        due_at = tfadesk_due_at(state, updated_at);
    CREATE INDEX tickets_by_phone_rev ON tickets (phone_rev);
    CREATE INDEX tickets_by_client ON tickets (client_id);
    CREATE INDEX tickets_by_waba ON tickets (waba_id);
    CREATE INDEX tickets_by_portfolio ON tickets (portfolio_id);
    CREATE INDEX tickets_by_assignee ON tickets (assignee, is_open);
    CREATE INDEX tickets_open_by_ref ON tickets (is_open, ref);
    CREATE INDEX tickets_open_by_updated ON tickets (is_open, updated_at, ref);
    CREATE INDEX tickets_open_by_submitted ON tickets (is_open, submitted_at, ref);
    CREATE INDEX tickets_open_by_due ON tickets (is_open, due_at, ref);
    CREATE TABLE ticket_counts (
        state    TEXT    NOT NULL,
        assigned INTEGER NOT NULL,
        n        INTEGER NOT NULL,
        PRIMARY KEY (state, assigned)
    ) WITHOUT ROWID;
    INSERT INTO ticket_counts (state, assigned, n)
        SELECT state, assignee IS NOT NULL, count(*) FROM tickets GROUP BY 1, 2;
    CREATE TRIGGER tickets_count_insert AFTER INSERT ON tickets BEGIN
        INSERT INTO ticket_counts SELECT new.state, new.assignee IS NOT NULL, 0 WHERE NOT EXISTS
            (SELECT 1 FROM ticket_counts WHERE state = new.state AND assigned = (new.assignee IS NOT NULL));
        UPDATE ticket_counts SET n = n + 1 WHERE state = new.state AND assigned = (new.assignee IS NOT NULL);
    END;
    CREATE TRIGGER tickets_count_update AFTER UPDATE OF state, assignee ON tickets
    WHEN old.state IS NOT new.state OR (old.assignee IS NULL) <> (new.assignee IS NULL) BEGIN
        UPDATE ticket_counts SET n = n - 1 WHERE state = old.state AND assigned = (old.assignee IS NOT NULL);
        INSERT INTO ticket_counts SELECT new.state, new.assignee IS NOT NULL, 0 WHERE NOT EXISTS
            (SELECT 1 FROM ticket_counts WHERE state = new.state AND assigned = (new.assignee IS NOT NULL));
        UPDATE ticket_counts SET n = n + 1 WHERE state = new.state AND assigned = (new.assignee IS NOT NULL);
    END;
    CREATE TRIGGER tickets_count_delete AFTER DELETE ON tickets BEGIN
        UPDATE ticket_counts SET n = n - 1 WHERE state = old.state AND assigned = (old.assignee IS NOT NULL);
    END;
    )sql",
    // ---- end of schema 5
    // Schema 6 (SPEC §17): the helpdesk connector. Delivery ids applied (a repeat is answered
    // without being applied again); the tickets each connector with an outbox opened; and the
    // outbox, one row per state change of such a ticket, queued in the transaction of its entry.
    // The same tables on PostgreSQL.
    R"sql(
    CREATE TABLE IF NOT EXISTS intake_deliveries (
        source      TEXT NOT NULL,
        delivery_id TEXT NOT NULL,
        at          TEXT NOT NULL,
        PRIMARY KEY (source, delivery_id)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS outbox_links (
        ref    TEXT PRIMARY KEY,
        source TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS outbox (
        id          INTEGER PRIMARY KEY,
        seq         INTEGER NOT NULL UNIQUE,
        ref         TEXT    NOT NULL,
        source      TEXT    NOT NULL,
        hash        TEXT    NOT NULL,
        status      TEXT    NOT NULL,
        attempts    INTEGER NOT NULL DEFAULT 0,
        created_at  TEXT    NOT NULL,
        next_at     TEXT    NOT NULL,
        lease_until TEXT,
        last_error  TEXT    NOT NULL DEFAULT ''
    );
    CREATE INDEX IF NOT EXISTS outbox_by_status ON outbox (status, ref, id);
    )sql",
    // Schema 7 (SPEC §14): the tickets ready for approval (identity_check, all three checks
    // passed), so that "ready for my approval" and its count read those few rows, not every
    // ticket in identity_check. Its WHERE is workspace::ready_for_approval() word for word, which
    // the planner needs to use it (tests/store/workspace_test.cpp checks the plan).
    R"sql(
    CREATE INDEX IF NOT EXISTS tickets_ready_for_approval ON tickets (ref) WHERE state = 'identity_check'
        AND instr(checks, '"client_of_record":') > 0 AND instr(checks, '"number_ownership":') > 0
        AND instr(checks, '"lost_access":') > 0;
    )sql",
};
static_assert(std::size(kMigrations) == kSchemaVersion);

// 16 MiB of page cache for a writing connection instead of SQLite's 2 MiB. A big import is one
// transaction, so its WAL grows to the size of what it writes, and every page read that misses
// the cache searches the WAL's index, which grows with it: a 1M-row import took 13.3 s with
// 2 MiB and 11.9 s with 16 MiB (64 MiB: 12.1 s), at 25 MiB of memory whatever the size
// (bench/README.md). Reads keep the default: verify's scan was no faster with more.
constexpr const char* kCacheSize = "PRAGMA cache_size=-16384";

// A file name as the path part of an SQLite URI: '%', '?' and '#' percent-encoded.
std::string uri_path(const std::string& path) {
    std::string out;
    for (char c : path) {
        if (c == '%')
            out += "%25";
        else if (c == '?')
            out += "%3f";
        else if (c == '#')
            out += "%23";
        else
            out += c;
    }
    return out;
}

// SPEC §12: a new database is mode 0600 whatever the umask, and so are its -wal and -shm, which
// SQLite creates with the database file's own permission bits. SQLite would create the file
// 0644 less the umask, so it is created here first, exactly 0600, at the path SQLite will open
// (the default VFS's full path name: relative to the current folder, symbolic links resolved,
// so a link to a database not made yet makes a private file too). Only a file that does not
// exist is created (O_EXCL); an existing one keeps its mode. An empty file is a new database to
// the open below: it gets the schema. When the path cannot be resolved or the file not created
// (no such folder, no permission), nothing is done: SQLite's own open says why, as before.
// Throws engine::Error when the file was created but its mode could not be set (then it is
// removed again).
void create_private_file(const std::string& path) {
    if (path.rfind("file:", 0) == 0) return;  // a URI: SQLite's to parse
    sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
    if (!vfs) return;
    std::vector<char> full(static_cast<std::size_t>(vfs->mxPathname) + 1);
    const int rc = vfs->xFullPathname(vfs, path.c_str(), vfs->mxPathname + 1, full.data());
    if ((rc & 0xff) != SQLITE_OK) return;  // SQLITE_OK_SYMLINK is OK too
    const int fd = ::open(full.data(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return;
    const int err = ::fchmod(fd, 0600) == 0 ? 0 : errno;
    ::close(fd);
    if (err == 0) return;
    ::unlink(full.data());  // ours, and empty: O_EXCL created it just now
    throw Error(ErrorKind::unexpected,
                "cannot make " + path + " private (mode 0600): " + std::strerror(err));
}

// Schema 5's migration fills the derived columns of existing rows with the same functions the
// writes use (storage/src/workspace.cpp).
void register_workspace_functions(sqlite3* db) {
    static auto phone_rev = [](sqlite3_context* ctx, int, sqlite3_value** argv) {
        const auto* p = sqlite3_value_text(argv[0]);
        const std::string phone = p ? reinterpret_cast<const char*>(p) : "";
        sqlite3_result_text(ctx, workspace::phone_reversed(phone).c_str(), -1, SQLITE_TRANSIENT);
    };
    static auto due_at = [](sqlite3_context* ctx, int, sqlite3_value** argv) {
        engine::Ticket t;
        const auto* s = sqlite3_value_text(argv[0]);
        const auto* a = sqlite3_value_text(argv[1]);
        t.state = s ? reinterpret_cast<const char*>(s) : "";
        t.active_at = a ? reinterpret_cast<const char*>(a) : "";
        sqlite3_result_text(ctx, workspace::stored_due_at(t).c_str(), -1, SQLITE_TRANSIENT);
    };
    sqlite3_create_function_v2(db, "tfadesk_phone_rev", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                               nullptr, +phone_rev, nullptr, nullptr, nullptr);
    sqlite3_create_function_v2(db, "tfadesk_due_at", 2, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
                               +due_at, nullptr, nullptr, nullptr);
}

}  // namespace

[[noreturn]] void rethrow_sqlite(const SQLite::Exception& e, const std::string& path) {
    const int code = e.getErrorCode();
    std::string what =
        std::string(e.what()) + " (SQLite code " + std::to_string(e.getExtendedErrorCode()) + ")";
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
        throw Error(ErrorKind::unexpected,
                    path + " is not a tfadesk database or is corrupt: " + what);
    if (code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM)
        throw Error(ErrorKind::unexpected, "cannot write " + path + ": " + what);
    if (code == SQLITE_FULL)
        throw Error(ErrorKind::unexpected, "disk full writing " + path + ": " + what);
    throw Error(ErrorKind::unexpected, path + ": " + what);
}

std::optional<std::string> opt_text(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getString();
}

std::string sqlite_version() { return SQLite::getLibVersion(); }

bool Database::end_snapshot() {
    if (!impl_->renewable || !impl_->in_snapshot) return false;
    guarded(path_, [&] { impl_->db.exec("COMMIT"); });
    impl_->in_snapshot = false;
    return true;
}

bool Database::start_snapshot() {
    if (!impl_->renewable || impl_->in_snapshot) return false;
    return guarded(path_, [&] {
        impl_->db.exec("BEGIN");
        impl_->in_snapshot = true;
        return impl_->db.execAndGet("PRAGMA user_version").getInt() == impl_->schema;
    });
}

PrivateCopy::PrivateCopy(const std::string& path) {
    namespace fs = std::filesystem;
    std::string tmpl = (fs::temp_directory_path() / "tfadesk-read-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
        throw Error(ErrorKind::unexpected,
                    "cannot make a private copy of " + path + " to read its WAL");
    dir_ = tmpl;
    std::error_code ec;
    fs::copy_file(path, db_path(), ec);
    if (!ec) fs::copy_file(path + "-wal", db_path() + "-wal", ec);
    if (ec) {
        fs::remove_all(dir_, ec);
        throw Error(ErrorKind::unexpected,
                    "cannot read " + path + " with its WAL: " + ec.message());
    }
}

PrivateCopy::~PrivateCopy() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
}

Database::Database(const std::string& path, Mode mode) : path_(path) {
    namespace fs = std::filesystem;
    std::error_code dir_ec;
    if (fs::is_directory(path, dir_ec))
        throw Error(ErrorKind::unexpected, path + " is a folder, not a tfadesk database");
    try {
        if (mode == Mode::read_only) {
            std::error_code ec;
            if (!fs::exists(path, ec))
                throw Error(ErrorKind::unexpected,
                            "no database at " + path + " (read-only commands never create one)");
            // SPEC §6: a read never changes the files it reads. Three cases:
            // - file and folder writable: opened read-write with query_only set, so the
            //   connection shares live writers' WAL; a WAL that was there before (a live or a
            //   crashed writer's) is never checkpointed on close, and -wal/-shm that the
            //   connection made itself are removed again by SQLite when it is the last to close;
            // - not writable and a non-empty -wal beside it (an evidence copy): the database and
            //   its WAL are copied to a private temporary folder and read there, WAL included;
            // - not writable, no WAL: the main file is read as it is (immutable).
            const std::string wal = path + "-wal";
            const bool has_wal = fs::exists(wal, ec) && fs::file_size(wal, ec) > 0;
            const fs::path dir =
                fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
            const bool writable =
                ::access(path.c_str(), W_OK) == 0 && ::access(dir.c_str(), W_OK) == 0;
            if (writable) {
                impl_ = std::make_unique<Impl>(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX);
                if (has_wal)
                    sqlite3_db_config(impl_->db.getHandle(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
                                      nullptr);
                impl_->db.setBusyTimeout(30000);
                impl_->db.exec("PRAGMA query_only=1");
                impl_->renewable = true;
            } else if (has_wal) {
                auto copy = std::make_unique<PrivateCopy>(path);
                impl_ = std::make_unique<Impl>(
                    copy->db_path(), SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, std::move(copy));
                impl_->db.exec("PRAGMA query_only=1");
            } else {
                impl_ = std::make_unique<Impl>(
                    "file:" + uri_path(path) + "?immutable=1",
                    SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX);
            }
            impl_->db.setBusyTimeout(30000);
            impl_->read_only = true;
            // One read transaction for the whole command: every query sees the same snapshot,
            // however many writers commit meanwhile (verify compares several queries).
            impl_->db.exec("BEGIN");
            impl_->in_snapshot = true;
            if (impl_->db.execAndGet("PRAGMA application_id").getInt() != kApplicationId)
                throw Error(ErrorKind::unexpected,
                            impl_->db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 0
                                ? path + " holds no tfadesk data yet (its creation did not finish)"
                                : path + " is not a tfadesk database");
            const int version = impl_->db.execAndGet("PRAGMA user_version").getInt();
            impl_->schema = version;
            if (version > kSchemaVersion)
                throw Error(ErrorKind::unexpected, path +
                                                       " was written by a newer tfadesk (schema " +
                                                       std::to_string(version) + ")");
            return;
        }
        create_private_file(path);
        // Processes racing to create the same new file can meet SQLITE_BUSY on the journal-mode
        // switch, where SQLite calls no busy handler: start again a little later.
        for (int attempt = 0;; ++attempt) {
            try {
                impl_ = std::make_unique<Impl>(
                    path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX);
                impl_->db.setBusyTimeout(30000);
                // Judge the file before changing anything in it (journal mode included), reading
                // the id and the schema in one snapshot: another process may be creating it right
                // now.
                int app = 0;
                {
                    SQLite::Transaction read(impl_->db);
                    app = impl_->db.execAndGet("PRAGMA application_id").getInt();
                    if (app != kApplicationId &&
                        impl_->db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() != 0)
                        throw Error(ErrorKind::unexpected, path + " is not a tfadesk database");
                    read.commit();
                }
                // A new file gets 8 KiB pages (only possible before its first table and before WAL
                // mode): a 1M-row import took 10.6 s instead of 12.4 s (16 KiB: 10.5 s, but slower
                // single events), one event and verify the same (bench/README.md).
                if (app != kApplicationId) impl_->db.exec("PRAGMA page_size=8192");
                impl_->db.exec("PRAGMA journal_mode=WAL");
                impl_->db.exec("PRAGMA synchronous=FULL");
                impl_->db.exec(kCacheSize);
                // The ticket row's upsert fires the per-state count triggers, so every row of an
                // import needs a statement journal; on disk (SQLite's default past 64 KiB) a
                // 20k-row import wrote it 650k times to a temporary file and took 4x as long.
                impl_->db.exec("PRAGMA temp_store=MEMORY");
                int version = impl_->db.execAndGet("PRAGMA user_version").getInt();
                impl_->schema = version;
                if (app == kApplicationId && version == kSchemaVersion) return;
                // Create or migrate under the write lock, re-reading what another writer may have
                // done.
                SQLite::Transaction tx(impl_->db, SQLite::TransactionBehavior::IMMEDIATE);
                version = impl_->db.execAndGet("PRAGMA user_version").getInt();
                const int app_now = impl_->db.execAndGet("PRAGMA application_id").getInt();
                const bool empty =
                    impl_->db.execAndGet("SELECT count(*) FROM sqlite_master").getInt() == 0;
                if (app_now != kApplicationId && !empty)
                    throw Error(ErrorKind::unexpected, path + " is not a tfadesk database");
                if (version > kSchemaVersion)
                    throw Error(ErrorKind::unexpected,
                                path + " was written by a newer tfadesk (schema " +
                                    std::to_string(version) + ")");
                if (version < 5) register_workspace_functions(impl_->db.getHandle());
                for (int v = version; v < kSchemaVersion; ++v) impl_->db.exec(kMigrations[v]);
                impl_->schema = kSchemaVersion;
                impl_->db.exec("PRAGMA application_id=" + std::to_string(kApplicationId));
                impl_->db.exec("PRAGMA user_version=" + std::to_string(kSchemaVersion));
                tx.commit();
                return;
            } catch (const SQLite::Exception& e) {
                const int code = e.getErrorCode();
                if ((code != SQLITE_BUSY && code != SQLITE_LOCKED) || attempt >= 40) throw;
                impl_.reset();
                std::this_thread::sleep_for(
                    std::chrono::milliseconds(std::min(250, 20 * (attempt + 1))));
            }
        }
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path);
    }
}

Database::~Database() = default;

Database::WriteTransaction::WriteTransaction(Database& db) : db_(db) {
    guarded(db_.path_, [&] { db_.impl_->db.exec("BEGIN IMMEDIATE"); });
    db_.impl_->head.reset();
    db_.impl_->head_before.reset();
    db_.impl_->appended = false;
    db_.impl_->any_outbox_links.reset();
}

Database::WriteTransaction::~WriteTransaction() {
    if (done_) return;
    db_.impl_->head.reset();
    db_.impl_->head_before.reset();
    db_.impl_->has_pending = false;
    db_.impl_->appended = false;
    try {
        db_.impl_->db.exec("ROLLBACK");
    } catch (...) {  // never throw from a destructor; SQLite rolls back on close anyway
    }
}

void Database::WriteTransaction::commit() {
    auto& impl = *db_.impl_;
    guarded(db_.path_, [&] {
        impl.flush();
        if (impl.appended && impl.sealer) {
            const Head h = db_.head();
            if (const auto note = impl.sealer(impl.head_before.value_or(Head{}), h)) {
                SQLite::Statement q(impl.db,
                                    "INSERT INTO seals (seq, hash, note) VALUES (?, ?, ?)");
                q.bind(1, static_cast<int64_t>(h.seq));
                q.bind(2, h.hash);
                q.bind(3, *note);
                q.exec();
            }
        }
        impl.db.exec("COMMIT");
    });
    done_ = true;
    impl.head.reset();
    impl.head_before.reset();
    impl.appended = false;
}

std::unique_ptr<engine::Store::Transaction> Database::begin_write() {
    return std::make_unique<WriteTransaction>(*this);
}

void Database::set_sealer(Sealer sealer) { impl_->sealer = std::move(sealer); }

}  // namespace tfadesk::storage
