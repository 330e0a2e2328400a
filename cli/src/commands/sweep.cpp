// `tfadesk sweep`: expires every ticket that has waited on the requester longer than the SLA
// (R7), in one write transaction. Each expiry is an ordinary `expire` event judged by the machine.
#include "../command.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::cli {
namespace {

class SweepCommand final : public Command {
public:
    const char* name() const override { return "sweep"; }
    const char* audience() const override { return "operators"; }
    const char* description() const override {
        return "expire tickets waiting on the requester past the SLA (R7)";
    }
    const char* example() const override {
        return "tfadesk sweep --now 2026-12-01T00:00:00Z --sla-hours 168 --agent ops-bot";
    }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        app.add_option("--now", now_, "judge the SLA at this UTC time (default: now)");
        app.add_option("--sla-hours", sla_hours_, "the SLA in hours (default 168)");
        add_agent_option(app, agent_);
    }

    int run(Context& ctx) override {
        const auto r =
            desk::sweep(ctx.store(), ctx.actor(agent_), now_,
                        parse_count(sla_hours_, "--sla-hours").value_or(rules::kDefaultSlaHours));
        for (const auto& ref : r.expired) ctx.out << ref << "\n";
        ctx.out << "expired " << r.expired.size() << " of " << r.waiting
                << " waiting on the requester\n";
        return 0;
    }

private:
    std::optional<std::string> now_;
    std::optional<std::string> sla_hours_;
    std::string agent_;
};

}  // namespace

std::unique_ptr<Command> make_sweep() { return std::make_unique<SweepCommand>(); }

}  // namespace tfadesk::cli
