// Masking personal data (SPEC §4: "error messages mask phone numbers and emails as the logs
// do"): the look of the log lines, and what mask_pii finds in a free-text message.
#include "tfadesk/rules/mask.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {

using tfadesk::rules::mask_email;
using tfadesk::rules::mask_phone;
using tfadesk::rules::mask_pii;

}  // namespace

TEST_CASE("mask_phone and mask_email look as the logs always did") {
    CHECK(mask_phone("+491512345678") == "+49********78");
    CHECK(mask_phone("+12345678") == "+12****78");
    CHECK(mask_phone("123456") == "******");
    CHECK(mask_phone("") == "");
    CHECK(mask_email("jane@example.com") == "j***@example.com");
    CHECK(mask_email("j@example.com") == "j***@example.com");
    CHECK(mask_email("@example.com") == "***");
    CHECK(mask_email("no-at-sign") == "***");
}

TEST_CASE("mask_pii masks phone numbers in a message") {
    CHECK(mask_pii("+491512345678") == "+49********78");
    CHECK(mask_pii("phone: must be E.164 (got '+49 151 2345-678')") ==
          "phone: must be E.164 (got '+49********78')");
    CHECK(mask_pii("call 0151 2345678 now") == "call 015******78 now");
    CHECK(mask_pii("+49 (151) 234-56.78.") == "+49********78.");
    CHECK(mask_pii("a,+12345678,b") == "a,+12****78,b");
    CHECK(mask_pii("tel:+491512345678") == "tel:+49********78");
    CHECK(mask_pii("x+491512345678") == "x+49********78");  // a '+' starts a number anywhere
    SUBCASE("8 digits are a phone, 7 are not") {
        CHECK(mask_pii("id 12345678") == "id 123***78");
        CHECK(mask_pii("id 1234567") == "id 1234567");
        CHECK(mask_pii("+1234567") == "+1234567");
    }
}

TEST_CASE("mask_pii masks email addresses in a message") {
    CHECK(mask_pii("requester_email: owner@example.com is taken") ==
          "requester_email: o***@example.com is taken");
    CHECK(mask_pii("<first.last+tag@mail.example.co.uk>") == "<f***@mail.example.co.uk>");
    CHECK(mask_pii("write to jane@example.com.") == "write to j***@example.com.");
    CHECK(mask_pii("jane@example.com+cc") == "j***@example.com+cc");
    CHECK(mask_pii("4915123456789@example.com") == "4***@example.com");
    CHECK(mask_pii("a@b.com and c@d.org") == "a***@b.com and c***@d.org");
    SUBCASE("a word with several '@' around an address is masked whole") {
        CHECK(mask_pii("from a@b@example.com:") == "from ***:");
        CHECK(mask_pii("x@example.com@evil.com") == "***");
        CHECK(mask_pii("a@b@example.com.") == "***");  // the whole word, its full stop too
        CHECK(mask_pii("@handle@x") == "@handle@x");
    }
}

TEST_CASE("mask_pii is idempotent: what it masked stays as it is") {
    for (const char* text :
         {"a@b@example.cpqm@axee0123456789.com a@b@example.com", "call +49 151 2345678",
          "1234 5678@example.com", "jane@example.com-", "+12345678 9 0"}) {
        CAPTURE(text);
        const std::string once = mask_pii(text);
        CHECK(mask_pii(once) == once);
    }
}

TEST_CASE("mask_pii leaves alone what is not a phone or an email") {
    for (const char* same :
         {"", "no personal data here", "ticket HD-2026112001 is closed", "at 2026-11-20T09:15:00Z",
          "2026-11-20 09:15:00", "line 17 2026-11-20 09:15",
          "head 12:0123456789abcdef0123456789abcdef", "file.csv:12: phone: is required",
          "R7: the SLA of 72 hours", "version 1.2.3", "8-15 digits in all", "user@localhost",
          "@handle", "a@b", "x@example.c0m", "caf\xc3\xa9 \xff\x01"}) {
        CAPTURE(same);
        CHECK(mask_pii(same) == same);
    }
}
