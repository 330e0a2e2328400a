// Strict numbers (SPEC §4 "Flags are checked strictly"): --expect-version, --sla-hours and the
// SEQ:HASH of --expect-head. Cases typed in from the spec.
#include "tfadesk/rules/numbers.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <variant>
#include <vector>

namespace {

using tfadesk::rules::FieldError;
using tfadesk::rules::LogHead;
using tfadesk::rules::parse_count;
using tfadesk::rules::parse_expect_head;

const std::string kHash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

}  // namespace

TEST_CASE("parse_count: decimal digits and nothing else") {
    CHECK(parse_count("0") == std::optional<std::int64_t>(0));
    CHECK(parse_count("1") == std::optional<std::int64_t>(1));
    CHECK(parse_count("72") == std::optional<std::int64_t>(72));
    CHECK(parse_count("007") == std::optional<std::int64_t>(7));
    SUBCASE("negative, signed, spaced, fractional or not a number: nothing") {
        for (const char* bad : {"", "-1", "+1", " 1", "1 ", "\t1", "1\n", "1.0", "1,000", "0x10",
                                "1e3", "abc", "12abc", "--1", "\xef\xbc\x91" /* fullwidth 1 */}) {
            CAPTURE(bad);
            CHECK_FALSE(parse_count(bad).has_value());
        }
    }
    SUBCASE("too large for its type: nothing, never a wrapped value") {
        CHECK(parse_count("9223372036854775807") ==
              std::optional<std::int64_t>(std::numeric_limits<std::int64_t>::max()));
        CHECK_FALSE(parse_count("9223372036854775808").has_value());
        CHECK_FALSE(parse_count("18446744073709551616").has_value());
        CHECK_FALSE(parse_count("99999999999999999999999999").has_value());
    }
}

TEST_CASE("parse_expect_head: a decimal SEQ from 1 and 64 hex digits in either case") {
    SUBCASE("accepted, the hash lower-cased") {
        auto r = parse_expect_head("42:" + kHash);
        REQUIRE(std::holds_alternative<LogHead>(r));
        CHECK(std::get<LogHead>(r) == LogHead{42, kHash});
        std::string upper = kHash;
        for (char& c : upper)
            if (c >= 'a' && c <= 'f') c = static_cast<char>(c - 'a' + 'A');
        auto u = parse_expect_head("1:" + upper);
        REQUIRE(std::holds_alternative<LogHead>(u));
        CHECK(std::get<LogHead>(u) == LogHead{1, kHash});
    }
    SUBCASE("anything else is refused, naming the rule") {
        const std::vector<std::string> bad = {
            "",
            kHash,
            "42",
            "42:",
            ":" + kHash,
            "0:" + kHash,
            "-1:" + kHash,
            "+1:" + kHash,
            " 1:" + kHash,
            "1 :" + kHash,
            "1: " + kHash,
            "1:" + kHash + " ",
            "1:" + kHash + "\n",
            "1:" + kHash.substr(1),
            "1:" + kHash + "0",
            "1:" + kHash.substr(1) + "g",
            "1:" + kHash.substr(0, 32) + ":" + kHash.substr(33),
            "9223372036854775808:" + kHash,
            "1.5:" + kHash,
        };
        for (const std::string& text : bad) {
            CAPTURE(text);
            auto r = parse_expect_head(text);
            REQUIRE(std::holds_alternative<FieldError>(r));
            const FieldError& e = std::get<FieldError>(r);
            CHECK(e.field == "expect_head");
            CHECK(e.reason.rfind(
                      "must be SEQ:HASH, a decimal entry number from 1 and 64 hex digits (", 0) ==
                  0);
            CHECK(e.reason.find('\n') == std::string::npos);
        }
    }
    SUBCASE("the reason says what is wrong") {
        auto reason = [](const std::string& text) {
            return std::get<FieldError>(parse_expect_head(text)).reason;
        };
        CHECK(reason("0:" + kHash).find("(SEQ is 0)") != std::string::npos);
        CHECK(reason("1:" + kHash.substr(1)).find("(HASH has 63 characters)") != std::string::npos);
        CHECK(reason("1:" + kHash.substr(1) + "z").find("(HASH is not hex)") != std::string::npos);
        CHECK(reason(kHash).find("(no ':')") != std::string::npos);
    }
}
