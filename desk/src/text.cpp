// The desk's check of a person's text input (desk/text.hpp).
#include "tfadesk/desk/text.hpp"

#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::desk {

std::optional<std::string> blank_to_nullopt(const std::optional<std::string>& value,
                                            std::string_view field, bool multiline) {
    if (!value || rules::is_blank(*value)) return std::nullopt;
    if (auto bad = rules::check_text(*value, multiline))
        throw engine::Error::about(engine::ErrorKind::invalid_input, field, *bad);
    return value;
}

}  // namespace tfadesk::desk
