// Copying a desk from one store to another (SPEC §10 `migrate`), e.g. SQLite -> PostgreSQL.
//
// The copy is verbatim: every entry keeps its seq, prev_hash and hash, so the destination's chain
// and head are the source's and the seals (which sign a seq and a hash) stay valid. It is also a
// re-verification: each entry's link and hash are recomputed as it is appended, and every ticket
// and account is replayed from its copied entries to rebuild its cache row. All of it is ONE
// write transaction on the destination: on any refusal the destination is left as it was (empty).
// Memory stays flat: entries are streamed in seq order, then in (ref, tseq) order, one ticket's
// entries at a time.
#pragma once

#include <cstdint>
#include <functional>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

struct MigrateCounts {
    std::int64_t entries = 0, tickets = 0, accounts = 0, seals = 0;
    engine::Head head;  // the destination's head afterwards (the source's)
};

// Copies `from` (best opened read-only: one snapshot) into `to`, which must be empty: no entries,
// ticket rows, account rows or seals, else Error(conflict) and nothing is written. Error(integrity)
// naming the entry on the first entry that does not link to the one before it or whose hash does
// not match, and on a ticket or account whose entries do not replay. Ticket or account rows of
// the source without entries are not copied (the cache is rebuilt from the log). Account token
// hashes (never in the log) are carried over from the source's rows. `on_entry` sees the count of
// entries copied so far (progress).
MigrateCounts migrate(engine::Store& from, engine::Store& to,
                      const std::function<void(std::int64_t)>& on_entry = {});

}  // namespace tfadesk::desk
