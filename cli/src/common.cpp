#include <chrono>

#include "command.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::cli {

std::string Context::now() {
    using namespace std::chrono;
    const auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    // Formatting costs more than a clock read; an import asks many times within one millisecond.
    static std::int64_t last_ms = -1;
    static std::string last;
    if (ms != last_ms) {
        last_ms = ms;
        last = rules::format_utc_ms(ms);
    }
    return last;
}

storage::Database Context::open(storage::Database::Mode mode) const {
    return storage::Database(db_path, mode);
}

void add_agent_option(CLI::App& app, std::string& agent) {
    app.add_option("--agent", agent, "the agent doing this (stored with every event)")
        ->envname("TFADESK_AGENT")
        ->required();
}

void add_json_flag(CLI::App& app, bool& json) {
    app.add_flag("--json", json, "one JSON document on stdout, with stable keys");
}

std::string mask_phone(const std::string& phone) {
    if (phone.size() <= 6) return std::string(phone.size(), '*');
    return phone.substr(0, 3) + std::string(phone.size() - 5, '*') + phone.substr(phone.size() - 2);
}

std::string mask_email(const std::string& email) {
    const auto at = email.find('@');
    if (at == std::string::npos || at == 0) return "***";
    return email.substr(0, 1) + "***" + email.substr(at);
}

}  // namespace tfadesk::cli
