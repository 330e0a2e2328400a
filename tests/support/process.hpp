// The one process harness of the process-level suites (cli, reliability, serve): a child started
// with fork/execve (no shell), stdin from /dev/null, stdout and stderr each into a pipe, a file
// or ours, in a given environment, folder, umask and (as root) user. Everything the child needs
// is built before fork, so it is safe from threaded tests. A Child still running when it goes is
// killed (SIGKILL) and reaped: no test leaves a process behind. No doctest assertions here.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

extern char** environ;

namespace tfadesk_test {

// Where one of the child's output streams goes.
struct Sink {
    enum class Kind { pipe, file, inherit } kind = Kind::pipe;
    std::string path;  // Kind::file: created or truncated, 0600
    static Sink pipe() { return {}; }
    static Sink file(std::string p) { return {Kind::file, std::move(p)}; }
    static Sink inherit() { return {Kind::inherit, {}}; }
};

struct Spawn {
    std::vector<std::string> argv;  // argv[0] is a path (no PATH search)
    std::vector<std::string> env;   // "K=V" entries: the child's whole environment
    std::string cwd;                // empty: ours
    std::optional<mode_t> umask;
    std::optional<uid_t> uid;  // needs root
    std::optional<gid_t> gid;
    Sink out, err;
};

// Our environment minus the entries `drop` says no to, plus `add` ("K=V", replacing ours).
template <class Drop>
std::vector<std::string> environment(Drop&& drop, const std::vector<std::string>& add = {}) {
    std::vector<std::string> env;
    for (char** e = environ; e && *e; ++e) {
        const std::string kv = *e;
        const std::string key = kv.substr(0, kv.find('='));
        bool replaced = false;
        for (const auto& a : add) replaced = replaced || a.substr(0, a.find('=')) == key;
        if (!replaced && !drop(key)) env.push_back(kv);
    }
    env.insert(env.end(), add.begin(), add.end());
    return env;
}

// The exit status as the shell words it: the code, or 128 + the signal that ended it.
inline int shell_code(int status) {
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

class Child {
public:
    explicit Child(const Spawn& s) {
        std::vector<std::string> arg_store = s.argv, env_store = s.env;
        std::vector<char*> args, envp;
        for (auto& a : arg_store) args.push_back(a.data());
        args.push_back(nullptr);
        for (auto& e : env_store) envp.push_back(e.data());
        envp.push_back(nullptr);
        int pipes[2][2] = {{-1, -1}, {-1, -1}};
        const Sink* sinks[2] = {&s.out, &s.err};
        for (int i = 0; i < 2; ++i)
            if (sinks[i]->kind == Sink::Kind::pipe && pipe2(pipes[i], O_CLOEXEC) != 0)
                throw std::runtime_error("pipe2: " + std::string(std::strerror(errno)));
        t0_ = std::chrono::steady_clock::now();
        pid_ = fork();
        if (pid_ < 0) throw std::runtime_error("fork: " + std::string(std::strerror(errno)));
        if (pid_ == 0) {
            const int devnull = open("/dev/null", O_RDONLY);
            if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0) _exit(126);
            for (int i = 0; i < 2; ++i) {
                int fd = -1;
                if (sinks[i]->kind == Sink::Kind::pipe) fd = pipes[i][1];
                if (sinks[i]->kind == Sink::Kind::file)
                    fd = open(sinks[i]->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
                if (sinks[i]->kind != Sink::Kind::inherit && (fd < 0 || dup2(fd, i + 1) < 0))
                    _exit(126);
            }
            if (!s.cwd.empty() && chdir(s.cwd.c_str()) != 0) _exit(126);
            if (s.umask) ::umask(*s.umask);
            if (s.gid && setresgid(*s.gid, *s.gid, *s.gid) != 0) _exit(126);
            if (s.uid && setresuid(*s.uid, *s.uid, *s.uid) != 0) _exit(126);
            execve(args[0], args.data(), envp.data());
            _exit(127);
        }
        for (int i = 0; i < 2; ++i) {
            if (pipes[i][1] >= 0) close(pipes[i][1]);
            fds_[i] = pipes[i][0];
        }
    }
    ~Child() {
        for (int fd : fds_)
            if (fd >= 0) close(fd);
        if (pid_ > 0 && !reaped_) {
            ::kill(pid_, SIGKILL);
            wait();
        }
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;

    pid_t pid() const { return pid_; }
    // The read end of a piped stdout (1) or stderr (2), or -1.
    int fd(int stream) const { return fds_[stream - 1]; }

    // Reads both piped streams to their end (polled, so neither can fill up and block the
    // child): {stdout, stderr}.
    std::pair<std::string, std::string> collect() {
        std::string text[2];
        char buf[65536];
        for (;;) {
            pollfd p[2];
            nfds_t n = 0;
            int which[2];
            for (int i = 0; i < 2; ++i)
                if (fds_[i] >= 0) {
                    p[n] = {fds_[i], POLLIN, 0};
                    which[n++] = i;
                }
            if (n == 0) break;
            if (poll(p, n, -1) < 0) {
                if (errno == EINTR) continue;
                break;
            }
            for (nfds_t k = 0; k < n; ++k) {
                if ((p[k].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
                const int i = which[k];
                const ssize_t got = read(fds_[i], buf, sizeof buf);
                if (got > 0) {
                    text[i].append(buf, static_cast<std::size_t>(got));
                } else if (got == 0 || errno != EINTR) {
                    close(fds_[i]);
                    fds_[i] = -1;
                }
            }
        }
        return {std::move(text[0]), std::move(text[1])};
    }

    // Reads a piped stdout up to a newline, for at most `limit`: the line without it (what came
    // when the time ran out or the stream ended).
    std::string read_line(std::chrono::milliseconds limit) {
        std::string line;
        const auto until = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < until) {
            pollfd p{fds_[0], POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) continue;
            char c = 0;
            if (read(fds_[0], &c, 1) <= 0) break;
            if (c == '\n') return line;
            line += c;
        }
        return line;
    }

    // True while the child has not exited (reaps it when it has).
    bool running() {
        if (reaped_) return false;
        int st = 0;
        if (waitpid(pid_, &st, WNOHANG) == pid_) reaped(st);
        return !reaped_;
    }
    // Sends `sig` to a child still running; true when it was sent.
    bool signal(int sig) { return running() && ::kill(pid_, sig) == 0; }
    // Waits for the exit: the raw wait status.
    int wait() {
        if (!reaped_) {
            int st = 0;
            pid_t r;
            while ((r = waitpid(pid_, &st, 0)) < 0 && errno == EINTR) {
            }
            if (r != pid_)
                throw std::runtime_error("waitpid: " + std::string(std::strerror(errno)));
            reaped(st);
        }
        return status_;
    }
    // Waits at most `limit`: the status, or nothing when the child still runs.
    std::optional<int> wait_for(std::chrono::milliseconds limit) {
        const auto until = std::chrono::steady_clock::now() + limit;
        while (running()) {
            if (std::chrono::steady_clock::now() > until) return std::nullopt;
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        return status_;
    }
    // Milliseconds from the start to the exit (once reaped).
    double ms() const { return ms_; }

private:
    void reaped(int status) {
        reaped_ = true;
        status_ = status;
        ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_)
                  .count();
    }

    pid_t pid_ = -1;
    int fds_[2] = {-1, -1};
    bool reaped_ = false;
    int status_ = 0;
    double ms_ = 0;
    std::chrono::steady_clock::time_point t0_;
};

}  // namespace tfadesk_test
