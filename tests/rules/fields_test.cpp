// The §2 field rules (SPEC §2): what validate_fields() accepts, how it normalises, and which
// field it names when it refuses.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include "tfadesk/rules/fields.hpp"

#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

namespace {

using tfadesk::rules::Access;
using tfadesk::rules::FieldError;
using tfadesk::rules::Fields;
using tfadesk::rules::RawFields;
using tfadesk::rules::Role;
using tfadesk::rules::validate_fields;

constexpr const char* kNow = "2026-03-01T10:00:00.000Z";

// A row with every required field valid and no optional one.
RawFields valid_raw() {
    return RawFields{{"ref", "HD-1001"},
                     {"phone", "+491512345678"},
                     {"client_id", "acct-42"},
                     {"requester_email", "owner@example.com"},
                     {"requester_role", "client"}};
}

RawFields with(std::string key, std::string value) {
    RawFields raw = valid_raw();
    raw[std::move(key)] = std::move(value);
    return raw;
}

RawFields without(const std::string& key) {
    RawFields raw = valid_raw();
    raw.erase(key);
    return raw;
}

Fields accepted(const RawFields& raw) {
    auto result = validate_fields(raw, kNow);
    if (auto* bad = std::get_if<FieldError>(&result))
        FAIL("unexpected refusal: " << bad->message());
    return std::get<Fields>(result);
}

FieldError refused(const RawFields& raw) {
    auto result = validate_fields(raw, kNow);
    REQUIRE_MESSAGE(std::holds_alternative<FieldError>(result), "expected a refusal");
    return std::get<FieldError>(result);
}

std::string repeat(const std::string& unit, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) s += unit;
    return s;
}

const std::string kE = "\xc3\xa9";  // 'é', two bytes, one code point

}  // namespace

TEST_CASE("a minimal valid row gets the defaults of §2") {
    const Fields f = accepted(valid_raw());
    CHECK(f.ref == "HD-1001");
    CHECK(f.phone == "+491512345678");
    CHECK(f.client_id == "acct-42");
    CHECK(f.requester_email == "owner@example.com");
    CHECK(f.requester_role == Role::client);
    CHECK(f.portfolio_access == Access::unknown);
    CHECK(f.reason == "other");
    CHECK_FALSE(f.waba_id.has_value());
    CHECK_FALSE(f.portfolio_id.has_value());
    CHECK(f.submitted_at ==
          "2026-03-01T10:00:00Z");  // now, in the canonical form a given value gets
    CHECK_FALSE(f.note.has_value());
}

TEST_CASE("field_names lists the §2 fields in the spec's order") {
    const std::vector<std::string_view> expected = {"ref",
                                                    "phone",
                                                    "client_id",
                                                    "requester_email",
                                                    "requester_role",
                                                    "portfolio_access",
                                                    "reason",
                                                    "waba_id",
                                                    "portfolio_id",
                                                    "submitted_at",
                                                    "note"};
    CHECK(tfadesk::rules::field_names() == expected);
    CHECK(tfadesk::rules::is_field_name("portfolio_access"));
    CHECK_FALSE(tfadesk::rules::is_field_name("state"));
    CHECK_FALSE(tfadesk::rules::is_field_name(""));
}

TEST_CASE("ref: 1-64 characters of A-Z a-z 0-9 . _ -") {
    SUBCASE("every allowed character class") {
        CHECK(accepted(with("ref", "AZaz09._-")).ref == "AZaz09._-");
    }
    SUBCASE("64 characters are accepted, 65 refused") {
        CHECK(accepted(with("ref", std::string(64, 'r'))).ref == std::string(64, 'r'));
        CHECK(refused(with("ref", std::string(65, 'r'))).field == "ref");
    }
    SUBCASE("characters outside the set are refused") {
        for (const std::string& bad : std::vector<std::string>{"HD 1001", "HD/1001", "HD#1", "HD:1",
                                                               "HD+1", "HD" + kE, "HD,1"}) {
            CAPTURE(bad);
            CHECK(refused(with("ref", bad)).field == "ref");
        }
    }
    SUBCASE("missing") {
        const FieldError e = refused(without("ref"));
        CHECK(e.field == "ref");
        CHECK(e.reason.find("required") != std::string::npos);
        CHECK(e.message().rfind("ref: ", 0) == 0);
    }
}

