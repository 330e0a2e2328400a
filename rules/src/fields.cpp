#include "tfadesk/rules/fields.hpp"

#include <algorithm>
#include <tuple>

#include "tfadesk/rules/text.hpp"
#include "tfadesk/rules/time.hpp"
#include "utf8.hpp"

namespace tfadesk::rules {

std::string_view to_string(Role r) {
    switch (r) {
        case Role::client:
            return "client";
        case Role::portfolio_admin:
            return "portfolio_admin";
        case Role::partner:
            return "partner";
        case Role::unknown:
            break;
    }
    return "unknown";
}

std::string_view to_string(Access a) {
    switch (a) {
        case Access::yes:
            return "yes";
        case Access::no:
            return "no";
        case Access::unknown:
            break;
    }
    return "unknown";
}

std::optional<Role> parse_role(std::string_view s) {
    for (Role r : {Role::client, Role::portfolio_admin, Role::partner, Role::unknown})
        if (s == to_string(r)) return r;
    return std::nullopt;
}

std::optional<Access> parse_access(std::string_view s) {
    for (Access a : {Access::yes, Access::no, Access::unknown})
        if (s == to_string(a)) return a;
    return std::nullopt;
}

bool operator==(const Fields& a, const Fields& b) {
    auto tie = [](const Fields& f) {
        return std::tie(f.ref, f.phone, f.client_id, f.requester_email, f.requester_role,
                        f.portfolio_access, f.reason, f.waba_id, f.portfolio_id, f.submitted_at,
                        f.note);
    };
    return tie(a) == tie(b);
}

const std::vector<FieldInfo>& field_table() {
    static const std::vector<FieldInfo> table = {
        {"ref", "--ref", true, "the helpdesk's ticket reference: 1-64 of A-Z a-z 0-9 . _ -"},
        {"phone", "--phone", true,
         "the number, E.164 (+ and 8-15 digits; spaces, dashes, dots, parentheses dropped)"},
        {"client_id", "--client-id", true, "the client's account id: 1-64 printable characters"},
        {"requester_email", "--requester-email", true, "the requester's email address"},
        {"requester_role", "--role", true, "client, portfolio_admin, partner or unknown"},
        {"portfolio_access", "--access", false,
         "does the requester still have portfolio access: yes, no or unknown"},
        {"reason", "--reason", false,
         "migrate_waba, migrate_portfolio, lost_access or other (default)"},
        {"waba_id", "--waba-id", false, "the WhatsApp Business Account id: digits"},
        {"portfolio_id", "--portfolio-id", false, "the Meta business portfolio id: digits"},
        {"submitted_at", "--submitted-at", false,
         "when the request came in, ISO 8601 UTC (default: now)"},
        {"note", "--note", false, "free text, at most 2,000 characters"},
    };
    return table;
}

const std::vector<std::string_view>& field_names() {
    static const std::vector<std::string_view> names = [] {
        std::vector<std::string_view> out;
        for (const auto& f : field_table()) out.push_back(f.name);
        return out;
    }();
    return names;
}

bool is_field_name(std::string_view name) {
    const auto& n = field_names();
    return std::find(n.begin(), n.end(), name) != n.end();
}

namespace {

// Counts code points; nothing when `s` is not UTF-8.
std::optional<std::size_t> count_chars(std::string_view s) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size(); ++count) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        char32_t cp = 0;
        const std::size_t n = utf8::decode(s, i, cp);
        if (n == 0) return std::nullopt;
        i += n;
    }
    return count;
}

bool all_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ASCII classes without the C locale's function calls (std::isalnum is one per character).
bool is_ascii_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_ascii_alnum(char c) { return is_ascii_alpha(c) || (c >= '0' && c <= '9'); }
// The specials an unquoted local part may not hold: ( ) , : ; < > [ \ ] "
bool is_email_special(char c) {
    switch (c) {
        case '(':
        case ')':
        case ',':
        case ':':
        case ';':
        case '<':
        case '>':
        case '[':
        case '\\':
        case ']':
        case '"':
            return true;
        default:
            return false;
    }
}

bool is_ref_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

// Thrown by get() for a value that no field may hold, so that fields are judged in §2 order.
struct BadText {
    FieldError error;
};

// What version 1 trimmed from single-line values, and what a stored value is still trimmed of.
std::string_view trim_space_tab(std::string_view s) {
    const auto b = s.find_first_not_of(" \t");
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

// A C0 or C1 control character or DEL: what version 1 refused in client_id.
bool has_c0_c1(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const std::size_t n = utf8::decode(s, i, cp);
        if (n == 0 || cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) return true;
        i += n;
    }
    return false;
}

