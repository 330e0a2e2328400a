// The ticket's fields (SPEC §2): their vocabulary and the one validation that `open` and
// `import` share. Pure functions over plain values: no I/O, no clock (callers pass "now").
//
// Invariant: a Fields value returned by validate_fields() holds only normalised, valid values
// (phone in E.164 without separators, defaults applied, submitted_at in canonical UTC form), all
// of them UTF-8 without control characters (line breaks only in `note`; see rules/text.hpp), none
// of them blank.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tfadesk/rules/text.hpp"  // is_blank, check_text: the text rules every field follows

namespace tfadesk::rules {

// The longest note, in characters (code points).
inline constexpr std::size_t kMaxNoteLength = 2000;
// The most digits a waba_id or portfolio_id may have (Meta's ids are 15-17 digits today).
inline constexpr std::size_t kMaxIdDigits = 32;

enum class Role { client, portfolio_admin, partner, unknown };
enum class Access { yes, no, unknown };

std::string_view to_string(Role r);
std::string_view to_string(Access a);
std::optional<Role> parse_role(std::string_view s);
std::optional<Access> parse_access(std::string_view s);

// The §2 fields, in the order the spec lists them: the one list that the field names, `open`'s
// flags and their help are derived from.
struct FieldInfo {
    std::string_view name;  // "requester_role"
    std::string_view flag;  // "--role" (open's flag)
    bool required;
    std::string_view help;  // the format, in a few words
};
const std::vector<FieldInfo>& field_table();
// The §2 field names, in the order the spec lists them (from field_table()).
const std::vector<std::string_view>& field_names();
bool is_field_name(std::string_view name);

// A ticket's fields as opened, validated and normalised.
struct Fields {
    std::string ref;
    std::string phone;
    std::string client_id;
    std::string requester_email;
    Role requester_role = Role::unknown;
    Access portfolio_access = Access::unknown;
    std::string reason = "other";
    std::optional<std::string> waba_id;
    std::optional<std::string> portfolio_id;
    std::string submitted_at;
    std::optional<std::string> note;
};

bool operator==(const Fields& a, const Fields& b);
inline bool operator!=(const Fields& a, const Fields& b) { return !(a == b); }

// One bad field: `field` is the §2 name, `reason` a sentence an operator can act on.
struct FieldError {
    std::string field;
    std::string reason;
    std::string message() const { return field + ": " + reason; }
};

inline bool operator==(const FieldError& a, const FieldError& b) {
    return a.field == b.field && a.reason == b.reason;
}
inline bool operator!=(const FieldError& a, const FieldError& b) { return !(a == b); }

// Where field values come from. New input (open, import, event flags) follows every rule of
// SPEC §2. Values read back from the log were accepted under the rules of their day and must
// replay exactly as they were stored (SPEC §6: what exited 0 survives), so Origin::log holds
// them to what version 1 required and normalises them as it did: valid UTF-8; blank means empty
// or only spaces and tabs, and only spaces and tabs are trimmed around single-line values; no
// C0/C1 control or DEL in client_id; a note any UTF-8 of at most 2,000 characters, kept as
// stored. The formats of ref, phone, email, role, access, reason, ids and submitted_at are the
// same for both.
enum class Origin { input, log };

// Raw input as given by a command line or an import row: field name -> text. A missing key, an
// empty value and a blank one (only white space, is_blank) mean the same (SPEC §2, §5).
using RawFields = std::map<std::string, std::string, std::less<>>;

// Validates and normalises every §2 field. Returns the first bad field (in §2 order) or the
// fields. `now_utc` (canonical UTC text) is the default for submitted_at. Unknown keys in `raw`
// are the caller's business (import rejects the whole file, the CLI never produces them).
// Every field first follows the text rules: not UTF-8 -> "is not valid UTF-8"; blank -> missing
// (a required field "is required", an optional one takes its default); a single-line field loses
// the white space around it (trim_blank), a note is kept as given; a control character ->
// check_text()'s reason (in a note, LF and CRLF are allowed). Then the field's own format.
// With Origin::log (the open entry of a ticket being replayed), the rules of version 1 instead.
std::variant<Fields, FieldError> validate_fields(const RawFields& raw, std::string_view now_utc,
                                                 Origin origin = Origin::input);
// The same over any source of raw values (a replayed entry's details, without building a map):
// `lookup(name)` gives the field's raw text, or nothing when it is absent.
using FieldLookup = std::function<std::optional<std::string_view>(std::string_view name)>;
std::variant<Fields, FieldError> validate_fields(const FieldLookup& lookup,
                                                 std::string_view now_utc,
                                                 Origin origin = Origin::input);

// Single-field checks, shared with `event` flags. Each returns an error reason, or nothing. A
// blank flag value is "not given" (is_blank): test that first, these checks do not.
std::optional<std::string> check_email(std::string_view email);
// UTF-8 only; check_text() also refuses control characters.
std::optional<std::string> check_utf8(std::string_view text);
// A note: check_text(note, true) (UTF-8, no control characters but LF and CRLF), then at most
// 2,000 characters (code points): "must be at most 2,000 characters". With Origin::log (a note
// read back from the log), UTF-8 and the length only, as version 1 checked it.
std::optional<std::string> check_note(std::string_view note, Origin origin = Origin::input);

// SPEC §2's ref format: 1-64 chars of A-Z a-z 0-9 . _ -
bool is_valid_ref(std::string_view ref);

// Phone normalisation: drops spaces, dashes, dots and parentheses, then checks E.164.
std::optional<std::string> normalize_phone(std::string_view raw);

}  // namespace tfadesk::rules
