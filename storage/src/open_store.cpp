// engine::open_store: picks the backend from the location.
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/store.hpp"
#include "tfadesk/storage/database.hpp"

namespace tfadesk::engine {

std::unique_ptr<Store> open_store(const std::string& location, Store::Mode mode) {
    if (location.rfind("postgresql://", 0) == 0 || location.rfind("postgres://", 0) == 0)
        throw Error(ErrorKind::invalid_input, "PostgreSQL stores are not built into this tfadesk");
    // SPEC §4: what exits 0 must survive, so a database that is not a file on disk is refused.
    const bool in_memory = location.empty() || location == ":memory:" ||
                           (location.rfind("file:", 0) == 0 && (location.find("mode=memory") != std::string::npos ||
                                                                 location.find(":memory:") != std::string::npos));
    if (in_memory)
        throw Error(ErrorKind::invalid_input, "--db: '" + location + "' is not a file on disk; give the path of a database file");
    return std::make_unique<storage::Database>(location, mode);
}

}  // namespace tfadesk::engine