// The value of `key`, or nothing when it is missing or blank. Every §2 field is text: not UTF-8,
// it is refused (BadText) whatever its own format.
// Origin::input (SPEC §2): blank is only white space (is_blank); a single-line value loses the
// white space around it (trim_blank); a control character is refused (BadText); a note
// (`multiline`) is kept as given and may hold LF and CRLF.
// Origin::log: as version 1 stored them: blank is empty or only spaces and tabs, a single-line
// value loses the spaces and tabs around it, a note is kept unless empty, control characters are
// left to the field's own check.
std::optional<std::string_view> get(const FieldLookup& raw, Origin origin, std::string_view key,
                                    bool multiline = false) {
    const auto found = raw(key);
    if (!found) return std::nullopt;
    const std::string_view value = *found;
    if (!utf8::is_valid(value)) throw BadText{{std::string(key), "is not valid UTF-8"}};
    if (origin == Origin::log) {
        const std::string_view v = multiline ? value : trim_space_tab(value);
        if (v.empty()) return std::nullopt;
        return v;
    }
    const std::string_view v = multiline ? value : trim_blank(value);
    if (multiline ? is_blank(value) : v.empty()) return std::nullopt;
    if (auto bad = check_text(v, multiline)) throw BadText{{std::string(key), *bad}};
    return v;
}

std::variant<Fields, FieldError> validate(const FieldLookup& raw, std::string_view now_utc,
                                          Origin origin);

}  // namespace

bool is_valid_ref(std::string_view ref) {
    return !ref.empty() && ref.size() <= 64 && std::all_of(ref.begin(), ref.end(), is_ref_char);
}

std::optional<std::string> check_utf8(std::string_view text) {
    if (!utf8::is_valid(text)) return "is not valid UTF-8";
    return std::nullopt;
}

std::optional<std::string> check_email(std::string_view e) {
    if (e.size() > 254) return "must be at most 254 characters";
    const auto at = e.find('@');
    if (at == std::string_view::npos || at == 0 || e.find('@', at + 1) != std::string_view::npos)
        return "must be an email address: a local part, @, and a domain such as example.com";
    const std::string_view local = e.substr(0, at), domain = e.substr(at + 1);
    const bool local_ok = local.size() <= 64 && std::all_of(local.begin(), local.end(), [](char c) {
                              const auto u = static_cast<unsigned char>(c);
                              return u > 0x20 && u < 0x7F && !is_email_special(c);
                          });
    if (!local_ok || local.front() == '.' || local.back() == '.')
        return "must be an email address: a local part, @, and a domain such as example.com (bad "
               "local part)";
    const auto last_dot = domain.rfind('.');
    if (last_dot == std::string_view::npos)
        return "must be an email address: a local part, @, and a domain such as example.com (no "
               "domain)";
    std::size_t start = 0;
    while (start <= domain.size()) {
        auto end = domain.find('.', start);
        if (end == std::string_view::npos) end = domain.size();
        const std::string_view label = domain.substr(start, end - start);
        const bool ok = !label.empty() && label.size() <= 63 && label.front() != '-' &&
                        label.back() != '-' && std::all_of(label.begin(), label.end(), [](char c) {
                            return is_ascii_alnum(c) || c == '-';
                        });
        if (!ok)
            return "must be an email address: a local part, @, and a domain such as example.com "
                   "(bad domain)";
        start = end + 1;
    }
    const std::string_view tld = domain.substr(last_dot + 1);
    if (tld.size() < 2 ||
        !std::all_of(tld.begin(), tld.end(), [](char c) { return is_ascii_alpha(c); }))
        return "must be an email address: a local part, @, and a domain such as example.com (bad "
               "top-level domain)";
    return std::nullopt;
}

std::optional<std::string> normalize_phone(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (char c : raw) {
        if (c == ' ' || c == '-' || c == '.' || c == '(' || c == ')') continue;
        out.push_back(c);
    }
    if (out.size() < 9 || out.size() > 16 || out[0] != '+' || out[1] < '1' || out[1] > '9' ||
        !all_digits(std::string_view(out).substr(1)))
        return std::nullopt;
    return out;
}

std::optional<std::string> check_note(std::string_view note, Origin origin) {
    if (origin == Origin::input) {
        if (auto bad = check_text(note, true)) return bad;
    } else if (!utf8::is_valid(note)) {
        return "is not valid UTF-8";
    }
    if (*count_chars(note) > kMaxNoteLength) return "must be at most 2,000 characters";
    return std::nullopt;
}

