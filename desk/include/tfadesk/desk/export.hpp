// The whole log with its hashes, for auditors' own tools (SPEC §4 `export`). `details` is the
// exact stored text (a JSON string), since the hash covers those bytes; docs/formats.md gives
// the canonical form.
#pragma once

#include <ostream>
#include <string_view>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

// `format` is "jsonl" or "csv"; Error(invalid_input) otherwise.
void export_log(engine::Store& store, std::string_view format, std::ostream& out);

}  // namespace tfadesk::desk
