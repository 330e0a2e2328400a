// Sealing writes (SPEC §8): a store given a desk key stores, in each write transaction, a signed
// checkpoint of its new head.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
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

// Error(forbidden) when a rotation at or before `up_to_seq` put another key than `key` in force.
void refuse_retired_key(engine::Store& store, const VerifierKey& key,
                        std::int64_t up_to_seq = INT64_MAX);

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

// ---- key rotation (SPEC §12) ---------------------------------------------------------------

// `key-rotate` entries live under this key (details {"by_token","from","to"}: the verifier keys
// of the key retired and of the key in force from then on; state "rotated").
inline constexpr std::string_view kKeysKey = "desk:keys";

struct KeyRotation {
    std::int64_t seq = 0;  // the rotation entry's seq: its own seal is made by `from`
    VerifierKey from, to;
};

// The rotation an entry records, or nothing when it is not a well-formed `key-rotate` entry.
std::optional<KeyRotation> parse_rotation(const engine::LogEntry& entry);

// Every rotation in the log, in seq order (malformed ones are verify's to report).
std::vector<KeyRotation> key_rotations(engine::Store& store);

// `tfadesk key rotate` (SPEC §12): an admin appends a `key-rotate` entry naming the new key's
// verifier key, sealed by the old key in the same transaction; every seal after it must be made
// with the new key (seal_with_key refuses a retired key, exit 7). Refused (exit 3) when the old key
// is not the key in force, or the new key is the old one or one the desk used before.
engine::LogEntry rotate_key(engine::Store& store, const Actor& by, const std::string& old_key_path,
                            const std::string& new_key_path);

// The keys whose seals `verify --verifier-key start` can check: `start` and every key the log
// rotated to after it, each with the rotations it is in force between. `from_rotation` is the
// index in `rotations` of the first rotation made while `start` was in force (0 when `start` is
// not a key the rotations name: it is taken for the desk's first key).
struct KeyChain {
    std::size_t from_rotation = 0;
    // The key in force for a seal at `seal_seq` (the rotation entry itself is sealed by the key
    // it retires), or nothing when that seal was made before `start` was in force.
    std::optional<VerifierKey> key_at(std::int64_t seal_seq) const;
    VerifierKey start;
    std::vector<KeyRotation> rotations;
};
KeyChain key_chain(const VerifierKey& start, std::vector<KeyRotation> rotations);

// What is wrong with a stored seal under `key` (a bad or foreign signature, a note that does not
// name the seal's seq and hash), or nothing.
std::optional<std::string> seal_problem(const VerifierKey& key, const engine::Seal& seal);

}  // namespace tfadesk::desk
