// `tfadesk sweep`: expires every ticket that has waited on the requester longer than the SLA
// (R7), in one write transaction. Each expiry is an ordinary `expire` event judged by the machine.
#include <spdlog/spdlog.h>

#include "../command.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::cli {
namespace {

class SweepCommand final : public Command {
public:
    const char* name() const override { return "sweep"; }
    const char* audience() const override { return "operators"; }
    const char* description() const override { return "expire tickets waiting on the requester past the SLA (R7)"; }
    const char* example() const override { return "tfadesk sweep --now 2026-12-01T00:00:00Z --sla-hours 168 --agent ops-bot"; }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        app.add_option("--now", now_, "judge the SLA at this UTC time (default: now)");
        app.add_option("--sla-hours", sla_hours_, "the SLA in hours (default 168)");
        add_agent_option(app, agent_);
    }

    int run(Context& ctx) override {
        engine::Command c;
        c.kind = engine::EventKind::expire;
        c.agent = agent_;
        c.now = now_;
        c.sla_hours = sla_hours_;
        engine::validate(c);
        auto db = ctx.open(storage::Database::Mode::read_write);
        storage::Database::WriteTransaction tx(db);
        c.at = Context::now();
        std::size_t expired = 0;
        const auto waiting = db.refs_in_state("awaiting_requester");
        for (const auto& ref : waiting) {
            if (!engine::apply_event(db, ref, c).outcome.accepted) continue;
            ctx.out << ref << "\n";
            ++expired;
        }
        tx.commit();
        spdlog::info("sweep by {}: expired {} of {} waiting", agent_, expired, waiting.size());
        ctx.out << "expired " << expired << " of " << waiting.size() << " waiting on the requester\n";
        return 0;
    }

private:
    std::optional<std::string> now_;
    std::int64_t sla_hours_ = rules::kDefaultSlaHours;
    std::string agent_;
};

}  // namespace

std::unique_ptr<Command> make_sweep() { return std::make_unique<SweepCommand>(); }

}  // namespace tfadesk::cli
