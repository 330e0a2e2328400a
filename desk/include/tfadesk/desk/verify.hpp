// The auditor's check (SPEC §6-§8), returning a report instead of printing. In one pass over the
// log ordered by ticket it recomputes every hash and link of the chain (on a second thread),
// checks every entry's time, replays each ticket's and each account's entries from scratch
// (re-judging every event) and compares the result with the cached row, read by a merge join in
// the same order. Memory holds one ticket's entries and a bounded queue of entries to hash.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tfadesk/desk/note.hpp"
#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

struct ExpectedHead {
    std::int64_t seq = 0;
    std::string hash;  // lowercase hex
};
// "SEQ:HASH" with a decimal SEQ >= 1 and 64 hex digits in either case; Error(invalid_input).
ExpectedHead parse_expected_head(const std::string& text);

struct VerifyOptions {
    std::optional<std::string> ref;  // judge only this ticket (the chain is always checked whole)
    std::vector<ExpectedHead> expect_heads;
    // Seals (SPEC §8, §12): when set, every seal made while this key or a key the log rotated to
    // after it was in force is checked with that key, every rotation from then on must be sealed
    // by the key it retires, and every entry must be covered by a valid seal.
    std::optional<VerifierKey> verifier_key;
    // Kept checkpoints: (seq, hash) each must still be in the log; `what` names the note. With a
    // `note`, its signature is checked too, by the key in force at its seq (needs verifier_key).
    struct Kept {
        std::int64_t seq;
        std::string hash;
        std::string what;
        std::string note;
    };
    std::vector<Kept> checkpoints;
};

struct VerifyReport {
    std::int64_t tickets = 0, accounts = 0, entries = 0;
    engine::Head head;
    std::vector<std::string> problems;
    // Ranges adopted by `seal --adopt` (SPEC §12), one line each: named, not problems.
    std::vector<std::string> adopted;
    // Key rotations (SPEC §12), one line each: "seq N by AGENT (AT): FROM -> TO".
    std::vector<std::string> rotations;
    // SPEC §13: decisions with a valid signature by their agent, and without, per agent.
    struct SignatureCounts {
        std::int64_t signed_decisions = 0, unsigned_decisions = 0;
    };
    std::map<std::string, SignatureCounts> signatures;
    bool ok() const { return problems.empty(); }
};

// Error(not_found) when `ref` is given and has no entries. `on_problem` sees each problem as
// it is found (the report holds them all too).
VerifyReport verify(engine::Store& store, const VerifyOptions& options,
                    const std::function<void(const std::string&)>& on_problem = {});

}  // namespace tfadesk::desk
