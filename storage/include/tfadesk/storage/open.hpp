// Which store serves a location, decided here and nowhere else. A location is either a URI of a
// scheme a backend registered (postgresql://...) or a SQLite file path. Backends register
// themselves with a BackendRegistrar at static initialisation (storage/src/postgres/provider.cpp);
// neither the engine nor the fronts know a scheme. A program built without a backend (the light
// `tfadesk` has no PostgreSQL) still recognises its locations (is_server_location) and can hand
// them on.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::storage {

// A store reached by a URI: what it serves and the four things the registry asks of it.
struct Backend {
    std::vector<std::string> schemes;  // without "://", e.g. {"postgresql", "postgres"}
    // Opens the store at `location` (read_only never creates anything).
    std::unique_ptr<engine::Store> (*open)(const std::string& location, engine::Store::Mode mode);
    // Whether a desk exists at `location`, creating nothing.
    bool (*exists)(const std::string& location);
    // `location` as messages may show it (passwords masked).
    std::string (*shown)(const std::string& location);
    // The client library this build runs on, as --version names it ("libpq 15.20").
    std::string (*version)();
};

// Registers a backend; define one as a namespace-scope constant of the backend's own code:
// `const BackendRegistrar registrar{Backend{...}};`.
class BackendRegistrar {
public:
    explicit BackendRegistrar(Backend backend);
};

// Opens the store at `location`: a registered backend's URI, else a SQLite file.
std::unique_ptr<engine::Store> open_store(const std::string& location, engine::Store::Mode mode);
// Whether a desk exists at `location`, without creating anything. Error(unexpected) when a server
// cannot be asked.
bool store_exists(const std::string& location);
// `location` as messages may show it: a URI's password masked (as Store::location() does).
std::string shown_location(const std::string& location);
// Whether `location` is a URI of a scheme tfadesk has a backend for - built into this program or
// not (postgresql://, postgres://): anything else is a SQLite file path.
bool is_server_location(const std::string& location);
// Whether this program has the backend for `location` (always true for a SQLite file).
bool has_backend_for(const std::string& location);
// The client libraries of the backends built into this program, as --version names them.
std::vector<std::string> backend_versions();

}  // namespace tfadesk::storage
