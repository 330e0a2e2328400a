// Agent names (SPEC §2 "Agent names"): one person, one spelling. Cases typed in from the spec.
#include "tfadesk/rules/agent.hpp"

#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

namespace {

using tfadesk::rules::canonical_agent;
using tfadesk::rules::FieldError;

std::string canonical(const std::string& raw) {
    auto r = canonical_agent(raw);
    if (auto* bad = std::get_if<FieldError>(&r))
        FAIL("refused '" << raw << "': " << bad->message());
    return std::get<std::string>(r);
}

FieldError refused(const std::string& raw) {
    auto r = canonical_agent(raw);
    REQUIRE_MESSAGE(std::holds_alternative<FieldError>(r), "expected a refusal of '" << raw << "'");
    return std::get<FieldError>(r);
}

// No byte below 0x20, no DEL, nothing but ASCII: the reason can be printed as it is.
bool plain_ascii(const std::string& s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7f) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("Alice, ' alice' and 'alice\\t' are the same agent") {
    CHECK(canonical("Alice") == "alice");
    CHECK(canonical(" alice") == "alice");
    CHECK(canonical("alice\t") == "alice");
    CHECK(canonical("ALICE") == "alice");
    CHECK(canonical("alice") == "alice");
}

TEST_CASE("surrounding white space, ASCII or Unicode, is dropped") {
    for (const std::string& raw : std::vector<std::string>{"\n alice \r\n",
                                                           "\xc2\xa0"
                                                           "alice",
                                                           "alice\xe2\x80\x80",
                                                           "\xe2\x80\x8a"
                                                           "alice",
                                                           "\xe3\x80\x80"
                                                           "alice\xe3\x80\x80",
                                                           "\xe2\x80\x8b"
                                                           "alice\xe2\x80\x8b",
                                                           "\xef\xbb\xbf"
                                                           "alice",
                                                           "\v\f alice"}) {
        CAPTURE(raw);
        CHECK(canonical(raw) == "alice");
    }
}

TEST_CASE("what remains is 1-64 characters of a-z 0-9 . _ - @") {
    CHECK(canonical("j.doe_2-x@desk") == "j.doe_2-x@desk");
    CHECK(canonical("Jane.Doe@Example.COM") == "jane.doe@example.com");
    CHECK(canonical(std::string(64, 'a')) == std::string(64, 'a'));
    SUBCASE("65 characters are too many, and the reason says the limit") {
        const FieldError e = refused(std::string(65, 'a'));
        CHECK(e.field == "agent");
        CHECK(e.reason == "must be at most 64 characters of a-z 0-9 . _ - @ (has 65)");
    }
    SUBCASE("white space around does not count towards the 64") {
        CHECK(canonical("  " + std::string(64, 'B') + "\t") == std::string(64, 'b'));
    }
}

TEST_CASE("other characters, control or invisible ones inside, and bad bytes are invalid") {
    struct Case {
        std::string raw;
        std::string reason;
    };
    const std::vector<Case> cases = {
        {"ali\xe2\x80\x8b"
         "ce",
         "may hold only a-z 0-9 . _ - @ (found U+200B at character 4)"},
        {"al ice", "may hold only a-z 0-9 . _ - @ (found U+0020 at character 3)"},
        {"al\xc3\xaf"
         "ce",
         "may hold only a-z 0-9 . _ - @ (found U+00EF at character 3)"},
        {"al\tice", "may hold only a-z 0-9 . _ - @ (found U+0009 at character 3)"},
        {"al\x1b[2Jice", "may hold only a-z 0-9 . _ - @ (found U+001B at character 3)"},
        {"alice\xe2\x80\xae", "may hold only a-z 0-9 . _ - @ (found U+202E at character 6)"},
        {"a+b", "may hold only a-z 0-9 . _ - @ (found '+' (U+002B) at character 2)"},
        {"a\xc2\xa0"
         "b",
         "may hold only a-z 0-9 . _ - @ (found U+00A0 at character 2)"},
        {std::string("al\0ice", 6), "may hold only a-z 0-9 . _ - @ (found U+0000 at character 3)"},
        {"\xff", "is not valid UTF-8"},
        {"alice\xc3", "is not valid UTF-8"},
        {"", "is empty: an agent name is 1-64 characters of a-z 0-9 . _ - @"},
        {" \t\xe2\x80\x8b", "is empty: an agent name is 1-64 characters of a-z 0-9 . _ - @"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.raw);
        const FieldError e = refused(c.raw);
        CHECK(e.field == "agent");
        CHECK(e.reason == c.reason);
        CHECK(plain_ascii(e.reason));
    }
}

TEST_CASE("canonical_agent is idempotent") {
    for (const std::string& raw : std::vector<std::string>{"Alice", " B.O.B@x ", "carol_1-2\t"}) {
        CAPTURE(raw);
        const std::string once = canonical(raw);
        CHECK(canonical(once) == once);
    }
}
