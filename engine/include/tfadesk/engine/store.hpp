// The store interface: what the desk layer needs from a backend (SQLite, PostgreSQL),
// declared here so neither the engine nor the desk ever includes a database library.
//
// A store holds the append-only, hash-chained log (tickets' and accounts' entries), the caches
// fed by it (ticket rows, account rows), the seals (signed checkpoints of the head, SPEC §8) and,
// beside the log but never in it, the access log (SPEC §12).
// Every write happens inside one unit of work from begin_write(); readers of a read-only store
// see one snapshot for the store's lifetime.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "tfadesk/engine/access_log.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/chain.hpp"
#include "tfadesk/engine/journal.hpp"
#include "tfadesk/engine/ticket.hpp"

namespace tfadesk::engine {

struct Head {
    std::int64_t seq = 0;
    std::string hash = kGenesisHash;
};

// What verify needs of the entry just before another in global order.
struct PrevEntry {
    std::string hash;
    std::string at;
};

// A signed checkpoint of the head as it stood when a write transaction committed.
struct Seal {
    std::int64_t seq = 0;  // the head's global seq
    std::string hash;      // the head's hash (hex)
    std::string note;      // the signed note, byte for byte (SPEC §8)
};

// What a support lead looks at every morning (`tfadesk stats`).
struct DeskStats {
    std::vector<std::pair<std::string, std::int64_t>> per_state;  // state -> tickets
    std::vector<std::int64_t> open_to_completed_ms;               // one per completed ticket
    // state -> (ref, updated_at) of the ticket that has waited longest in it
    std::vector<std::pair<std::string, std::pair<std::string, std::string>>> oldest;
};

// ---- the helpdesk connector (SPEC §17) -------------------------------------------------------
// One queued delivery of the outbox: the entry (seq, hash) that caused it, for the ticket `ref`
// opened by connector `source`. status: "pending" (to send, due at next_at), "sent" or "dead".
// Times are UTC ISO 8601 with milliseconds, so they order as text.
struct OutboxDelivery {
    std::int64_t id = 0;
    std::int64_t seq = 0;
    std::string ref, source, hash, status;
    std::int64_t attempts = 0;
    std::string created_at, next_at, last_error;
};

// ---- The workspace (SPEC §14): search, keyset pages, counts. ----
// Which tickets a page holds. The search terms (q read as a ref prefix, a phone, the phone's last
// digits, an email, an id) match when any of them does; every other member narrows the match.
struct TicketQuery {
    std::optional<std::string> ref_prefix;    // the ref starts with it
    std::optional<std::string> phone;         // E.164, exactly
    std::optional<std::string> phone_suffix;  // digits the phone ends with (4 or more)
    std::optional<std::string> email;         // ASCII case-insensitively
    std::optional<std::string> id;            // client_id, waba_id or portfolio_id, exactly
    std::vector<std::string> states;          // any of them (none: any state)
    bool open_only = false;                   // non-terminal states only
    // Nothing: anyone or nobody; "": nobody holds it; else that agent holds it.
    std::optional<std::string> assignee;
    std::optional<std::string> overdue_at;  // due_at (awaiting_requester) before this UTC time
    std::optional<std::string> ready_for;   // identity_check, all checks passed, none by this agent
    std::string sort = "ref";               // ref, updated_at, submitted_at or due_at
    bool descending = false;
    // Keyset: the (sort value, ref) of the last ticket of the page before.
    std::optional<std::pair<std::string, std::string>> after;
    std::size_t limit = 50;
    bool has_search() const { return ref_prefix || phone || phone_suffix || email || id; }
};

// The sort value a ticket has under `sort` (what TicketQuery::after holds): due_at is "~" (after
// every time) for a ticket that has none.
std::string sort_value(const Ticket& t, std::string_view sort);

struct WorkspaceCounts {
    std::vector<std::pair<std::string, std::int64_t>> states;  // every state, zero included
    std::int64_t open = 0, mine = 0, unassigned = 0, overdue = 0, ready_for_me = 0;
};

// ---- The store, by role ----------------------------------------------------------------------
// Each role is one interface, narrow enough to read in one screen; Store (below) is all of them.
// A use case that needs one role only takes that role, so its signature says what it may touch.

// Reading the log, in global order or by ticket (export, verify, replaying accounts). Journal
// (journal.hpp) reads one ticket's entries.
class LogReader {
public:
    virtual ~LogReader() = default;
    // Every entry in global order (export, migrate).
    virtual void for_each_entry(const std::function<void(const LogEntry&)>& fn) = 0;
    // Every entry ordered by (ref, tseq) in byte order, each with the hash and time of the entry
    // just before it in global order (nothing when that entry is missing): verify's single pass.
    // The entry is handed over (fn may keep it by moving from it).
    virtual void for_each_entry_by_ticket(
        const std::function<void(LogEntry&&, const std::optional<PrevEntry>& prev)>& fn) = 0;
    virtual std::optional<LogEntry> entry_at(std::int64_t seq) = 0;
    virtual Head head() = 0;
    // Every account change (key `account:NAME`) in global order: who may act is replayed from
    // these (SPEC §12). One range of the (ref, tseq) key.
    virtual std::vector<LogEntry> account_entries() = 0;
};

// Writing: one unit of work, its seal, and the appends that are not a ticket's (Journal::append
// is). Every write happens inside one transaction from begin_write().
class LogWriter {
public:
    virtual ~LogWriter() = default;
    // One unit of work: everything appended through the store until commit() is one transaction;
    // destroying it uncommitted rolls everything back.
    class Transaction {
    public:
        virtual ~Transaction() = default;
        virtual void commit() = 0;
    };
    virtual std::unique_ptr<Transaction> begin_write() = 0;

