// `tfadesk agent ...`: accounts and roles (SPEC §7). The use cases are in desk/accounts.hpp; this
// file parses, writes a new token once (stdout or --token-out, mode 0600, never over a file) and prints.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/accounts.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::cli {
namespace {

using engine::Error;
using engine::ErrorKind;

// A token file created before the change is made (so a bad path writes nothing) and removed
// again when the change fails.
class TokenFile {
public:
    explicit TokenFile(const std::optional<std::string>& path) : path_(path) {
        if (!path_) return;
        fd_ = ::open(path_->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd_ < 0)
            throw Error(ErrorKind::invalid_input, "--token-out " + desk::printable(*path_) + ": " +
                                                      (errno == EEXIST ? "the file exists; a token is never written over a file"
                                                                       : std::strerror(errno)));
    }
    ~TokenFile() {
        if (fd_ >= 0) ::close(fd_);
        if (path_ && !done_) ::unlink(path_->c_str());
    }
    TokenFile(const TokenFile&) = delete;
    TokenFile& operator=(const TokenFile&) = delete;

    // Writes the token to the file, or to `out` when no file was asked for.
    void deliver(const std::string& token, std::ostream& out, std::ostream& err, const std::string& account) {
        if (!path_) {
            out << token << "\n";
            err << "token for '" << account << "' printed above: it is shown only this once\n";
            done_ = true;
            return;
        }
        const std::string line = token + "\n";
        if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()) || ::fsync(fd_) != 0)
            throw Error(ErrorKind::unexpected, "cannot write " + *path_);
        done_ = true;
        err << "token for '" << account << "' written to " << desk::printable(*path_) << " (mode 0600)\n";
    }

private:
    std::optional<std::string> path_;
    int fd_ = -1;
    bool done_ = false;
};

class AgentCommand final : public Command {
public:
    const char* name() const override { return "agent"; }
    const char* audience() const override { return "admins"; }
    const char* description() const override { return "accounts and roles: add, grant, revoke, disable, enable, token, list, history"; }
    const char* example() const override {
        return "tfadesk agent add admin --role admin --token-out admin.token --agent setup\n"
               "  tfadesk agent grant bob approver --agent admin\n"
               "  tfadesk agent list --json";
    }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        app.require_subcommand(1);
        auto sub = [&](const char* n, const char* what, const char* example) {
            CLI::App* s = app.add_subcommand(n, what);
            s->group("Subcommands");  // the top level hides its own list (main.cpp); these are shown
            s->footer(std::string("Example:\n  ") + example);
            return s;
        };
        auto* add = sub("add", "add an account with its roles; prints its token once",
                        "tfadesk agent add alice --role agent,approver --token-out alice.token --agent admin");
        add->add_option("name", name_, "the account's name (an agent name, SPEC §2)")->required();
        add->add_option("--role", roles_, "ROLE[,ROLE...]: agent, approver, operator, auditor, admin")->required();
        add->add_option("--token-out", token_out_, "write the token to this new file (mode 0600) instead of stdout");
        add_agent_option(*add, by_);
        for (const char* verb : {"grant", "revoke"}) {
            auto* s = sub(verb, verb == std::string("grant") ? "give an account one more role" : "take a role from an account",
                          verb == std::string("grant") ? "tfadesk agent grant bob approver --agent admin"
                                                       : "tfadesk agent revoke bob approver --agent admin");
            s->add_option("name", name_, "the account")->required();
            s->add_option("role", role_, "the role")->required();
            add_agent_option(*s, by_);
        }
        for (const char* verb : {"disable", "enable"}) {
            auto* s = sub(verb, verb == std::string("disable") ? "off-board an account (its token stops working)" : "enable a disabled account again",
                          verb == std::string("disable") ? "tfadesk agent disable carol --agent admin" : "tfadesk agent enable carol --agent admin");
            s->add_option("name", name_, "the account")->required();
            add_agent_option(*s, by_);
        }
        auto* token = sub("token", "issue a new token (the old one stops working at once)",
                          "tfadesk agent token alice --token-out alice.token --agent admin");
        token->add_option("name", name_, "the account")->required();
        token->add_option("--token-out", token_out_, "write the token to this new file (mode 0600) instead of stdout");
        add_agent_option(*token, by_);
        auto* list = sub("list", "the accounts with their roles", "tfadesk agent list --json");
        add_json_flag(*list, json_);
        auto* history = sub("history", "the account changes, from the log", "tfadesk agent history alice --json");
        history->add_option("name", history_name_, "only this account");
        add_json_flag(*history, json_);
        app_ = &app;
    }

    int run(Context& ctx) override {
        const std::string verb = app_->get_subcommands().front()->get_name();
        if (verb == "list" || verb == "history") return read(ctx, verb);
        engine::Store* store = &ctx.store();
        const desk::Actor by = ctx.actor(by_);
        if (verb == "add" || verb == "token") {
            TokenFile file(token_out_);
            const auto issued =
                verb == "add" ? desk::add_account(*store, name_, desk::parse_roles(roles_), by)
                              : desk::issue_token(*store, name_, by);
            file.deliver(issued.token, ctx.out, ctx.err, issued.account.name);
            return 0;
        }
        engine::Account a;
        if (verb == "grant")
            a = desk::grant_role(*store, name_, role_, by);
        else if (verb == "revoke")
            a = desk::revoke_role(*store, name_, role_, by);
        else
            a = desk::set_enabled(*store, name_, verb == "enable", by);
        std::string roles;
        for (const auto& r : a.roles) roles += (roles.empty() ? "" : ",") + r;
        ctx.out << a.name << " " << (a.enabled ? "enabled" : "disabled") << " " << roles << "\n";
        return 0;
    }

private:
    int read(Context& ctx, const std::string& verb) {
        auto store = ctx.open(engine::Store::Mode::read_only);
        const auto j = verb == "list" ? desk::list_accounts(*store) : desk::account_history(*store, history_name_);
        if (json_) {
            ctx.out << j.dump(2) << "\n";
            return 0;
        }
        std::vector<std::vector<std::string>> rows;
        auto roles = [](const nlohmann::json& r) {
            std::string s;
            for (const auto& x : r) s += (s.empty() ? "" : ",") + x.get<std::string>();
            return s;
        };
        for (const auto& a : j) {
            if (verb == "list")
                rows.push_back({a["name"], roles(a["roles"]), a["enabled"] ? "enabled" : "disabled", a["updated_at"]});
            else
                rows.push_back({std::to_string(a["seq"].get<std::int64_t>()), a["at"], a["by"], a["change"], a["name"], roles(a["roles"])});
        }
        if (verb == "list") print_table(ctx.out, {"NAME", "ROLES", "STATUS", "UPDATED"}, rows, ctx.out_is_terminal);
        else print_table(ctx.out, {"SEQ", "AT", "BY", "CHANGE", "NAME", "ROLES"}, rows, ctx.out_is_terminal);
        return 0;
    }

    CLI::App* app_ = nullptr;
    std::string name_, roles_, role_, by_;
    std::optional<std::string> token_out_, history_name_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_agent() { return std::make_unique<AgentCommand>(); }

}  // namespace tfadesk::cli
