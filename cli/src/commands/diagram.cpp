// `tfadesk diagram`: the state diagram, generated from the machine's own transition table
// (desk::render_diagram, shared with the server). `--ticket REF` highlights the path one ticket
// took (from its log); `--format svg` renders the DOT through Graphviz's `dot`.
#include "tfadesk/desk/diagram.hpp"

#include "../command.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/lookup.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::cli {
namespace {

class DiagramCommand final : public Command {
public:
    const char* name() const override { return "diagram"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override {
        return "the state diagram from the machine's transition table";
    }
    const char* example() const override {
        return "tfadesk diagram --ticket HD-1042 --format svg > HD-1042.svg";
    }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--format", format_, "dot, mermaid or svg (svg needs Graphviz)")
            ->check(CLI::IsMember({"dot", "mermaid", "svg"}));
        app.add_option("--ticket", ticket_, "highlight the path this ticket took");
    }

    int run(Context& ctx) override {
        std::vector<engine::LogEntry> entries;
        if (ticket_) entries = engine::entries_of(ctx.store(), *ticket_);
        ctx.out << desk::render_diagram(format_, ticket_.value_or(""), entries);
        return 0;
    }

private:
    std::string format_ = "dot";
    std::optional<std::string> ticket_;
};

}  // namespace

std::unique_ptr<Command> make_diagram() { return std::make_unique<DiagramCommand>(); }

}  // namespace tfadesk::cli
