// Sealing writes (SPEC §8): a store given a desk key stores, in each write transaction, a signed
// checkpoint of its new head.
#pragma once

#include <string>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

// Loads the secret key at `key_path` (Error(invalid_input) naming it) and makes `store` seal
// every write transaction with it.
void seal_with_key(engine::Store& store, const std::string& key_path);

}  // namespace tfadesk::desk
