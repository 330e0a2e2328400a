// Private to storage/src/postgres/: what the PostgreSQL store's files share - the schema's
// versions and column lists, statement parameters and row conversions, the connection's state
// (PgStore::Impl, with the one guard that turns libpqxx failures into engine errors and the one
// helper for a short transaction of its own) and the server-side cursor. store.hpp describes
// the tables and the invariants; each file of this folder is one concern:
//   uri.cpp          URIs and messages: password masking, one-line server messages
//   rows.cpp         statement parameters and rows <-> entries, tickets, accounts
//   schema.cpp       the DDL, its migrations, the schema checks and prepared statements
//   store.cpp        connecting, snapshots, and the backend's registration
//   cursor.cpp       server-side cursors
//   transaction.cpp  the write transaction (head lock, seal, commit)
//   batch.cpp        the batched inserts a transaction sends (imports: 500 rows a statement)
//   log.cpp, cache.cpp, accounts.cpp, access.cpp, outbox.cpp: the roles of engine::Store
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "../rows.hpp"
#include "../workspace.hpp"
#include "store.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::storage {

using engine::Error;
using engine::ErrorKind;
using engine::Head;
using engine::LogEntry;
using engine::Ticket;

inline constexpr std::int64_t kPgApplicationId = 0x54464144;  // "TFAD", as SQLite's application_id
inline constexpr int kPgSchemaVersion = 6;
inline constexpr int kPgWorkspaceSchema = 3;  // the first schema with claims and search (SPEC §14)
inline constexpr int kPgOutboxSchema = 4;     // the first schema with the connector's tables
inline constexpr int kPgAccessSchema = 2;     // the first schema with the access log
inline constexpr std::int64_t kCreateLock =
    0x5446414453434d41;                         // advisory lock key while creating the schema
inline constexpr std::size_t kBatchRows = 500;  // rows per multi-row INSERT
inline constexpr int kFetchRows = 1000;         // rows per cursor FETCH
// PgStore::Impl::opened: round trips before reading every opened ref is considered, and what one
// round trip costs in refs read.
inline constexpr std::int64_t kLookupsBeforePreload = 64;
inline constexpr std::int64_t kRefsPerLookup = 100;

inline constexpr const char* kEntryColumns =
    "seq, ref, tseq, event, details, agent, at, state, policy_version, prev_hash, hash";
inline constexpr std::size_t kEntryCount = 11;
inline constexpr const char* kTicketColumns =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at, assignee, "
    "active_at";
// A desk read before schema 3 (read-only: not migrated) has no claims.
inline constexpr const char* kTicketColumnsV2 =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at, NULL, "
    "updated_at";
// Written: the read columns and schema 3's derived ones (storage/src/workspace.hpp).
inline constexpr const char* kTicketWriteColumns =
    "ref, phone, client_id, requester_email, requester_role, portfolio_access, reason, waba_id, "
    "portfolio_id, submitted_at, note, state, version, checks, check_agents, updated_at, assignee, "
    "active_at, "
    "due_at, phone_rev, is_open";
inline constexpr std::size_t kTicketCount = 21;
inline constexpr const char* kAccountColumns =
    "name, roles, enabled, created_at, updated_at, version";

// --- URIs and messages (uri.cpp) ----------------------------------------------------------------

// A message as one line: runs of white space (libpq's messages span lines) become one space.
std::string one_line(const std::string& s);

// The server's message without its severity prefix and the LINE/caret context lines.
std::string server_message(const std::string& what);

// The string libpq is given: the URI, with a connect timeout unless it names one (a server that
// does not answer must not hang a command for ever).
std::string connect_string(const std::string& uri);

// `s` with every secret replaced by ***.
std::string scrub(std::string s, const std::vector<std::string>& secrets);

// --- parameters and rows (rows.cpp) -------------------------------------------------------------

class QuietNotices final : public pqxx::errorhandler {
public:
    using pqxx::errorhandler::errorhandler;
    // NOTICEs and WARNINGs are not the command's output; results go to stdout, errors are thrown.
    bool operator()(const char[]) noexcept override { return false; }
};

// Statement parameters for a dynamic number of values. Strings are referenced, not copied, so
// they must outlive the statement; numbers are kept here.
class Params {
public:
    void add(const std::string& s) {
        if (s.find('\0') != std::string::npos)
            throw Error(ErrorKind::unexpected,
                        "a value holds a NUL byte, which PostgreSQL text cannot store");
        values_.push_back(s.c_str());
    }
    void add(const std::optional<std::string>& s) {
        if (s)
            add(*s);
        else
            values_.push_back(nullptr);
    }
    void add(std::int64_t n) {
        values_.push_back(numbers_.emplace_back(std::to_string(n)).c_str());
    }
    void add(bool b) { values_.push_back(b ? "true" : "false"); }
    auto dynamic() const { return pqxx::prepare::make_dynamic_params(values_); }

private:
    std::vector<const char*> values_;
    std::deque<std::string> numbers_;  // stable addresses
};

