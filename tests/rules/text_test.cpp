// The text rules (SPEC §2 "Text fields", §4 "Text ... that reaches a terminal"): what is blank,
// what may be stored, and how any bytes are shown on a terminal. Cases typed in from the spec.
#include "tfadesk/rules/text.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {

using tfadesk::rules::check_text;
using tfadesk::rules::escape_control;
using tfadesk::rules::is_blank;
using tfadesk::rules::trim_blank;

// The white space of SPEC §2 that is not ASCII, as UTF-8.
const std::string kNbsp = "\xc2\xa0";             // U+00A0
const std::string kEnQuad = "\xe2\x80\x80";       // U+2000
const std::string kHairSpace = "\xe2\x80\x8a";    // U+200A
const std::string kZwsp = "\xe2\x80\x8b";         // U+200B
const std::string kIdeographic = "\xe3\x80\x80";  // U+3000
const std::string kBom = "\xef\xbb\xbf";          // U+FEFF
const std::string kRlo = "\xe2\x80\xae";          // U+202E, right-to-left override
const std::string kLineSep = "\xe2\x80\xa8";      // U+2028
const std::string kNel = "\xc2\x85";              // U+0085, a C1 control

// Every byte of `s` is ASCII printable or part of a multi-byte character: no C0, no DEL.
bool no_ascii_controls(const std::string& s) {
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) return false;
    }
    return true;
}

}  // namespace

TEST_CASE("is_blank: only white space, ASCII or Unicode, counts as empty") {
    SUBCASE("blank") {
        for (const std::string& s : std::vector<std::string>{
                 "", " ", "\t", "\n", "\r\n", " \t \v\f ", kNbsp, kEnQuad, kHairSpace, kZwsp,
                 kIdeographic, kBom, " " + kNbsp + "\t" + kZwsp + kIdeographic + kBom + "\n"}) {
            CAPTURE(s);
            CHECK(is_blank(s));
        }
    }
    SUBCASE("not blank") {
        for (const std::string& s :
             std::vector<std::string>{"x", " x ", kZwsp + "x", "\x01", "\xff", " \xa0 ", "\xc2"}) {
            CAPTURE(s);
            CHECK_FALSE(is_blank(s));
        }
    }
}

TEST_CASE("trim_blank drops the white space around a value, never inside it") {
    CHECK(trim_blank("  alice\t") == "alice");
    CHECK(trim_blank(kNbsp + "a b" + kZwsp) == "a b");
    CHECK(trim_blank(kBom + kIdeographic + "x" + kHairSpace + kEnQuad + "\r\n") == "x");
    CHECK(trim_blank("a" + kZwsp + "b") == "a" + kZwsp + "b");
    CHECK(trim_blank(" \t ").empty());
    CHECK(trim_blank("").empty());
    SUBCASE("bytes that are not UTF-8 are not space and stay") {
        CHECK(trim_blank(" \xff ") == "\xff");
        CHECK(trim_blank("x \x80") == "x \x80");
        CHECK(trim_blank("\xa0x") == "\xa0x");  // a lone continuation byte, not U+00A0
    }
}

