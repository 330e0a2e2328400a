#include "tfadesk/desk/access.hpp"

#include "tfadesk/rules/agent.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;


std::string canonical_agent(std::string_view raw, std::string_view flag) {
    auto result = rules::canonical_agent(raw);
    if (auto* bad = std::get_if<rules::FieldError>(&result)) throw Error(ErrorKind::invalid_input, std::string(flag) + ": " + bad->reason);
    return std::get<std::string>(result);
}

void authorize(engine::Store& store, const std::string& agent, std::string_view role, std::string_view what) {
    if (!store.has_accounts()) return;
    const auto account = store.account(agent);
    const std::string who = "agent '" + agent + "'";
    if (!account)
        throw Error(ErrorKind::forbidden, who + " has no account on this desk, so it may not " + std::string(what));
    if (!account->enabled)
        throw Error(ErrorKind::forbidden, "the account of agent '" + agent + "' is disabled, so it may not " + std::string(what));
    if (!account->has(role))
        throw Error(ErrorKind::forbidden,
                    who + " may not " + std::string(what) + ": the account lacks the role '" + std::string(role) + "'");
}

}  // namespace tfadesk::desk
