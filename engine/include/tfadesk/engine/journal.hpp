// What the engine needs from storage, declared here so the engine never includes SQLiteCpp.
// A Journal is the append-only, hash-chained log of SPEC §6 plus the ticket cache it feeds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/ticket.hpp"

namespace tfadesk::engine {

// One log entry. `details` is canonical JSON text (keys sorted, no spaces), stored and hashed
// byte for byte as it is here.
struct LogEntry {
    std::int64_t seq = 0;  // global, 1-based, assigned by the journal
    std::string ref;
    std::int64_t tseq = 0;  // per ticket, 1 for `open`
    std::string event;
    std::string details;
    std::string agent;
    std::string at;     // UTC, milliseconds
    std::string state;  // the ticket's state after this entry
    int policy_version = 0;
    std::string prev_hash;  // hex; 64 zeros for the first entry
    std::string hash;       // hex SHA-256 (engine/chain.hpp; docs/formats.md)
};

// Entries about the desk itself rather than a ticket or an account live under the key
// `desk:WHAT` (a ':' never appears in a ticket ref). `desk:adopt` holds `seal-adopt` entries
// (SPEC §12): an admin's adoption of entries written after the last seal by an older version.
inline constexpr std::string_view kDeskPrefix = "desk:";
inline constexpr std::string_view kAdoptKey = "desk:adopt";
inline bool is_desk_key(std::string_view ref) {
    return ref.substr(0, kDeskPrefix.size()) == kDeskPrefix;
}

class Journal {
public:
    virtual ~Journal() = default;
    // The entries of one ticket in per-ticket order; empty when there is no such ticket.
    virtual std::vector<LogEntry> entries(std::string_view ref) = 0;
    // Whether a ticket with this ref exists.
    virtual bool exists(std::string_view ref) = 0;
    // Appends `entry` (assigning seq, prev_hash and hash) and rewrites the ticket's cache row
    // from `after`. Must run inside the caller's write transaction.
    virtual void append(LogEntry& entry, const Ticket& after) = 0;
    // Appends a ticket's `open` entry as append() does, unless the ticket exists already: then
    // nothing is written and the answer is false. A store may do both in one statement (SQLite:
    // the (ref, tseq) key refuses the second `open`), which saves an import a lookup a row.
    virtual bool append_open(LogEntry& entry, const Ticket& after) {
        if (exists(entry.ref)) return false;
        append(entry, after);
        return true;
    }
};

}  // namespace tfadesk::engine
