// Sealing writes (SPEC §8): a store given a desk key stores, in each write transaction, a signed
// checkpoint of its new head.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/note.hpp"
#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

// Loads the secret key at `key_path` (Error(invalid_input) naming it) and makes `store` seal
// every write transaction with it.
// `adopting`: the one transaction that adopts the unsealed entries (adopt_unsealed) may seal over
// them; every other sealed write refuses to.
void seal_with_key(engine::Store& store, const std::string& key_path, bool adopting = false);

// For a store written without the key: once the desk holds a seal, every write transaction that
// appends is refused (Error(forbidden), naming the missing key) and rolled back, so a forgotten
// key never leaves unsealed entries behind (SPEC §12, "a sealed desk stays sealed").
void refuse_unsealed_writes(engine::Store& store);

// `tfadesk seal --adopt` (SPEC §12): a desk that holds entries written after its last seal (by an
// older version) is recovered by an admin, who names them in a `seal-adopt` entry (key
// desk:adopt, details {"by_token","from","note","to"}) that is sealed with the desk key in the
// same transaction. Refused (exit 3) when the desk has no seal or nothing unsealed; Error(invalid)
// for a blank note.
struct Adoption {
    std::vector<engine::LogEntry> entries;  // the adopted ones, in seq order
    engine::LogEntry adopt;                 // the entry that names them
};
Adoption adopt_unsealed(engine::Store& store, const Actor& by, const std::string& note,
                        const std::string& key_path);

// What is wrong with a stored seal under `key` (a bad or foreign signature, a note that does not
// name the seal's seq and hash), or nothing.
std::optional<std::string> seal_problem(const VerifierKey& key, const engine::Seal& seal);

}  // namespace tfadesk::desk
