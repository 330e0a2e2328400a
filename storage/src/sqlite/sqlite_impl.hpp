// Private to storage/: the SQLite store's state and the helpers its files share.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/storage/database.hpp"

namespace tfadesk::storage {

// Turns an SQLite failure into the one error type, with a message naming the file.
[[noreturn]] void rethrow_sqlite(const SQLite::Exception& e, const std::string& path);

// Runs `fn`, turning any SQLite failure into an engine::Error naming `path`.
template <class Fn>
auto guarded(const std::string& path, Fn&& fn) -> decltype(fn()) {
    try {
        return fn();
    } catch (const SQLite::Exception& e) {
        rethrow_sqlite(e, path);
    }
}

// A private copy of a database and its WAL in a fresh temporary folder, removed with it: how a
// read-only evidence copy that holds a WAL is read without touching it.
class PrivateCopy {
public:
    explicit PrivateCopy(const std::string& path);
    ~PrivateCopy();
    PrivateCopy(const PrivateCopy&) = delete;
    PrivateCopy& operator=(const PrivateCopy&) = delete;
    std::string db_path() const { return dir_ + "/copy.db"; }

private:
    std::string dir_;
};

// Statements prepared once per connection and kept, by their SQL text: a kept reader of the server
// answers the same few queries on every request, and preparing one costs more than running it.
// At most kCapacity are kept (the workspace's SQL varies with the filters asked for); past that,
// and when the kept one is in use further up the stack, a statement is prepared for the one use.
class Statements {
public:
    static constexpr std::size_t kCapacity = 64;

    // A statement for `sql`, reset (its read snapshot released) when this goes out of scope.
    class Use {
    public:
        Use(Statements& cache, SQLite::Database& db, const std::string& sql);
        ~Use();
        Use(const Use&) = delete;
        Use& operator=(const Use&) = delete;
        SQLite::Statement& operator*() { return *statement_; }
        SQLite::Statement* operator->() { return statement_; }

    private:
        std::unique_ptr<SQLite::Statement> own_;  // prepared for this use only
        SQLite::Statement* statement_ = nullptr;
        bool* busy_ = nullptr;
    };

private:
    struct Kept {
        std::unique_ptr<SQLite::Statement> statement;
        bool busy = false;
    };
    std::unordered_map<std::string, Kept> kept_;
};

struct Database::Impl {
    std::unique_ptr<PrivateCopy> copy;  // declared first: removed after the connection closes
    SQLite::Database db;
    int schema = 0;  // the file's schema version (a read-only v1 file has no accounts or seals)
    bool read_only = false;
    bool renewable = false;    // read-only on the live file (not a private or immutable copy)
    bool in_snapshot = false;  // a read-only store's read transaction is open
    std::optional<SQLite::Statement> insert_event, insert_open, upsert_ticket, update_progress,
        select_entries, select_exists, select_ticket;
    Statements statements;  // after db: finalized before the connection closes
    // A kept statement for `sql` (see Statements).
    Statements::Use prepared(const std::string& sql) { return {statements, db, sql}; }
    std::optional<Head> head;         // cached inside a write transaction
    std::optional<Head> head_before;  // the head when the open write transaction began (for seals)
    bool appended = false;            // entries appended in the open write transaction
    Sealer sealer;
    // The last appended ticket's new cache row. Written when another ticket is appended, before
    // any read of the ticket table and at commit, so an import that opens and triages a ticket
    // writes its row once; every read path goes through flush(), so no caller must remember it.
    // Kept (not destroyed) between tickets so that its strings' buffers are reused.
    engine::Ticket pending;
    bool has_pending = false;
    // SPEC §17: whether any ticket is linked to a connector's outbox, asked once per write
    // transaction (a desk without connectors pays one query a transaction, not one an append).
    std::optional<bool> any_outbox_links;

    Impl(const std::string& path, int flags, std::unique_ptr<PrivateCopy> c = nullptr)
        : copy(std::move(c)), db(path, flags) {}
    void write_ticket(const engine::Ticket& t);
    void write_account(const engine::Account& a, const std::optional<std::string>& token_hash);
    // Holds `t` as the pending row, writing the one held before when it is another ticket's.
    void keep_row(const engine::Ticket& t) {
        if (has_pending && pending.fields.ref != t.fields.ref) flush();
        pending = t;
        has_pending = true;
    }
    void flush() {
        if (!has_pending) return;
        write_ticket(pending);
        has_pending = false;
    }
};

std::optional<std::string> opt_text(const SQLite::Column& c);

// SPEC §17: queues the outbox delivery `e` causes when its ticket is linked to a connector's
// outbox and `e` changes the ticket's state. Called by append() before the ticket's row is kept.
void queue_outbox(Database::Impl& impl, const engine::LogEntry& e);

}  // namespace tfadesk::storage
