// UTC timestamps as the log stores them: parsing, formatting, calendar edge cases.
#include "tfadesk/rules/time.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

namespace {
using tfadesk::rules::format_utc;
using tfadesk::rules::format_utc_ms;
using tfadesk::rules::parse_utc;
using Ms = std::optional<std::int64_t>;
}  // namespace

TEST_CASE("parse_utc: known instants") {
    CHECK(parse_utc("1970-01-01T00:00:00Z") == Ms(0));
    CHECK(parse_utc("2000-01-01T00:00:00Z") == Ms(946684800000));
    CHECK(parse_utc("2024-02-29T12:00:00Z") == Ms(1709208000000));
    CHECK(parse_utc("2026-11-20T09:15:00Z") == Ms(1795166100000));
    CHECK(parse_utc("1969-12-31T23:59:59Z") == Ms(-1000));
    CHECK(parse_utc("1900-03-01T00:00:00Z") == Ms(-2203891200000));
    CHECK(parse_utc("9999-12-31T23:59:59Z") == Ms(253402300799000));
}

TEST_CASE("parse_utc: accepted spellings") {
    const Ms expected(1795166100000);
    CHECK(parse_utc("2026-11-20T09:15:00+00:00") == expected);
    CHECK(parse_utc("2026-11-20 09:15:00Z") == expected);
    CHECK(parse_utc("2026-11-20T09:15:00.000Z") == expected);
}

TEST_CASE("parse_utc: milliseconds") {
    const std::int64_t base = 1795166100000;
    CHECK(parse_utc("2026-11-20T09:15:00.5Z") == Ms(base + 500));
    CHECK(parse_utc("2026-11-20T09:15:00.05Z") == Ms(base + 50));
    CHECK(parse_utc("2026-11-20T09:15:00.123Z") == Ms(base + 123));
    CHECK(parse_utc("2026-11-20T09:15:00.999Z") == Ms(base + 999));
    SUBCASE("digits past the millisecond are dropped, up to 9") {
        CHECK(parse_utc("2026-11-20T09:15:00.123999Z") == Ms(base + 123));
        CHECK(parse_utc("2026-11-20T09:15:00.123456789Z") == Ms(base + 123));
        CHECK_FALSE(parse_utc("2026-11-20T09:15:00.1234567890Z").has_value());
    }
    CHECK_FALSE(parse_utc("2026-11-20T09:15:00.Z").has_value());
}

TEST_CASE("parse_utc: leap years") {
    CHECK(parse_utc("2024-02-29T00:00:00Z").has_value());
    CHECK(parse_utc("2000-02-29T00:00:00Z").has_value());        // divisible by 400
    CHECK_FALSE(parse_utc("1900-02-29T00:00:00Z").has_value());  // by 100, not 400
    CHECK_FALSE(parse_utc("2023-02-29T00:00:00Z").has_value());
    CHECK_FALSE(parse_utc("2026-02-30T00:00:00Z").has_value());
    CHECK(*parse_utc("2024-03-01T00:00:00Z") - *parse_utc("2024-02-28T00:00:00Z") ==
          2 * 86400000LL);
    CHECK(*parse_utc("2023-03-01T00:00:00Z") - *parse_utc("2023-02-28T00:00:00Z") ==
          1 * 86400000LL);
}

TEST_CASE("parse_utc: refuses everything else") {
    for (const char* bad : {"",
                            "2026-11-20",
                            "2026-11-20T09:15:00",
                            "2026-11-20T09:15Z",
                            "2026-11-20T09:15:00+01:00",
                            "2026-11-20T09:15:00-00:00",
                            "2026-11-20T09:15:00z",
                            "2026-11-20T09:15:00 Z",
                            "2026-11-20T09:15:00ZZ",
                            "2026-04-31T00:00:00Z",
                            "2026-00-10T00:00:00Z",
                            "2026-13-10T00:00:00Z",
                            "2026-11-00T00:00:00Z",
                            "2026-11-20T24:00:00Z",
                            "2026-11-20T23:60:00Z",
                            "2026-11-20T23:59:60Z",
                            "26-11-20T09:15:00Z",
                            "2026/11/20T09:15:00Z",
                            "2026-11-20X09:15:00Z",
                            "2026-1a-20T09:15:00Z"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_utc(bad).has_value());
    }
}

