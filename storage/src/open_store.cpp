// engine::open_store: picks the backend from the location (a PostgreSQL URI or a SQLite file).
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/store.hpp"
#include "tfadesk/storage/database.hpp"

#include <filesystem>

#include "postgres.hpp"

namespace tfadesk::engine {

bool is_postgres_location(const std::string& location) {
    return location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0;
}

std::string shown_location(const std::string& location) {
    return is_postgres_location(location) ? storage::mask_uri(location) : location;
}

bool store_exists(const std::string& location) {
    if (is_postgres_location(location)) return storage::pg_desk_exists(location);
    std::error_code ec;
    return std::filesystem::exists(location, ec);
}

std::unique_ptr<Store> open_store(const std::string& location, Store::Mode mode) {
    if (is_postgres_location(location)) return std::make_unique<storage::PgStore>(location, mode);
    // SPEC §4: what exits 0 must survive, so a database that is not a file on disk is refused.
    const bool in_memory = location.empty() || location == ":memory:" ||
                           (location.rfind("file:", 0) == 0 && (location.find("mode=memory") != std::string::npos ||
                                                                 location.find(":memory:") != std::string::npos));
    if (in_memory)
        throw Error(ErrorKind::invalid_input, "--db: '" + location + "' is not a file on disk; give the path of a database file");
    return std::make_unique<storage::Database>(location, mode);
}

}  // namespace tfadesk::engine
