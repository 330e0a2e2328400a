// `tfadesk replay REF [--as-of TS]`: the ticket rebuilt from its log entries alone, through the
// state machine, as it stood at TS.
#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::cli {
namespace {

class ReplayCommand final : public Command {
public:
    const char* name() const override { return "replay"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override {
        return "a ticket as it stood at a time, rebuilt from its events only";
    }
    const char* example() const override {
        return "tfadesk replay HD-1042 --as-of 2030-01-01T00:00:00Z --json";
    }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("ref", ref_, "the ticket's ref")->required();
        app.add_option("--as-of", as_of_, "ISO 8601 UTC time (default: now)");
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        if (as_of_ && !rules::parse_utc(*as_of_))
            throw engine::Error(engine::ErrorKind::invalid_input,
                                "--as-of: must be an ISO 8601 UTC time like 2026-11-20T09:15:00Z");
        const auto t = desk::replay_ticket(ctx.store(), ref_, as_of_);
        if (json_)
            ctx.out << desk::ticket_view(t).dump(2) << "\n";
        else
            print_ticket(ctx.out, t);
        return 0;
    }

private:
    std::string ref_;
    std::optional<std::string> as_of_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_replay() { return std::make_unique<ReplayCommand>(); }

}  // namespace tfadesk::cli
