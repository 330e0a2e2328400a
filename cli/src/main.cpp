// tfadesk: the composition root. Parses the command line with CLI11, sets up logging on stderr,
// runs one command and turns any error into one line on stderr and the exit code of SPEC §4.
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "command.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/ingest/output_file.hpp"
#include "tfadesk/rules/mask.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/text.hpp"
#include "tfadesk/storage/database.hpp"
#include "tfadesk/storage/open.hpp"
#include "version.hpp"
#include "words.hpp"

namespace {

// ", libpq 15.20" for each store backend built in.
std::string backends() {
    std::string out;
    for (const auto& v : tfadesk::storage::backend_versions()) out += ", " + v;
    return out;
}

std::string version_text() {
    return std::string("tfadesk ") + TFADESK_VERSION + " (policy version " +
           std::to_string(tfadesk::rules::kPolicyVersion) + ", SQLite " +
           tfadesk::storage::sqlite_version() + backends() + ")";
}

// The command word: the first argument that is neither a global option nor its value ("" when
// there is none).
std::string command_word(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word.rfind("-", 0) != 0) return word;
        if ((word == "--db" || word == "--key" || word == "--token-file" ||
             word == "--log-level") &&
            i + 1 < argc)
            ++i;
    }
    return "";
}

bool is_command(const std::vector<std::unique_ptr<tfadesk::cli::Command>>& commands,
                const std::string& word) {
    for (const auto& c : commands)
        if (word == c->name()) return true;
    return false;
}

// CLI11 says "A subcommand is required" for a mistyped command; name the word instead.
std::string parse_error_text(const CLI::ParseError& e, int argc, char** argv,
                             const std::vector<std::unique_ptr<tfadesk::cli::Command>>& commands) {
    const std::string word = command_word(argc, argv);
    if (word.empty() || is_command(commands, word)) return e.what();
    return "unknown command '" + word + "'";
}

int run(int argc, char** argv) {
    using namespace tfadesk;
    auto commands = cli::make_commands();

    CLI::App app{
        "tfadesk - disable WhatsApp Business 2FA on a client's behalf, with four eyes "
        "and a hash-chained audit log.",
        "tfadesk"};
    app.set_version_flag("--version", version_text());
    app.require_subcommand(1);
    app.fallthrough();
    std::string db = "./tfadesk.db";
    std::string level = "warn";
    app.add_option("--db", db, "database file (default ./tfadesk.db)")->envname("TFADESK_DB");
    std::optional<std::string> key;
    app.add_option("--key", key, "desk key: seal what write commands commit (SPEC §8)")
        ->envname("TFADESK_KEY");
    std::optional<std::string> token_file, token;
    app.add_option("--token-file", token_file,
                   "a file holding your account's API token: writes on a desk with accounts need "
                   "it (or $TFADESK_TOKEN)");
    app.add_option("--token", token, "refused: a token on the command line shows in ps")->group("");
    app.add_option("--log-level", level, "log level on stderr")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

    std::string groups;
    for (const char* audience : {"agents", "operators", "auditors", "admins"}) {
        groups += std::string("\nFor ") + audience + ":\n";
        for (const auto& c : commands)
            if (std::string(c->audience()) == audience)
                groups += "  " + std::string(c->name()) +
                          std::string(18 - std::string(c->name()).size(), ' ') + c->description() +
                          "\n";
    }
    app.footer(groups +
               "\nExit codes: 0 done, 1 unexpected error, 2 invalid input, 3 refused by the "
               "workflow, 4 no such ticket, 5 conflict, 6 integrity failure, 7 not permitted.\n"
               "Run 'tfadesk COMMAND --help' for a command's flags and an example.");

    // A known command sets up only its own flags: CLI11 spent more of a one-event process
    // setting up the other eighteen (1.9M of 8.7M instructions, callgrind) than the event itself.
    // `completion` lists every command, and no command word or a mistyped one needs them all.
    const std::string word = command_word(argc, argv);
    const bool only_one = word != "completion" && is_command(commands, word);
    std::vector<std::pair<CLI::App*, cli::Command*>> subs;
    for (auto& c : commands) {
        if (only_one && word != c->name()) continue;
        CLI::App* sub = app.add_subcommand(c->name(), c->description());
        sub->group("");  // listed once, grouped by audience, in the footer
        sub->footer(std::string("Example:\n  ") + c->example());
        c->setup(*sub);
        subs.emplace_back(sub, c.get());
    }

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "tfadesk: error: " << parse_error_text(e, argc, argv, commands)
                  << " (run 'tfadesk --help')\n";
        return 2;
    }

    if (token) {
        std::cerr << "tfadesk: error: --token: a token on the command line shows in ps; use "
                     "--token-file FILE or "
                     "$TFADESK_TOKEN\n";
        return 2;
    }

    auto logger = spdlog::stderr_color_mt("tfadesk");
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
    spdlog::set_default_logger(logger);
    spdlog::set_level(spdlog::level::from_str(level));

    cli::Context ctx{db, std::cout, std::cerr, isatty(STDOUT_FILENO) != 0,
                     isatty(STDERR_FILENO) != 0};
    ctx.key_path = key;
    ctx.token_file = token_file;
    for (auto& [sub, command] : subs)
        if (sub->parsed()) {
            ctx.mode = command->read_only() ? engine::Store::Mode::read_only
                                            : engine::Store::Mode::read_write;
            return command->run(ctx);
        }
    return 2;
}

}  // namespace

