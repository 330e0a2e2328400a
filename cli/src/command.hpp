// The command registry of the `tfadesk` program. One command per file (cli/src/commands/):
// each knows its name, who uses it, its description and whether it only reads; main.cpp builds
// the CLI11 parser and the help from this list. Commands write to the streams in Context, so
// nothing here assumes a terminal.
#pragma once

#include <CLI/CLI.hpp>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "tfadesk/storage/database.hpp"

namespace tfadesk::cli {

struct Context {
    std::string db_path;
    std::ostream& out;
    std::ostream& err;
    bool out_is_terminal = false;
    bool err_is_terminal = false;

    // The current time as the log stores it (UTC, ms).
    static std::string now();
    // Opens the database for this command; read-only commands never create it.
    storage::Database open(storage::Database::Mode mode) const;
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

// Shared flag helpers.
void add_agent_option(CLI::App& app, std::string& agent);
void add_json_flag(CLI::App& app, bool& json);

// Masks personal data for logs: "+4915****5678", "j***@example.com".
std::string mask_phone(const std::string& phone);
std::string mask_email(const std::string& email);

}  // namespace tfadesk::cli