TEST_CASE("phone: separators dropped, then E.164 with 8-15 digits") {
    using tfadesk::rules::normalize_phone;
    SUBCASE("spaces, parentheses, dashes and dots are dropped") {
        CHECK(normalize_phone("+49 (151) 234-56.78") ==
              std::optional<std::string>("+491512345678"));
        CHECK(accepted(with("phone", "+49 (151) 234-56.78")).phone == "+491512345678");
    }
    SUBCASE("8 digits are accepted, 7 refused") {
        CHECK(normalize_phone("+12345678") == std::optional<std::string>("+12345678"));
        CHECK_FALSE(normalize_phone("+1234567").has_value());
        CHECK_FALSE(normalize_phone("+1 234 567").has_value());
        CHECK(refused(with("phone", "+1234567")).field == "phone");
    }
    SUBCASE("15 digits are accepted, 16 refused") {
        CHECK(normalize_phone("+123456789012345") ==
              std::optional<std::string>("+123456789012345"));
        CHECK_FALSE(normalize_phone("+1234567890123456").has_value());
        CHECK(refused(with("phone", "+1234567890123456")).field == "phone");
    }
    SUBCASE("the first digit after + must be 1-9") {
        CHECK_FALSE(normalize_phone("+0491512345678").has_value());
        CHECK(refused(with("phone", "+0491512345678")).field == "phone");
    }
    SUBCASE("the + is required") {
        CHECK_FALSE(normalize_phone("491512345678").has_value());
        CHECK_FALSE(normalize_phone("00491512345678").has_value());
        CHECK(refused(with("phone", "491512345678")).field == "phone");
    }
    SUBCASE("anything but digits and the listed separators is refused") {
        for (const char* bad : {"+49151abc5678", "+49/1512345678", "++491512345678",
                                "+49151234567+8", "+49_1512345678", "+"}) {
            CAPTURE(bad);
            CHECK_FALSE(normalize_phone(bad).has_value());
        }
    }
    SUBCASE("the refusal quotes the value given") {
        const FieldError e = refused(with("phone", "+0 12"));
        CHECK(e.field == "phone");
        CHECK(e.reason.find("+0 12") != std::string::npos);
    }
}

TEST_CASE("client_id: 1-64 printable characters, no control characters") {
    SUBCASE("64 characters accepted, 65 refused") {
        CHECK(accepted(with("client_id", std::string(64, 'c'))).client_id == std::string(64, 'c'));
        CHECK(refused(with("client_id", std::string(65, 'c'))).field == "client_id");
    }
    SUBCASE("length counts characters, not bytes") {
        CHECK(accepted(with("client_id", repeat(kE, 64))).client_id == repeat(kE, 64));
        CHECK(refused(with("client_id", repeat(kE, 65))).field == "client_id");
    }
    SUBCASE("printable punctuation and inner spaces are fine") {
        CHECK(accepted(with("client_id", "ACME Corp / #42")).client_id == "ACME Corp / #42");
    }
    SUBCASE("control characters are refused") {
        for (const std::string& bad : {std::string("a\x01"
                                                   "b"),
                                       std::string("a\nb"), std::string("a\tb"),
                                       std::string("a\x7f"
                                                   "b"),
                                       std::string("a\xc2\x85"
                                                   "b"),
                                       std::string("a\0b", 3)}) {
            CAPTURE(bad);
            CHECK(refused(with("client_id", bad)).field == "client_id");
        }
    }
    SUBCASE("missing") { CHECK(refused(without("client_id")).field == "client_id"); }
}

