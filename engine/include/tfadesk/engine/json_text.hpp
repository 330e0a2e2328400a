// JSON text without a DOM, for the hot paths (import, hashing, replay in verify).
//
// append_json_string writes canonical JSON: byte for byte what nlohmann::json::dump() gives for
// the same value: keys in byte order, no spaces, UTF-8 kept as is, and only '"', '\\' and control
// characters escaped (\b \f \n \r \t, others as \u00xx). Callers pass valid UTF-8.
//
// parse_flat_object reads back the one shape the log's details have: a flat object of strings
// and integers, in that canonical form. It is a fast path only: anything else comes back empty
// and the caller parses with nlohmann, whose values and errors stay the reference.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tfadesk::engine {

// Appends `s` as a JSON string literal.
void append_json_string(std::string& out, std::string_view s);

// One member of a JSON object, as the details readers need it.
struct FlatMember {
    enum class Kind { text, integer, other };  // other: null, bool, float, array, object
    std::string_view key;
    Kind kind = Kind::other;
    std::string text;          // Kind::text
    std::int64_t integer = 0;  // Kind::integer
};
using FlatObject = std::vector<FlatMember>;

// The members of `json` when it is a compact object (no white space) whose keys are distinct, in
// byte order and free of escapes, and whose values are strings (valid UTF-8, any escape but
// \u) or integers of at most 18 digits: exactly the values nlohmann::json::parse gives for it.
// Nothing for any other text, valid JSON or not. Keys point into `json`.
std::optional<FlatObject> parse_flat_object(std::string_view json);

// The members of an object parsed by nlohmann (keys point into `j`); values other than strings
// and integers come as Kind::other. `j` must be an object.
FlatObject flat_members(const nlohmann::json& j);

}  // namespace tfadesk::engine
