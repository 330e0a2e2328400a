// The backend registry: a location's scheme -> the backend that serves it (storage/open.hpp).
// SQLite serves every location that is not a URI of a server scheme.
#include <algorithm>
#include <filesystem>
#include <string_view>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/storage/database.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::storage {

namespace {

using engine::Error;
using engine::ErrorKind;

// Every scheme some backend of tfadesk serves, whether or not this program has that backend:
// the light `tfadesk` recognises these locations and hands them to `tfadesk-full`.
constexpr std::string_view kServerSchemes[] = {"postgresql", "postgres"};

// Function-local, so registrars in other translation units may run first.
std::vector<Backend>& registry() {
    static std::vector<Backend> backends;
    return backends;
}

// The scheme of a URI location ("postgresql" of "postgresql://..."), "" for anything else.
std::string_view scheme_of(std::string_view location) {
    const auto end = location.find("://");
    return end == std::string_view::npos ? std::string_view() : location.substr(0, end);
}

const Backend* backend_for(const std::string& location) {
    const auto scheme = scheme_of(location);
    if (scheme.empty()) return nullptr;
    for (const auto& b : registry())
        if (std::find(b.schemes.begin(), b.schemes.end(), scheme) != b.schemes.end()) return &b;
    return nullptr;
}

// A server location this program has no backend for.
const Backend& require_backend(const std::string& location) {
    if (const auto* b = backend_for(location)) return *b;
    throw Error(ErrorKind::unexpected,
                "this program has no PostgreSQL store built in (use tfadesk, which runs "
                "tfadesk-full for it)");
}

}  // namespace

BackendRegistrar::BackendRegistrar(Backend backend) { registry().push_back(std::move(backend)); }

bool is_server_location(const std::string& location) {
    const auto scheme = scheme_of(location);
    return !scheme.empty() && std::find(std::begin(kServerSchemes), std::end(kServerSchemes),
                                        scheme) != std::end(kServerSchemes);
}

bool has_backend_for(const std::string& location) {
    return !is_server_location(location) || backend_for(location) != nullptr;
}

std::vector<std::string> backend_versions() {
    std::vector<std::string> out;
    for (const auto& b : registry()) out.push_back(b.version());
    return out;
}

std::string shown_location(const std::string& location) {
    if (!is_server_location(location)) return location;
    if (const auto* b = backend_for(location)) return b->shown(location);
    return std::string(scheme_of(location)) + "://***";
}

bool store_exists(const std::string& location) {
    if (is_server_location(location)) return require_backend(location).exists(location);
    std::error_code ec;
    return std::filesystem::exists(location, ec);
}

std::unique_ptr<engine::Store> open_store(const std::string& location, engine::Store::Mode mode) {
    if (is_server_location(location)) return require_backend(location).open(location, mode);
    // SPEC §4: what exits 0 must survive, so a database that is not a file on disk is refused.
    const bool in_memory =
        location.empty() || location == ":memory:" ||
        (location.rfind("file:", 0) == 0 && (location.find("mode=memory") != std::string::npos ||
                                             location.find(":memory:") != std::string::npos));
    if (in_memory)
        throw Error(
            ErrorKind::invalid_input,
            "--db: '" + location + "' is not a file on disk; give the path of a database file");
    return std::make_unique<Database>(location, mode);
}

}  // namespace tfadesk::storage