// "($1,$2,$3),($4,$5,$6)" for `rows` rows of `cols` values.
std::string placeholders(std::size_t rows, std::size_t cols);
std::string text(const pqxx::field& f);
std::optional<std::string> opt_text(const pqxx::field& f);
std::int64_t number(const pqxx::field& f);
LogEntry entry_from(const pqxx::row& r);           // kEntryColumns
Ticket ticket_from(const pqxx::row& r);            // kTicketColumns
engine::Account account_from(const pqxx::row& r);  // kAccountColumns
void add_entry(Params& p, const LogEntry& e);      // kEntryColumns

// A ticket row's values, kept alive for the statement that sends them.
struct TicketRow {
    explicit TicketRow(const Ticket& ticket)
        : t(ticket),
          role(rules::to_string(t.fields.requester_role)),
          access(rules::to_string(t.fields.portfolio_access)),
          checks(rows::checks_text(t)),
          agents(rows::check_agents_text(t)) {}
    void add_to(Params& p) const;  // in kTicketWriteColumns order
    Ticket t;
    std::string role, access, checks, agents;
    std::string due = workspace::stored_due_at(t),
                phone_rev = workspace::phone_reversed(t.fields.phone);
};

// --- the store's state
// ----------------------------------------------------------------------------

struct PgStore::Impl {
    Impl(const std::string& uri, Mode m, std::string masked, std::vector<std::string> hidden)
        : shown(std::move(masked)),
          secrets(std::move(hidden)),
          mode(m),
          conn(connect_string(uri)),
          quiet(conn),
          q(conn) {}

    std::string shown;                 // the URI, passwords masked: every message names this
    std::vector<std::string> secrets;  // never in a message
    Mode mode;
    pqxx::connection conn;
    QuietNotices quiet;
    pqxx::nontransaction q;  // the one statement channel; transactions are BEGIN/COMMIT on it

    enum class Tx { none, snapshot, read, write };
    Tx tx = Tx::none;
    std::uint64_t generation = 0;  // counts ended transactions (a cursor must not outlive its own)
    int readers = 0;               // open scans that share the current read transaction
    std::uint64_t cursors = 0;
    int schema = 0;

    // Inside a write transaction.
    Head head;    // including the pending entries
    Head locked;  // as the head row stood when locked
    bool appended = false;
    Sealer sealer;
    std::vector<LogEntry> pending;                   // entries not sent yet, in seq order
    std::unordered_set<std::string> pending_opened;  // refs whose first entry is pending
    // Whether a ticket exists, asked many times in one write transaction (an import asks once a
    // row): after kLookupsBeforePreload round trips, once they add up to more than reading every
    // opened ref would cost (kRefsPerLookup refs a round trip), the refs are read in one scan and
    // the rest answered here. Exact for the transaction's life: every writer holds the head lock,
    // so no other can open a ticket meanwhile; the transaction's own opens are added as queued.
    std::int64_t lookups = 0;
    std::optional<std::int64_t> tickets_total;
    std::optional<std::unordered_set<std::string>> opened_refs;
    bool opened(const std::string& ref);
    std::vector<TicketRow> pending_rows;  // ticket rows not sent yet, one per ref
    std::unordered_map<std::string, std::size_t> pending_row_of;
    bool prepared_batch = false, prepared_rows = false;  // the full-batch statements

    std::string scrub(std::string s) const { return storage::scrub(std::move(s), secrets); }

    // Throws `e` (a libpqxx failure) as an engine::Error naming the masked URI, secrets scrubbed.
    [[noreturn]] void fail(const std::exception& e) const;

    // Runs `fn`, turning any libpqxx failure into an engine::Error naming the masked URI.
    template <class Fn>
    auto guard(Fn&& fn) -> decltype(fn()) {
        try {
            return fn();
        } catch (const Error&) {
            throw;
        } catch (const std::exception& e) {
            fail(e);
        }
    }

    // Runs `fn`, guarded, in a write transaction of its own begun by `begin` (no head lock):
    // commits when `fn` returns, rolls back when it throws. Every short transaction goes through
    // here.
    template <class Fn>
    auto own_transaction(const char* begin, Fn&& fn) -> decltype(fn()) {
        return guard([&] {
            q.exec(begin);
            tx = Tx::write;
            try {
                if constexpr (std::is_void_v<decltype(fn())>) {
                    fn();
                    end_transaction("COMMIT");
                } else {
                    auto out = fn();
                    end_transaction("COMMIT");
                    return out;
                }
            } catch (...) {
                try {
                    end_transaction("ROLLBACK");
                } catch (...) {  // the first failure is the one to report; the server rolls back
                }
                throw;
            }
        });
    }

