// The account cache and the seals (AccountsAndSeals, CopyTarget).
#include "../rows.hpp"
#include "impl.hpp"

namespace tfadesk::storage {

bool PgStore::has_accounts() {
    auto& impl = *impl_;
    return impl.guard([&] {
        if (!impl.ready()) return false;
        impl.flush();
        return !impl.q.exec_prepared("has_accounts").empty();
    });
}

std::optional<engine::Account> PgStore::account(std::string_view name) {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::optional<engine::Account> {
        if (!impl.ready()) return std::nullopt;
        const auto r = impl.q.exec_prepared("account", std::string(name));
        if (r.empty()) return std::nullopt;
        return account_from(r[0]);
    });
}

std::optional<engine::Account> PgStore::account_by_token(std::string_view token_hash) {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::optional<engine::Account> {
        if (!impl.ready()) return std::nullopt;
        const auto r = impl.q.exec_prepared("account_by_token", std::string(token_hash));
        if (r.empty()) return std::nullopt;
        return account_from(r[0]);
    });
}

std::optional<std::string> PgStore::account_token_hash(std::string_view name) {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::optional<std::string> {
        if (!impl.ready()) return std::nullopt;
        const auto r = impl.q.exec_prepared("account_token_hash", std::string(name));
        if (r.empty()) return std::nullopt;
        return opt_text(r[0][0]);
    });
}

void PgStore::for_each_account(const std::function<void(const engine::Account&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (!impl.ready()) return;
        for (const auto& r :
             impl.q.exec(std::string("SELECT ") + kAccountColumns + " FROM accounts ORDER BY name"))
            fn(account_from(r));
    });
}

void PgStore::put_account(const engine::Account& a, const std::optional<std::string>& token_hash) {
    auto& impl = *impl_;
    impl.require_write("put_account");
    impl.guard([&] { impl.write_account(a, token_hash); });
}

// --- seals -------------------------------------------------------------------------------------

std::optional<engine::Seal> PgStore::last_seal() {
    auto& impl = *impl_;
    return impl.guard([&]() -> std::optional<engine::Seal> {
        if (!impl.ready()) return std::nullopt;
        const auto r = impl.q.exec_prepared("last_seal");
        if (r.empty()) return std::nullopt;
        return engine::Seal{number(r[0][0]), text(r[0][1]), text(r[0][2])};
    });
}

void PgStore::for_each_seal(
    const std::function<void(const engine::Seal&, const std::optional<std::string>&)>& fn) {
    auto& impl = *impl_;
    impl.guard([&] {
        if (!impl.ready()) return;
        impl.flush();
        impl.scan(
            "SELECT s.seq, s.hash, s.note, e.hash FROM seals s LEFT JOIN events e ON e.seq = s.seq "
            "ORDER BY s.seq",
            [&](const pqxx::row& r) {
                fn(engine::Seal{number(r[0]), text(r[1]), text(r[2])}, opt_text(r[3]));
            });
    });
}

void PgStore::put_seal(const engine::Seal& seal) {
    auto& impl = *impl_;
    impl.require_write("put_seal");
    impl.guard([&] {
        Params p;
        p.add(seal.seq);
        p.add(seal.hash);
        p.add(seal.note);
        impl.q.exec_prepared("insert_seal", p.dynamic());
    });
}

}  // namespace tfadesk::storage
