// Text that comes from people and files (SPEC §2 "Text fields", §4 "Text from files and from the
// log that reaches a terminal"): what counts as empty, what may be stored, and how to show any
// bytes on a terminal safely. Pure functions over plain values.
//
// One vocabulary for all of them:
// - white space: Unicode White_Space (ASCII space, TAB, LF, VT, FF, CR, U+0085, U+00A0, U+1680,
//   U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) and the invisible U+180E,
//   U+200B-U+200D, U+2060, U+FEFF;
// - control characters: C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F), U+2028, U+2029, and the
//   bidirectional controls U+202A-U+202E and U+2066-U+2069.
// Invariant: check_text() refuses exactly what escape_control() would have to escape (apart from
// line breaks, when allowed), so accepted text prints as it is.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tfadesk::rules {

// True when `text` is empty or holds only white space (see above). Bytes that are not UTF-8 are
// not white space: such text is not blank, and check_text() then says why it is refused.
bool is_blank(std::string_view text);

// `text` without the white space before and after it. Never fails; inner text is untouched.
std::string_view trim_blank(std::string_view text);

// Nothing when `text` may be stored as a text field or an event's flag; otherwise the reason,
// one line that names the rule and the offending character by code point (never the raw byte):
//   "is not valid UTF-8"
//   "must not contain control characters (found U+001B at character 4)"
//   "must not contain control characters other than line breaks (found U+0009 at character 4)"
// With `allow_newlines` (notes), LF and CRLF are allowed; a lone CR is not. Blank text is not
// refused here: callers test is_blank() first, since blank means "not given" (SPEC §2).
std::optional<std::string> check_text(std::string_view text, bool allow_newlines);

// `text` made safe to print on a terminal, one line: every control character (see above) is
// shown escaped, as \n, \r and \t for those three, \xNN for the other C0 controls and DEL
// (\x1b, \x7f), \uNNNN for C1 and the Unicode ones (\u0085, \u2028, \u202e); every byte that is
// not part of well-formed UTF-8 as \xNN (\xff). Everything else, backslashes included, is
// unchanged. The result is valid UTF-8 and holds no control character.
std::string escape_control(std::string_view text);

}  // namespace tfadesk::rules
