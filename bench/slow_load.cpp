// slow_load: the slow-client figure of `bench/run --serve` (SPEC §16: "2,000 idle or trickling
// connections do not keep GET /healthz from a well-behaved client above 200 ms, nor the server
// from exiting within 15 s of SIGTERM"). Against one running `tfadesk serve` on 127.0.0.1:
//
//   1. baseline: --probes GET /healthz on one keep-alive connection and --probes on a fresh
//      connection each, interleaved, --gap-ms apart;
//   2. opens --idle connections that never send and --trickling ones that send a request line and
//      then one header byte each every 250 ms, never ending the header (slowloris); a connection
//      the server closes (it times them out) is opened again at once, so that they stay held;
//   3. the same probes again while they are held;
//   4. with --server-pid: SIGTERM to the server while they are still held, and the time until the
//      process has exited (a zombie: the caller reaps it).
//
// Raises its own RLIMIT_NOFILE soft limit as far as needed (exit 2 if the hard limit is too low).
// Every loop bounded in count and by --max-seconds. Prints one JSON line; exits 1 if a probe got
// no 200 or the server did not exit.
//
//   slow_load --port P [--idle 1000] [--trickling 1000] [--probes 200] [--gap-ms 20]
//             [--tls 0|1] [--server-pid PID] [--max-seconds 120]
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "flags.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
    int port = 0, idle = 1000, trickling = 1000, probes = 200, gap_ms = 20, tls = 0, server_pid = 0;
    double max_seconds = 120;
};

Args parse(int argc, char** argv) {
    Args a;
    bench::parse_flags("slow_load", argc, argv,
                       {{"--port", &a.port},
                        {"--idle", &a.idle},
                        {"--trickling", &a.trickling},
                        {"--probes", &a.probes},
                        {"--gap-ms", &a.gap_ms},
                        {"--tls", &a.tls},
                        {"--server-pid", &a.server_pid},
                        {"--max-seconds", &a.max_seconds}});
    if (a.port <= 0 || a.idle < 0 || a.trickling < 0 || a.probes < 1 || a.gap_ms < 0) {
        std::fprintf(stderr, "slow_load: --port is required; counts must not be negative\n");
        std::exit(2);
    }
    return a;
}

void raise_fd_limit(rlim_t want) {
    rlimit l{};
    getrlimit(RLIMIT_NOFILE, &l);
    if (l.rlim_cur >= want) return;
    if (l.rlim_max != RLIM_INFINITY && l.rlim_max < want) {
        std::fprintf(stderr, "slow_load: needs %llu open files, the hard limit is %llu\n",
                     static_cast<unsigned long long>(want),
                     static_cast<unsigned long long>(l.rlim_max));
        std::exit(2);
    }
    l.rlim_cur = want;
    setrlimit(RLIMIT_NOFILE, &l);
}

