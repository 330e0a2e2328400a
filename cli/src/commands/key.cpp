// `tfadesk key generate --name NAME --out FILE` (SPEC §8): a new Ed25519 secret key in FILE (mode
// 0600, never over an existing file or through a symbolic link), and the desk's verifier key on
// stdout for the auditors. Not a database command: it never opens or creates the database.
// `tfadesk key rotate --key OLD --new-key NEW --token-file FILE` (SPEC §12, admins): a
// `key-rotate` entry sealed by OLD; every seal after it is made with NEW.
#include "../command.hpp"
#include "tfadesk/desk/note.hpp"
#include "tfadesk/desk/seal.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::cli {
namespace {

class KeyCommand final : public Command {
public:
    const char* name() const override { return "key"; }
    const char* audience() const override { return "operators"; }
    const char* description() const override {
        return "key generate: a new signing key for seals; key rotate: seal with a new key from "
               "now on";
    }
    const char* example() const override {
        return "tfadesk key generate --name desk.example/helpdesk --out seal.key";
    }
    // `generate` opens no database at all; `rotate` opens it for writing itself (ctx.open), so
    // the dispatcher treats the group as a reader.
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        // No require_subcommand: CLI11 would answer "A subcommand is required" even for a typo;
        // an unknown word is then "not expected", and a bare `key` is named in run().
        generate_ = app.add_subcommand(
            "generate",
            "write a new Ed25519 secret key to FILE (mode 0600; never overwrites) and print the "
            "desk's verifier key NAME+KEYID+BASE64 on stdout");
        generate_->group(
            "Subcommands");  // the top level hides its own list (main.cpp); this one is shown
        generate_
            ->add_option("--name", name_,
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
        rotate_ = app.add_subcommand(
            "rotate",
            "seal with a new key from now on: appends a key-rotate entry naming NEW's verifier "
            "key, sealed by the key in force (--key); admins");
        rotate_->group("Subcommands");
        rotate_->add_option("--new-key", new_key_, "the new secret key file (from key generate)")
            ->required()
            ->type_name("FILE");
        add_agent_option(*rotate_, agent_);
        rotate_->footer(
            "Example:\n"
            "  tfadesk key generate --name desk.example/helpdesk-2027 --out seal-2027.key\n"
            "  tfadesk key rotate --key seal.key --new-key seal-2027.key --token-file dana.token\n"
            "Then run every writer and `serve` with the new key; verify --verifier-key with any "
            "key\n"
            "the desk used follows the rotations forward (docs/seals.md).");
    }

    int run(Context& ctx) override {
        if (rotate_->parsed()) return rotate(ctx);
        if (!generate_->parsed())
            throw engine::Error(
                engine::ErrorKind::invalid_input,
                "'tfadesk key' needs a subcommand: generate or rotate (run 'tfadesk key --help')");
        const desk::SigningKey key = desk::generate_key(name_);
        desk::write_key_file(out_, key);
        ctx.out << desk::verifier_key(key) << "\n";
        return 0;
    }

private:
    int rotate(Context& ctx) {
        if (!ctx.key_path)
            throw engine::Error(
                engine::ErrorKind::invalid_input,
                "--key: rotating needs the key in force: give --key FILE or $TFADESK_KEY");
        if (!ctx.store_exists())
            throw engine::Error(engine::ErrorKind::not_found,
                                "no database at " + storage::shown_location(ctx.db_path));
        const auto store = ctx.open(engine::Store::Mode::read_write);
        const auto by = ctx.actor(agent_, store.get());
        const auto entry = desk::rotate_key(*store, by, *ctx.key_path, new_key_);
        ctx.out << "rotated the desk key at seq " << entry.seq
                << "; from now on seals are made with "
                << desk::verifier_key(desk::parse_rotation(entry)->to) << "\n";
        return 0;
    }

    CLI::App* generate_ = nullptr;
    CLI::App* rotate_ = nullptr;
    std::string name_;
    std::string out_;
    std::string new_key_, agent_;
};

}  // namespace

std::unique_ptr<Command> make_key() { return std::make_unique<KeyCommand>(); }

}  // namespace tfadesk::cli
