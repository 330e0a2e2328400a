#include <spdlog/spdlog.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "command.hpp"
#include "tfadesk/desk/accounts.hpp"
#include "tfadesk/desk/seal.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/ingest/output_file.hpp"
#include "tfadesk/rules/agent.hpp"
#include "tfadesk/rules/numbers.hpp"
#include "tfadesk/rules/text.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::cli {

std::unique_ptr<engine::Store> Context::open(engine::Store::Mode m) const {
    auto s = storage::open_store(db_path, m);
    if (m == engine::Store::Mode::read_write) {
        if (key_path)
            desk::seal_with_key(*s, *key_path);
        else
            desk::refuse_unsealed_writes(*s);
    }
    return s;
}

engine::Store& Context::store() {
    if (!store_) store_ = open(mode);
    return *store_;
}

bool Context::store_exists() const {
    if (!exists_) exists_ = storage::store_exists(db_path);
    return *exists_;
}

namespace {

// The token from --token-file (its first line, white space around it dropped) or $TFADESK_TOKEN.
std::optional<std::string> read_token(const std::optional<std::string>& file) {
    std::string token;
    if (file) {
        std::ifstream in(*file, std::ios::binary);
        if (!in)
            throw engine::Error(engine::ErrorKind::invalid_input,
                                "--token-file: cannot read " + rules::escape_control(*file));
        std::getline(in, token);
    } else if (const char* env = std::getenv("TFADESK_TOKEN")) {
        token = env;
    } else {
        return std::nullopt;
    }
    const auto first = token.find_first_not_of(" \t\r\n");
    const auto last = token.find_last_not_of(" \t\r\n");
    return first == std::string::npos ? std::string() : token.substr(first, last - first + 1);
}

}  // namespace

desk::Actor Context::actor(const std::string& agent) { return actor(agent, &store()); }

desk::Actor Context::actor(const std::string& agent, engine::Store* desk) {
    if (!desk || !desk->has_accounts()) {
        if (agent.empty())
            throw engine::Error(engine::ErrorKind::invalid_input,
                                "--agent: an agent name is required (or set TFADESK_AGENT)");
        return desk::Actor{desk::canonical_agent(agent)};
    }
    const std::string named =
        agent.empty() ? std::string() : "agent '" + desk::canonical_agent(agent) + "': ";
    const auto token = read_token(token_file);
    if (!token)
        throw engine::Error(engine::ErrorKind::forbidden,
                            named +
                                "this desk has accounts, so a write needs the account's own token "
                                "(--token-file FILE or "
                                "$TFADESK_TOKEN); nothing was written");
    auto who = desk::authenticate_actor(*desk, *token);
    if (!who) {
        spdlog::info("sign-in failed on the command line for {}",
                     agent.empty() ? "unknown" : rules::escape_control(agent));
        // Name a disabled account as such: the log, not the row, says it is disabled.
        if (const auto row = desk->account_by_token(desk::token_hash(*token)))
            if (const auto a = desk::account_from_log(*desk, row->name); a && !a->enabled)
                throw engine::Error(
                    engine::ErrorKind::forbidden,
                    "the account of agent '" + a->name + "' is disabled; nothing was written");
        throw engine::Error(
            engine::ErrorKind::forbidden,
            named +
                "the token is unknown, replaced, or its account is disabled; nothing was written");
    }
    if (!agent.empty() && desk::canonical_agent(agent) != who->name)
        throw engine::Error(engine::ErrorKind::forbidden, "--agent '" +
                                                              rules::escape_control(agent) +
                                                              "' is not the token's account '" +
                                                              who->name + "'; nothing was written");
    return *who;
}

std::vector<std::string> Context::protected_paths() const {
    std::vector<std::string> paths = inputs;
    if (!storage::is_server_location(db_path))
        for (auto& p : ingest::database_files(db_path)) paths.push_back(std::move(p));
    return paths;
}

std::optional<std::int64_t> parse_count(const std::optional<std::string>& text, const char* flag) {
    if (!text) return std::nullopt;
    const auto v = rules::parse_count(*text);
    if (!v)
        throw engine::Error(engine::ErrorKind::invalid_input,
                            std::string(flag) +
                                ": must be a whole number (decimal digits only) (got '" +
                                rules::escape_control(*text) + "')");
    return v;
}

void add_agent_option(CLI::App& app, std::string& agent) {
    app.add_option("--agent", agent,
                   "the agent doing this (stored with every entry); on a desk with accounts the "
                   "token's account, "
                   "which --agent may name")
        ->envname("TFADESK_AGENT")
        // A name given is checked as it is parsed: an empty or invalid one is exit 2 (SPEC §2),
        // never mistaken for a missing --agent on a desk whose token names the agent.
        ->check([](const std::string& value) {
            const auto result = rules::canonical_agent(value);
            const auto* bad = std::get_if<rules::FieldError>(&result);
            return bad ? bad->reason : std::string();
        });
}

void add_json_flag(CLI::App& app, bool& json) {
    app.add_flag("--json", json, "one JSON document on stdout, with stable keys");
}

}  // namespace tfadesk::cli
