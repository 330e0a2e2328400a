// `tfadesk stats`: tickets per state and outcome, the median time from open to completed, and the
// tickets that have waited longest in each open state - what a support lead reads every morning.
#include <algorithm>

#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::cli {
namespace {

std::string duration_text(std::int64_t ms) {
    const std::int64_t minutes = ms / 60000;
    if (minutes < 60) return std::to_string(minutes) + " min";
    if (minutes < 48 * 60)
        return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
    return std::to_string(minutes / 1440) + " d " + std::to_string(minutes / 60 % 24) + " h";
}

class StatsCommand final : public Command {
public:
    const char* name() const override { return "stats"; }
    const char* audience() const override { return "operators"; }
    const char* description() const override {
        return "tickets per state and outcome, median time to completion, oldest waiting";
    }
    const char* example() const override { return "tfadesk stats --since 2026-11-01T00:00:00Z"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--since", since_, "only tickets opened at or after this UTC time");
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        if (since_) {
            const auto ms = rules::parse_utc(*since_);
            if (!ms)
                throw engine::Error(engine::ErrorKind::invalid_input,
                                    "--since: must be an ISO 8601 UTC time");
            since_ = rules::format_utc_ms(*ms);
        }
        const nlohmann::json j = desk::stats_view(ctx.store(), since_);
        const auto& oldest = j["oldest_waiting"];
        const std::int64_t total = j["tickets"], open = j["open"], completed = j["completed"];
        const auto& median = j["median_open_to_completed_ms"];
        if (json_) {
            ctx.out << j.dump(2) << "\n";
            return 0;
        }
        ctx.out << "tickets: " << total << " (" << open << " open, " << total - open << " closed)"
                << (since_ ? " opened since " + *since_ : std::string()) << "\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& [state, count] : j["per_state"].items()) {
            const auto it = oldest.find(state);
            rows.push_back({state, std::to_string(count.get<std::int64_t>()),
                            it == oldest.end() ? ""
                                               : (*it)["ref"].get<std::string>() + " since " +
                                                     (*it)["updated_at"].get<std::string>()});
        }
        print_table(ctx.out, {"STATE", "TICKETS", "OLDEST WAITING"}, rows, ctx.out_is_terminal);
        ctx.out << "median open to completed: "
                << (!median.is_null() ? duration_text(median.get<std::int64_t>())
                                      : "n/a (none completed)")
                << " over " << completed << " completed\n";
        return 0;
    }

private:
    std::optional<std::string> since_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_stats() { return std::make_unique<StatsCommand>(); }

}  // namespace tfadesk::cli
