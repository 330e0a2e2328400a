// Strict parsing of the numbers given on a command line (SPEC §4 "Flags are checked strictly": a
// number that is negative, not a number, or too large for its field is invalid input). Unlike
// std::stoll, nothing is skipped or guessed: no sign, no white space, no trailing text, no
// overflow. Pure functions over plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "tfadesk/rules/fields.hpp"

namespace tfadesk::rules {

// `text` as a count: one or more decimal digits (0-9) and nothing else, at most INT64_MAX.
// Nothing for "", "-1", "+1", " 1", "1 ", "1.0", "0x10", "1e3" and anything past INT64_MAX.
// Leading zeros are digits like any other ("007" is 7). Range checks (>= 1, <= a field's
// maximum) are the caller's, who knows the field: --expect-version, --sla-hours, a SEQ.
std::optional<std::int64_t> parse_count(std::string_view text);

// A log head as `verify` prints it and `--expect-head` takes it: entry `seq` of the log, whose
// hash is `hash` (64 lowercase hex digits).
struct LogHead {
    std::int64_t seq = 0;
    std::string hash;
};

bool operator==(const LogHead& a, const LogHead& b);
inline bool operator!=(const LogHead& a, const LogHead& b) { return !(a == b); }

// "SEQ:HASH" (SPEC §4 `verify --expect-head`): SEQ a count (parse_count) of at least 1, one ':',
// HASH exactly 64 hex digits in either case (returned lower-cased). Refuses anything else as a
// FieldError whose field is "expect_head" and whose reason names the rule without echoing the
// input, e.g. "must be SEQ:HASH, a decimal entry number from 1 and 64 hex digits (HASH has 63
// characters)".
std::variant<LogHead, FieldError> parse_expect_head(std::string_view text);

}  // namespace tfadesk::rules
