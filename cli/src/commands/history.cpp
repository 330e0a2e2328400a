// `tfadesk history REF`: the ticket's log entries in order, as stored.
#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/lookup.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::cli {
namespace {

class HistoryCommand final : public Command {
public:
    const char* name() const override { return "history"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override {
        return "a ticket's events in order: seq, time, agent, event, details, state";
    }
    const char* example() const override { return "tfadesk history HD-1042"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("ref", ref_, "the ticket's ref")->required();
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        const auto entries = engine::entries_of(ctx.store(), ref_);
        if (json_) {
            nlohmann::json all = nlohmann::json::array();
            for (const auto& e : entries) all.push_back(desk::history_view(e));
            ctx.out << all.dump(2) << "\n";
            return 0;
        }
        std::vector<std::vector<std::string>> rows;
        for (const auto& e : entries)
            rows.push_back({std::to_string(e.tseq), e.at, rules::escape_control(e.agent), e.event,
                            rules::escape_control(e.details), e.state});
        print_table(ctx.out, {"SEQ", "AT", "AGENT", "EVENT", "DETAILS", "STATE"}, rows,
                    ctx.out_is_terminal);
        return 0;
    }

private:
    std::string ref_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_history() { return std::make_unique<HistoryCommand>(); }

}  // namespace tfadesk::cli
