#include "command.hpp"
#include "tfadesk/desk/seal.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/ingest/output_file.hpp"
#include "tfadesk/rules/numbers.hpp"

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
        for (auto& p : ingest::database_files(db_path)) paths.push_back(std::move(p));
    return paths;
}

std::optional<std::int64_t> parse_count(const std::optional<std::string>& text, const char* flag) {
    if (!text) return std::nullopt;
    const auto v = rules::parse_count(*text);
    if (!v)
        throw engine::Error(engine::ErrorKind::invalid_input, std::string(flag) + ": must be a whole number (decimal digits only) (got '" +
                                                                  desk::printable(*text) + "')");
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
