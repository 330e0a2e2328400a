#include "tfadesk/desk/access.hpp"

#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;


std::string canonical_agent(std::string_view raw, std::string_view flag) {
    const std::string_view s = trim_space(raw);
    const std::string rule = " (SPEC §2: 1-64 characters of a-z 0-9 . _ - @, case and surrounding spaces ignored)";
    if (s.empty()) throw Error(ErrorKind::invalid_input, std::string(flag) + ": an agent name is required" + rule);
    if (s.size() > 64) throw Error(ErrorKind::invalid_input, std::string(flag) + ": the agent name is longer than 64 characters" + rule);
    std::string out(s);
    for (char& ch : out) {
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-' || ch == '@';
        if (!ok) throw Error(ErrorKind::invalid_input, std::string(flag) + ": the agent name holds a character that is not allowed" + rule);
    }
    return out;
}

void authorize(engine::Store& store, const std::string& agent, std::string_view role, std::string_view what) {
    if (!store.has_accounts()) return;
    const auto account = store.account(agent);
    const std::string who = "agent '" + agent + "'";
    if (!account)
        throw Error(ErrorKind::forbidden, who + " has no account on this desk, so it may not " + std::string(what));
    if (!account->enabled)
        throw Error(ErrorKind::forbidden, who + "'s account is disabled, so it may not " + std::string(what));
    if (!account->has(role))
        throw Error(ErrorKind::forbidden,
                    who + " may not " + std::string(what) + ": the account lacks the role '" + std::string(role) + "'");
}

}  // namespace tfadesk::desk
