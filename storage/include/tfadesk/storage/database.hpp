// The only code that speaks SQL. A tfadesk database holds:
//   events  - the append-only, SHA-256 hash-chained log (SPEC §6); triggers refuse UPDATE/DELETE;
//   tickets - a cache of the log: one row per ticket, rewritten after each append.
// Writers use one BEGIN IMMEDIATE transaction per command (WriteTransaction), WAL, a busy
// timeout (concurrent agents wait instead of failing) and synchronous=FULL. Readers open the
// file read-only and never create it.
//
// Hash of an entry: lowercase hex SHA-256 of  prev_hash_hex || canonical, where canonical is
//   [seq,"ref",tseq,"event","agent","at","state",policy_version,DETAILS]
// with strings JSON-encoded (UTF-8, no spaces) and DETAILS the stored details text verbatim.
// The first entry's prev_hash is 64 zeros.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/journal.hpp"
#include "tfadesk/engine/ticket.hpp"

namespace tfadesk::storage {

inline constexpr int kSchemaVersion = 1;
inline const std::string kGenesisHash(64, '0');

// Canonical content and hash of an entry (see above). Pure; used by append and by verify.
std::string canonical(const engine::LogEntry& e);
std::string entry_hash(const engine::LogEntry& e);
std::string sha256_hex(std::string_view data);
// The SQLite library version this build runs on.
std::string sqlite_version();

// What a support lead looks at every morning (`tfadesk stats`).
struct DeskStats {
    std::vector<std::pair<std::string, std::int64_t>> per_state;  // state -> tickets
    std::vector<std::int64_t> open_to_completed_ms;                 // one per completed ticket
    // state -> (ref, updated_at) of the ticket that has waited longest in it
    std::vector<std::pair<std::string, std::pair<std::string, std::string>>> oldest;
};

struct Head {
    std::int64_t seq = 0;
    std::string hash = kGenesisHash;
};

class Database final : public engine::Journal {
public:
    enum class Mode { read_only, read_write };

    // Opens `path`. read_only: a missing file is Error(unexpected) naming the path; the file is
    // never created or written. read_write: creates the file and schema on first use, migrates
    // an older schema. Either refuses a file that is not a tfadesk database.
    Database(const std::string& path, Mode mode);
    ~Database() override;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    // One write transaction (BEGIN IMMEDIATE). Rolls back in the destructor unless committed.
    class WriteTransaction {
    public:
        explicit WriteTransaction(Database& db);
        ~WriteTransaction();
        WriteTransaction(const WriteTransaction&) = delete;
        WriteTransaction& operator=(const WriteTransaction&) = delete;
        void commit();

    private:
        Database& db_;
        bool done_ = false;
    };

    // engine::Journal
    std::vector<engine::LogEntry> entries(std::string_view ref) override;
    bool exists(std::string_view ref) override;
    void append(engine::LogEntry& entry, const engine::Ticket& after) override;

    // The cached ticket row; nothing when there is no such ticket.
    std::optional<engine::Ticket> ticket(std::string_view ref);
    // Cached ticket rows by ref, optionally only those in `state`.
    void for_each_ticket(const std::optional<std::string>& state,
                         const std::function<void(const engine::Ticket&)>& fn);
    // A cursor over the cached ticket rows in ref order (byte order, as SQLite's BINARY
    // collation sorts): each call gives the next row, nothing at the end.
    std::function<std::optional<engine::Ticket>()> ticket_cursor();
    // Every entry in global order (export).
    void for_each_entry(const std::function<void(const engine::LogEntry&)>& fn);
    // Every entry ordered by (ref, tseq), each with the hash of the entry just before it in global
    // order (nothing when that entry is missing), for verify's single pass.
    void for_each_entry_by_ticket(
        const std::function<void(const engine::LogEntry&, const std::optional<std::string>& prev)>& fn);
    // The entry at global `seq`, if any.
    std::optional<engine::LogEntry> entry_at(std::int64_t seq);
    // Refs of tickets in `state` (from the cache).
    std::vector<std::string> refs_in_state(std::string_view state);
    Head head();
    // Counts over tickets opened at or after `since` (all when empty).
    DeskStats stats(const std::optional<std::string>& since);
    std::int64_t entry_count();
    std::string path() const { return path_; }

    struct Impl;

private:
    std::string path_;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tfadesk::storage
