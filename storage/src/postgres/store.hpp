// Private to storage/: the PostgreSQL store (SPEC §10). A tfadesk desk on PostgreSQL holds, in
// the connection's current schema:
//   tfadesk_meta - one row: the application id ("TFAD") and the schema version;
//   events       - the append-only, hash-chained log; triggers refuse UPDATE, DELETE, TRUNCATE;
//   head         - one row, the log's head (seq, hash): every write transaction locks it FOR
//                  UPDATE first, so appends from any number of processes and machines are
//                  serialised, seq has no gaps and the chain stays linear;
//   tickets, accounts - caches of the log, as on SQLite (accounts.token_hash UNIQUE);
//   seals        - signed checkpoints of the head, append-only like events;
//   access_log, access_log_refs - the access log (SPEC §12), beside the log and not in it:
//                  appended in short transactions of their own, without the head lock
//                  (append-only like events);
//   intake_deliveries, outbox_links, outbox - the helpdesk connector (SPEC §17, schema 4), as
//                  on SQLite; several servers take outbox rows with FOR UPDATE SKIP LOCKED and a
//                  lease, so each delivery is sent by one of them at a time.
// Every text column is COLLATE "C", so ORDER BY ref is byte order, as on SQLite (verify merge-
// joins the log and the ticket rows on it). Writers: one READ COMMITTED transaction per unit of
// work, starting with the head lock; the entries and cache rows it appends are sent in batches.
// Readers: one READ ONLY REPEATABLE READ transaction for the store's life (one snapshot); they
// need nothing but SELECT. Scans stream through server-side cursors.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::storage {

// `uri` with any password (in the user info or a password= parameter) replaced by ***.
std::string mask_uri(const std::string& uri);
// The strings that must never appear in a message about `uri`: its passwords, as written and
// percent-decoded.
std::vector<std::string> uri_secrets(const std::string& uri);
// Whether the database at `uri` holds a tfadesk schema (read-only; creates nothing).
bool pg_desk_exists(const std::string& uri);
// A PgStore behind the interface (what open_store calls for a postgresql:// location).
std::unique_ptr<engine::Store> open_pg_store(const std::string& uri, engine::Store::Mode mode);

class PgStore final : public engine::Store {
public:
    // Connects to `uri`. read_only: one READ ONLY snapshot; a database without the schema is
    // Error(unexpected) and nothing is created. read_write: the schema is created by the first
    // write transaction, inside it (a first write that fails leaves nothing), under an advisory
    // lock (processes may race to create it); until then the store reads as an empty desk.
    // Either refuses a database whose current schema holds other tables but no tfadesk desk, or
    // a newer schema. Connection failures are Error(unexpected) on one line, password masked.
    PgStore(const std::string& uri, Mode mode);
    ~PgStore() override;
    PgStore(const PgStore&) = delete;
    PgStore& operator=(const PgStore&) = delete;

    std::unique_ptr<Transaction> begin_write() override;
    void set_sealer(Sealer sealer) override;

    std::vector<engine::LogEntry> entries(std::string_view ref) override;
    bool exists(std::string_view ref) override;
    void append(engine::LogEntry& entry, const engine::Ticket& after) override;
    void append_desk_entry(engine::LogEntry& entry) override;
    void append_account(engine::LogEntry& entry, const engine::Account& after,
                        const std::optional<std::string>& token_hash) override;
    void for_each_entry(const std::function<void(const engine::LogEntry&)>& fn) override;
    void for_each_entry_by_ticket(
        const std::function<void(engine::LogEntry&&, const std::optional<engine::PrevEntry>& prev)>&
            fn) override;
    std::optional<engine::LogEntry> entry_at(std::int64_t seq) override;
    std::vector<engine::LogEntry> account_entries() override;
    engine::Head head() override;

    std::optional<engine::Ticket> ticket(std::string_view ref) override;
    void for_each_ticket(const std::optional<std::string>& state,
                         const std::function<void(const engine::Ticket&)>& fn) override;
    std::function<std::optional<engine::Ticket>()> ticket_cursor() override;
    std::vector<std::string> refs_in_state(std::string_view state) override;
    std::pair<std::vector<Related>, std::int64_t> related(std::string_view ref,
                                                          std::string_view phone,
                                                          std::string_view email,
                                                          std::size_t limit) override;
    engine::DeskStats stats(const std::optional<std::string>& since) override;
    // SPEC §14
    std::pair<std::vector<engine::Ticket>, bool> find_tickets(
        const engine::TicketQuery& query) override;
    std::int64_t count_tickets(const engine::TicketQuery& query) override;
    engine::WorkspaceCounts workspace_counts(std::string_view me, std::string_view now) override;

    bool has_accounts() override;
    std::optional<engine::Account> account(std::string_view name) override;
    std::optional<engine::Account> account_by_token(std::string_view token_hash) override;
    void for_each_account(const std::function<void(const engine::Account&)>& fn) override;

    std::optional<engine::Seal> last_seal() override;
    void for_each_seal(
        const std::function<void(const engine::Seal&, const std::optional<std::string>& log_hash)>&
            fn) override;

    void append_verbatim(const engine::LogEntry& entry) override;
    void put_ticket(const engine::Ticket& ticket) override;
    void put_account(const engine::Account& account,
                     const std::optional<std::string>& token_hash) override;
    void put_seal(const engine::Seal& seal) override;
    std::optional<std::string> account_token_hash(std::string_view name) override;

    std::string location() const override;
    bool end_snapshot() override;
    bool start_snapshot() override;

    void append_access(const std::vector<engine::AccessRecord>& records) override;
    void for_each_access(const engine::AccessQuery& query,
                         const std::function<void(const engine::AccessRecord&)>& fn) override;

    // the helpdesk connector (SPEC §17)
    bool intake_seen(std::string_view source, std::string_view delivery_id) override;
    void record_intake(std::string_view source, std::string_view delivery_id,
                       std::string_view at) override;
    void link_outbox(std::string_view ref, std::string_view source) override;
    std::vector<engine::OutboxDelivery> outbox(bool dead_only) override;
    std::vector<engine::OutboxDelivery> claim_outbox(std::string_view now,
                                                     std::string_view lease_until,
                                                     std::size_t limit) override;
    void settle_outbox(std::int64_t id, std::string_view status, std::string_view next_at,
                       std::string_view error) override;
    bool retry_outbox(std::int64_t id, std::string_view now) override;

    struct Impl;

private:
    std::unique_ptr<Impl> impl_;
};

}  // namespace tfadesk::storage