    // Called inside every write transaction that appended entries, just before it commits, with
    // the head as the transaction found it and the new head; the note it returns is stored as the
    // new head's seal (one per transaction), nothing means no seal. It may throw to refuse the
    // whole transaction.
    using Sealer = std::function<std::optional<std::string>(const Head& before, const Head& after)>;
    virtual void set_sealer(Sealer sealer) = 0;

    // Appends an account change and rewrites the account's cache row (and, when given, its
    // token hash; the token itself is never stored).
    virtual void append_account(LogEntry& entry, const Account& after,
                                const std::optional<std::string>& token_hash) = 0;
    // Appends an entry about the desk itself (key `desk:...`), which feeds no cache row.
    virtual void append_desk_entry(LogEntry& entry) = 0;
};

// The ticket cache (rows rewritten by every append) and the workspace's queries over it (SPEC §14).
class TicketCache {
public:
    virtual ~TicketCache() = default;
    virtual std::optional<Ticket> ticket(std::string_view ref) = 0;
    // Cached rows in ref order (byte order), optionally only those in `state`.
    virtual void for_each_ticket(const std::optional<std::string>& state,
                                 const std::function<void(const Ticket&)>& fn) = 0;
    // A cursor over the cached rows in ref order: each call gives the next, nothing at the end.
    virtual std::function<std::optional<Ticket>()> ticket_cursor() = 0;
    virtual std::vector<std::string> refs_in_state(std::string_view state) = 0;
    // The cached tickets, other than `ref`, whose phone is `phone` or whose requester email is
    // `email` (ASCII case-insensitively): R9's related tickets, partner-rejected ones first, then
    // the most recently updated; at most `limit`, and the total.
    struct Related {
        std::string ref, state, match;  // match: "phone" or "email"
    };
    virtual std::pair<std::vector<Related>, std::int64_t> related(std::string_view ref,
                                                                  std::string_view phone,
                                                                  std::string_view email,
                                                                  std::size_t limit) = 0;
    // Counts over tickets opened at or after `since` (all when empty).
    virtual DeskStats stats(const std::optional<std::string>& since) = 0;

    // Up to query.limit tickets matching `query` in its order, after query.after; and whether more
    // follow. Each search and order is served by an index of the cache.
    virtual std::pair<std::vector<Ticket>, bool> find_tickets(const TicketQuery& query) = 0;
    // How many tickets match `query` (its after and limit ignored).
    virtual std::int64_t count_tickets(const TicketQuery& query) = 0;
    // The queue's numbers for agent `me` at time `now` (UTC): per state from counts kept with the
    // cache rows, the others from indexes.
    virtual WorkspaceCounts workspace_counts(std::string_view me, std::string_view now) = 0;
};

// The account cache and the seals.
class AccountsAndSeals {
public:
    virtual ~AccountsAndSeals() = default;
    // Whether the log holds any account change (asked of the log, not of the account rows).
    virtual bool has_accounts() = 0;
    virtual std::optional<Account> account(std::string_view name) = 0;
    // The account whose token hashes to `token_hash` (one indexed lookup).
    virtual std::optional<Account> account_by_token(std::string_view token_hash) = 0;
    // Cached account rows by name.
    virtual void for_each_account(const std::function<void(const Account&)>& fn) = 0;
    // The token hash an account row holds (it is never in the log), or nothing.
    virtual std::optional<std::string> account_token_hash(std::string_view name) = 0;