std::variant<Fields, FieldError> validate_fields(const RawFields& raw, std::string_view now_utc,
                                                 Origin origin) {
    return validate_fields(
        [&raw](std::string_view key) -> std::optional<std::string_view> {
            const auto it = raw.find(key);
            if (it == raw.end()) return std::nullopt;
            return it->second;
        },
        now_utc, origin);
}

std::variant<Fields, FieldError> validate_fields(const FieldLookup& raw, std::string_view now_utc,
                                                 Origin origin) {
    try {
        return validate(raw, now_utc, origin);
    } catch (const BadText& bad) {
        return bad.error;
    }
}

namespace {

std::variant<Fields, FieldError> validate(const FieldLookup& raw, std::string_view now_utc,
                                          Origin origin) {
    Fields f;

    auto ref = get(raw, origin, "ref");
    if (!ref) return FieldError{"ref", "is required"};
    if (!is_valid_ref(*ref))
        return FieldError{"ref", "must be 1-64 characters of A-Z a-z 0-9 . _ -"};
    f.ref = *ref;

    auto phone = get(raw, origin, "phone");
    if (!phone) return FieldError{"phone", "is required"};
    auto e164 = normalize_phone(*phone);
    if (!e164)
        return FieldError{"phone",
                          "must be E.164: '+', first digit 1-9, 8-15 digits in all (got '" +
                              std::string(*phone) + "')"};
    f.phone = *e164;

    auto client = get(raw, origin, "client_id");
    if (!client) return FieldError{"client_id", "is required"};
    if (*count_chars(*client) > 64 || has_c0_c1(*client))  // (input has refused controls already)
        return FieldError{"client_id", "must be 1-64 printable characters"};
    f.client_id = *client;

    auto email = get(raw, origin, "requester_email");
    if (!email) return FieldError{"requester_email", "is required"};
    if (auto bad = check_email(*email)) return FieldError{"requester_email", *bad};
    f.requester_email = *email;

    auto role_text = get(raw, origin, "requester_role");
    if (!role_text) return FieldError{"requester_role", "is required"};
    auto role = parse_role(*role_text);
    if (!role)
        return FieldError{"requester_role",
                          "must be client, portfolio_admin, partner or unknown (got '" +
                              std::string(*role_text) + "')"};
    f.requester_role = *role;

    if (auto access_text = get(raw, origin, "portfolio_access")) {
        auto access = parse_access(*access_text);
        if (!access)
            return FieldError{"portfolio_access", "must be yes, no or unknown (got '" +
                                                      std::string(*access_text) + "')"};
        f.portfolio_access = *access;
    }

    if (auto reason = get(raw, origin, "reason")) {
        static constexpr std::string_view kReasons[] = {"migrate_waba", "migrate_portfolio",
                                                        "lost_access", "other"};
        if (std::find(std::begin(kReasons), std::end(kReasons), *reason) == std::end(kReasons))
            return FieldError{
                "reason", "must be migrate_waba, migrate_portfolio, lost_access or other (got '" +
                              std::string(*reason) + "')"};
        f.reason = *reason;
    }

    for (auto [key, member] : {std::pair{"waba_id", &Fields::waba_id},
                               std::pair{"portfolio_id", &Fields::portfolio_id}}) {
        if (auto id = get(raw, origin, key)) {
            if (!all_digits(*id))
                return FieldError{key, "must be 1-" + std::to_string(kMaxIdDigits) +
                                           " digits and nothing else (got '" + std::string(*id) +
                                           "')"};
            if (id->size() > kMaxIdDigits)
                return FieldError{key, "must be 1-" + std::to_string(kMaxIdDigits) +
                                           " digits (got " + std::to_string(id->size()) + ")"};
            f.*member = std::string(*id);
        }
    }

    if (auto ts = get(raw, origin, "submitted_at")) {
        auto ms = parse_utc(*ts);
        if (!ms)
            return FieldError{"submitted_at",
                              "must be an ISO 8601 UTC time like 2026-11-20T09:15:00Z (got '" +
                                  std::string(*ts) + "')"};
        f.submitted_at = format_utc(*ms);
    } else {
        // The same canonical form a given value gets, so a replay of the stored value agrees.
        const auto now = parse_utc(now_utc);
        f.submitted_at = now ? format_utc(*now) : std::string(now_utc);
    }

    if (auto note = get(raw, origin, "note", true)) {
        if (auto bad = check_note(*note, origin)) return FieldError{"note", *bad};
        f.note = std::string(*note);
    }
    return f;
}

}  // namespace

}  // namespace tfadesk::rules