// A blocking TCP connection to 127.0.0.1:port (connect bounded to 2 s), or -1.
int connect_to(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    timeval tv{2, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);  // Linux bounds connect() with it
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// The slow connections, held by one thread until stop(): each one the server closes is opened
// again (a trickling one resends its request line, over plain HTTP; over TLS it trickles the
// bytes of a ClientHello that never ends).
class SlowClients {
public:
    SlowClients(int port, int idle, int trickling, bool tls) : port_(port), tls_(tls) {
        for (int i = 0; i < idle + trickling; ++i) conns_.push_back({-1, i >= idle});
        for (auto& c : conns_) open(c);
        thread_ = std::thread([this] { hold(); });
    }
    ~SlowClients() { stop(); }
    void stop() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        for (auto& c : conns_)
            if (c.fd >= 0) close(c.fd);
        conns_.clear();
    }
    // From now on a connection the server closes stays closed (it is stopping).
    void stop_reopening() { reopen_ = false; }
    int open_now() const { return open_.load(); }
    long reopened() const { return reopened_.load(); }
    long failed() const { return failed_.load(); }

private:
    struct Conn {
        int fd;
        bool trickling;
    };
    void open(Conn& c) {
        c.fd = connect_to(port_);
        if (c.fd < 0) {
            ++failed_;
            return;
        }
        ++open_;
        if (!c.trickling) return;
        // TLS: a handshake record header announcing 512 bytes, of which only the header comes.
        static const std::string http = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";
        static const std::string tls = std::string("\x16\x03\x01\x02\x00", 5);
        const std::string& first = tls_ ? tls : http;
        send(c.fd, first.data(), first.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    void hold() {
        std::vector<pollfd> fds;
        const auto until = Clock::now() + std::chrono::minutes(10);  // a bound, whatever happens
        for (long tick = 0; !stop_ && Clock::now() < until; ++tick) {
            if (tick % 5 == 0)  // every 250 ms: one more byte on each trickling connection
                for (auto& c : conns_)
                    if (c.trickling && c.fd >= 0) send(c.fd, "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            fds.clear();
            for (const auto& c : conns_) fds.push_back({c.fd, POLLIN | POLLRDHUP, 0});
            if (poll(fds.data(), fds.size(), 0) > 0)
                for (std::size_t i = 0; i < conns_.size(); ++i) {
                    if (fds[i].fd < 0 || fds[i].revents == 0) continue;
                    char buf[512];
                    if (recv(conns_[i].fd, buf, sizeof buf, MSG_DONTWAIT) > 0) continue;
                    close(conns_[i].fd);  // closed by the server: open it again
                    --open_;
                    conns_[i].fd = -1;
                    if (!reopen_) continue;
                    ++reopened_;
                    open(conns_[i]);
                }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }

    int port_;
    bool tls_;
    std::vector<Conn> conns_;
    std::atomic<bool> stop_{false}, reopen_{true};
    std::atomic<int> open_{0};
    std::atomic<long> reopened_{0}, failed_{0};
    std::thread thread_;
};

struct Series {
    std::vector<double> ms;
    long errors = 0;
    std::string first_error;
};

std::unique_ptr<httplib::ClientImpl> client_for(const Args& a) {
    std::unique_ptr<httplib::ClientImpl> c;
    if (a.tls) {
        auto s = std::make_unique<httplib::SSLClient>("127.0.0.1", a.port);
        s->enable_server_certificate_verification(false);
        c = std::move(s);
    } else {
        c = std::make_unique<httplib::ClientImpl>("127.0.0.1", a.port);
    }
    c->set_tcp_nodelay(true);
    c->set_connection_timeout(5);
    c->set_read_timeout(10);
    return c;
}

void probe(httplib::ClientImpl& client, Series& s) {
    const auto t0 = Clock::now();
    auto r = client.Get("/healthz");
    s.ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (r && r->status == 200 && r->body.find("\"ok\":true") != std::string::npos) return;
    ++s.errors;
    if (s.first_error.empty())
        s.first_error = r ? "HTTP " + std::to_string(r->status) : httplib::to_string(r.error());
}

// `count` probes of each kind, interleaved: one keep-alive client, and a new client per probe.
void probe_both(const Args& a, Clock::time_point deadline, Series& kept, Series& fresh,
                const SlowClients* slow, std::vector<int>& held) {
    auto keep_alive = client_for(a);
    keep_alive->set_keep_alive(true);
    for (int i = 0; i < a.probes && Clock::now() < deadline; ++i) {
        if (slow) held.push_back(slow->open_now());
        probe(*keep_alive, kept);
        std::this_thread::sleep_for(std::chrono::milliseconds(a.gap_ms));
        auto once = client_for(a);
        probe(*once, fresh);
        std::this_thread::sleep_for(std::chrono::milliseconds(a.gap_ms));
    }
}

std::string summary(Series s) {
    std::sort(s.ms.begin(), s.ms.end());
    auto pct = [&](double p) {
        if (s.ms.empty()) return 0.0;
        const auto i = static_cast<std::size_t>(p * static_cast<double>(s.ms.size() - 1) + 0.5);
        return s.ms[std::min(i, s.ms.size() - 1)];
    };
    const auto over = std::count_if(s.ms.begin(), s.ms.end(), [](double v) { return v > 200.0; });
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "{\"n\":%zu,\"median_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f,"
                  "\"over_200ms\":%ld,\"errors\":%ld",
                  s.ms.size(), pct(0.5), pct(0.99), s.ms.empty() ? 0.0 : s.ms.back(),
                  static_cast<long>(over), s.errors);
    std::string out = buf;
    if (!s.first_error.empty()) out += ",\"first_error\":\"" + s.first_error + "\"";
    return out + "}";
}

// Whether the process has exited (a zombie, or gone), from /proc.
bool exited(int pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const auto paren = line.rfind(')');
    return paren == std::string::npos || line.compare(paren + 2, 1, "Z") == 0;
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    raise_fd_limit(static_cast<rlim_t>(a.idle + a.trickling + 256));
    const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                             std::chrono::duration<double>(a.max_seconds));
    Series base_kept, base_fresh, slow_kept, slow_fresh;
    std::vector<int> held;
    probe_both(a, deadline, base_kept, base_fresh, nullptr, held);

    SlowClients slow(a.port, a.idle, a.trickling, a.tls != 0);
    const int opened = slow.open_now();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the server accepts them all
    probe_both(a, deadline, slow_kept, slow_fresh, &slow, held);

    double stop_s = -1;
    if (a.server_pid > 0) {  // SIGTERM while they are still held
        slow.stop_reopening();
        const auto t0 = Clock::now();
        kill(a.server_pid, SIGTERM);
        while (!exited(a.server_pid) && Clock::now() - t0 < std::chrono::seconds(30))
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (exited(a.server_pid)) stop_s = std::chrono::duration<double>(Clock::now() - t0).count();
    }
    const long reopened = slow.reopened(), failed = slow.failed();
    slow.stop();

    std::sort(held.begin(), held.end());
    std::printf(
        "{\"tls\":%d,\"idle\":%d,\"trickling\":%d,\"opened\":%d,\"held_min\":%d,"
        "\"held_median\":%d,\"reopened\":%ld,\"connect_failures\":%ld,\"sigterm_exit_s\":%.2f,",
        a.tls, a.idle, a.trickling, opened, held.empty() ? 0 : held.front(),
        held.empty() ? 0 : held[held.size() / 2], reopened, failed, stop_s);
    std::printf("\"baseline\":{\"keepalive\":%s,\"fresh\":%s},", summary(base_kept).c_str(),
                summary(base_fresh).c_str());
    std::printf("\"slow\":{\"keepalive\":%s,\"fresh\":%s}}\n", summary(slow_kept).c_str(),
                summary(slow_fresh).c_str());
    const long errors = base_kept.errors + base_fresh.errors + slow_kept.errors + slow_fresh.errors;
    return errors || (a.server_pid > 0 && stop_s < 0) ? 1 : 0;
}
