// UTF-8 validation and message-safe quoting; see text.hpp.
#include "text.hpp"

#include <cstdint>
#include <cstring>

namespace tfadesk::ingest::detail {
namespace {

// Length of the well-formed UTF-8 sequence starting at p (1-4), or 0 when it is ill-formed.
// A NUL byte counts as a well-formed sequence of length 1.
std::size_t sequence_length(const unsigned char* p, const unsigned char* end) noexcept {
    const unsigned c = *p;
    if (c < 0x80) return 1;
    std::size_t more = 0;
    unsigned lo = 0x80;
    unsigned hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        more = 1;
    } else if (c == 0xE0) {
        more = 2;
        lo = 0xA0;  // overlong below U+0800
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
        more = 2;
    } else if (c == 0xED) {
        more = 2;
        hi = 0x9F;  // U+D800..U+DFFF are surrogates
    } else if (c == 0xF0) {
        more = 3;
        lo = 0x90;  // overlong below U+10000
    } else if (c >= 0xF1 && c <= 0xF3) {
        more = 3;
    } else if (c == 0xF4) {
        more = 3;
        hi = 0x8F;  // above U+10FFFF
    } else {
        return 0;  // continuation byte, C0/C1 (overlong), F5..FF
    }
    if (static_cast<std::size_t>(end - p) <= more) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (std::size_t k = 2; k <= more; ++k) {
        if ((p[k] & 0xC0) != 0x80) return 0;
    }
    return more + 1;
}

// True when none of the 8 bytes of w has its high bit set and none is zero.
bool plain_ascii_word(std::uint64_t w) noexcept {
    constexpr std::uint64_t lows = 0x0101010101010101ULL;
    constexpr std::uint64_t highs = 0x8080808080808080ULL;
    const bool has_zero = ((w - lows) & ~w & highs) != 0;
    return (w & highs) == 0 && !has_zero;
}

void append_escaped(std::string& out, unsigned char c) {
    switch (c) {
        case '\n':
            out += "\\n";
            return;
        case '\r':
            out += "\\r";
            return;
        case '\t':
            out += "\\t";
            return;
        default:
            break;
    }
    constexpr char digits[] = "0123456789ABCDEF";
    out += "\\x";
    out += digits[c >> 4];
    out += digits[c & 0x0F];
}

}  // namespace

TextFault scan_text(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* const end = p + s.size();
    while (p != end) {
        while (end - p >= 8) {
            std::uint64_t w = 0;
            std::memcpy(&w, p, sizeof w);
            if (!plain_ascii_word(w)) break;
            p += 8;
        }
        if (p == end) break;
        if (*p == 0) return TextFault::nul;
        const std::size_t n = sequence_length(p, end);
        if (n == 0) return TextFault::invalid_utf8;
        p += n;
    }
    return TextFault::none;
}

std::string printable(std::string_view s, std::size_t max_bytes) {
    std::string out;
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const auto* const end = p + s.size();
    while (p != end) {
        if (out.size() >= max_bytes) {
            out += "...";
            break;
        }
        const std::size_t n = sequence_length(p, end);
        if (n == 0 || *p < 0x20 || *p == 0x7F) {
            append_escaped(out, *p);
            ++p;
        } else {
            out.append(reinterpret_cast<const char*>(p), n);
            p += n;
        }
    }
    return out;
}

}  // namespace tfadesk::ingest::detail
