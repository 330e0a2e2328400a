// Byte-level text checks shared by the CSV and JSON Lines readers: UTF-8 well-formedness and
// turning arbitrary bytes into something safe to quote in a one-line message.
//
// Invariant: printable() always returns valid UTF-8 without control characters, so a message
// built from it stays one line whatever the input held.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tfadesk::ingest::detail {

enum class TextFault { none, nul, invalid_utf8 };

// The first problem in `s`: a byte sequence that is not well-formed UTF-8 (Unicode Table 3-7:
// no overlongs, no surrogates, nothing above U+10FFFF, no truncated sequences), or a NUL byte.
TextFault scan_text(std::string_view s) noexcept;

// `s` for quoting in a message: control characters and bytes of ill-formed UTF-8 escaped as
// \xNN (\n, \r, \t as such), cut after about `max_bytes` bytes with "..." appended.
std::string printable(std::string_view s, std::size_t max_bytes = 80);

}  // namespace tfadesk::ingest::detail
