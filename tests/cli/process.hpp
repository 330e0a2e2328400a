// Process helpers for the CLI tests: run the real `tfadesk` program (and the `sqlite3` shell, as an
// attacker would) with fork/execve - no shell - capturing stdout and stderr separately, with stdin
// from /dev/null, a clean environment (ours minus every TFADESK_* variable, plus what the test
// sets), an optional working directory and umask and, when we are root, optionally an
// unprivileged user.
// Each test works in its own temp folder (TempDir), removed with everything in it afterwards.
// No doctest assertions are made here.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#ifndef TFADESK_BIN
#error "TFADESK_BIN must be defined to the tfadesk program's path"
#endif
#ifndef SQLITE3_BIN
#error "SQLITE3_BIN must be defined to the sqlite3 shell's path"
#endif

extern char** environ;

#include "../support/process.hpp"
#include "../support/temp_dir.hpp"
#include "../support/text.hpp"

namespace clitest {

namespace fs = std::filesystem;

using tfadesk_test::slurp;

inline void spit(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

using tfadesk_test::lines_of;

using tfadesk_test::split;

inline bool contains(const std::string& haystack, const std::string& needle) {
    return haystack.find(needle) != std::string::npos;
}

using tfadesk_test::TempDir;

// How a process ended and what it printed.
struct Result {
    int code = -1;  // exit status; 128 + signal when a signal ended it
    std::string out, err;

    std::vector<std::string> out_lines() const { return lines_of(out); }
    std::vector<std::string> err_lines() const { return lines_of(err); }
    // What a failed check shows: the code and both streams.
    std::string describe() const {
        return "exit " + std::to_string(code) + "\n--- stdout ---\n" + out + "--- stderr ---\n" +
               err;
    }
};

struct RunOptions {
    fs::path cwd;                                          // empty: ours
    std::vector<std::pair<std::string, std::string>> env;  // added to the clean environment
    std::optional<uid_t> uid;                              // run as this user (needs root)
    std::optional<gid_t> gid;
    std::optional<mode_t> umask;  // the child's umask; empty: ours
    // tfadesk(): hand the program no token for --agent (see keychain() below), as someone who
    // types a name without holding its token would.
    bool no_token = false;
};

// Runs argv[0] (a path) with argv and waits for it. stdin is /dev/null; stdout and stderr are read
// through two pipes (tests/support/process.hpp).
inline Result run(const std::vector<std::string>& argv, const RunOptions& opt = {}) {
    tfadesk_test::Spawn s;
    s.argv = argv;
    std::vector<std::string> add;
    for (const auto& [k, v] : opt.env) add.push_back(k + "=" + v);
    s.env = tfadesk_test::environment(
        [](const std::string& key) { return key.rfind("TFADESK_", 0) == 0; }, add);
    s.cwd = opt.cwd.string();
    s.umask = opt.umask;
    s.uid = opt.uid;
    s.gid = opt.gid;
    tfadesk_test::Child child(s);
    Result r;
    std::tie(r.out, r.err) = child.collect();
    r.code = tfadesk_test::shell_code(child.wait());
    return r;
}

// ---- a command run later than now ------------------------------------------------------------
// The SLA is judged at the time an entry is written (SPEC §12: `sweep --now` may not be later), so
// a test that needs an expiry runs the command as if it ran `offset` from now ("+8d", "+2h"),
// through libfaketime (Debian's faketime package), which shifts the clock the process reads.
inline const char* kFakeTimeLib = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";
inline RunOptions later(const std::string& offset) {
    if (!fs::exists(kFakeTimeLib))
        throw std::runtime_error(std::string(kFakeTimeLib) + " is missing: install faketime");
    RunOptions o;
    // Under AddressSanitizer (the dev preset) the program refuses to start when another library is
    // preloaded before its runtime, unless told that the order is intended.
    const char* asan = std::getenv("ASAN_OPTIONS");
    o.env = {{"LD_PRELOAD", kFakeTimeLib},
             {"FAKETIME", offset},
             {"FAKETIME_DONT_RESET", "1"},
             {"ASAN_OPTIONS", std::string(asan ? asan : "") + (asan && *asan ? ":" : "") +
                                  "verify_asan_link_order=0"}};
    return o;
}

// Variables set in this process's environment, which the servers a test starts inherit, and put
// back as they were when the scope ends, however it ends (a server that fails to start must not
// leave libfaketime preloaded into every later test).
class ScopedEnv {
public:
    explicit ScopedEnv(const std::vector<std::pair<std::string, std::string>>& vars) {
        for (const auto& [k, v] : vars) {
            const char* old = std::getenv(k.c_str());
            saved_.emplace_back(k, old ? std::optional<std::string>(old) : std::nullopt);
            setenv(k.c_str(), v.c_str(), 1);
        }
    }
    ~ScopedEnv() {
        for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
            if (it->second)
                setenv(it->first.c_str(), it->second->c_str(), 1);
            else
                unsetenv(it->first.c_str());
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// ---- each person's token ----------------------------------------------------------------------
// On a desk with accounts the program authenticates every write by the account's token (SPEC §12).
// The tests keep what each account's holder keeps: the token printed by `agent add` / `agent
// token` (or written to --token-out), per database and account name. tfadesk() hands it over as
// $TFADESK_TOKEN whenever a command names that account with --agent, so "--agent bob" in a test
// means "bob, with his own token". RunOptions::no_token runs the command without it.
inline std::map<std::string, std::map<std::string, std::string>>& keychain() {
    static std::map<std::string, std::map<std::string, std::string>> tokens;
    return tokens;
}

inline std::string lower_name(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const auto first = s.find_first_not_of(" \t");
    const auto last = s.find_last_not_of(" \t");
    return first == std::string::npos ? std::string() : s.substr(first, last - first + 1);
}

// The value after `flag` in args, or nothing.
inline std::optional<std::string> flag_value(const std::vector<std::string>& args,
                                             const std::string& flag) {
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == flag) return args[i + 1];
    return std::nullopt;
}

// Keeps the token an `agent add NAME` / `agent token NAME` run printed or wrote.
inline void keep_token(const std::string& db, const std::vector<std::string>& args, const Result& r,
                       const fs::path& cwd) {
    if (r.code != 0) return;
    for (std::size_t i = 0; i + 2 < args.size(); ++i) {
        if (args[i] != "agent" || (args[i + 1] != "add" && args[i + 1] != "token")) continue;
        std::string token;
        if (const auto out = flag_value(args, "--token-out")) {
            fs::path p(*out);
            if (p.is_relative() && !cwd.empty()) p = cwd / p;
            token = slurp(p);
        } else {
            token = r.out;
        }
        while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
        if (token.rfind("tfa_", 0) == 0) keychain()[db][lower_name(args[i + 2])] = token;
        return;
    }
}

// `tfadesk --db DB ARGS...`
inline Result tfadesk(const std::string& db, const std::vector<std::string>& args,
                      const RunOptions& opt = {}) {
    std::vector<std::string> v = {TFADESK_BIN, "--db", db};
    v.insert(v.end(), args.begin(), args.end());
    RunOptions o = opt;
    if (!opt.no_token)
        if (const auto agent = flag_value(args, "--agent")) {
            const auto& tokens = keychain()[db];
            const auto it = tokens.find(lower_name(*agent));
            if (it != tokens.end()) o.env.emplace_back("TFADESK_TOKEN", it->second);
        }
    Result r = run(v, o);
    keep_token(db, args, r, opt.cwd);
    return r;
}

// `tfadesk ARGS...` with no --db: the database comes from $TFADESK_DB or ./tfadesk.db.
inline Result tfadesk_bare(const std::vector<std::string>& args, const RunOptions& opt = {}) {
    std::vector<std::string> v = {TFADESK_BIN};
    v.insert(v.end(), args.begin(), args.end());
    return run(v, opt);
}

// The sqlite3 shell on DB, stopping at the first error: SQL may hold several statements.
inline Result sqlite(const std::string& db, const std::string& sql) {
    return run({SQLITE3_BIN, "-bail", db, sql});
}

// The sqlite3 shell's JSON output mode (an array of row objects; empty output for no rows).
inline Result sqlite_json(const std::string& db, const std::string& sql) {
    return run({SQLITE3_BIN, "-bail", "-json", db, sql});
}

// SQL string literal.
inline std::string sql_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

// ---- UTC times as the log stores them: "YYYY-MM-DDTHH:MM:SS.mmmZ" -----------------------------

// Milliseconds since the epoch, or nothing. Accepts "...:SSZ" and "...:SS.mmmZ".
inline std::optional<std::int64_t> parse_utc_ms(const std::string& s) {
    std::tm tm{};
    int ms = 0;
    if (s.size() < 20) return std::nullopt;
    if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                    &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return std::nullopt;
    if (s[19] == '.' && std::sscanf(s.c_str() + 20, "%3d", &ms) != 1) return std::nullopt;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return static_cast<std::int64_t>(timegm(&tm)) * 1000 + ms;
}

inline std::string format_utc_ms(std::int64_t ms) {
    const std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<int>(ms % 1000));
    return buf;
}

inline std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

inline void sleep_ms(long ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

// File modification time in nanoseconds (to see that a read never touched a file).
inline std::int64_t mtime_ns(const fs::path& p) {
    struct stat st {};
    if (stat(p.c_str(), &st) != 0) return -1;
    return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// ---- tfadesk-specific helpers ----------------------------------------------------------------

// One test's desk: a temp folder and a database path in it (not created until a write).
struct Desk {
    TempDir dir;
    std::string db = dir / "desk.db";

    Result operator()(const std::vector<std::string>& args, const RunOptions& opt = {}) const {
        return tfadesk(db, args, opt);
    }
    // `open` with valid fields; `extra` adds flags.
    Result open(const std::string& ref, const std::string& role, const std::string& access,
                const std::string& agent = "alice",
                const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> a = {"open",
                                      "--ref",
                                      ref,
                                      "--phone",
                                      "+49 151 2345 6789",
                                      "--client-id",
                                      "acme-gmbh",
                                      "--requester-email",
                                      "ops@acme.example",
                                      "--role",
                                      role,
                                      "--agent",
                                      agent};
        if (!access.empty()) {
            a.push_back("--access");
            a.push_back(access);
        }
        a.insert(a.end(), extra.begin(), extra.end());
        return tfadesk(db, a);
    }
    // `event REF EVENT --agent AGENT EXTRA...`
    Result event(const std::string& ref, const std::string& ev, const std::string& agent,
                 const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> a = {"event", ref, ev, "--agent", agent};
        a.insert(a.end(), extra.begin(), extra.end());
        return tfadesk(db, a);
    }
};

}  // namespace clitest
