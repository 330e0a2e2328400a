// `tfadesk diagram`: the state diagram, generated from the machine's own transition table
// (engine::Machine::transitions()), never from a second list. `--ticket REF` highlights the path
// one ticket took (from its log); `--format svg` renders the DOT through Graphviz's `dot`.
#include <cstdio>
#include <set>
#include <tuple>

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

using Edge = std::tuple<std::string, std::string, std::string>;  // source, event, target

class DiagramCommand final : public Command {
public:
    const char* name() const override { return "diagram"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override { return "the state diagram from the machine's transition table"; }
    const char* example() const override { return "tfadesk diagram --ticket HD-1042 --format svg > HD-1042.svg"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--format", format_, "dot, mermaid or svg (svg needs Graphviz)")
            ->check(CLI::IsMember({"dot", "mermaid", "svg"}));
        app.add_option("--ticket", ticket_, "highlight the path this ticket took");
    }

    int run(Context& ctx) override {
        std::set<Edge> taken;
        std::set<std::string> visited;
        if (ticket_) {
            const auto entries = ctx.store().entries(*ticket_);
            if (entries.empty()) throw engine::Error(engine::ErrorKind::not_found, "no such ticket: '" + *ticket_ + "'");
            for (std::size_t i = 0; i < entries.size(); ++i) {
                visited.insert(entries[i].state);
                if (i > 0) taken.emplace(entries[i - 1].state, entries[i].event, entries[i].state);
            }
        }
        if (format_ == "mermaid") return mermaid(ctx.out, taken, visited);
        const std::string text = dot(taken, visited);
        if (format_ == "dot") {
            ctx.out << text;
            return 0;
        }
        return svg(ctx, text);
    }

private:
    int mermaid(std::ostream& out, const std::set<Edge>& taken, const std::set<std::string>& visited) const {
        const auto& states = engine::Machine::states();
        out << "stateDiagram-v2\n    [*] --> " << states.front().first << "\n";
        for (const auto& t : engine::Machine::transitions())
            out << "    " << t.source << " --> " << t.target << " : " << label(t)
                << (taken.count({t.source, t.event, t.target}) ? " ✔" : "") << "\n";
        for (const auto& [state, terminal] : states)
            if (terminal) out << "    " << state << " --> [*]\n";
        if (!visited.empty()) {
            out << "    classDef visited fill:#fde68a,stroke:#b45309,stroke-width:2px\n";
            for (const auto& s : visited) out << "    class " << s << " visited\n";
        }
        return 0;
    }

    std::string dot(const std::set<Edge>& taken, const std::set<std::string>& visited) const {
        std::string out = "digraph tfadesk {\n    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
                          "    edge [fontname=\"Helvetica\", fontsize=10];\n    start [shape=point];\n";
        if (ticket_) out += "    label=\"path of ticket " + *ticket_ + "\";\n";
        for (const auto& [state, terminal] : engine::Machine::states()) {
            std::string attrs = terminal ? "peripheries=2" : "";
            if (visited.count(state)) attrs += std::string(attrs.empty() ? "" : ", ") + "style=\"rounded,filled\", fillcolor=\"#fde68a\", penwidth=2";
            out += "    " + state + (attrs.empty() ? "" : " [" + attrs + "]") + ";\n";
        }
        out += "    start -> " + engine::Machine::states().front().first + " [label=\"open\"" +
               (ticket_ ? ", color=\"#b45309\", penwidth=2.5" : "") + "];\n";
        for (const auto& t : engine::Machine::transitions()) {
            const bool hit = taken.count({t.source, t.event, t.target}) != 0;
            out += "    " + t.source + " -> " + t.target + " [label=\"" + label(t) + "\"" +
                   (hit ? ", color=\"#b45309\", fontcolor=\"#b45309\", penwidth=2.5" : "") + "];\n";
        }
        return out + "}\n";
    }

    int svg(Context& ctx, const std::string& text) const {
        // The DOT goes to a temporary file, dot writes the SVG to a pipe we read back.
        char path[] = "/tmp/tfadesk-diagram-XXXXXX";
        const int fd = mkstemp(path);
        if (fd < 0) throw engine::Error(engine::ErrorKind::unexpected, "cannot create a temporary file");
        FILE* f = fdopen(fd, "w");
        std::fwrite(text.data(), 1, text.size(), f);
        std::fclose(f);
        FILE* p = popen(("dot -Tsvg " + std::string(path) + " 2>/dev/null").c_str(), "r");
        std::string svg;
        char buf[4096];
        std::size_t n = 0;
        while (p && (n = std::fread(buf, 1, sizeof buf, p)) > 0) svg.append(buf, n);
        const int status = p ? pclose(p) : -1;
        std::remove(path);
        if (status != 0 || svg.empty())
            throw engine::Error(engine::ErrorKind::unexpected,
                                "--format svg needs Graphviz's 'dot' (apt-get install graphviz); "
                                "or use --format dot and render it elsewhere");
        ctx.out << svg;
        return 0;
    }

    std::string format_ = "dot";
    std::optional<std::string> ticket_;
};

}  // namespace

std::unique_ptr<Command> make_diagram() { return std::make_unique<DiagramCommand>(); }

}  // namespace tfadesk::cli
