// `tfadesk show REF`: the ticket as its cached row holds it (verify checks the row against the
// log).
#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/desk/views.hpp"

namespace tfadesk::cli {
namespace {

class ShowCommand final : public Command {
public:
    const char* name() const override { return "show"; }
    const char* audience() const override { return "agents"; }
    const char* description() const override {
        return "a ticket: fields, state, version, checks, what it waits for";
    }
    const char* example() const override { return "tfadesk show HD-1042 --json"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("ref", ref_, "the ticket's ref")->required();
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        const auto t = desk::get_ticket(ctx.store(), ref_);
        if (json_)
            ctx.out << desk::ticket_view(ctx.store(), t).dump(2) << "\n";
        else
            print_ticket(ctx.out, t);
        return 0;
    }

private:
    std::string ref_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_show() { return std::make_unique<ShowCommand>(); }

}  // namespace tfadesk::cli
