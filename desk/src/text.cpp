#include "tfadesk/desk/text.hpp"

#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/fields.hpp"

namespace tfadesk::desk {

namespace {

// Length of the UTF-8 white space or zero-width character at the start of `s`, or 0.
std::size_t space_at(std::string_view s) {
    if (s.empty()) return 0;
    const auto c = static_cast<unsigned char>(s[0]);
    if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
    auto is = [&](std::string_view seq) { return s.substr(0, seq.size()) == seq; };
    if (is("\xC2\xA0") || is("\xC2\x85")) return 2;
    if (s.size() >= 3 && c == 0xE2 && static_cast<unsigned char>(s[1]) == 0x80) {
        const auto d = static_cast<unsigned char>(s[2]);
        if (d <= 0x8D || d == 0xA8 || d == 0xA9 || d == 0xAF) return 3;
    }
    if (is("\xE2\x81\x9F") || is("\xE2\x81\xA0") || is("\xE3\x80\x80") || is("\xEF\xBB\xBF") || is("\xE1\x9A\x80"))
        return 3;
    return 0;
}

}  // namespace

std::string printable(std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (c < 0x20 || c == 0x7F) {
            out += "\\x";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        } else if (c >= 0x80) {
            // Keep valid UTF-8 sequences, but escape C1 controls and the bidi overrides.
            std::size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 0;
            const std::string_view seq = n && i + n <= s.size() ? s.substr(i, n) : std::string_view{};
            const bool valid = !seq.empty() && !rules::check_utf8(seq);
            const bool c1 = valid && n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) < 0xA0;
            const bool bidi = valid && n == 3 && c == 0xE2 &&
                              ((static_cast<unsigned char>(s[i + 1]) == 0x80 && static_cast<unsigned char>(s[i + 2]) >= 0xA8 &&
                                static_cast<unsigned char>(s[i + 2]) <= 0xAE) ||
                               (static_cast<unsigned char>(s[i + 1]) == 0x81 && static_cast<unsigned char>(s[i + 2]) >= 0xA6 &&
                                static_cast<unsigned char>(s[i + 2]) <= 0xA9));
            if (valid && !c1 && !bidi) {
                out += seq;
                i += n - 1;
            } else {
                for (std::size_t k = 0; k < (valid ? n : 1); ++k) {
                    const auto b = static_cast<unsigned char>(s[i + k]);
                    out += "\\x";
                    out += kHex[b >> 4];
                    out += kHex[b & 0xF];
                }
                i += (valid ? n : 1) - 1;
            }
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

std::string mask_phone(const std::string& phone) {
    if (phone.size() <= 6) return std::string(phone.size(), '*');
    return phone.substr(0, 3) + std::string(phone.size() - 5, '*') + phone.substr(phone.size() - 2);
}

std::string mask_email(const std::string& email) {
    const auto at = email.find('@');
    if (at == std::string::npos || at == 0) return "***";
    return email.substr(0, 1) + "***" + email.substr(at);
}

std::string mask_personal_data(std::string_view message) {
    std::string out;
    std::size_t i = 0;
    auto is_digitish = [](char c) { return (c >= '0' && c <= '9') || c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'; };
    auto is_local = [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
               c == '-' || c == '+' || c == '%';
    };
    while (i < message.size()) {
        const char c = message[i];
        // A phone: '+' or a digit starting a run of at least 7 digits (with separators).
        if (c == '+' || (c >= '0' && c <= '9')) {
            std::size_t j = i + (c == '+' ? 1 : 0), digits = 0;
            while (j < message.size() && is_digitish(message[j])) {
                if (message[j] >= '0' && message[j] <= '9') ++digits;
                ++j;
            }
            if (digits >= 7) {
                while (j > i && !(message[j - 1] >= '0' && message[j - 1] <= '9')) --j;
                std::string run;
                for (std::size_t k = i; k < j; ++k)
                    if (message[k] == '+' || (message[k] >= '0' && message[k] <= '9')) run += message[k];
                out += mask_phone(run);
                i = j;
                continue;
            }
        }
        if (c == '@' && !out.empty()) {
            std::size_t start = out.size();
            while (start > 0 && is_local(out[start - 1])) --start;
            std::size_t j = i + 1;
            while (j < message.size() && (is_local(message[j]))) ++j;
            if (start < out.size() && j > i + 1) {
                out = out.substr(0, start) + mask_email(out.substr(start) + std::string(message.substr(i, j - i)));
                i = j;
                continue;
            }
        }
        out += c;
        ++i;
    }
    return out;
}

std::string_view trim_space(std::string_view s) {
    while (std::size_t n = space_at(s)) s.remove_prefix(n);
    for (bool more = true; more && !s.empty();) {
        more = false;
        for (std::size_t n = 1; n <= 3 && n <= s.size(); ++n)
            if (space_at(s.substr(s.size() - n)) == n) {
                s.remove_suffix(n);
                more = true;
                break;
            }
    }
    return s;
}

bool is_blank(std::string_view s) { return trim_space(s).empty(); }

std::optional<std::string> blank_to_nullopt(const std::optional<std::string>& value, std::string_view flag, bool multiline) {
    if (!value || is_blank(*value)) return std::nullopt;
    if (auto bad = rules::check_utf8(*value))
        throw engine::Error(engine::ErrorKind::invalid_input, std::string(flag) + ": " + *bad);
    for (std::size_t i = 0; i < value->size(); ++i) {
        const auto c = static_cast<unsigned char>((*value)[i]);
        const bool line_break = c == '\n' || (c == '\r' && i + 1 < value->size() && (*value)[i + 1] == '\n');
        if ((c < 0x20 || c == 0x7F) && !(multiline && line_break))
            throw engine::Error(engine::ErrorKind::invalid_input,
                                std::string(flag) + ": control characters are not allowed (" + printable(value->substr(i, 1)) + ")");
    }
    return value;
}

}  // namespace tfadesk::desk