    void end_transaction(const char* sql) {
        tx = Tx::none;
        ++generation;
        q.exec(sql);
    }

    // Scans outside a write transaction of a read-write store share one short read transaction.
    void acquire_read() {
        if (tx == Tx::none) {
            q.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
            tx = Tx::read;
        }
        ++readers;
    }
    void release_read() noexcept {
        if (--readers > 0 || tx != Tx::read) return;
        try {
            end_transaction("COMMIT");
        } catch (...) {  // nothing was written; the server ends it with the connection anyway
        }
    }

    void require_write(const char* what) const {
        if (tx != Tx::write)
            throw Error(ErrorKind::unexpected,
                        shown + ": " + what + " outside a write transaction" +
                            (mode == Mode::read_only ? " (the store is open read-only)" : ""));
    }

    // Whether the current schema holds the tfadesk table, and any table at all.
    void inspect_schema(bool& has_meta, bool& has_tables);
    void check_schema(bool writing);
    // The columns a ticket is read with: a desk before schema 3 (read, not migrated) has no claims.
    const char* ticket_columns() const {
        return schema >= kPgWorkspaceSchema ? kTicketColumns : kTicketColumnsV2;
    }
    void create_schema();
    void prepare_statements();
    // Whether the schema is there to read. A read-write store opened on an empty database creates
    // it with its first write; until then it reads as an empty desk (asking again each time, as
    // another process may have created it meanwhile).
    bool ready() {
        if (schema == 0 && mode == Mode::read_write && tx != Tx::write) check_schema(true);
        return schema > 0;
    }

    void queue_ticket(const Ticket& t) {
        const auto [it, fresh] = pending_row_of.try_emplace(t.fields.ref, pending_rows.size());
        if (fresh)
            pending_rows.emplace_back(t);
        else
            pending_rows[it->second] = TicketRow(t);
    }
    void queue_entry(const LogEntry& e) {
        pending.push_back(e);
        if (e.tseq == 1) {
            pending_opened.insert(e.ref);
            if (opened_refs) opened_refs->insert(e.ref);
        }
        head = Head{e.seq, e.hash};
        if (pending.size() >= kBatchRows) flush();
    }
    void flush();
    void flush_entries();
    void flush_rows();
    void write_account(const engine::Account& a, const std::optional<std::string>& token_hash) {
        Params p;
        const std::string roles = rows::roles_text(a);
        p.add(a.name);
        p.add(roles);
        p.add(a.enabled);
        p.add(a.created_at);
        p.add(a.updated_at);
        p.add(a.version);
        p.add(token_hash);
        q.exec_prepared("upsert_account", p.dynamic());
    }

    // SPEC §17: queues the outbox delivery `e` causes when its ticket is linked to a connector's
    // outbox and `e` changes the ticket's state (called before the ticket's new row is queued).
    std::optional<bool> any_outbox_links;  // asked once per write transaction
    void queue_outbox(const LogEntry& e);
    // Runs `fn` in a short READ COMMITTED write transaction of its own, without the head lock.
    template <class Fn>
    auto short_write(const char* what, Fn&& fn) -> decltype(fn()) {
        if (mode == Mode::read_only)
            throw Error(ErrorKind::unexpected, "cannot write " + shown + ": it is open read-only");
        if (tx != Tx::none)
            throw Error(ErrorKind::unexpected, shown + ": " + what +
                                                   " runs in a transaction of its own, not inside "
                                                   "another");
        return own_transaction(
            "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit TO on", fn);
    }

    // Sends access records, inside the open transaction.
    void insert_access(const std::vector<engine::AccessRecord>& records);

    // Streams the rows of `select` through a server-side cursor, kFetchRows at a time.
    void scan(const std::string& select, const std::function<void(const pqxx::row&)>& fn);
};

// A server-side cursor over one SELECT, inside the store's transaction (a read-write store
// outside a write transaction opens a read transaction for as long as a cursor is open).
// cursor.cpp.
class PgCursor {
public:
    PgCursor(PgStore::Impl& impl, const std::string& select);
    ~PgCursor();
    PgCursor(const PgCursor&) = delete;
    PgCursor& operator=(const PgCursor&) = delete;
    // The next kFetchRows rows (fewer at the end).
    pqxx::result fetch();

private:
    PgStore::Impl& impl_;
    std::string name_;
    std::uint64_t generation_ = 0;
};

}  // namespace tfadesk::storage
