// Masking personal data for logs and error messages (SPEC §4: "error messages mask phone numbers
// and emails as the logs do"). Pure functions; the look is the one the logs have always had
// (cli's mask_phone / mask_email, moved here so every front end masks alike).
#pragma once

#include <string>
#include <string_view>

namespace tfadesk::rules {

// A phone number for a log line: its first 3 and last 2 characters, a '*' for every character in
// between ("+491512345678" -> "+49********78"); 6 characters or fewer are all stars.
std::string mask_phone(std::string_view phone);

// An email address for a log line: its first character, "***", then '@' and the domain
// ("jane@example.com" -> "j***@example.com"); "***" when there is no '@' or nothing before it.
std::string mask_email(std::string_view email);

// `text` (a free-text message) with every email address and everything that looks like a phone
// number masked as above; the rest unchanged, byte for byte.
// - An email: a word of local-part characters (A-Z a-z 0-9 . _ % + -) with one '@' in it, after
//   which comes a domain of at least two labels (A-Z a-z 0-9 -, separated by dots, the last one
//   alphabetic and 2+ letters long), punctuation after it not included; becomes mask_email() of
//   it. A word with several '@' of which one would make an email ("a@b@example.com") becomes
//   "***" whole.
// - A phone: an optional '+', then digits, with at most two separators (space, '-', '.', '(' or
//   ')') between digit groups, 8 digits or more in all; it must not be glued to a word before it
//   (after a letter, a digit, '_', '-', '.', '/' or '@') or after it (before a letter, digit or
//   '_'), so refs like HD-2026112001 and hex hashes keep their digits; a '+' lifts the first
//   rule. An ISO date (YYYY-MM-DD) is never part of one. It becomes mask_phone() of its '+' and
//   digits, the separators dropped ("+49 151 2345-678" -> "+49********78").
// Bytes that are not ASCII are passed through untouched (run escape_control() after it).
std::string mask_pii(std::string_view text);

}  // namespace tfadesk::rules
