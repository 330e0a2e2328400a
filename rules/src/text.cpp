// What counts as empty, what may be stored, and terminal-safe escaping; see text.hpp.
#include "tfadesk/rules/text.hpp"

#include "utf8.hpp"

namespace tfadesk::rules {

namespace {

// Length of the white space character at `i`, or 0 when there is none there.
std::size_t space_at(std::string_view s, std::size_t i) {
    char32_t cp = 0;
    const std::size_t n = utf8::decode(s, i, cp);
    return n != 0 && utf8::is_space(cp) ? n : 0;
}

// The start of the white space character that ends s[0, end), or `end` when there is none.
std::size_t space_before(std::string_view s, std::size_t end) {
    // A character is at most 4 bytes: try each start that would end exactly at `end`.
    for (std::size_t len = 1; len <= 4 && len <= end; ++len) {
        char32_t cp = 0;
        if (utf8::decode(s, end - len, cp) == len) return utf8::is_space(cp) ? end - len : end;
    }
    return end;
}

void append_hex(std::string& out, const char* prefix, unsigned value, int digits) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += prefix;
    for (int shift = 4 * (digits - 1); shift >= 0; shift -= 4) out += kHex[(value >> shift) & 0xF];
}

}  // namespace

bool is_blank(std::string_view text) { return trim_blank(text).empty(); }

std::string_view trim_blank(std::string_view text) {
    std::size_t begin = 0;
    while (begin < text.size()) {
        const std::size_t n = space_at(text, begin);
        if (n == 0) break;
        begin += n;
    }
    std::size_t end = text.size();
    while (end > begin) {
        const std::size_t start = space_before(text, end);
        if (start == end) break;
        end = start;
    }
    return text.substr(begin, end - begin);
}

std::optional<std::string> check_text(std::string_view text, bool allow_newlines) {
    std::size_t chars = 0;
    for (std::size_t i = 0; i < text.size(); ++chars) {
        const auto byte = static_cast<unsigned char>(text[i]);
        if (byte >= 0x20 && byte < 0x7F) {  // printable ASCII: the common case, nothing to decode
            ++i;
            continue;
        }
        char32_t cp = 0;
        const std::size_t n = utf8::decode(text, i, cp);
        if (n == 0) return "is not valid UTF-8";
        const bool line_break =
            cp == '\n' || (cp == '\r' && i + 1 < text.size() && text[i + 1] == '\n');
        if (utf8::is_control(cp) && !(allow_newlines && line_break)) {
            return std::string("must not contain control characters") +
                   (allow_newlines ? " other than line breaks" : "") + " (found " +
                   utf8::describe(cp) + " at character " + std::to_string(chars + 1) + ")";
        }
        i += n;
    }
    return std::nullopt;
}

std::string escape_control(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        char32_t cp = 0;
        const std::size_t n = utf8::decode(text, i, cp);
        if (n == 0) {
            append_hex(out, "\\x", static_cast<unsigned char>(text[i]), 2);
            ++i;
            continue;
        }
        if (!utf8::is_control(cp)) {
            out.append(text.substr(i, n));
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (cp < 0x80) {
            append_hex(out, "\\x", static_cast<unsigned>(cp), 2);
        } else {
            append_hex(out, "\\u", static_cast<unsigned>(cp), 4);
        }
        i += n;
    }
    return out;
}

}  // namespace tfadesk::rules
