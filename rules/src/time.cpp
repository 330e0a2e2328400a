#include "tfadesk/rules/time.hpp"

#include <cstdio>

namespace tfadesk::rules {
namespace {

// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, std::int64_t& y, unsigned& m, unsigned& d) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    d = doy - (153 * mp + 2) / 5 + 1;
    m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
}

bool is_leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Reads exactly `n` digits at `pos`; false when any is not a digit.
bool digits(std::string_view s, std::size_t pos, std::size_t n, unsigned& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + static_cast<unsigned>(s[i] - '0');
    }
    return true;
}

}  // namespace

std::optional<std::int64_t> parse_utc(std::string_view s) {
    unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
    if (!digits(s, 0, 4, y) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mo) ||
        s[7] != '-' || !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != ' ') ||
        !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi) || s[16] != ':' ||
        !digits(s, 17, 2, se))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || se > 59)
        return std::nullopt;
    std::size_t pos = 19;
    std::int64_t ms = 0;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        std::size_t n = 0;
        std::int64_t scale = 100;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
            if (n < 3) ms += (s[pos] - '0') * scale;
            scale /= 10;
            ++pos;
            ++n;
        }
        if (n == 0 || n > 9) return std::nullopt;
    }
    const std::string_view zone = s.substr(pos);
    if (zone != "Z" && zone != "+00:00") return std::nullopt;
    const std::int64_t days = days_from_civil(y, mo, d);
    return ((days * 24 + h) * 60 + mi) * 60000 + static_cast<std::int64_t>(se) * 1000 + ms;
}

std::string format_utc_ms(std::int64_t ms) {
    std::int64_t days = ms >= 0 ? ms / 86400000 : (ms - 86399999) / 86400000;
    const std::int64_t rem = ms - days * 86400000;
    std::int64_t y = 0;
    unsigned m = 0, d = 0;
    civil_from_days(days, y, m, d);
    if (y < 0 || y > 9999) {  // outside what parse_utc reads back: spelled out, never hot
        char buf[64];
        std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld.%03lldZ",
                      static_cast<long long>(y), m, d, static_cast<long long>(rem / 3600000),
                      static_cast<long long>(rem / 60000 % 60),
                      static_cast<long long>(rem / 1000 % 60), static_cast<long long>(rem % 1000));
        return buf;
    }
    // Written digit by digit: this runs for every entry that is written or verified, and
    // snprintf cost more than hashing the entry (callgrind, bench/README.md).
    std::string out = "0000-00-00T00:00:00.000Z";
    auto put = [&out](std::size_t end, std::int64_t value, int width) {
        for (int k = 1; k <= width; ++k, value /= 10)
            out[end - static_cast<std::size_t>(k)] = static_cast<char>('0' + value % 10);
    };
    put(4, y, 4);
    put(7, m, 2);
    put(10, d, 2);
    put(13, rem / 3600000, 2);
    put(16, rem / 60000 % 60, 2);
    put(19, rem / 1000 % 60, 2);
    put(23, rem % 1000, 3);
    return out;
}

std::string format_utc(std::int64_t ms) {
    std::string s = format_utc_ms(ms);
    if (ms % 1000 == 0) s.replace(19, 4, "");
    return s;
}

}  // namespace tfadesk::rules
