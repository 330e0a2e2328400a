// `tfadesk agent ...`: accounts and roles (SPEC §7). The use cases are in desk/accounts.hpp; this
// file parses, writes a new token once (stdout or --token-out, mode 0600, never over a file) and
// prints.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/accounts.hpp"
#include "tfadesk/desk/note.hpp"
#include "tfadesk/desk/signatures.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/text.hpp"

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
            throw Error(
                ErrorKind::invalid_input,
                "--token-out " + rules::escape_control(*path_) + ": " +
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
    void deliver(const std::string& token, std::ostream& out, std::ostream& err,
                 const std::string& account) {
        if (!path_) {
            out << token << "\n";
            err << "token for '" << account << "' printed above: it is shown only this once\n";
            done_ = true;
            return;
        }
        const std::string line = token + "\n";
        if (::write(fd_, line.data(), line.size()) != static_cast<ssize_t>(line.size()) ||
            ::fsync(fd_) != 0)
            throw Error(ErrorKind::unexpected, "cannot write " + *path_);
        done_ = true;
        err << "token for '" << account << "' written to " << rules::escape_control(*path_)
            << " (mode 0600)\n";
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
    const char* description() const override {
        return "accounts and roles: add, grant, revoke, disable, enable, token, list, history, "
               "key, "
               "require-signatures";
    }
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
            s->group(
                "Subcommands");  // the top level hides its own list (main.cpp); these are shown
            s->footer(std::string("Example:\n  ") + example);
            return s;
        };
        auto* add = sub(
            "add", "add an account with its roles; prints its token once",
            "tfadesk agent add alice --role agent,approver --token-out alice.token --agent admin");
        add->add_option("name", name_, "the account's name (an agent name, SPEC §2)")->required();
        add->add_option("--role", roles_,
                        "ROLE[,ROLE...]: agent, approver, operator, auditor, admin")
            ->required();
        add->add_option("--token-out", token_out_,
                        "write the token to this new file (mode 0600) instead of stdout");
        add_agent_option(*add, by_);
        for (const char* verb : {"grant", "revoke"}) {
            auto* s = sub(verb,
                          verb == std::string("grant") ? "give an account one more role"
                                                       : "take a role from an account",
                          verb == std::string("grant")
                              ? "tfadesk agent grant bob approver --agent admin"
                              : "tfadesk agent revoke bob approver --agent admin");
            s->add_option("name", name_, "the account")->required();
            s->add_option("role", role_, "the role")->required();
            add_agent_option(*s, by_);
        }
        for (const char* verb : {"disable", "enable"}) {
            auto* s = sub(
                verb,
                verb == std::string("disable") ? "off-board an account (its token stops working)"
                                               : "enable a disabled account again",
                verb == std::string("disable") ? "tfadesk agent disable carol --agent admin"
                                               : "tfadesk agent enable carol --agent admin");
            s->add_option("name", name_, "the account")->required();
            add_agent_option(*s, by_);
        }
        auto* token = sub("token", "issue a new token (the old one stops working at once)",
                          "tfadesk agent token alice --token-out alice.token --agent admin");
        token->add_option("name", name_, "the account")->required();
        token->add_option("--token-out", token_out_,
                          "write the token to this new file (mode 0600) instead of stdout");
        add_agent_option(*token, by_);
        // --- SPEC §13: personal keys, signed account changes, require-signatures ----------------
        auto* key = sub("key", "personal keys that sign your decisions: generate, add, remove",
                        "tfadesk agent key generate --out alice.key --token-file alice.token");
        key->require_subcommand(1);
        auto* generate = key->add_subcommand("generate",
                                             "write a new Ed25519 secret key to FILE (mode 0600; "
                                             "never overwrites) and print its public "
                                             "key NAME+KEYID+BASE64 (NAME: your account)");
        generate->add_option("--out", key_out_, "the new secret key file (must not exist yet)")
            ->required();
        generate->add_option("--name", key_name_,
                             "the account the key is for (default: the token's account)");
        add_agent_option(*generate, by_);
        auto* key_add =
            key->add_subcommand("add", "register a public key for your own account (the token's)");
        key_add->add_option("public", public_key_, "the public key 'agent key generate' printed")
            ->required();
        key_add->add_option(
            "--countersign-key", countersign_key_,
            "another admin's key file: countersigns your first key where signatures are required");
        auto* key_remove = key->add_subcommand("remove", "retire one of your own keys");
        key_remove->add_option("keyid", key_id_, "the key's id (8 hex digits)")->required();
        for (auto* s : {key_add, key_remove}) {
            s->add_option("--sign-key", sign_key_, "your key file: sign this change (SPEC §13)");
            add_agent_option(*s, by_);
        }
        key_ = key;
        auto* require = sub(
            "require-signatures", "require signed decisions from now on (on), or no longer (off)",
            "tfadesk agent require-signatures on --sign-key admin.key --token-file admin.token");
        require->add_option("setting", require_, "on or off")
            ->required()
            ->check(CLI::IsMember({"on", "off"}));
        add_agent_option(*require, by_);
        for (auto* s : app.get_subcommands({}))
            if (s != key && s->get_name() != "list" && s->get_name() != "history" &&
                s->get_option_no_throw("--sign-key") == nullptr)
                s->add_option("--sign-key", sign_key_,
                              "your key file: sign this change (SPEC §13)");
        auto* list = sub("list", "the accounts with their roles", "tfadesk agent list --json");
        add_json_flag(*list, json_);
        auto* history = sub("history", "the account changes, from the log",
                            "tfadesk agent history alice --json");
        history->add_option("name", history_name_, "only this account");
        add_json_flag(*history, json_);
        app_ = &app;
    }

    int run(Context& ctx) override {
        const std::string verb = app_->get_subcommands().front()->get_name();
        if (verb == "list" || verb == "history") return read(ctx, verb);
        if (verb == "key" && key_->get_subcommands().front()->get_name() == "generate")
            return generate(ctx);
        engine::Store* store = &ctx.store();
        const desk::Actor by = ctx.actor(by_);
        desk::DecisionSigner signer;
        if (sign_key_) signer.key = desk::load_key(*sign_key_);
        if (countersign_key_) signer.countersign = desk::load_key(*countersign_key_);
        if (verb == "key") {
            const bool add = key_->get_subcommands().front()->get_name() == "add";
            const auto a = add ? desk::add_key(*store, public_key_, by, signer)
                               : desk::remove_key(*store, key_id_, by, signer);
            ctx.out << a.name << " " << (add ? "key added" : "key removed") << ", " << a.keys.size()
                    << " key(s)\n";
            return 0;
        }
        if (verb == "require-signatures") {
            const bool on = desk::require_signatures(*store, require_ == "on", by, signer);
            ctx.out << "signed decisions " << (on ? "required" : "no longer required") << "\n";
            return 0;
        }
        if (verb == "add" || verb == "token") {
            TokenFile file(token_out_);
            const auto issued =
                verb == "add"
                    ? desk::add_account(*store, name_, desk::parse_roles(roles_), by, signer)
                    : desk::issue_token(*store, name_, by, signer);
            file.deliver(issued.token, ctx.out, ctx.err, issued.account.name);
            return 0;
        }
        engine::Account a;
        if (verb == "grant")
            a = desk::grant_role(*store, name_, role_, by, signer);
        else if (verb == "revoke")
            a = desk::revoke_role(*store, name_, role_, by, signer);
        else
            a = desk::set_enabled(*store, name_, verb == "enable", by, signer);
        std::string roles;
        for (const auto& r : a.roles) roles += (roles.empty() ? "" : ",") + r;
        ctx.out << a.name << " " << (a.enabled ? "enabled" : "disabled") << " " << roles << "\n";
        return 0;
    }

