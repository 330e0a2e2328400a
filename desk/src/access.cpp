#include "tfadesk/desk/access.hpp"

#include "tfadesk/desk/sla.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/agent.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;

std::string canonical_agent(std::string_view raw, std::string_view field) {
    auto result = rules::canonical_agent(raw);
    if (auto* bad = std::get_if<rules::FieldError>(&result))
        throw Error::about(ErrorKind::invalid_input, field, bad->reason);
    // SPEC §16: the SLA scheduler's name is nobody else's (sla.cpp writes it without asking here).
    if (std::get<std::string>(result) == kSlaAgent)
        throw Error::about(
            ErrorKind::invalid_input, field,
            "'" + std::string(kSlaAgent) + "' is reserved for the server's SLA scheduler");
    return std::get<std::string>(result);
}

std::optional<engine::Account> account_from_log(engine::Store& store, std::string_view name) {
    const auto entries = store.entries(engine::account_key(name));
    if (entries.empty()) return std::nullopt;
    return engine::replay_account(entries);
}

std::map<std::string, engine::Account, std::less<>> accounts_from_log(engine::Store& store) {
    std::map<std::string, engine::Account, std::less<>> out;
    for (const auto& e : store.account_entries()) {
        const std::string name = e.ref.substr(engine::kAccountPrefix.size());
        const auto it = out.find(name);
        auto after = engine::apply_account_entry(
            it == out.end() ? std::nullopt : std::optional(it->second), e);
        out.insert_or_assign(name, std::move(after));
    }
    return out;
}

void authorize(engine::Store& store, const Actor& actor, std::string_view role,
               std::string_view what) {
    if (!store.has_accounts()) return;
    const std::string& agent = actor.name;
    const std::string who = "agent '" + agent + "'";
    const auto account = account_from_log(store, agent);
    if (!account)
        throw Error(ErrorKind::forbidden,
                    who + " has no account on this desk, so it may not " + std::string(what));
    if (!account->enabled)
        throw Error(ErrorKind::forbidden, "the account of agent '" + agent +
                                              "' is disabled, so it may not " + std::string(what));
    if (!account->has(role))
        throw Error(ErrorKind::forbidden, who + " may not " + std::string(what) +
                                              ": the account lacks the role '" + std::string(role) +
                                              "'");
    if (actor.token_id.empty())
        throw Error(
            ErrorKind::forbidden,
            who + " may not " + std::string(what) +
                " without its token: this desk has accounts, so every write is authenticated");
    if (!account->token_id.empty() && account->token_id != actor.token_id)
        throw Error(ErrorKind::forbidden,
                    who + " may not " + std::string(what) +
                        ": the token it used is no longer the account's token of record");
}

Actor connector_actor(engine::Store& store, std::string_view account, std::string_view source) {
    const std::string who =
        "connector '" + std::string(source) + "': account '" + std::string(account) + "'";
    const auto a = account_from_log(store, account);
    if (!a) throw Error(ErrorKind::forbidden, who + " does not exist on this desk");
    if (!a->enabled) throw Error(ErrorKind::forbidden, who + " is disabled");
    if (!a->has("agent")) throw Error(ErrorKind::forbidden, who + " lacks the role 'agent'");
    if (a->token_id.empty())
        throw Error(ErrorKind::forbidden,
                    who + " has no token of record (issue one with `agent token`)");
    return Actor{a->name, a->token_id, std::string(engine::kViaIntakePrefix) + std::string(source)};
}

}  // namespace tfadesk::desk
