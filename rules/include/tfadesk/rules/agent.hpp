// Agent names (SPEC §2 "Agent names"): `--agent`, $TFADESK_AGENT and the account names of §7 are
// identities, so one person has exactly one spelling. R6 (four eyes) compares canonical names,
// so "Alice", " alice" and "alice" are the same agent. Pure function over plain values.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "tfadesk/rules/fields.hpp"

namespace tfadesk::rules {

// The longest agent name, in characters (all of them ASCII).
inline constexpr std::size_t kMaxAgentLength = 64;

// The canonical spelling of the agent name `raw`: white space around it dropped (ASCII and
// Unicode white space and the zero-width characters, as rules/text.hpp lists them), ASCII
// letters lower-cased, and then it must be 1-64 characters of a-z 0-9 . _ - @.
// Refuses, as a FieldError whose field is "agent" and whose reason is one line naming the rule
// (it never echoes the raw bytes; a character is named by code point):
//   "is not valid UTF-8"
//   "is empty: an agent name is 1-64 characters of a-z 0-9 . _ - @"
//   "must be at most 64 characters of a-z 0-9 . _ - @ (has 65)"
//   "may hold only a-z 0-9 . _ - @ (found U+200B at character 4)"
// Idempotent: the canonical name of a canonical name is itself.
std::variant<std::string, FieldError> canonical_agent(std::string_view raw);

}  // namespace tfadesk::rules