TEST_CASE("requester_email: local@domain.tld, at most 254 characters") {
    using tfadesk::rules::check_email;
    SUBCASE("usual forms are accepted") {
        for (const char* ok : {"owner@example.com", "first.last+tag@mail.example.co.uk",
                               "o_w-n.e.r@ex-ample.io", "X@EXAMPLE.ORG"}) {
            CAPTURE(ok);
            CHECK_FALSE(check_email(ok).has_value());
            CHECK(accepted(with("requester_email", ok)).requester_email == ok);
        }
    }
    SUBCASE("malformed forms are refused") {
        for (const char* bad :
             {"owner", "owner@", "@example.com", "owner@@example.com", "a@b@example.com",
              "owner@example", "owner@.com", "owner@example.", "owner@example.c",
              "owner@-example.com", "owner@example-.com", "owner@exa_mple.com",
              "own er@example.com", ".owner@example.com", "owner.@example.com", "owner@example.c0m",
              "<owner>@example.com", "owner@exa..com"}) {
            CAPTURE(bad);
            CHECK(check_email(bad).has_value());
            CHECK(refused(with("requester_email", bad)).field == "requester_email");
        }
    }
    SUBCASE("254 characters are accepted, 255 refused") {
        const std::string local(64, 'l');
        const std::string head = std::string(63, 'a') + "." + std::string(63, 'b') + ".";
        const std::string at254 = local + "@" + head + std::string(57, 'c') + ".com";
        const std::string at255 = local + "@" + head + std::string(58, 'c') + ".com";
        REQUIRE(at254.size() == 254);
        REQUIRE(at255.size() == 255);
        CHECK_FALSE(check_email(at254).has_value());
        CHECK(accepted(with("requester_email", at254)).requester_email == at254);
        CHECK(check_email(at255).has_value());
        const FieldError e = refused(with("requester_email", at255));
        CHECK(e.field == "requester_email");
        CHECK(e.reason.find("254") != std::string::npos);
    }
    SUBCASE("missing") { CHECK(refused(without("requester_email")).field == "requester_email"); }
}

TEST_CASE("requester_role: client, portfolio_admin, partner or unknown") {
    CHECK(accepted(with("requester_role", "client")).requester_role == Role::client);
    CHECK(accepted(with("requester_role", "portfolio_admin")).requester_role ==
          Role::portfolio_admin);
    CHECK(accepted(with("requester_role", "partner")).requester_role == Role::partner);
    CHECK(accepted(with("requester_role", "unknown")).requester_role == Role::unknown);
    for (const char* bad : {"Client", "admin", "owner", "portfolio-admin"}) {
        CAPTURE(bad);
        const FieldError e = refused(with("requester_role", bad));
        CHECK(e.field == "requester_role");
        CHECK(e.reason.find(bad) != std::string::npos);
    }
    CHECK(refused(without("requester_role")).field == "requester_role");
}

TEST_CASE("role and access names round-trip") {
    using namespace tfadesk::rules;
    for (Role r : {Role::client, Role::portfolio_admin, Role::partner, Role::unknown})
        CHECK(parse_role(to_string(r)) == r);
    for (Access a : {Access::yes, Access::no, Access::unknown})
        CHECK(parse_access(to_string(a)) == a);
    CHECK(to_string(Role::portfolio_admin) == "portfolio_admin");
    CHECK(to_string(Access::no) == "no");
    CHECK_FALSE(parse_role("").has_value());
    CHECK_FALSE(parse_access("YES").has_value());
}

TEST_CASE("portfolio_access: yes, no or unknown, default unknown") {
    CHECK(accepted(with("portfolio_access", "yes")).portfolio_access == Access::yes);
    CHECK(accepted(with("portfolio_access", "no")).portfolio_access == Access::no);
    CHECK(accepted(with("portfolio_access", "unknown")).portfolio_access == Access::unknown);
    CHECK(accepted(valid_raw()).portfolio_access == Access::unknown);
    for (const char* bad : {"maybe", "Yes", "true", "0"}) {
        CAPTURE(bad);
        CHECK(refused(with("portfolio_access", bad)).field == "portfolio_access");
    }
}

