// `tfadesk key generate --name NAME --out FILE` (SPEC §8): a new Ed25519 secret key in FILE (mode
// 0600, never over an existing file or through a symbolic link), and the desk's verifier key on
// stdout for the auditors. Not a database command: it never opens or creates the database.
// `key` is a group so later key subcommands (e.g. printing the verifier key of a key file) fit.
#include "../command.hpp"
#include "tfadesk/desk/note.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::cli {
namespace {

class KeyCommand final : public Command {
public:
    const char* name() const override { return "key"; }
    const char* audience() const override { return "operators"; }
    const char* description() const override {
        return "key generate: a new signing key for seals; prints the verifier key";
    }
    const char* example() const override {
        return "tfadesk key generate --name desk.example/helpdesk --out seal.key";
    }
    // Opens no database at all (run() never calls ctx.open); a dispatcher that opens the store
    // from this flag must skip this command.
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        // No require_subcommand: CLI11 would answer "A subcommand is required" even for a typo;
        // an unknown word is then "not expected", and a bare `key` is named in run().
        generate_ = app.add_subcommand(
            "generate",
            "write a new Ed25519 secret key to FILE (mode 0600; never overwrites) and print the "
            "desk's verifier key NAME+KEYID+BASE64 on stdout");
        generate_->group("Subcommands");  // the top level hides its own list (main.cpp); this one is shown
        generate_->add_option("--name", name_,
                              "the key's name: 1-64 of A-Z a-z 0-9 . _ - / (a URL-like name such "
                              "as desk.example/helpdesk is a good choice)")
            ->required()
            ->type_name("NAME");
        generate_->add_option("--out", out_, "the new secret key file (must not exist yet)")
            ->required()
            ->type_name("FILE");
        generate_->footer(
            "Example:\n"
            "  tfadesk key generate --name desk.example/helpdesk --out seal.key\n"
            "  desk.example/helpdesk+1a2b3c4d+AT...   (the verifier key: give it to the auditors)\n"
            "The key file belongs to the account that runs the writing commands or `serve`\n"
            "(--key FILE or $TFADESK_KEY); see docs/seals.md.");
    }

    int run(Context& ctx) override {
        if (!generate_->parsed())
            throw engine::Error(engine::ErrorKind::invalid_input,
                                "'tfadesk key' needs a subcommand: generate (run 'tfadesk key --help')");
        const desk::SigningKey key = desk::generate_key(name_);
        desk::write_key_file(out_, key);
        ctx.out << desk::verifier_key(key) << "\n";
        return 0;
    }

private:
    CLI::App* generate_ = nullptr;
    std::string name_;
    std::string out_;
};

}  // namespace

std::unique_ptr<Command> make_key() { return std::make_unique<KeyCommand>(); }

}  // namespace tfadesk::cli