TEST_CASE("check_text: UTF-8 without control characters; notes may break lines") {
    SUBCASE("plain text, inner spaces, Unicode letters and emoji are fine") {
        for (const std::string& s : std::vector<std::string>{
                 "ACME Corp / #42", "caf\xc3\xa9", "\xf0\x9f\x98\x80", "a" + kNbsp + "b", ""}) {
            CAPTURE(s);
            CHECK_FALSE(check_text(s, false).has_value());
            CHECK_FALSE(check_text(s, true).has_value());
        }
    }
    SUBCASE("control characters are refused, named by code point and position") {
        const auto r = check_text("ab\x1b[2J", false);
        REQUIRE(r.has_value());
        CHECK(*r == "must not contain control characters (found U+001B at character 3)");
        for (const std::string& s : std::vector<std::string>{
                 "a\tb", "a\nb", "a\rb", "a\x7f", std::string("a\0b", 3), "a" + kNel,
                 "a" + kRlo + "b", "a" + kLineSep, "x\xe2\x81\xa6", "\x01"}) {
            CAPTURE(s);
            const auto bad = check_text(s, false);
            REQUIRE(bad.has_value());
            CHECK(bad->find("control characters") != std::string::npos);
            CHECK(no_ascii_controls(*bad));
        }
    }
    SUBCASE("the position counts characters, not bytes") {
        CHECK(check_text("\xc3\xa9\xc3\xa9\t", false) ==
              std::optional<std::string>(
                  "must not contain control characters (found U+0009 at character 3)"));
        CHECK(check_text("x" + kRlo, false) ==
              std::optional<std::string>(
                  "must not contain control characters (found U+202E at character 2)"));
    }
    SUBCASE("with allow_newlines: LF and CRLF pass, a lone CR or a tab does not") {
        CHECK_FALSE(check_text("one\ntwo\r\nthree\n", true).has_value());
        CHECK(check_text("one\rtwo", true) ==
              std::optional<std::string>("must not contain control characters other than line "
                                         "breaks (found U+000D at character 4)"));
        CHECK(check_text("end\r", true).has_value());
        CHECK(check_text("a\tb", true).has_value());
        CHECK(check_text("a" + kLineSep + "b", true).has_value());
        CHECK(check_text("a\x1b", true).has_value());
    }
    SUBCASE("invalid UTF-8 is refused as such") {
        for (const std::string& s : std::vector<std::string>{"\xff", "ok\xc3", "\xc0\xaf",
                                                             "\xed\xa0\x80", "\xf4\x90\x80\x80"}) {
            CAPTURE(s);
            CHECK(check_text(s, true) == std::optional<std::string>("is not valid UTF-8"));
        }
    }
}

TEST_CASE("escape_control: control characters and bad bytes escaped, the rest as it was") {
    SUBCASE("C0 controls and DEL") {
        CHECK(escape_control("a\nb") == "a\\nb");
        CHECK(escape_control("a\r\nb\tc") == "a\\r\\nb\\tc");
        CHECK(escape_control("\x1b[31mred") == "\\x1b[31mred");
        CHECK(escape_control(std::string("a\0b", 3)) == "a\\x00b");
        CHECK(escape_control("\x7f\x01") == "\\x7f\\x01");
    }
    SUBCASE("C1 controls, line separators and bidi controls as \\u") {
        CHECK(escape_control("a" + kNel) == "a\\u0085");
        CHECK(escape_control("\xc2\x9b"
                             "2J") == "\\u009b2J");
        CHECK(escape_control("x" + kLineSep + "y") == "x\\u2028y");
        CHECK(escape_control("x\xe2\x80\xa9") == "x\\u2029");
        CHECK(escape_control("abc" + kRlo + "txt.exe") == "abc\\u202etxt.exe");
        CHECK(escape_control("\xe2\x80\xaa\xe2\x81\xa6\xe2\x81\xa9") == "\\u202a\\u2066\\u2069");
    }
    SUBCASE("bytes that are not UTF-8 as \\x") {
        CHECK(escape_control("\xff") == "\\xff");
        CHECK(escape_control("ok\xc3") == "ok\\xc3");
        CHECK(escape_control("\xc0\xaf") == "\\xc0\\xaf");
        CHECK(escape_control("\xed\xa0\x80") == "\\xed\\xa0\\x80");
    }
    SUBCASE("everything else is unchanged") {
        for (const std::string& s : std::vector<std::string>{
                 "", "plain text", "caf\xc3\xa9 \xf0\x9f\x98\x80", "back\\slash \\n",
                 "a" + kNbsp + "b" + kZwsp + "c", "\xe2\x80\x8e\xe2\x80\x8f"}) {  // LRM, RLM
            CAPTURE(s);
            CHECK(escape_control(s) == s);
        }
    }
    SUBCASE("the result passes check_text: no control characters, valid UTF-8") {
        const std::string nasty = std::string("\x1b]0;pwned\x07\r\n\xff\xc2\x85") + kRlo +
                                  "\xe2\x80\xa8" + std::string("\0", 1);
        const std::string shown = escape_control(nasty);
        CHECK_FALSE(check_text(shown, false).has_value());
        CHECK(no_ascii_controls(shown));
    }
}