TEST_CASE("reason: migrate_waba, migrate_portfolio, lost_access or other, default other") {
    for (const char* ok : {"migrate_waba", "migrate_portfolio", "lost_access", "other"}) {
        CAPTURE(ok);
        CHECK(accepted(with("reason", ok)).reason == ok);
    }
    CHECK(accepted(valid_raw()).reason == "other");
    for (const char* bad : {"migrate", "Other", "lost-access"}) {
        CAPTURE(bad);
        CHECK(refused(with("reason", bad)).field == "reason");
    }
}

TEST_CASE("waba_id and portfolio_id: digits") {
    for (const char* key : {"waba_id", "portfolio_id"}) {
        CAPTURE(key);
        const Fields f = accepted(with(key, "102938475610293"));
        CHECK((std::string(key) == "waba_id" ? f.waba_id : f.portfolio_id) ==
              std::optional<std::string>("102938475610293"));
        for (const char* bad : {"12a4", "-12", "1.5", "12 34", "+1"}) {
            CAPTURE(bad);
            CHECK(refused(with(key, bad)).field == key);
        }
    }
}

TEST_CASE("submitted_at: ISO 8601 UTC, default now") {
    SUBCASE("default is the now given by the caller") {
        CHECK(accepted(valid_raw()).submitted_at == "2026-03-01T10:00:00Z");
        auto result = validate_fields(valid_raw(), "2030-01-02T03:04:05.006Z");
        REQUIRE(std::holds_alternative<Fields>(result));
        CHECK(std::get<Fields>(result).submitted_at == "2030-01-02T03:04:05.006Z");
    }
    SUBCASE("accepted forms are stored in canonical UTC form") {
        CHECK(accepted(with("submitted_at", "2026-11-20T09:15:00Z")).submitted_at ==
              "2026-11-20T09:15:00Z");
        CHECK(accepted(with("submitted_at", "2026-11-20T09:15:00+00:00")).submitted_at ==
              "2026-11-20T09:15:00Z");
        CHECK(accepted(with("submitted_at", "2026-11-20 09:15:00Z")).submitted_at ==
              "2026-11-20T09:15:00Z");
        CHECK(accepted(with("submitted_at", "2026-11-20T09:15:00.250Z")).submitted_at ==
              "2026-11-20T09:15:00.250Z");
        CHECK(accepted(with("submitted_at", "2024-02-29T00:00:00Z")).submitted_at ==
              "2024-02-29T00:00:00Z");
    }
    SUBCASE("impossible dates and other forms are refused") {
        for (const char* bad :
             {"2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
              "2026-13-01T00:00:00Z", "2026-11-20T24:00:00Z", "2026-11-20", "2026-11-20T09:15:00",
              "2026-11-20T09:15:00+01:00", "20/11/2026 09:15", "yesterday"}) {
            CAPTURE(bad);
            const FieldError e = refused(with("submitted_at", bad));
            CHECK(e.field == "submitted_at");
            CHECK(e.reason.find(bad) != std::string::npos);
        }
    }
}

TEST_CASE("note: free text of at most 2,000 characters") {
    SUBCASE("2000 accepted, 2001 refused") {
        CHECK(accepted(with("note", std::string(2000, 'n'))).note == std::string(2000, 'n'));
        CHECK(refused(with("note", std::string(2001, 'n'))).field == "note");
    }
    SUBCASE("characters are counted, not bytes") {
        CHECK(accepted(with("note", repeat(kE, 2000))).note == repeat(kE, 2000));
        CHECK(refused(with("note", repeat(kE, 2001))).field == "note");
    }
    SUBCASE("several lines are free text") {
        CHECK(accepted(with("note", "line one\nline two")).note ==
              std::optional<std::string>("line one\nline two"));
    }
}

