// Canonical agent names; see agent.hpp.
#include "tfadesk/rules/agent.hpp"

#include "tfadesk/rules/text.hpp"
#include "utf8.hpp"

namespace tfadesk::rules {

namespace {

bool is_agent_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
           c == '@';
}

FieldError bad_agent(std::string reason) { return FieldError{"agent", std::move(reason)}; }

}  // namespace

std::variant<std::string, FieldError> canonical_agent(std::string_view raw) {
    if (!utf8::is_valid(raw)) return bad_agent("is not valid UTF-8");
    const std::string_view name = trim_blank(raw);
    if (name.empty())
        return bad_agent("is empty: an agent name is 1-64 characters of a-z 0-9 . _ - @");
    std::string out;
    out.reserve(name.size());
    std::size_t chars = 0;
    for (std::size_t i = 0; i < name.size(); ++chars) {
        char32_t cp = 0;
        const std::size_t n = utf8::decode(name, i, cp);  // well-formed: checked above
        const char c = cp >= 'A' && cp <= 'Z' ? static_cast<char>(cp - 'A' + 'a')
                                              : static_cast<char>(cp < 0x80 ? cp : 0);
        if (cp >= 0x80 || !is_agent_char(c))
            return bad_agent("may hold only a-z 0-9 . _ - @ (found " + utf8::describe(cp) +
                             " at character " + std::to_string(chars + 1) + ")");
        out += c;
        i += n;
    }
    if (out.size() > kMaxAgentLength)
        return bad_agent("must be at most 64 characters of a-z 0-9 . _ - @ (has " +
                         std::to_string(out.size()) + ")");
    return out;
}

}  // namespace tfadesk::rules
