// The details fast path (engine/json_text.hpp): what parse_flat_object takes it reads exactly as
// nlohmann does, and everything else it leaves to nlohmann.
#include "tfadesk/engine/json_text.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {
using tfadesk::engine::flat_members;
using tfadesk::engine::FlatMember;
using tfadesk::engine::parse_flat_object;

// parse_flat_object(text) and nlohmann's reading of it agree member by member.
void check_same_as_nlohmann(const std::string& text) {
    CAPTURE(text);
    const auto flat = parse_flat_object(text);
    REQUIRE(flat.has_value());
    const auto j = nlohmann::json::parse(text);
    const auto reference = flat_members(j);
    REQUIRE(flat->size() == reference.size());
    for (std::size_t i = 0; i < flat->size(); ++i) {
        CHECK((*flat)[i].key == reference[i].key);
        CHECK((*flat)[i].kind == reference[i].kind);
        CHECK((*flat)[i].text == reference[i].text);
        CHECK((*flat)[i].integer == reference[i].integer);
    }
}
}  // namespace

TEST_CASE("parse_flat_object reads canonical details as nlohmann does") {
    check_same_as_nlohmann("{}");
    check_same_as_nlohmann(R"({"check":"lost_access"})");
    check_same_as_nlohmann(R"({"now":"2026-03-01T10:00:00Z","sla_hours":48})");
    check_same_as_nlohmann(R"({"a":-17,"b":0,"c":123456789012345678})");
    check_same_as_nlohmann(R"({"note":"line one\nline two\r\n\"quoted\" back\\slash \/ \t\b\f"})");
    check_same_as_nlohmann(
        "{\"note\":\"Z\xC3\xBCrich \xE2\x82\xAC \xF0\x9F\x98\x80\"}");  // 2-, 3- and 4-byte UTF-8
    check_same_as_nlohmann(R"({"client_id":"acme","phone":"+4915112345678","ref":"HD-1"})");

    const auto flat = parse_flat_object(R"({"reference":"WAM-1","sla_hours":72})");
    REQUIRE(flat.has_value());
    REQUIRE(flat->size() == 2);
    CHECK((*flat)[0].key == "reference");
    CHECK((*flat)[0].kind == FlatMember::Kind::text);
    CHECK((*flat)[0].text == "WAM-1");
    CHECK((*flat)[1].kind == FlatMember::Kind::integer);
    CHECK((*flat)[1].integer == 72);
}

TEST_CASE("parse_flat_object leaves everything else to nlohmann") {
    for (const char* text : {
             "",
             "{",
             "}",
             "[]",
             "\"x\"",
             "17",
             "null",
             "{} ",
             " {}",
             "{}{}",
             "{\"a\":1}x",
             "{ \"a\":1}",
             "{\"a\" :1}",
             "{\"a\":1 }",
             "{\"a\":1,}",
             "{,}",
             "{\"a\"}",
             "{\"a\":}",
             "{\"b\":1,\"a\":2}",  // keys out of byte order
             "{\"a\":1,\"a\":2}",  // a key twice
             "{\"a\":true}",
             "{\"a\":null}",
             "{\"a\":1.5}",
             "{\"a\":1e3}",
             "{\"a\":[1]}",
             "{\"a\":{}}",
             "{\"a\":-0}",
             "{\"a\":01}",
             "{\"a\":-}",
             "{\"a\":+1}",
             "{\"a\":1234567890123456789}",  // 19 digits: nlohmann's integer kinds decide
             "{\"a\":-98765432109876543210987654321}",  // far past int64 (no overflow on the way)
             "{\"a\":\"\\u0041\"}",                     // \u escapes
             "{\"a\\u0041\":\"x\"}",
             "{\"a\\n\":\"x\"}",  // escapes in a key
             "{\"a\":\"\\x\"}",
             "{\"a\":\"x\\\"}",
             "{\"a\":\"x}",
             "{\"a\":\"tab\there\"}",  // a raw control character
             "{\"a\":\"\xC3\"}",
             "{\"a\":\"\xED\xA0\x80\"}",
             "{\"\xFF\":\"x\"}",  // not UTF-8
         }) {
        CAPTURE(text);
        CHECK_FALSE(parse_flat_object(text).has_value());
    }
}

TEST_CASE("append_json_string writes what nlohmann's dump writes") {
    // Every character that needs escaping, and some that do not, at every offset of runs longer
    // than a word, so that the word-at-a-time skipping meets them in every position.
    const std::string specials[] = {
        "\"",   "\\",   "\n", "\r", "\t",       std::string(1, '\0'), "\x01",
        "\x1f", "\x7f", " ",  "/",  "\xC3\xBC", "\xE2\x82\xAC",       "\xF0\x9F\x98\x80"};
    for (const auto& special : specials) {
        for (std::size_t before = 0; before < 20; ++before) {
            for (std::size_t after : {0, 1, 7, 8, 9, 17}) {
                const std::string s =
                    std::string(before, 'a') + special + std::string(after, 'z') + special;
                std::string out = "x";
                tfadesk::engine::append_json_string(out, s);
                CAPTURE(before);
                CAPTURE(after);
                CHECK(out == "x" + nlohmann::json(s).dump());
            }
        }
    }
    std::string empty;
    tfadesk::engine::append_json_string(empty, "");
    CHECK(empty == "\"\"");
}
