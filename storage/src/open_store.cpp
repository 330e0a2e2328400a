// engine::open_store: picks the backend from the location (a PostgreSQL URI or a SQLite file).
#include <filesystem>

#include "postgres.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/store.hpp"
#include "tfadesk/storage/database.hpp"

// The PostgreSQL store lives in tfadesk_storage_pg. A program built without it (the light
// `tfadesk`, which hands PostgreSQL locations to `tfadesk-full`) leaves these weak references
// unresolved (null), so it never loads libpq.
namespace tfadesk::storage {
[[gnu::weak]] std::string mask_uri(const std::string& uri);
[[gnu::weak]] bool pg_desk_exists(const std::string& uri);
[[gnu::weak]] std::unique_ptr<engine::Store> open_pg_store(const std::string& uri,
                                                           engine::Store::Mode mode);
}  // namespace tfadesk::storage

namespace tfadesk::engine {

namespace {

[[noreturn]] void no_postgres() {
    throw Error(ErrorKind::unexpected,
                "this program has no PostgreSQL store built in (use tfadesk, which runs "
                "tfadesk-full for it)");
}

}  // namespace

bool has_postgres_store() { return storage::open_pg_store != nullptr; }

bool is_postgres_location(const std::string& location) {
    return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::string shown_location(const std::string& location) {
    if (!is_postgres_location(location)) return location;
    return storage::mask_uri ? storage::mask_uri(location)
                             : location.substr(0, location.find("://") + 3) + "***";
}

bool store_exists(const std::string& location) {
    if (is_postgres_location(location)) {
        if (!storage::pg_desk_exists) no_postgres();
        return storage::pg_desk_exists(location);
    }
    std::error_code ec;
    return std::filesystem::exists(location, ec);
}

std::unique_ptr<Store> open_store(const std::string& location, Store::Mode mode) {
    if (is_postgres_location(location)) {
        if (!storage::open_pg_store) no_postgres();
        return storage::open_pg_store(location, mode);
    }
    // SPEC §4: what exits 0 must survive, so a database that is not a file on disk is refused.
    const bool in_memory =
        location.empty() || location == ":memory:" ||
        (location.rfind("file:", 0) == 0 && (location.find("mode=memory") != std::string::npos ||
                                             location.find(":memory:") != std::string::npos));
    if (in_memory)
        throw Error(
            ErrorKind::invalid_input,
            "--db: '" + location + "' is not a file on disk; give the path of a database file");
    return std::make_unique<storage::Database>(location, mode);
}

}  // namespace tfadesk::engine
