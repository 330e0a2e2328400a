// `tfadesk stats`: tickets per state and outcome, the median time from open to completed, and the
// tickets that have waited longest in each open state - what a support lead reads every morning.
#include <algorithm>

#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::cli {
namespace {

std::string duration_text(std::int64_t ms) {
    const std::int64_t minutes = ms / 60000;
    if (minutes < 60) return std::to_string(minutes) + " min";
    if (minutes < 48 * 60) return std::to_string(minutes / 60) + " h " + std::to_string(minutes % 60) + " min";
    return std::to_string(minutes / 1440) + " d " + std::to_string(minutes / 60 % 24) + " h";
}

class StatsCommand final : public Command {
public:
    const char* name() const override { return "stats"; }
    const char* audience() const override { return "operators"; }
    const char* description() const override { return "tickets per state and outcome, median time to completion, oldest waiting"; }
    const char* example() const override { return "tfadesk stats --since 2026-11-01T00:00:00Z"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--since", since_, "only tickets opened at or after this UTC time");
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        if (since_) {
            const auto ms = rules::parse_utc(*since_);
            if (!ms) throw engine::Error(engine::ErrorKind::invalid_input, "--since: must be an ISO 8601 UTC time");
            since_ = rules::format_utc_ms(*ms);
        }
        auto db = ctx.open(storage::Database::Mode::read_only);
        auto s = db.stats(since_);
        std::int64_t total = 0, closed = 0;
        nlohmann::json per_state = nlohmann::json::object(), outcomes = nlohmann::json::object();
        for (const auto& [state, count] : s.per_state) {
            total += count;
            per_state[state] = count;
            if (engine::Machine::events_from(state).empty()) {
                outcomes[state] = count;
                closed += count;
            }
        }
        std::optional<std::int64_t> median;
        auto& d = s.open_to_completed_ms;
        if (!d.empty()) {
            std::sort(d.begin(), d.end());
            median = d.size() % 2 ? d[d.size() / 2] : (d[d.size() / 2 - 1] + d[d.size() / 2]) / 2;
        }
        nlohmann::json oldest = nlohmann::json::object();
        for (const auto& [state, who] : s.oldest)
            if (!engine::Machine::events_from(state).empty())
                oldest[state] = {{"ref", who.first}, {"updated_at", who.second}};
        if (json_) {
            nlohmann::json j = {{"tickets", total},   {"open", total - closed}, {"per_state", per_state},
                                {"outcomes", outcomes}, {"completed", d.size()},  {"oldest_waiting", oldest}};
            j["median_open_to_completed_ms"] = median ? nlohmann::json(*median) : nlohmann::json(nullptr);
            if (since_) j["since"] = *since_;
            ctx.out << j.dump(2) << "\n";
            return 0;
        }
        ctx.out << "tickets: " << total << " (" << total - closed << " open, " << closed << " closed)"
                << (since_ ? " opened since " + *since_ : std::string()) << "\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& [state, count] : s.per_state) {
            const auto it = oldest.find(state);
            rows.push_back({state, std::to_string(count),
                            it == oldest.end() ? "" : (*it)["ref"].get<std::string>() + " since " +
                                                          (*it)["updated_at"].get<std::string>()});
        }
        print_table(ctx.out, {"STATE", "TICKETS", "OLDEST WAITING"}, rows, ctx.out_is_terminal);
        ctx.out << "median open to completed: " << (median ? duration_text(*median) : "n/a (none completed)")
                << " over " << d.size() << " completed\n";
        return 0;
    }

private:
    std::optional<std::string> since_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_stats() { return std::make_unique<StatsCommand>(); }

}  // namespace tfadesk::cli
