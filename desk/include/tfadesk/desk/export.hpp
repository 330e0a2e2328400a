// The whole log with its hashes, for auditors' own tools (SPEC §4 `export`). `details` is the
// exact stored text (a JSON string), since the hash covers those bytes; docs/formats.md gives
// the canonical form.
#pragma once

#include <functional>
#include <ostream>
#include <string_view>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

// `format` is "jsonl" or "csv"; Error(invalid_input) otherwise. `seen`, when given, is handed
// every entry once it is written (the server records the refs an export returned, SPEC §12).
void export_log(engine::LogReader& store, std::string_view format, std::ostream& out,
                const std::function<void(const engine::LogEntry&)>& seen = {});

}  // namespace tfadesk::desk