TEST_CASE("an empty value is the same as a missing one") {
    SUBCASE("required fields") {
        for (const char* key : {"ref", "phone", "client_id", "requester_email", "requester_role"}) {
            CAPTURE(key);
            const FieldError empty = refused(with(key, ""));
            const FieldError missing = refused(without(key));
            CHECK(empty.field == key);
            CHECK(empty.field == missing.field);
            CHECK(empty.reason == missing.reason);
        }
    }
    SUBCASE("optional fields take their default") {
        RawFields raw = valid_raw();
        for (const char* key :
             {"portfolio_access", "reason", "waba_id", "portfolio_id", "submitted_at", "note"})
            raw[key] = "";
        CHECK(accepted(raw) == accepted(valid_raw()));
    }
}

TEST_CASE("invalid UTF-8 is refused, naming the field") {
    using tfadesk::rules::check_utf8;
    CHECK_FALSE(check_utf8("plain").has_value());
    CHECK_FALSE(check_utf8("caf" + kE + " \xf0\x9f\x98\x80").has_value());  // 2- and 4-byte forms
    for (const std::string& bad :
         {std::string("\xff"), std::string("\xc3"), std::string("\xc0\xaf"),
          std::string("\xed\xa0\x80"), std::string("\xf4\x90\x80\x80"), std::string("a\x80z")}) {
        CAPTURE(bad);
        CHECK(check_utf8(bad).has_value());
    }
    for (const char* key : {"client_id", "note", "requester_email"}) {
        CAPTURE(key);
        const FieldError e = refused(with(key, "ok\xff"));
        CHECK(e.field == key);
        CHECK(e.reason.find("UTF-8") != std::string::npos);
    }
}

TEST_CASE("the first bad field in §2 order is the one reported") {
    RawFields raw = valid_raw();
    raw["phone"] = "12";
    raw["requester_role"] = "boss";
    CHECK(refused(raw).field == "phone");

    // An invalid UTF-8 note after a missing ref: ref comes first in §2 (header of fields.hpp).
    RawFields both = without("ref");
    both["note"] = "bad \xff";
    CHECK(refused(both).field == "ref");
}

// ---- the text rules of SPEC §2, field by field --------------------------------------------------

namespace {

// Text fields with a free format: a control character is the only thing wrong with these values.
const std::vector<std::string> kSingleLine = {
    "ref",    "phone",   "client_id",    "requester_email", "requester_role", "portfolio_access",
    "reason", "waba_id", "portfolio_id", "submitted_at"};

// A valid value of each field, so that one character planted inside is the only fault.
std::string valid_value(const std::string& key) {
    if (key == "ref") return "HD-1001";
    if (key == "phone") return "+491512345678";
    if (key == "client_id") return "acct-42";
    if (key == "requester_email") return "owner@example.com";
    if (key == "requester_role") return "client";
    if (key == "portfolio_access") return "yes";
    if (key == "reason") return "lost_access";
    if (key == "waba_id" || key == "portfolio_id") return "102938475610293";
    if (key == "submitted_at") return "2026-11-20T09:15:00Z";
    return "a note";
}

const std::vector<std::string> kBlanks = {" ",
                                          "\t",
                                          "\n",
                                          "\r\n",
                                          " \t ",
                                          "\xc2\xa0",
                                          "\xe2\x80\x8b",
                                          "\xe2\x80\x80",
                                          "\xe2\x80\x8a",
                                          "\xe3\x80\x80",
                                          "\xef\xbb\xbf",
                                          " \xc2\xa0\t\xe2\x80\x8b\xe3\x80\x80 "};

}  // namespace

