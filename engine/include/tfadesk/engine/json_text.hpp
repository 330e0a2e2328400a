// Canonical JSON text built without a DOM, for the hot paths (import, hashing). The output is
// byte for byte what nlohmann::json::dump() gives for the same value: keys in byte order, no
// spaces, UTF-8 kept as is, and only '"', '\\' and control characters escaped (\b \f \n \r \t,
// others as \u00xx). Callers pass valid UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace tfadesk::engine {

// Appends `s` as a JSON string literal.
void append_json_string(std::string& out, std::string_view s);

}  // namespace tfadesk::engine
