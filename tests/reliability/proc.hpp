// Process helpers for the reliability tests: start the real `tfadesk` program (no shell), its
// stdout and stderr going to files, then wait for it or kill -9 it.
// Everything here is safe to call from several threads at once (the child is built before fork,
// waitpid on a known pid, an atomic counter for file names); doctest assertions are NOT made here.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

#include "../support/process.hpp"
#include "../support/temp_dir.hpp"
#include "../support/text.hpp"

namespace rel {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

inline double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

inline void sleep_ms(long ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

using tfadesk_test::slurp;

using tfadesk_test::lines_of;

using tfadesk_test::split;

using tfadesk_test::TempDir;

// How a process ended.
struct Exit {
    int code = -1;   // exit status when it exited, else -1
    int signal = 0;  // the signal that ended it, else 0
    std::string out, err;
    double ms = 0;  // wall time from spawn to reap
    bool exited(int c) const { return signal == 0 && code == c; }
    std::string describe() const {
        std::string s =
            signal ? "killed by signal " + std::to_string(signal) : "exit " + std::to_string(code);
        if (!err.empty()) s += ", stderr: " + err;
        return s;
    }
};

// The environment for children: ours, minus the variables that would change what tfadesk does.
inline const std::vector<std::string>& child_env() {
    static const std::vector<std::string> env = tfadesk_test::environment(
        [](const std::string& key) { return key == "TFADESK_DB" || key == "TFADESK_AGENT"; });
    return env;
}

// One running child (tests/support/process.hpp), its stdout and stderr in files. Move-only; the
// child is killed and reaped if still running when it goes.
class Process {
public:
    // Starts argv[0] (a path) with argv; stdin from /dev/null, stdout and stderr to files in dir.
    static Process start(const std::vector<std::string>& argv, const fs::path& dir) {
        static std::atomic<unsigned long> counter{0};
        const unsigned long n = counter.fetch_add(1);
        Process p;
        p.out_path_ = (dir / ("p" + std::to_string(n) + ".out")).string();
        p.err_path_ = (dir / ("p" + std::to_string(n) + ".err")).string();
        tfadesk_test::Spawn s;
        s.argv = argv;
        s.env = child_env();
        s.out = tfadesk_test::Sink::file(p.out_path_);
        s.err = tfadesk_test::Sink::file(p.err_path_);
        p.child_ = std::make_unique<tfadesk_test::Child>(s);
        return p;
    }

    pid_t pid() const { return child_->pid(); }
    // True while the child has not exited (reaps it when it has).
    bool running() { return child_->running(); }
    // kill -9 if still running; returns true when the signal was sent to a live child.
    bool kill9() { return child_->signal(SIGKILL); }

    Exit wait() {
        const int status = child_->wait();
        Exit e;
        if (WIFEXITED(status)) e.code = WEXITSTATUS(status);
        if (WIFSIGNALED(status)) e.signal = WTERMSIG(status);
        e.out = slurp(out_path_);
        e.err = slurp(err_path_);
        e.ms = child_->ms();
        std::error_code ec;
        fs::remove(out_path_, ec);
        fs::remove(err_path_, ec);
        return e;
    }

private:
    std::unique_ptr<tfadesk_test::Child> child_;
    std::string out_path_, err_path_;
};

// Starts and waits for one child.
inline Exit run(const std::vector<std::string>& argv, const fs::path& dir) {
    return Process::start(argv, dir).wait();
}

// A tiny deterministic generator (splitmix64): the same sequence with every standard library.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : s_(seed) {}
    std::uint64_t next() {
        std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    // Uniform-enough integer in [lo, hi].
    long between(long lo, long hi) {
        return lo + static_cast<long>(next() % static_cast<std::uint64_t>(hi - lo + 1));
    }
    bool chance(int percent) { return static_cast<int>(next() % 100) < percent; }

private:
    std::uint64_t s_;
};

// ---- tfadesk-specific helpers ----------------------------------------------------------------

#ifndef TFADESK_BIN
#error "TFADESK_BIN must be defined to the tfadesk program's path"
#endif

// Every `open` in these tests gives --submitted-at: the default (now) is stored unnormalised and
// makes verify fail for tickets opened at a whole second, a bug tested on its own (crash_test.cpp).
inline const std::string kSubmittedAt = "2026-11-20T09:15:00Z";

// argv for `tfadesk --db DB ARGS...`.
inline std::vector<std::string> tf(const std::string& db, std::vector<std::string> args) {
    std::vector<std::string> v = {TFADESK_BIN, "--db", db};
    v.insert(v.end(), args.begin(), args.end());
    return v;
}

// The integer after "KEY": in a JSON text (first occurrence), or -1.
inline long json_int(const std::string& text, const std::string& key) {
    const std::string pat = "\"" + key + "\":";
    auto at = text.find(pat);
    if (at == std::string::npos) return -1;
    at += pat.size();
    while (at < text.size() && text[at] == ' ') ++at;
    std::size_t end = at;
    while (end < text.size() &&
           (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '-'))
        ++end;
    if (end == at) return -1;
    return std::stol(text.substr(at, end - at));
}

// The string after "KEY":" in a JSON text (no escapes expected), or "".
inline std::string json_str(const std::string& text, const std::string& key) {
    const std::string pat = "\"" + key + "\":\"";
    auto at = text.find(pat);
    if (at == std::string::npos) return "";
    at += pat.size();
    const auto end = text.find('"', at);
    return end == std::string::npos ? "" : text.substr(at, end - at);
}

// One line of `export --format jsonl`.
struct ExportEntry {
    long seq = -1, tseq = -1;
    std::string ref, event, prev_hash, hash;
};

inline std::vector<ExportEntry> parse_export(const std::string& jsonl) {
    std::vector<ExportEntry> out;
    for (const auto& line : lines_of(jsonl)) {
        if (line.empty()) continue;
        ExportEntry e;
        e.seq = json_int(line, "seq");
        e.tseq = json_int(line, "tseq");
        e.ref = json_str(line, "ref");
        e.event = json_str(line, "event");
        e.prev_hash = json_str(line, "prev_hash");
        e.hash = json_str(line, "hash");
        out.push_back(e);
    }
    return out;
}

// "" when the exported log is one linear chain: seq 1..N without gaps, the first prev_hash the
// genesis hash (64 zeros), each prev_hash the previous entry's hash, all hashes distinct and
// 64 hex digits, and per ticket tseq 1..n in order. Otherwise the first problem found.
inline std::string chain_problem(const std::vector<ExportEntry>& log) {
    std::string prev(64, '0');
    std::vector<std::string> seen;
    std::vector<std::pair<std::string, long>> last_tseq;
    for (std::size_t i = 0; i < log.size(); ++i) {
        const auto& e = log[i];
        const std::string at =
            "entry #" + std::to_string(i + 1) + " (seq " + std::to_string(e.seq) + ")";
        if (e.seq != static_cast<long>(i + 1)) return at + ": seq is not " + std::to_string(i + 1);
        if (e.prev_hash != prev)
            return at + ": prev_hash " + e.prev_hash + " is not the previous hash " + prev;
        if (e.hash.size() != 64 ||
            e.hash.find_first_not_of("0123456789abcdef") != std::string::npos)
            return at + ": hash '" + e.hash + "' is not 64 hex digits";
        prev = e.hash;
        seen.push_back(e.hash);
        long expected = 1;
        bool found = false;
        for (auto& [ref, t] : last_tseq)
            if (ref == e.ref) {
                expected = t + 1;
                t = e.tseq;
                found = true;
                break;
            }
        if (!found) last_tseq.emplace_back(e.ref, e.tseq);
        if (e.tseq != expected)
            return at + ": ticket " + e.ref + " tseq " + std::to_string(e.tseq) + ", expected " +
                   std::to_string(expected);
    }
    std::sort(seen.begin(), seen.end());
    if (std::adjacent_find(seen.begin(), seen.end()) != seen.end())
        return "two entries share a hash";
    return "";
}

// One row of plain `history REF` (stdout not a terminal: tab-separated, no header).
struct HistoryRow {
    long tseq = -1;
    std::string agent, event, details, state;
};

inline std::vector<HistoryRow> parse_history(const std::string& text) {
    std::vector<HistoryRow> out;
    for (const auto& line : lines_of(text)) {
        if (line.empty()) continue;
        const auto cols = split(line, '\t');
        HistoryRow r;
        if (cols.size() >= 6) {
            try {
                r.tseq = std::stol(cols[0]);
            } catch (const std::exception&) {
            }
            r.agent = cols[2];
            r.event = cols[3];
            r.details = cols[4];
            r.state = cols[5];
        } else {
            r.details = line;
        }
        out.push_back(r);
    }
    return out;
}

}  // namespace rel
