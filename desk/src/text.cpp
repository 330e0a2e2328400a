// The desk's text helpers are the rules' own (one implementation each): escaping, masking, blanks.
#include "tfadesk/desk/text.hpp"

#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/mask.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::desk {

std::string printable(std::string_view s) { return rules::escape_control(s); }
std::string mask_phone(const std::string& phone) { return rules::mask_phone(phone); }
std::string mask_email(const std::string& email) { return rules::mask_email(email); }
std::string mask_personal_data(std::string_view message) { return rules::mask_pii(message); }
std::string_view trim_space(std::string_view s) { return rules::trim_blank(s); }
bool is_blank(std::string_view s) { return rules::is_blank(s); }

std::optional<std::string> blank_to_nullopt(const std::optional<std::string>& value,
                                            std::string_view field, bool multiline) {
    if (!value || rules::is_blank(*value)) return std::nullopt;
    if (auto bad = rules::check_text(*value, multiline))
        throw engine::Error::about(engine::ErrorKind::invalid_input, field, *bad);
    return value;
}

}  // namespace tfadesk::desk
