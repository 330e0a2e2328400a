#include "tfadesk/engine/json_text.hpp"

#include <cstring>
#include <utility>

#include "tfadesk/rules/fields.hpp"

namespace tfadesk::engine {

namespace {

// JSON's two-character escapes, both ways: the character, and the letter after the backslash.
constexpr std::pair<char, char> kEscapes[] = {{'"', '"'},  {'\\', '\\'}, {'\b', 'b'}, {'\f', 'f'},
                                              {'\n', 'n'}, {'\r', 'r'},  {'\t', 't'}};

char escape_letter(char c) {
    for (const auto& [plain, letter] : kEscapes)
        if (plain == c) return letter;
    return 0;
}

// The character an escape letter stands for; 0 for none ('\0' has no two-character escape).
char escaped_char(char letter) {
    for (const auto& [plain, l] : kEscapes)
        if (l == letter) return plain;
    return 0;
}

// True when none of the 8 bytes at `p` needs escaping (a control character, '"' or '\\'):
// the usual bit tricks, so that long clean runs (notes, addresses) are skipped a word at a time.
bool clean_word(const char* p) {
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    auto has_zero = [&](std::uint64_t v) { return (v - ones) & ~v & highs; };
    const std::uint64_t below_space = (w - ones * 0x20) & ~w & highs;
    return (below_space | has_zero(w ^ (ones * '"')) | has_zero(w ^ (ones * '\\'))) == 0;
}

}  // namespace

void append_json_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t clean = 0;  // start of the run not yet copied
    for (std::size_t i = 0; i < s.size(); ++i) {
        while (i + 8 <= s.size() && clean_word(s.data() + i)) i += 8;
        if (i == s.size()) break;
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        out.append(s.data() + clean, i - clean);
        clean = i + 1;
        out += '\\';
        if (const char letter = escape_letter(static_cast<char>(c))) {
            out += letter;
        } else {
            out += "u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xF];
        }
    }
    out.append(s.data() + clean, s.size() - clean);
    out += '"';
}

namespace {

// Reads the string literal starting at json[pos] == '"' into `out`; false when it is not one the
// fast path takes (a \u escape, a raw control character, invalid UTF-8, no closing quote).
bool read_string(std::string_view json, std::size_t& pos, std::string& out) {
    ++pos;
    std::size_t clean = pos;
    for (; pos < json.size(); ++pos) {
        const auto c = static_cast<unsigned char>(json[pos]);
        if (c == '"') {
            out.append(json.data() + clean, pos - clean);
            ++pos;
            return !rules::check_utf8(out).has_value();
        }
        if (c < 0x20) return false;
        if (c != '\\') continue;
        out.append(json.data() + clean, pos - clean);
        if (++pos == json.size()) return false;
        if (json[pos] == '/') {
            out += '/';
        } else if (const char plain = escaped_char(json[pos])) {
            out += plain;
        } else {
            return false;  // \u (and anything invalid): nlohmann decides
        }
        clean = pos + 1;
    }
    return false;
}

// A key: a string literal without escapes; its bytes are checked as UTF-8 like any string.
bool read_key(std::string_view json, std::size_t& pos, std::string_view& key) {
    const std::size_t start = ++pos;
    for (; pos < json.size(); ++pos) {
        const auto c = static_cast<unsigned char>(json[pos]);
        if (c == '"') break;
        if (c < 0x20 || c == '\\') return false;
    }
    if (pos == json.size()) return false;
    key = json.substr(start, pos - start);
    ++pos;
    return !rules::check_utf8(key).has_value();
}

// An integer as JSON writes it (-?(0|[1-9][0-9]*)), at most 18 digits, not "-0".
bool read_integer(std::string_view json, std::size_t& pos, std::int64_t& out) {
    const bool negative = json[pos] == '-';
    if (negative) ++pos;
    const std::size_t start = pos;
    std::int64_t value = 0;
    while (pos < json.size() && json[pos] >= '0' && json[pos] <= '9') {
        if (pos - start == 18) return false;  // a 19th digit: nlohmann's integer kinds decide
        value = value * 10 + (json[pos++] - '0');
    }
    const std::size_t digits = pos - start;
    if (digits == 0 || (json[start] == '0' && (digits > 1 || negative))) return false;
    if (pos < json.size() && (json[pos] == '.' || json[pos] == 'e' || json[pos] == 'E'))
        return false;
    out = negative ? -value : value;
    return true;
}

}  // namespace

std::optional<FlatObject> parse_flat_object(std::string_view json) {
    if (json.size() < 2 || json.front() != '{') return std::nullopt;
    FlatObject out;
    std::size_t pos = 1;
    if (json[pos] == '}')
        return pos + 1 == json.size() ? std::optional<FlatObject>(std::move(out)) : std::nullopt;
    out.reserve(12);  // an open entry's details: up to 11 fields
    for (;;) {
        FlatMember m;
        if (pos >= json.size() || json[pos] != '"' || !read_key(json, pos, m.key))
            return std::nullopt;
        if (!out.empty() && !(out.back().key < m.key))
            return std::nullopt;  // not in byte order, or twice
        if (pos >= json.size() || json[pos++] != ':' || pos >= json.size()) return std::nullopt;
        if (json[pos] == '"') {
            m.kind = FlatMember::Kind::text;
            if (!read_string(json, pos, m.text)) return std::nullopt;
        } else {
            m.kind = FlatMember::Kind::integer;
            if (!read_integer(json, pos, m.integer)) return std::nullopt;
        }
        out.push_back(std::move(m));
        if (pos >= json.size()) return std::nullopt;
        if (json[pos] == '}')
            return pos + 1 == json.size() ? std::optional<FlatObject>(std::move(out))
                                          : std::nullopt;
        if (json[pos++] != ',') return std::nullopt;
    }
}

FlatObject flat_members(const nlohmann::json& j) {
    FlatObject out;
    for (auto it = j.begin(); it != j.end(); ++it) {
        FlatMember m;
        m.key = it.key();
        if (it->is_string()) {
            m.kind = FlatMember::Kind::text;
            m.text = it->get<std::string>();
        } else if (it->is_number_integer()) {
            m.kind = FlatMember::Kind::integer;
            m.integer = it->get<std::int64_t>();
        }
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace tfadesk::engine
