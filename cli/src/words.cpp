#include "words.hpp"

#include <array>
#include <utility>

namespace tfadesk::cli {

namespace {

using Kind = engine::Words::Kind;

// Fields whose flag is not `--` + the name with dashes.
constexpr std::array<std::pair<std::string_view, std::string_view>, 2> kFlags = {{
    {"name", "NAME"},     // an account's name is the argument of `agent add|disable|...`
    {"roles", "--role"},  // `agent add --role admin,operator`
}};

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kActions = {{
    {"agent_elsewhere", " (or set TFADESK_AGENT)"},
    {"agent_source", " (--agent or TFADESK_AGENT)"},
    {"verify_with_key", "run verify --verifier-key"},
    {"adopt", "with tfadesk seal --adopt"},
    {"seal_with_key", "seal writes with --key"},
    {"sign_with_key", "(--sign-key FILE, or the page's passkey)"},
    {"countersign_with_key", "(--countersign-key FILE)"},
}};

bool is_field_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name)
        if (!(c >= 'a' && c <= 'z') && c != '_') return false;
    return true;
}

}  // namespace

std::optional<std::string> cli_word(Kind kind, std::string_view name) {
    if (kind == Kind::action) {
        for (const auto& [action, words] : kActions)
            if (action == name) return std::string(words);
        return std::nullopt;
    }
    for (const auto& [field, flag] : kFlags)
        if (field == name) return std::string(flag);
    if (!is_field_name(name)) return std::nullopt;
    std::string flag = "--";
    for (char c : name) flag += c == '_' ? '-' : c;
    return flag;
}

std::string cli_message(const engine::Error& e) { return e.spelled(&cli_word); }

}  // namespace tfadesk::cli
