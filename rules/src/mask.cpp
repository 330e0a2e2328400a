// Masking phone numbers and emails in log lines and messages; see mask.hpp.
#include "tfadesk/rules/mask.hpp"

#include <cstddef>

namespace tfadesk::rules {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool is_alnum(char c) { return is_digit(c) || is_alpha(c); }
bool is_local_char(char c) {
    return is_alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool is_domain_char(char c) { return is_alnum(c) || c == '.' || c == '-'; }
bool is_phone_separator(char c) { return c == ' ' || c == '-' || c == '.' || c == '(' || c == ')'; }
// A character that makes a digit after it part of a word (a ref, a hash, a path, a version).
bool glues_before(char c) {
    return is_alnum(c) || c == '_' || c == '-' || c == '.' || c == '/' || c == '@';
}
bool glues_after(char c) { return is_alnum(c) || c == '_'; }

// A domain of two labels or more (of A-Z a-z 0-9 -), the last alphabetic and 2+ letters long.
bool is_domain(std::string_view d) {
    if (d.empty()) return false;
    std::size_t labels = 0;
    std::size_t start = 0;
    while (true) {
        const std::size_t dot = d.find('.', start);
        const std::string_view label =
            d.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
        if (label.empty()) return false;
        for (char c : label)
            if (!is_alnum(c) && c != '-') return false;
        ++labels;
        if (dot == std::string_view::npos) {
            if (label.size() < 2) return false;
            for (char c : label)
                if (!is_alpha(c)) return false;
            return labels >= 2;
        }
        start = dot + 1;
    }
}

// The length of the domain at the start of `s`: its domain characters, less the punctuation
// that ends them ("example.com." -> "example.com"); 0 when that is not a domain.
std::size_t domain_length(std::string_view s) {
    std::size_t end = 0;
    while (end < s.size() && is_domain_char(s[end])) ++end;
    while (end > 0 && !is_alnum(s[end - 1])) --end;
    return is_domain(s.substr(0, end)) ? end : 0;
}

// One word that holds an '@' (a maximal run of local-part characters and '@'), masked: exactly
// one '@' with a local part before it and a domain after it is an email; several '@' around
// something that would be one is hostile, and all of it is masked.
std::string mask_word(std::string_view word) {
    const std::size_t at = word.find('@');
    if (word.find('@', at + 1) == std::string_view::npos) {
        const std::size_t domain = domain_length(word.substr(at + 1));
        if (at == 0 || domain == 0) return std::string(word);
        const std::size_t end = at + 1 + domain;
        return mask_email(word.substr(0, end)) + std::string(word.substr(end));
    }
    for (std::size_t a = at; a != std::string_view::npos; a = word.find('@', a + 1)) {
        if (a > 0 && word[a - 1] != '@' && domain_length(word.substr(a + 1)) > 0) return "***";
    }
    return std::string(word);
}

// Emails in `text` masked; everything else copied.
std::string mask_emails(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        if (!is_local_char(text[i]) && text[i] != '@') {
            out += text[i++];
            continue;
        }
        std::size_t j = i;
        while (j < text.size() && (is_local_char(text[j]) || text[j] == '@')) ++j;
        const std::string_view word = text.substr(i, j - i);
        out += word.find('@') == std::string_view::npos ? std::string(word) : mask_word(word);
        i = j;
    }
    return out;
}

// YYYY-MM-DD at `i`, not inside a longer run of digits.
bool iso_date_at(std::string_view t, std::size_t i) {
    if (i + 10 > t.size() || (i > 0 && is_digit(t[i - 1]))) return false;
    for (std::size_t k = 0; k < 10; ++k) {
        const bool dash = k == 4 || k == 7;
        if (dash ? t[i + k] != '-' : !is_digit(t[i + k])) return false;
    }
    return i + 10 == t.size() || !is_digit(t[i + 10]);
}

// The end of the phone-like run that starts at `i` (a '+' or a digit), and its '+' and digits.
std::size_t phone_run(std::string_view t, std::size_t i, std::string& digits) {
    digits.clear();
    std::size_t j = i;
    if (t[j] == '+') digits += t[j++];
    std::size_t end = j;
    while (j < t.size() && is_digit(t[j])) {
        while (j < t.size() && is_digit(t[j])) digits += t[j++];
        end = j;
        std::size_t seps = 0;
        while (j < t.size() && seps < 2 && is_phone_separator(t[j])) ++j, ++seps;
        if (seps == 0 || iso_date_at(t, j)) break;
    }
    return end;
}

std::string mask_phones(std::string_view t) {
    std::string out;
    out.reserve(t.size());
    std::string digits;
    for (std::size_t i = 0; i < t.size();) {
        if (iso_date_at(t, i)) {
            out.append(t.substr(i, 10));
            i += 10;
            continue;
        }
        const bool plus = t[i] == '+' && i + 1 < t.size() && is_digit(t[i + 1]);
        const bool digit = is_digit(t[i]) && (i == 0 || !glues_before(t[i - 1]));
        if (!plus && !digit) {
            out += t[i++];
            continue;
        }
        const std::size_t end = phone_run(t, i, digits);
        const std::size_t count = digits.size() - (plus ? 1 : 0);
        const bool phone = count >= 8 && (end == t.size() || !glues_after(t[end]));
        out += phone ? mask_phone(digits) : std::string(t.substr(i, end - i));
        i = end;
    }
    return out;
}

}  // namespace

std::string mask_phone(std::string_view phone) {
    if (phone.size() <= 6) return std::string(phone.size(), '*');
    return std::string(phone.substr(0, 3)) + std::string(phone.size() - 5, '*') +
           std::string(phone.substr(phone.size() - 2));
}

std::string mask_email(std::string_view email) {
    const auto at = email.find('@');
    if (at == std::string_view::npos || at == 0) return "***";
    return std::string(email.substr(0, 1)) + "***" + std::string(email.substr(at));
}

std::string mask_pii(std::string_view text) { return mask_phones(mask_emails(text)); }

}  // namespace tfadesk::rules