private:
    // `agent key generate`: needs no write; the key is named after --name, else the token's
    // account (read from an existing desk), else --agent.
    int generate(Context& ctx) {
        std::string name;
        if (key_name_) {
            name = desk::canonical_agent(*key_name_, "--name");
        } else if (ctx.store_exists()) {
            auto store = ctx.open(engine::Store::Mode::read_only);
            name = ctx.actor(by_, store.get()).name;
        } else {
            name = ctx.actor(by_, nullptr).name;
        }
        const desk::SigningKey key = desk::generate_personal_key(name);
        desk::write_key_file(key_out_, key);
        ctx.out << desk::verifier_key(key) << "\n";
        ctx.err << "secret key for '" << name << "' written to " << rules::escape_control(key_out_)
                << " (mode 0600); register the public key above with 'tfadesk agent key add'\n";
        return 0;
    }

    int read(Context& ctx, const std::string& verb) {
        auto store = ctx.open(engine::Store::Mode::read_only);
        const auto j = verb == "list" ? desk::list_accounts(*store)
                                      : desk::account_history(*store, history_name_);
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
                rows.push_back({a["name"], roles(a["roles"]), a["enabled"] ? "enabled" : "disabled",
                                a["updated_at"]});
            else
                rows.push_back({std::to_string(a["seq"].get<std::int64_t>()), a["at"], a["by"],
                                a["change"], a["name"], roles(a["roles"])});
        }
        if (verb == "list")
            print_table(ctx.out, {"NAME", "ROLES", "STATUS", "UPDATED"}, rows, ctx.out_is_terminal);
        else
            print_table(ctx.out, {"SEQ", "AT", "BY", "CHANGE", "NAME", "ROLES"}, rows,
                        ctx.out_is_terminal);
        return 0;
    }

    CLI::App* app_ = nullptr;
    CLI::App* key_ = nullptr;
    std::string name_, roles_, role_, by_;
    std::string key_out_, public_key_, key_id_, require_;
    std::optional<std::string> key_name_, sign_key_, countersign_key_;
    std::optional<std::string> token_out_, history_name_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_agent() { return std::make_unique<AgentCommand>(); }

}  // namespace tfadesk::cli
