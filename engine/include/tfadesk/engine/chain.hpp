// The hash chain of SPEC §6, in one place for every store and for verify.
//
// Hash of an entry: lowercase hex SHA-256 of  prev_hash_hex || canonical, where canonical is
//   [seq,"ref",tseq,"event","agent","at","state",policy_version,DETAILS]
// with strings JSON-encoded (UTF-8, no spaces) and DETAILS the stored details text verbatim.
// The first entry's prev_hash is 64 zeros. docs/formats.md documents it for auditors' own tools;
// it must stay byte for byte the same, or existing desks stop verifying.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "tfadesk/engine/journal.hpp"

namespace tfadesk::engine {

inline const std::string kGenesisHash(64, '0');

// The canonical content of an entry (the bytes that are hashed after prev_hash).
std::string canonical(const LogEntry& e);
// The entry's hash from its prev_hash and canonical content.
std::string entry_hash(const LogEntry& e);
// Checks that `e` may follow the head (head_seq, head_hash) verbatim, as a copy keeps it: seq is
// head_seq + 1, prev_hash is head_hash (the genesis hash at seq 1) and hash is entry_hash(e).
// Throws Error(integrity) naming the entry and what is wrong otherwise.
void check_follows(std::int64_t head_seq, const std::string& head_hash, const LogEntry& e);
// Lowercase hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// Raw SHA-256 of `data` into `out` (32 bytes).
void sha256(std::string_view data, unsigned char out[32]);
// Lowercase hex of `n` bytes.
std::string to_hex(const unsigned char* bytes, std::size_t n);

}  // namespace tfadesk::engine
