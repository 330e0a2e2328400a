// The access log (SPEC §12): one record per read of personal data through the server, kept by the
// store beside the hash-chained log - never in it. A record is not an entry: it has no seq and no
// hash, it never moves the head and no seal covers it. Like the log, it is append-only in the
// database itself.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tfadesk::engine {

// How many of the refs a read returned a record keeps (ref_count counts them all).
inline constexpr std::size_t kAccessRefsKept = 100;

struct AccessRecord {
    std::string at;                 // UTC, milliseconds, as the log's times
    std::string account;            // the account that read
    std::string route;              // method and path: "GET /api/v1/tickets/HD-1"
    std::vector<std::string> refs;  // the refs returned, first kAccessRefsKept in order
    std::int64_t ref_count = 0;     // how many refs the answer returned in all
    std::string client;             // the client's address
};

// Which records a reader wants; a member left empty does not filter.
struct AccessQuery {
    std::optional<std::string> ref;      // records that kept this ref
    std::optional<std::string> account;  // records of this account
    std::optional<std::string> since;    // records at or after this time (the log's UTC form)
};

}  // namespace tfadesk::engine