    virtual std::optional<Seal> last_seal() = 0;
    // Every seal in seq order, each with the hash the log holds at the seal's seq (nothing when
    // the log has no such entry).
    virtual void for_each_seal(
        const std::function<void(const Seal&, const std::optional<std::string>& log_hash)>& fn) = 0;
};

// Verbatim copies (migrate): what another store holds, written as it is.
class CopyTarget {
public:
    virtual ~CopyTarget() = default;
    // Appends `entry` exactly as another store holds it: its seq, prev_hash and hash are kept, not
    // assigned. Refuses with Error(integrity), naming the seq, an entry that does not follow the
    // head (seq is not head + 1, prev_hash is not the head's hash) or whose hash is not
    // entry_hash(entry). Writes no cache row and does not count as an append for the sealer (the
    // copied seals come with put_seal). Must run inside a write transaction.
    virtual void append_verbatim(const LogEntry& entry) = 0;
    // Writes a cache row as given (migrate rebuilds them by replaying the copied entries).
    virtual void put_ticket(const Ticket& ticket) = 0;
    virtual void put_account(const Account& account,
                             const std::optional<std::string>& token_hash) = 0;
    // Stores a seal as it is (it signs a seq and hash, which a verbatim copy keeps).
    virtual void put_seal(const Seal& seal) = 0;
};

// The access log (SPEC §12), kept beside the log, never in it (engine/access_log.hpp).
class AccessLogStore {
public:
    virtual ~AccessLogStore() = default;
    // Appends `records` in one short write transaction of its own, committed before it returns:
    // no entry, no seal, the head does not move and the sealer is not called. Refused
    // (Error(unexpected)) on a read-only store and inside a write transaction. A desk whose schema
    // predates the access log is migrated first.
    virtual void append_access(const std::vector<AccessRecord>& records) = 0;
    // The records `query` selects, in time order (then in the order they were appended). A desk
    // whose schema predates the access log has none.
    virtual void for_each_access(const AccessQuery& query,
                                 const std::function<void(const AccessRecord&)>& fn) = 0;
};

// The helpdesk connector (SPEC §17): intake deliveries applied and the outbox.
class ConnectorOutbox {
public:
    virtual ~ConnectorOutbox() = default;
    // Intake deliveries already applied, by (source, delivery id). intake_seen reads inside the
    // caller's write transaction; record_intake writes inside it, with the entries the delivery
    // caused, so a delivery is applied once.
    virtual bool intake_seen(std::string_view source, std::string_view delivery_id) = 0;
    virtual void record_intake(std::string_view source, std::string_view delivery_id,
                               std::string_view at) = 0;
    // Inside a write transaction: `ref` (not yet opened) belongs to `source`'s outbox. From then
    // on every appended entry of the ticket whose state differs from the ticket's state before it
    // queues a pending delivery, in the same transaction (append() does it).
    virtual void link_outbox(std::string_view ref, std::string_view source) = 0;
    // The deliveries not yet sent (or only the dead letters), in id order. None on a desk whose
    // schema predates the outbox.
    virtual std::vector<OutboxDelivery> outbox(bool dead_only) = 0;
    // In a short write transaction of its own: takes up to `limit` deliveries due at `now` - of
    // each ticket only its oldest pending one, so a ticket's deliveries go out in order - that no
    // other sender holds, and holds them until `lease_until`. Several servers on one PostgreSQL
    // desk never take the same delivery at once.
    virtual std::vector<OutboxDelivery> claim_outbox(std::string_view now,
                                                     std::string_view lease_until,
                                                     std::size_t limit) = 0;
    // In a short write transaction of its own: the outcome of a claimed delivery. status "sent",
    // "dead", or "pending" again (due at next_at); attempts + 1, the lease released.
    virtual void settle_outbox(std::int64_t id, std::string_view status, std::string_view next_at,
                               std::string_view error) = 0;
    // In a short write transaction of its own: a dead letter back to pending, due at `now`, with
    // its attempts reset. false when no dead letter has that id.
    virtual bool retry_outbox(std::int64_t id, std::string_view now) = 0;
};

// A whole store: every role, where it lives, and its snapshot. Journal (journal.hpp): entries(ref),
// exists(ref) - answered by the log, never by a cache - and append(entry, ticket), which also
// rewrites the ticket's cache row.
class Store : public Journal,
              public LogReader,
              public LogWriter,
              public TicketCache,
              public AccountsAndSeals,
              public CopyTarget,
              public AccessLogStore,
              public ConnectorOutbox {
public:
    enum class Mode { read_only, read_write };

    // Where the store lives, as the user named it (passwords masked).
    virtual std::string location() const = 0;

    // A read-only store reads one snapshot for its life. A server keeps its readers between
    // requests instead of connecting for each: end_snapshot() ends the snapshot and holds none
    // while the store waits (false: this store cannot start another, being read-write or a
    // private or immutable copy); start_snapshot() starts a fresh one (false: the schema changed
    // meanwhile; throws when the connection is lost). Either way a false means: open a new store.
    virtual bool end_snapshot() { return false; }
    virtual bool start_snapshot() { return false; }
};

// Runs `fn` in one write transaction on `store` and commits it when `fn` returns normally.
template <class Fn>
auto in_transaction(LogWriter& store, Fn&& fn) {
    auto tx = store.begin_write();
    if constexpr (std::is_void_v<decltype(fn())>) {
        fn();
        tx->commit();
    } else {
        auto result = fn();
        tx->commit();
        return result;
    }
}

}  // namespace tfadesk::engine
