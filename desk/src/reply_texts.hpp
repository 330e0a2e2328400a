// The built-in English texts of the replies (SPEC §11), kept apart from the code that loads and
// renders them so that a reader can review the wording in one place. Internal to desk/.
#pragma once

#include <map>
#include <string>

#include "tfadesk/desk/reply.hpp"

namespace tfadesk::desk::texts {

// Every state of SPEC §3 and every snippet of snippets(), by name; source "built-in".
const std::map<std::string, TemplateText, std::less<>>& builtin();

}  // namespace tfadesk::desk::texts