TEST_CASE("a value that is only white space counts as empty (SPEC §2)") {
    SUBCASE("a blank required field is missing") {
        for (const char* key : {"ref", "phone", "client_id", "requester_email", "requester_role"}) {
            for (const std::string& blank : kBlanks) {
                CAPTURE(key);
                CAPTURE(blank);
                const FieldError e = refused(with(key, blank));
                CHECK(e.field == key);
                CHECK(e.reason == refused(without(key)).reason);  // "is required"
            }
        }
    }
    SUBCASE("a blank optional field takes its default, a blank note is absent") {
        for (const std::string& blank : kBlanks) {
            CAPTURE(blank);
            RawFields raw = valid_raw();
            for (const char* key :
                 {"portfolio_access", "reason", "waba_id", "portfolio_id", "submitted_at", "note"})
                raw[key] = blank;
            const Fields f = accepted(raw);
            CHECK(f == accepted(valid_raw()));
            CHECK_FALSE(f.note.has_value());
        }
    }
}

TEST_CASE("single-line fields lose the white space around them, ASCII or Unicode") {
    const std::string around = "\xc2\xa0\xe2\x80\x8b ";  // NBSP, ZWSP, space
    CHECK(accepted(with("ref", around + "HD-7" + "\t")).ref == "HD-7");
    CHECK(accepted(with("client_id",
                        "\xe3\x80\x80"
                        "acct 9" +
                            around))
              .client_id == "acct 9");
    CHECK(accepted(with("requester_email", around + "x@example.com\xef\xbb\xbf")).requester_email ==
          "x@example.com");
    CHECK(accepted(with("waba_id", " 42\xe2\x80\x8a")).waba_id == std::optional<std::string>("42"));
    SUBCASE("a note keeps its own spacing") {
        CHECK(accepted(with("note", "  indented\n")).note ==
              std::optional<std::string>("  indented\n"));
    }
}

TEST_CASE("no §2 text field carries a control character into the log") {
    const std::vector<std::string> controls = {
        std::string("\0", 1), "\x01", "\x1b", "\t", "\n", "\r", "\x7f",
        "\xc2\x85",       // U+0085 NEL
        "\xc2\x9b",       // U+009B CSI
        "\xe2\x80\xa8",   // U+2028
        "\xe2\x80\xae",   // U+202E RLO
        "\xe2\x81\xa6"};  // U+2066 LRI
    for (const std::string& key : kSingleLine) {
        for (const std::string& c : controls) {
            CAPTURE(key);
            CAPTURE(c);
            const std::string v = valid_value(key);
            const std::string planted = v.substr(0, 2) + c + v.substr(2);
            const FieldError e = refused(with(key, planted));
            CHECK(e.field == key);
            CHECK(e.reason.find("control characters") != std::string::npos);
            // The reason names the character; it never carries it.
            CHECK(e.reason.find(c) == std::string::npos);
        }
    }
}

TEST_CASE("note: line breaks (LF, CRLF) are its only control characters") {
    CHECK(accepted(with("note", "one\ntwo\r\nthree")).note ==
          std::optional<std::string>("one\ntwo\r\nthree"));
    for (const std::string& bad : std::vector<std::string>{
             "tab\there", "bare\rCR", "esc\x1b[2J", "bell\x07", "nul" + std::string("\0", 1),
             "del\x7f", "nel\xc2\x85", "ls\xe2\x80\xa8", "rlo\xe2\x80\xae"}) {
        CAPTURE(bad);
        const FieldError e = refused(with("note", bad));
        CHECK(e.field == "note");
        CHECK(e.reason.find("other than line breaks") != std::string::npos);
        CHECK(tfadesk::rules::check_note(bad).has_value());
    }
    CHECK_FALSE(tfadesk::rules::check_note("line\r\nline\n").has_value());
}

