// Text that leaves the desk for a person: control characters escaped so a crafted value cannot
// move a terminal's cursor or forge a line, personal data masked as the logs mask it.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tfadesk::desk {

// `s` with control characters (and invalid UTF-8 bytes) shown as escapes: \n, \t, \x1b, ...
std::string printable(std::string_view s);

// Masks personal data for logs and errors: "+4915****5678", "j***@example.com".
std::string mask_phone(const std::string& phone);
std::string mask_email(const std::string& email);
// Masks every phone-like run of digits and every email address inside a message.
std::string mask_personal_data(std::string_view message);

// `s` without surrounding white space (ASCII, Unicode spaces, zero-width characters).
std::string_view trim_space(std::string_view s);
// True when `s` holds nothing but white space (ASCII, Unicode spaces, zero-width characters).
bool is_blank(std::string_view s);

// An input's value, or nothing when it is blank; Error(invalid_input) about the input `field`
// when it holds control characters (line breaks allowed when `multiline`) or is not UTF-8.
std::optional<std::string> blank_to_nullopt(const std::optional<std::string>& value,
                                            std::string_view field, bool multiline);

}  // namespace tfadesk::desk
