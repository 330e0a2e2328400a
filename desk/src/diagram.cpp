#include "tfadesk/desk/diagram.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <tuple>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"

extern char** environ;

namespace tfadesk::desk {
namespace {

using engine::Error;
using engine::ErrorKind;
using Edge = std::tuple<std::string, std::string, std::string>;  // source, event, target

struct Path {
    std::set<Edge> taken;
    std::set<std::string> visited;
};

Path path_of(const std::vector<engine::LogEntry>& entries) {
    Path p;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        p.visited.insert(entries[i].state);
        if (i > 0) p.taken.emplace(entries[i - 1].state, entries[i].event, entries[i].state);
    }
    return p;
}

std::string label(const engine::Transition& t) {
    std::string s = t.event;
    if (!t.guard.empty()) s += " [" + t.guard + "]";
    if (!t.action.empty()) s += " / " + t.action;
    return s;
}

// A DOT string literal's content: quotes and backslashes escaped (refs cannot hold them, but the
// diagram must not depend on that).
std::string dot_escape(const std::string& s) {
    std::string out;
    for (char c : s) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

std::string mermaid(const Path& p) {
    const auto& states = engine::Machine::states();
    std::string out = "stateDiagram-v2\n    [*] --> " + states.front().first + "\n";
    for (const auto& t : engine::Machine::transitions())
        out += "    " + t.source + " --> " + t.target + " : " + label(t) +
               (p.taken.count({t.source, t.event, t.target}) ? " ✔" : "") + "\n";
    for (const auto& [state, terminal] : states)
        if (terminal) out += "    " + state + " --> [*]\n";
    if (!p.visited.empty()) {
        out += "    classDef visited fill:#fde68a,stroke:#b45309,stroke-width:2px\n";
        for (const auto& s : p.visited) out += "    class " + s + " visited\n";
    }
    return out;
}

std::string dot(const std::string& ref, const Path& p) {
    std::string out =
        "digraph tfadesk {\n    rankdir=LR;\n    node [shape=box, style=rounded, "
        "fontname=\"Helvetica\"];\n"
        "    edge [fontname=\"Helvetica\", fontsize=10];\n    start [shape=point];\n";
    if (!ref.empty()) out += "    label=\"path of ticket " + dot_escape(ref) + "\";\n";
    for (const auto& [state, terminal] : engine::Machine::states()) {
        std::string attrs = terminal ? "peripheries=2" : "";
        if (p.visited.count(state))
            attrs += std::string(attrs.empty() ? "" : ", ") +
                     "style=\"rounded,filled\", fillcolor=\"#fde68a\", penwidth=2";
        out += "    " + state + (attrs.empty() ? "" : " [" + attrs + "]") + ";\n";
    }
    out += "    start -> " + engine::Machine::states().front().first + " [label=\"open\"" +
           (ref.empty() ? "" : ", color=\"#b45309\", penwidth=2.5") + "];\n";
    for (const auto& t : engine::Machine::transitions()) {
        const bool hit = p.taken.count({t.source, t.event, t.target}) != 0;
        out += "    " + t.source + " -> " + t.target + " [label=\"" + label(t) + "\"" +
               (hit ? ", color=\"#b45309\", fontcolor=\"#b45309\", penwidth=2.5" : "") + "];\n";
    }
    return out + "}\n";
}

// Bounds on one `dot` run: a request may ask for an SVG, so it never waits or grows unbounded.
constexpr int kDotSeconds = 10;
constexpr std::size_t kDotMaxBytes = std::size_t{4} << 20;

// Runs `dot -Tsvg FILE` (no shell) on the DOT written to a file in a private temporary folder
// (mkdtemp, 0700, under $TMPDIR) and returns what it prints. Only its output is a pipe, so a `dot`
// that dies early cannot SIGPIPE us; one that runs past kDotSeconds or prints more than
// kDotMaxBytes is killed.
std::string run_dot(const std::string& text) {
    const engine::Words fail = engine::field("format") +
                               " svg needs Graphviz's 'dot' (apt-get install graphviz); or use " +
                               engine::field("format") + " dot and render it elsewhere";
    std::string dir = (std::filesystem::temp_directory_path() / "tfadesk-diagram-XXXXXX").string();
    if (!mkdtemp(dir.data()))
        throw Error(ErrorKind::unexpected, "cannot create a temporary folder for the diagram");
    struct Remove {
        const std::string& dir;
        ~Remove() {
            std::error_code ec;
            std::filesystem::remove_all(dir, ec);
        }
    } remove{dir};
    const std::string path = dir + "/diagram.dot";
    const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        throw Error(ErrorKind::unexpected, "cannot create a temporary file for the diagram");
    const bool wrote = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    close(fd);
    int out[2];
    if (!wrote || pipe2(out, O_CLOEXEC) != 0) throw Error(ErrorKind::unexpected, fail);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    std::string arg0 = "dot", arg1 = "-Tsvg", arg2 = path;
    char* argv[] = {arg0.data(), arg1.data(), arg2.data(), nullptr};
    pid_t pid = 0;
    const int rc = posix_spawnp(&pid, "dot", &fa, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    std::string svg;
    bool bounded = true;
    if (rc == 0) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(kDotSeconds);
        char buf[16384];
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  until - std::chrono::steady_clock::now())
                                  .count();
            pollfd p{out[0], POLLIN, 0};
            const int ready = left > 0 ? poll(&p, 1, static_cast<int>(left)) : 0;
            if (ready < 0 && errno == EINTR) continue;
            if (ready <= 0) {
                bounded = false;  // out of time
                break;
            }
            const ssize_t n = read(out[0], buf, sizeof buf);
            if (n > 0) {
                svg.append(buf, static_cast<std::size_t>(n));
                if (svg.size() > kDotMaxBytes) {
                    bounded = false;
                    break;
                }
            } else if (n == 0 || errno != EINTR) {
                break;
            }
        }
        if (!bounded) kill(pid, SIGKILL);
    }
    close(out[0]);
    int status = -1;
    if (rc == 0)
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    if (!bounded)
        throw Error(ErrorKind::unexpected, "'dot' took longer than " + std::to_string(kDotSeconds) +
                                               " s or printed too much: the diagram is not drawn");
    if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || svg.empty())
        throw Error(ErrorKind::unexpected, fail);
    return svg;
}

}  // namespace

bool is_diagram_format(std::string_view format) {
    return format == "dot" || format == "mermaid" || format == "svg";
}

std::string render_diagram(std::string_view format, const std::string& ref,
                           const std::vector<engine::LogEntry>& path) {
    if (!is_diagram_format(format))
        throw Error(ErrorKind::invalid_input,
                    "format: must be dot, mermaid or svg (got '" + std::string(format) + "')");
    const Path p = path_of(path);
    if (format == "mermaid") return mermaid(p);
    const std::string text = dot(ref, p);
    return format == "dot" ? text : run_dot(text);
}

}  // namespace tfadesk::desk
