// Text the desk takes in from a person. Escaping (rules::escape_control), masking
// (rules::mask_phone, rules::mask_email, rules::mask_pii) and blanks (rules::is_blank,
// rules::trim_blank) are the rules' own, called by those names everywhere.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tfadesk::desk {

// An input's value, or nothing when it is blank; Error(invalid_input) about the input `field`
// when it holds control characters (line breaks allowed when `multiline`) or is not UTF-8.
std::optional<std::string> blank_to_nullopt(const std::optional<std::string>& value,
                                            std::string_view field, bool multiline);

}  // namespace tfadesk::desk
