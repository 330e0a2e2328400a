// `tfadesk list [--state S]`: one line per ticket, from the ticket cache.
#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"

namespace tfadesk::cli {
namespace {

class ListCommand final : public Command {
public:
    const char* name() const override { return "list"; }
    const char* audience() const override { return "agents"; }
    const char* description() const override { return "one line per ticket (ref, state, version, role, access, updated)"; }
    const char* example() const override { return "tfadesk list --state identity_check"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--state", state_, "only tickets in this state");
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        if (state_) {
            const auto& states = engine::Machine::states();
            if (std::none_of(states.begin(), states.end(), [&](const auto& s) { return s.first == *state_; }))
                throw engine::Error(engine::ErrorKind::invalid_input, "--state: unknown state '" + *state_ + "'");
        }
        auto& db = ctx.store();
        if (json_) {
            // Streamed as one JSON array so memory stays flat however many tickets there are.
            bool first = true;
            ctx.out << "[";
            db.for_each_ticket(state_, [&](const engine::Ticket& t) {
                ctx.out << (first ? "\n" : ",\n") << desk::ticket_view(t).dump();
                first = false;
            });
            ctx.out << (first ? "]\n" : "\n]\n");
            return 0;
        }
        std::vector<std::vector<std::string>> rows;
        db.for_each_ticket(state_, [&](const engine::Ticket& t) {
            std::vector<std::string> row = {t.fields.ref, t.state, std::to_string(t.version),
                                            std::string(rules::to_string(t.fields.requester_role)),
                                            std::string(rules::to_string(t.fields.portfolio_access)),
                                            t.updated_at};
            if (ctx.out_is_terminal) rows.push_back(std::move(row));
            else print_table(ctx.out, {}, {row}, false);
        });
        if (ctx.out_is_terminal)
            print_table(ctx.out, {"REF", "STATE", "VERSION", "ROLE", "ACCESS", "UPDATED"}, rows, true);
        return 0;
    }

private:
    std::optional<std::string> state_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_list() { return std::make_unique<ListCommand>(); }

}  // namespace tfadesk::cli
