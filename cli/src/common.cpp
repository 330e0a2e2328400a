#include "command.hpp"
#include "tfadesk/desk/seal.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::cli {

std::unique_ptr<engine::Store> Context::open(engine::Store::Mode m) const {
    auto s = engine::open_store(db_path, m);
    if (m == engine::Store::Mode::read_write && key_path) desk::seal_with_key(*s, *key_path);
    return s;
}

engine::Store& Context::store() {
    if (!store_) store_ = open(mode);
    return *store_;
}

bool Context::store_exists() const {
    if (!exists_) exists_ = engine::store_exists(db_path);
    return *exists_;
}

std::vector<std::string> Context::protected_paths() const {
    std::vector<std::string> paths = inputs;
    if (!engine::is_postgres_location(db_path))
        for (const char* suffix : {"", "-wal", "-shm", "-journal"}) paths.push_back(db_path + suffix);
    return paths;
}

std::optional<std::int64_t> parse_count(const std::optional<std::string>& text, const char* flag) {
    if (!text) return std::nullopt;
    const std::string bad = std::string(flag) + ": must be a whole number from 0 to 999999999999999999 (got '" +
                            desk::printable(*text) + "')";
    if (text->empty() || text->size() > 18) throw engine::Error(engine::ErrorKind::invalid_input, bad);
    std::int64_t v = 0;
    for (char c : *text) {
        if (c < '0' || c > '9') throw engine::Error(engine::ErrorKind::invalid_input, bad);
        v = v * 10 + (c - '0');
    }
    return v;
}

void add_agent_option(CLI::App& app, std::string& agent) {
    app.add_option("--agent", agent, "the agent doing this (stored with every event)")
        ->envname("TFADESK_AGENT")
        ->required();
}

void add_json_flag(CLI::App& app, bool& json) {
    app.add_flag("--json", json, "one JSON document on stdout, with stable keys");
}

}  // namespace tfadesk::cli