TEST_CASE("format_utc_ms and format_utc") {
    CHECK(format_utc_ms(0) == "1970-01-01T00:00:00.000Z");
    CHECK(format_utc(0) == "1970-01-01T00:00:00Z");
    CHECK(format_utc(1) == "1970-01-01T00:00:00.001Z");
    CHECK(format_utc_ms(1795166100000) == "2026-11-20T09:15:00.000Z");
    CHECK(format_utc(1795166100000) == "2026-11-20T09:15:00Z");
    CHECK(format_utc(1795166100250) == "2026-11-20T09:15:00.250Z");
    CHECK(format_utc_ms(1709208000000) == "2024-02-29T12:00:00.000Z");
    CHECK(format_utc_ms(-1) == "1969-12-31T23:59:59.999Z");
    CHECK(format_utc(-1000) == "1969-12-31T23:59:59Z");
    CHECK(format_utc_ms(253402300799999) == "9999-12-31T23:59:59.999Z");
}

TEST_CASE("round trips") {
    SUBCASE("ms -> text -> ms") {
        for (std::int64_t ms :
             {std::int64_t{0}, std::int64_t{1}, std::int64_t{-1}, std::int64_t{999},
              std::int64_t{946684799999}, std::int64_t{951782400000},  // 2000-02-29
              std::int64_t{1709208000123}, std::int64_t{1795166100000},
              std::int64_t{-2203891200001}, std::int64_t{253402300799999}}) {
            CAPTURE(ms);
            CHECK(parse_utc(format_utc_ms(ms)) == Ms(ms));
            CHECK(parse_utc(format_utc(ms)) == Ms(ms));
        }
    }
    SUBCASE("canonical text -> ms -> text") {
        for (const char* text :
             {"2026-11-20T09:15:00.000Z", "2024-02-29T23:59:59.999Z", "2000-02-29T00:00:00.001Z",
              "1999-12-31T23:59:59.999Z", "2100-02-28T12:34:56.789Z"}) {
            CAPTURE(text);
            const auto ms = parse_utc(text);
            REQUIRE(ms.has_value());
            CHECK(format_utc_ms(*ms) == text);
        }
    }
    SUBCASE("every day of a leap year and a common year") {
        for (const char* start : {"2024-01-01T00:00:00Z", "2100-01-01T00:00:00Z"}) {
            const std::int64_t t0 = *parse_utc(start);
            const int days = std::string(start).rfind("2024", 0) == 0 ? 366 : 365;
            for (int d = 0; d < days; ++d) {
                const std::int64_t t = t0 + std::int64_t{d} * 86400000 + 43200007;
                REQUIRE(parse_utc(format_utc_ms(t)) == Ms(t));
            }
            // The day after the last is the next year's first of January.
            CHECK(format_utc(t0 + std::int64_t{days} * 86400000).substr(5, 5) == "01-01");
        }
    }
}

TEST_CASE("format_utc_ms agrees with gmtime across the calendar") {
    // The digit-by-digit writer against the C library, every 7,919,999,937 ms (about 92 days
    // and an odd remainder, so hours, minutes, seconds and milliseconds all vary) from 1900 to
    // 2400.
    for (std::int64_t ms = -2208988800000; ms < 13569465600000; ms += 7919999937) {
        const std::int64_t seconds = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
        const std::time_t t = static_cast<std::time_t>(seconds);
        std::tm tm{};
        REQUIRE(gmtime_r(&t, &tm) != nullptr);
        char buf[64];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                      static_cast<int>(ms - seconds * 1000));
        CAPTURE(ms);
        CHECK(format_utc_ms(ms) == buf);
    }
}
