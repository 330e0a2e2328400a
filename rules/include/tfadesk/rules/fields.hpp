// The ticket's fields (SPEC §2): their vocabulary and the one validation that `open` and
// `import` share. Pure functions over plain values: no I/O, no clock (callers pass "now").
//
// Invariant: a Fields value returned by validate_fields() holds only normalised, valid values
// (phone in E.164 without separators, defaults applied, submitted_at in canonical UTC form).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tfadesk::rules {

enum class Role { client, portfolio_admin, partner, unknown };
enum class Access { yes, no, unknown };

std::string_view to_string(Role r);
std::string_view to_string(Access a);
std::optional<Role> parse_role(std::string_view s);
std::optional<Access> parse_access(std::string_view s);

// The §2 field names, in the order the spec lists them.
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

// Raw input as given by a command line or an import row: field name -> text. A missing key and
// an empty value mean the same (SPEC §5).
using RawFields = std::map<std::string, std::string, std::less<>>;

// Validates and normalises every §2 field. Returns the first bad field (in §2 order) or the
// fields. `now_utc` (canonical UTC text) is the default for submitted_at. Unknown keys in `raw`
// are the caller's business (import rejects the whole file, the CLI never produces them).
std::variant<Fields, FieldError> validate_fields(const RawFields& raw, std::string_view now_utc);

// Single-field checks, shared with `event` flags. Each returns an error reason, or nothing.
std::optional<std::string> check_email(std::string_view email);
std::optional<std::string> check_utf8(std::string_view text);
// A note: UTF-8, at most 2,000 characters (code points).
std::optional<std::string> check_note(std::string_view note);

// Phone normalisation: drops spaces, dashes, dots and parentheses, then checks E.164.
std::optional<std::string> normalize_phone(std::string_view raw);

}  // namespace tfadesk::rules
