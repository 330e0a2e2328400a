// TEMP accounts stub (branch `server` only; drop this commit when the real desk/src/accounts.cpp
// lands in main). Just enough of accounts.hpp for the server's tests: parse_roles, add_account,
// authenticate and token_hash, over the store's own account log.
#include "tfadesk/desk/accounts.hpp"

#include <sodium.h>

#include <algorithm>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/chain.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;

std::set<std::string, std::less<>> parse_roles(std::string_view list) {
    std::set<std::string, std::less<>> out;
    std::size_t start = 0;
    while (start <= list.size()) {
        const auto end = std::min(list.find(',', start), list.size());
        const std::string role(trim_space(list.substr(start, end - start)));
        if (!engine::is_role(role)) throw Error(ErrorKind::invalid_input, "--role: unknown role '" + role + "'");
        out.insert(role);
        start = end + 1;
    }
    return out;
}

std::string token_hash(std::string_view token) { return engine::sha256_hex(token); }

IssuedToken add_account(engine::Store& store, const std::string& raw_name, const std::set<std::string, std::less<>>& roles,
                        const std::string& raw_by) {
    const std::string name = canonical_agent(raw_name, "NAME"), by = canonical_agent(raw_by);
    return engine::in_transaction(store, [&] {
        if (!store.has_accounts() && roles.count("admin") == 0)
            throw Error(ErrorKind::refused, "the first account must hold admin", "accounts", "none");
        authorize(store, by, "admin", "manage accounts");
        if (store.account(name)) throw Error(ErrorKind::conflict, "account '" + name + "' exists");
        if (sodium_init() < 0) throw Error(ErrorKind::unexpected, "libsodium failed to initialise");
        unsigned char bytes[32];
        randombytes_buf(bytes, sizeof bytes);
        IssuedToken out;
        out.token = "tfa_" + engine::to_hex(bytes, sizeof bytes);
        engine::LogEntry e = engine::account_entry(std::nullopt, engine::AccountChange::add, name, roles, by, now_utc());
        out.account = engine::apply_account_entry(std::nullopt, e);
        store.append_account(e, out.account, token_hash(out.token));
        return out;
    });
}

std::optional<engine::Account> authenticate(engine::Store& store, std::string_view token) {
    if (token.empty()) return std::nullopt;
    auto a = store.account_by_token(token_hash(token));
    if (!a || !a->enabled) return std::nullopt;
    return a;
}

}  // namespace tfadesk::desk
