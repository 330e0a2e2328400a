// `tfadesk checkpoint`: the newest seal as a signed note (SPEC §8), for auditors to keep off the
// desk's machine.
#include "../command.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::cli {
namespace {

class CheckpointCommand final : public Command {
public:
    const char* name() const override { return "checkpoint"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override {
        return "the newest seal as a signed note, to keep for later verify runs";
    }
    const char* example() const override { return "tfadesk checkpoint > visit-2026-12-01.note"; }
    bool read_only() const override { return true; }
    void setup(CLI::App&) override {}

    int run(Context& ctx) override {
        const auto seal = ctx.store().last_seal();
        if (!seal)
            throw engine::Error(engine::ErrorKind::not_found,
                                "the log has no seal yet (write with --key FILE to seal)");
        ctx.out << seal->note;
        return 0;
    }
};

}  // namespace

std::unique_ptr<Command> make_checkpoint() { return std::make_unique<CheckpointCommand>(); }

}  // namespace tfadesk::cli
