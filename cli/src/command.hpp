// The command registry of the `tfadesk` program. One command per file (cli/src/commands/):
// each knows its name, who uses it, its description and whether it only reads; main.cpp builds
// the CLI11 parser and the help from this list. Commands write to the streams in Context, so
// nothing here assumes a terminal.
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/engine/store.hpp"

namespace tfadesk::cli {

struct Context {
    Context(std::string db, std::ostream& o, std::ostream& e, bool out_term, bool err_term)
        : db_path(std::move(db)),
          out(o),
          err(e),
          out_is_terminal(out_term),
          err_is_terminal(err_term) {}
    std::string db_path;
    std::ostream& out;
    std::ostream& err;
    bool out_is_terminal = false;
    bool err_is_terminal = false;
    engine::Store::Mode mode = engine::Store::Mode::read_only;  // from the command's read_only()
    std::optional<std::string> key_path;                        // --key / $TFADESK_KEY: seal writes
    std::optional<std::string> token_file;                      // --token-file: the account's token

    // Who runs this write command (SPEC §12). On a desk with accounts: the account whose token is
    // in
    // --token-file or $TFADESK_TOKEN (none, or one the log does not know: exit 7); `agent`, when
    // given, must name that account (exit 7). On a desk without accounts: `agent` (exit 2 when
    // empty). `agent` is the --agent flag as typed; `desk` the store to ask (default: store()), or
    // null for a desk that does not exist yet.
    desk::Actor actor(const std::string& agent);
    desk::Actor actor(const std::string& agent, engine::Store* desk);

    // The store for this command, opened on first use in the command's mode (read-only commands
    // never create it; write commands seal what they commit when a key is given).
    engine::Store& store();
    // Opens the store in `mode` for a command that decides for itself (import --dry-run).
    std::unique_ptr<engine::Store> open(engine::Store::Mode mode) const;
    // Whether the database exists already (a write that needs an existing ticket must not create
    // it).
    bool store_exists() const;
    // Paths an output file must never replace: the database (and its -wal/-shm) and inputs.
    std::vector<std::string> protected_paths() const;
    std::vector<std::string> inputs;  // files the command reads

private:
    std::unique_ptr<engine::Store> store_;
    mutable std::optional<bool> exists_;
};

class Command {
public:
    virtual ~Command() = default;
    virtual const char* name() const = 0;
    virtual const char* audience() const = 0;  // "agents", "operators" or "auditors"
    virtual const char* description() const = 0;
    virtual const char* example() const = 0;
    virtual bool read_only() const = 0;
    // Adds the command's flags to its CLI11 subcommand.
    virtual void setup(CLI::App& app) = 0;
    // Runs after a successful parse; returns the exit code (SPEC §4) or throws engine::Error.
    virtual int run(Context& ctx) = 0;
};

std::vector<std::unique_ptr<Command>> make_commands();

// A count flag (--expect-version, --sla-hours): decimal digits only, no sign, no overflow;
// Error(invalid_input) naming the flag otherwise.
std::optional<std::int64_t> parse_count(const std::optional<std::string>& text, const char* flag);

// Shared flag helpers.
void add_agent_option(CLI::App& app, std::string& agent);
void add_json_flag(CLI::App& app, bool& json);

}  // namespace tfadesk::cli