#ifndef TFADESK_FULL
// The light `tfadesk` links neither the server nor the PostgreSQL store, whose libraries cost a
// one-event command ~6 ms to load (bench/README). A command that needs them - `serve`, or any
// postgresql:// location (--db, $TFADESK_DB, migrate's --from/--to) - is handed, before anything
// is parsed or written, to `tfadesk-full` beside this program: the same commands, all built in.
namespace {

bool needs_full(int argc, char** argv) {
    if (command_word(argc, argv) == "serve") return true;
    auto pg = [](std::string_view v) {
        const std::string location(v);
        return tfadesk::storage::is_server_location(location) &&
               !tfadesk::storage::has_backend_for(location);
    };
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        for (std::string_view flag : {"--db", "--from", "--to"}) {
            if (a == flag && i + 1 < argc && pg(argv[i + 1])) return true;
            if (a.size() > flag.size() && a.substr(0, flag.size()) == flag &&
                a[flag.size()] == '=' && pg(a.substr(flag.size() + 1)))
                return true;
        }
    }
    const char* env = std::getenv("TFADESK_DB");
    return env && pg(env);
}

[[noreturn]] void run_full(char** argv) {
    std::error_code ec;
    const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    const std::string full =
        (ec ? std::filesystem::path(argv[0]).parent_path() : self.parent_path()) / "tfadesk-full";
    ::execv(full.c_str(), argv);
    std::cerr << "tfadesk: error: cannot run " << full << ": " << std::strerror(errno) << "\n";
    std::exit(1);
}

}  // namespace
#endif

int main(int argc, char** argv) {
#ifndef TFADESK_FULL
    if (needs_full(argc, argv)) run_full(argv);
#endif
    try {
        const int code = run(argc, argv);
        std::cout.flush();
        return code;
    } catch (const tfadesk::engine::Error& e) {
        std::cout.flush();
        std::cerr << "tfadesk: "
                  << (e.kind() == tfadesk::engine::ErrorKind::refused ? "refused: " : "error: ")
                  << tfadesk::rules::escape_control(
                         tfadesk::rules::mask_pii(tfadesk::cli::cli_message(e)))
                  << "\n";
        return e.exit_code();
    } catch (
        const tfadesk::ingest::PathError& e) {  // an output path refused before writing (SPEC §4)
        std::cout.flush();
        std::cerr << "tfadesk: error: " << e.what() << "\n";
        return 2;
    } catch (const std::exception& e) {
        std::cout.flush();
        std::cerr << "tfadesk: error: "
                  << tfadesk::rules::escape_control(tfadesk::rules::mask_pii(e.what())) << "\n";
        return 1;
    }
}
