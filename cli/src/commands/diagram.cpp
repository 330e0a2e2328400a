// `tfadesk diagram`: the state diagram, generated from the machine's own transition table
// (engine::Machine::transitions()), never from a second list.
#include "../command.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"

namespace tfadesk::cli {
namespace {

std::string label(const engine::Transition& t) {
    std::string s = t.event;
    if (!t.guard.empty()) s += " [" + t.guard + "]";
    if (!t.action.empty()) s += " / " + t.action;
    return s;
}

class DiagramCommand final : public Command {
public:
    const char* name() const override { return "diagram"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override { return "the state diagram from the machine's transition table"; }
    const char* example() const override { return "tfadesk diagram --format dot | dot -Tsvg > states.svg"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--format", format_, "dot or mermaid")->check(CLI::IsMember({"dot", "mermaid"}));
    }

    int run(Context& ctx) override {
        const auto& rows = engine::Machine::transitions();
        const auto& states = engine::Machine::states();
        auto& out = ctx.out;
        if (format_ == "mermaid") {
            out << "stateDiagram-v2\n    [*] --> " << states.front().first << "\n";
            for (const auto& t : rows) out << "    " << t.source << " --> " << t.target << " : " << label(t) << "\n";
            for (const auto& [state, terminal] : states)
                if (terminal) out << "    " << state << " --> [*]\n";
            return 0;
        }
        out << "digraph tfadesk {\n    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
            << "    edge [fontname=\"Helvetica\", fontsize=10];\n    start [shape=point];\n";
        for (const auto& [state, terminal] : states)
            out << "    " << state << (terminal ? " [peripheries=2];\n" : ";\n");
        out << "    start -> " << states.front().first << " [label=\"open\"];\n";
        for (const auto& t : rows)
            out << "    " << t.source << " -> " << t.target << " [label=\"" << label(t) << "\"];\n";
        out << "}\n";
        return 0;
    }

private:
    std::string format_ = "dot";
};

}  // namespace

std::unique_ptr<Command> make_diagram() { return std::make_unique<DiagramCommand>(); }

}  // namespace tfadesk::cli
