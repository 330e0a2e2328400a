// The SQLite store: the only code that speaks SQLite. A tfadesk database holds
//   events   - the append-only, SHA-256 hash-chained log (SPEC §6) of tickets and accounts;
//              triggers refuse UPDATE and DELETE;
//   tickets  - a cache of the log: one row per ticket, rewritten after each append;
//   accounts - a cache of the account changes in the log, plus each account's token hash;
//   seals    - signed checkpoints of the head, one per sealed write transaction (append-only);
//   access_log, access_log_refs - the access log (SPEC §12): reads of personal data, beside the
//              log and not in it, appended in short transactions of their own (append-only);
//   intake_deliveries, outbox_links, outbox - the helpdesk connector (SPEC §17, schema 6):
//              delivery ids applied, tickets opened by a connector with an outbox, and the
//              deliveries queued for it (written in the transaction of the entry that caused
//              them; sent, retried and dead-lettered in short transactions of their own).
// Writers use one BEGIN IMMEDIATE transaction per command, WAL, a busy timeout (concurrent
// agents wait instead of failing) and synchronous=FULL. Readers open the file read-only, in one
// snapshot, and never create it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/chain.hpp"
#include "tfadesk/engine/store.hpp"

namespace tfadesk::storage {

inline constexpr int kSchemaVersion = 7;
using engine::canonical;
using engine::DeskStats;
using engine::entry_hash;
using engine::Head;
using engine::kGenesisHash;
using engine::sha256_hex;

// The SQLite library version this build runs on.
std::string sqlite_version();

class Database final : public engine::Store {
public:
    using Mode = engine::Store::Mode;

    // Opens `path`. read_only: a missing file is Error(unexpected) naming the path; the file is
    // never created or written. read_write: creates the file and schema on first use, migrates
    // an older schema. Either refuses a file that is not a tfadesk database.
    Database(const std::string& path, Mode mode);
    ~Database() override;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // One write transaction (BEGIN IMMEDIATE). Rolls back in the destructor unless committed.
    class WriteTransaction final : public engine::Store::Transaction {
    public:
        explicit WriteTransaction(Database& db);
        ~WriteTransaction() override;
        WriteTransaction(const WriteTransaction&) = delete;
        WriteTransaction& operator=(const WriteTransaction&) = delete;
        void commit() override;

    private:
        Database& db_;
        bool done_ = false;
    };
    std::unique_ptr<Transaction> begin_write() override;
    void set_sealer(Sealer sealer) override;

    // the log
    std::vector<engine::LogEntry> entries(std::string_view ref) override;
    bool exists(std::string_view ref) override;
    void append(engine::LogEntry& entry, const engine::Ticket& after) override;
    bool append_open(engine::LogEntry& entry, const engine::Ticket& after) override;
    void append_desk_entry(engine::LogEntry& entry) override;
    void append_account(engine::LogEntry& entry, const engine::Account& after,
                        const std::optional<std::string>& token_hash) override;
    void for_each_entry(const std::function<void(const engine::LogEntry&)>& fn) override;
    void for_each_entry_by_ticket(
        const std::function<void(engine::LogEntry&&, const std::optional<engine::PrevEntry>& prev)>&
            fn) override;
    std::optional<engine::LogEntry> entry_at(std::int64_t seq) override;
    std::vector<engine::LogEntry> account_entries() override;
    Head head() override;
    std::int64_t entry_count();

    // the ticket cache
    std::optional<engine::Ticket> ticket(std::string_view ref) override;
    void for_each_ticket(const std::optional<std::string>& state,
                         const std::function<void(const engine::Ticket&)>& fn) override;
    std::function<std::optional<engine::Ticket>()> ticket_cursor() override;
    std::vector<std::string> refs_in_state(std::string_view state) override;
    std::pair<std::vector<Related>, std::int64_t> related(std::string_view ref,
                                                          std::string_view phone,
                                                          std::string_view email,
                                                          std::size_t limit) override;
    DeskStats stats(const std::optional<std::string>& since) override;
    // SPEC §14 (cache.cpp)
    std::pair<std::vector<engine::Ticket>, bool> find_tickets(
        const engine::TicketQuery& query) override;
    std::int64_t count_tickets(const engine::TicketQuery& query) override;
    engine::WorkspaceCounts workspace_counts(std::string_view me, std::string_view now) override;

    // the account cache
    bool has_accounts() override;
    std::optional<engine::Account> account(std::string_view name) override;
    std::optional<engine::Account> account_by_token(std::string_view token_hash) override;
    void for_each_account(const std::function<void(const engine::Account&)>& fn) override;

    // seals
    std::optional<engine::Seal> last_seal() override;
    void for_each_seal(
        const std::function<void(const engine::Seal&, const std::optional<std::string>& log_hash)>&
            fn) override;

    // verbatim copies (migrate)
    void append_verbatim(const engine::LogEntry& entry) override;
    void put_ticket(const engine::Ticket& ticket) override;
    void put_account(const engine::Account& account,
                     const std::optional<std::string>& token_hash) override;
    void put_seal(const engine::Seal& seal) override;
    std::optional<std::string> account_token_hash(std::string_view name) override;

    std::string location() const override { return path_; }
    bool end_snapshot() override;
    bool start_snapshot() override;

    // the access log
    void append_access(const std::vector<engine::AccessRecord>& records) override;
    void for_each_access(const engine::AccessQuery& query,
                         const std::function<void(const engine::AccessRecord&)>& fn) override;
    std::string path() const { return path_; }

    // the helpdesk connector (SPEC §17; storage/src/sqlite/outbox.cpp)
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
    std::string path_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tfadesk::storage
