// `tfadesk seal --adopt`: an admin recovers a desk that holds entries written after its last seal
// (by an older version, or by someone without the key): the entries are printed, named in a
// `seal-adopt` entry with the admin's note, and sealed with the desk key (SPEC §12).
#include "tfadesk/desk/seal.hpp"

#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/text.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::cli {
namespace {

class SealCommand final : public Command {
public:
    const char* name() const override { return "seal"; }
    const char* audience() const override { return "admins"; }
    const char* description() const override {
        return "adopt entries written after the last seal, reviewed, and seal them";
    }
    const char* example() const override {
        return "tfadesk seal --adopt --note 'entries 41-42 reviewed with the desk lead' --key "
               "desk.key --token-file dana.token";
    }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        app.add_flag("--adopt", adopt_,
                     "adopt the entries after the last seal (the only action: required)")
            ->required();
        app.add_option("--note", note_, "who reviewed the entries and why they are kept (required)")
            ->required();
        add_agent_option(app, agent_);
    }

    int run(Context& ctx) override {
        if (!ctx.key_path)
            throw engine::Error(
                engine::ErrorKind::invalid_input,
                "--key: adopting seals with the desk key: give --key FILE or $TFADESK_KEY");
        if (!ctx.store_exists())
            throw engine::Error(engine::ErrorKind::not_found,
                                "no database at " + storage::shown_location(ctx.db_path));
        const auto by = ctx.actor(agent_);
        const auto adoption = desk::adopt_unsealed(ctx.store(), by, note_, *ctx.key_path);
        std::vector<std::vector<std::string>> rows;
        for (const auto& e : adoption.entries)
            rows.push_back({std::to_string(e.seq), rules::escape_control(e.ref), e.event,
                            rules::escape_control(e.agent), e.at});
        print_table(ctx.out, {"SEQ", "REF", "EVENT", "AGENT", "AT"}, rows, ctx.out_is_terminal);
        ctx.out << "adopted " << adoption.entries.size() << " unsealed entries at seq "
                << adoption.adopt.seq << " and sealed\n";
        return 0;
    }

private:
    bool adopt_ = false;
    std::string note_, agent_;
};

}  // namespace

std::unique_ptr<Command> make_seal() { return std::make_unique<SealCommand>(); }

}  // namespace tfadesk::cli