TEST_CASE("waba_id and portfolio_id: at most 32 digits, and the refusal says so") {
    for (const char* key : {"waba_id", "portfolio_id"}) {
        CAPTURE(key);
        const Fields f = accepted(with(key, std::string(32, '7')));
        CHECK((std::string(key) == "waba_id" ? f.waba_id : f.portfolio_id) ==
              std::optional<std::string>(std::string(32, '7')));
        const FieldError e = refused(with(key, std::string(33, '7')));
        CHECK(e.field == key);
        CHECK(e.reason == "must be 1-32 digits (got 33)");
        const FieldError letters = refused(with(key, "12a4"));
        CHECK(letters.reason == "must be 1-32 digits and nothing else (got '12a4')");
    }
}

TEST_CASE("invalid UTF-8 in any field is refused, naming the field") {
    for (const std::string& key : kSingleLine) {
        CAPTURE(key);
        const FieldError e = refused(with(key, valid_value(key) + "\xff"));
        CHECK(e.field == key);
        CHECK(e.reason == "is not valid UTF-8");
    }
    // A blank-looking value with a bad byte is not blank: it is refused, not taken as missing.
    CHECK(refused(with("note", " \xa0 ")).reason == "is not valid UTF-8");
}

TEST_CASE("Origin::log: an open entry written under version 1 replays exactly as stored") {
    using tfadesk::rules::Origin;
    auto replayed = [](const RawFields& raw) {
        auto result = validate_fields(raw, "", Origin::log);
        if (auto* bad = std::get_if<FieldError>(&result))
            FAIL("refused on replay: " << bad->message());
        return std::get<Fields>(result);
    };
    SUBCASE("a note with tabs and other control characters, or only spaces, is kept") {
        const std::string note = "tab\there cr\r bell\x07 del\x7f";
        CHECK(replayed(with("note", note)).note == std::optional<std::string>(note));
        CHECK(replayed(with("note", "   ")).note == std::optional<std::string>("   "));
        CHECK(refused(with("note", note)).field == "note");  // new input: refused
        CHECK_FALSE(accepted(with("note", "   ")).note.has_value());
        CHECK_FALSE(tfadesk::rules::check_note(note, Origin::log).has_value());
        CHECK(tfadesk::rules::check_note(note + "\xff", Origin::log).has_value());
        CHECK(tfadesk::rules::check_note(std::string(2001, 'n'), Origin::log).has_value());
    }
    SUBCASE("a client_id is trimmed of spaces and tabs only, Unicode white space kept") {
        const std::string nbsp_id =
            "\xc2\xa0"
            "acct";
        CHECK(replayed(with("client_id", nbsp_id)).client_id == nbsp_id);
        CHECK(replayed(with("client_id", " acct\t")).client_id == "acct");
        CHECK(replayed(with("client_id",
                            "a\xe2\x80\xae"
                            "b"))
                  .client_id ==
              "a\xe2\x80\xae"
              "b");
        CHECK(accepted(with("client_id", nbsp_id)).client_id == "acct");  // new input: trimmed
    }
    SUBCASE("what version 1 refused is still refused") {
        auto refused_on_replay = [](const RawFields& raw) {
            auto result = validate_fields(raw, "", Origin::log);
            REQUIRE(std::holds_alternative<FieldError>(result));
            return std::get<FieldError>(result).field;
        };
        CHECK(refused_on_replay(with("client_id", "a\tb")) == "client_id");
        CHECK(refused_on_replay(with("client_id", "a\xc2\x85")) == "client_id");
        CHECK(refused_on_replay(with("client_id", " \t ")) == "client_id");  // missing
        CHECK(refused_on_replay(with("note", "ok\xff")) == "note");
        CHECK(refused_on_replay(with("ref", "HD 1")) == "ref");
        CHECK(refused_on_replay(with("waba_id", std::string(33, '1'))) == "waba_id");
    }
    SUBCASE("a valid value replays as it was accepted") {
        RawFields raw = valid_raw();
        raw["note"] = "line\r\nline";
        raw["waba_id"] = "42";
        raw["submitted_at"] = "2026-11-20T09:15:00Z";
        CHECK(replayed(raw) == accepted(raw));
    }
}
