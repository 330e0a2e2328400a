// UTF-8 decoding and the character classes the text rules share (fields, agent names, terminal
// escaping). Private to rules/: one definition of "white space" and of "control character", so
// that what validation refuses and what escape_control() escapes are the same set.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace tfadesk::rules::utf8 {

// Decodes the code point at `i`; returns its length (1-4) or 0 when the bytes there are not
// well-formed UTF-8 (truncated sequences, overlong forms, surrogates and values past U+10FFFF
// included). `i` must be < s.size().
inline std::size_t decode(std::string_view s, std::size_t i, char32_t& cp) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    if (b < 0x80) {
        cp = b;
        return 1;
    }
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
        cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        cp = b & 0x07;
    } else {
        return 0;
    }
    if (i + n > s.size()) return 0;
    for (std::size_t k = 1; k < n; ++k) {
        const auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

// True when all of `s` is well-formed UTF-8. Runs of ASCII are skipped eight bytes at a time
// (most text is ASCII, and this runs on every field imported or verified).
inline bool is_valid(std::string_view s) {
    char32_t cp = 0;
    for (std::size_t i = 0; i < s.size();) {
        std::uint64_t word = 0;
        if (i + 8 <= s.size() &&
            (std::memcpy(&word, s.data() + i, 8), (word & 0x8080808080808080ULL) == 0)) {
            i += 8;
            continue;
        }
        const std::size_t n = decode(s, i, cp);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

// White space for trimming and for "only white space counts as empty": Unicode White_Space
// (ASCII space, TAB, LF, VT, FF, CR, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029,
// U+202F, U+205F, U+3000) plus the invisible characters that paste along with it: U+180E,
// U+200B-U+200D, U+2060 and U+FEFF (zero-width space, joiners, word joiner, BOM).
inline bool is_space(char32_t cp) {
    switch (cp) {
        case 0x20:
        case 0x09:
        case 0x0A:
        case 0x0B:
        case 0x0C:
        case 0x0D:
        case 0x85:
        case 0xA0:
        case 0x1680:
        case 0x180E:
        case 0x2028:
        case 0x2029:
        case 0x202F:
        case 0x205F:
        case 0x2060:
        case 0x3000:
        case 0xFEFF:
            return true;
        default:
            return cp >= 0x2000 && cp <= 0x200D;
    }
}

// Characters that must not reach a terminal or the log unescaped: C0 controls, DEL, C1 controls
// (U+0080-U+009F), the line and paragraph separators U+2028/U+2029 (they end a line on some
// displays) and the bidirectional embeddings, overrides and isolates U+202A-U+202E and
// U+2066-U+2069 (they reorder what follows, "Trojan Source").
inline bool is_control(char32_t cp) {
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

// A character named for a message without echoing it raw: "U+200B", or "'x' (U+0078)" for
// printable ASCII, so a reason stays one line of plain text whatever the input held.
inline std::string describe(char32_t cp) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string hex;
    for (int shift = cp > 0xFFFF ? 20 : 12; shift >= 0; shift -= 4)
        hex += kHex[(cp >> shift) & 0xF];
    if (cp > 0x20 && cp < 0x7F)
        return std::string("'") + static_cast<char>(cp) + "' (U+" + hex + ")";
    return "U+" + hex;
}

}  // namespace tfadesk::rules::utf8
