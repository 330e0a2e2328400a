// Sealing writes (SPEC §8): a store given a desk key stores, in each write transaction, a signed
// checkpoint of its new head.
#pragma once

#include <optional>
#include <string>

#include "tfadesk/desk/note.hpp"
#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

// Loads the secret key at `key_path` (Error(invalid_input) naming it) and makes `store` seal
// every write transaction with it.
void seal_with_key(engine::Store& store, const std::string& key_path);

// For a store written without the key: once the desk holds a seal, every write transaction that
// appends is refused (Error(forbidden), naming the missing key) and rolled back, so a forgotten
// key never leaves unsealed entries behind (SPEC §12, "a sealed desk stays sealed").
void refuse_unsealed_writes(engine::Store& store);

// What is wrong with a stored seal under `key` (a bad or foreign signature, a note that does not
// name the seal's seq and hash), or nothing.
std::optional<std::string> seal_problem(const VerifierKey& key, const engine::Seal& seal);

}  // namespace tfadesk::desk
