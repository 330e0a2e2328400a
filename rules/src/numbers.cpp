// Strict numbers of the command line; see numbers.hpp.
#include "tfadesk/rules/numbers.hpp"

#include <limits>

namespace tfadesk::rules {

std::optional<std::int64_t> parse_count(std::string_view text) {
    if (text.empty()) return std::nullopt;
    constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
    std::int64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return std::nullopt;
        const int digit = c - '0';
        if (value > (kMax - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

bool operator==(const LogHead& a, const LogHead& b) { return a.seq == b.seq && a.hash == b.hash; }

std::variant<LogHead, FieldError> parse_expect_head(std::string_view text) {
    auto bad = [](const std::string& why) {
        return FieldError{
            "expect_head",
            "must be SEQ:HASH, a decimal entry number from 1 and 64 hex digits (" + why + ")"};
    };
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) return bad("no ':'");
    const auto seq = parse_count(text.substr(0, colon));
    if (!seq) return bad("SEQ is not a decimal number up to 9223372036854775807");
    if (*seq < 1) return bad("SEQ is 0");
    const std::string_view hex = text.substr(colon + 1);
    if (hex.size() != 64) return bad("HASH has " + std::to_string(hex.size()) + " characters");
    LogHead head{*seq, std::string()};
    head.hash.reserve(64);
    for (char c : hex) {
        if (c >= 'A' && c <= 'F') c = static_cast<char>(c - 'A' + 'a');
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad("HASH is not hex");
        head.hash += c;
    }
    return head;
}

}  // namespace tfadesk::rules
