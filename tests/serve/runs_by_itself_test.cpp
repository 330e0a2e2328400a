// SPEC §16, the desk runs by itself, through a real `tfadesk serve` on 127.0.0.1: the SLA
// scheduler expiring tickets with nobody asking (sealed, on SQLite; once per ticket with two
// servers on one PostgreSQL desk), and the reserved agent `tfadesk-sla` nobody else may use.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <thread>

#include "../cli/log_forge.hpp"
#include "serve_process.hpp"

using namespace servetest;
using clitest::contains;
namespace fs = std::filesystem;

namespace {

int status_of(const httplib::Result& r) { return r ? r->status : -1; }

// Opens REF through the CLI and triages it to awaiting_requester (role unknown).
void open_waiting(const std::string& db, const std::string& ref,
                  const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"open",
                                     "--ref",
                                     ref,
                                     "--phone",
                                     "+4915100000099",
                                     "--client-id",
                                     "acme",
                                     "--requester-email",
                                     "w@client.example",
                                     "--role",
                                     "unknown",
                                     "--access",
                                     "unknown",
                                     "--agent",
                                     "alice"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Result r = clitest::tfadesk(db, args);
    REQUIRE_MESSAGE(r.code == 0, r.describe());
    std::vector<std::string> triage = {"event", ref, "triage", "--agent", "alice"};
    triage.insert(triage.end(), extra.begin(), extra.end());
    const Result t = clitest::tfadesk(db, triage);
    REQUIRE_MESSAGE(t.code == 0, t.describe());
}

// The ticket's state as `show --json` has it, polled until it is `want` or `limit` passes.
std::string wait_for_state(const std::string& db, const std::string& ref, const std::string& want,
                           std::chrono::seconds limit) {
    std::string state;
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        const Result r = clitest::tfadesk(db, {"show", ref, "--json"});
        if (r.code == 0) state = json::parse(r.out).value("state", "");
        if (state == want) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return state;
}

json history_of(const std::string& db, const std::string& ref) {
    const Result r = clitest::tfadesk(db, {"history", ref, "--json"});
    REQUIRE_MESSAGE(r.code == 0, r.describe());
    return json::parse(r.out);
}

}  // namespace

TEST_CASE("sla scheduler: a sealed server expires a waiting ticket by itself, as tfadesk-sla") {
    Desk d;
    const std::string key = d.dir / "desk.key";
    const Result gen = d.cli({"key", "generate", "--name", "sla-desk", "--out", key});
    REQUIRE_MESSAGE(gen.code == 0, gen.describe());
    const std::string vkey = gen.out.substr(0, gen.out.find('\n'));
    open_waiting(d.db, "SLA-1", {"--key", key});
    // 0.001 h = 3.6 s: it falls due while the server runs, and nobody asks.
    Server s(d, {"--key", key, "--sla-hours", "0.001"});
    CHECK(wait_for_state(d.db, "SLA-1", "awaiting_requester", std::chrono::seconds(1)) ==
          "awaiting_requester");
    const std::string state = wait_for_state(d.db, "SLA-1", "expired", std::chrono::seconds(20));
    CHECK_MESSAGE(state == "expired", s.stderr_text());
    CHECK(s.stop() == 0);
    const json h = history_of(d.db, "SLA-1");
    REQUIRE(h.is_array());
    REQUIRE(h.size() == 3);
    CHECK(h.back()["event"] == "expire");
    CHECK(h.back()["agent"] == "tfadesk-sla");
    // Sealed by the server's key, and accepted by verify on a desk with accounts.
    const Result v = d.cli({"verify", "--verifier-key", vkey});
    CHECK_MESSAGE(v.code == 0, v.describe());
}

TEST_CASE("sla scheduler: a ticket not yet due stays waiting, and the default SLA is 168 hours") {
    Desk d;
    open_waiting(d.db, "SLA-2");
    {
        Server s(d, {"--sla-hours", "2"});
        std::this_thread::sleep_for(std::chrono::milliseconds(1500));
        CHECK(s.stop() == 0);
    }
    CHECK(wait_for_state(d.db, "SLA-2", "awaiting_requester", std::chrono::seconds(1)) ==
          "awaiting_requester");
    // Eight days later, a server with the default SLA expires it as it starts.
    // (The server inherits our environment: libfaketime moves its clock, not ours.)
    {
        std::optional<clitest::ScopedEnv> later(clitest::later("+8d").env);
        Server s(d);
        later.reset();
        const std::string state =
            wait_for_state(d.db, "SLA-2", "expired", std::chrono::seconds(20));
        CHECK_MESSAGE(state == "expired", s.stderr_text());
        CHECK(s.stop() == 0);
    }
    const json h = history_of(d.db, "SLA-2");
    CHECK(h.back()["agent"] == "tfadesk-sla");
    CHECK(h.back()["details"].value("sla_hours", 0) == 168);
}

TEST_CASE("sla scheduler: --sla-hours must be a number of hours above 0 (exit 2 naming the flag)") {
    Desk d;
    for (const std::string bad :
         {"0", "0.0", "-1", "abc", "1e3", "", "1.2.3", "inf", "nan", "2000000"}) {
        CAPTURE(bad);
        const Result r = d.cli({"serve", "--listen", "127.0.0.1:0", "--sla-hours", bad});
        CHECK(r.code == 2);
        CHECK(contains(r.err, "--sla-hours"));
    }
}

TEST_CASE("sla scheduler: tfadesk-sla is reserved: no account, no --agent") {
    Desk d;
    const Result add =
        d.cli({"agent", "add", "tfadesk-sla", "--role", "operator", "--agent", "boss"});
    CHECK_MESSAGE(add.code == 2, add.describe());
    CHECK(contains(add.err, "reserved"));
    const Result add2 =
        d.cli({"agent", "add", " TFADESK-SLA", "--role", "agent", "--agent", "boss"});
    CHECK(add2.code == 2);
    // A desk without accounts takes any valid name, but not this one.
    clitest::TempDir dir;
    const std::string db = dir / "open.db";
    open_waiting(db, "R-1");
    const Result ev = clitest::tfadesk(db, {"event", "R-1", "expire", "--agent", "tfadesk-sla"});
    CHECK_MESSAGE(ev.code == 2, ev.describe());
    CHECK(contains(ev.err, "reserved"));
    const Result sw = clitest::tfadesk(db, {"sweep", "--agent", "tfadesk-sla"});
    CHECK(sw.code == 2);
    CHECK(history_of(db, "R-1").size() == 2);
}

TEST_CASE("sla scheduler: two servers on one PostgreSQL desk expire each ticket once") {
    const char* admin = std::getenv("TFADESK_TEST_PG");
    REQUIRE_MESSAGE(admin != nullptr,
                    "TFADESK_TEST_PG is not set: run under scripts/pg-test-cluster");
    const std::string name = "tfadesk_sla_" + std::to_string(getpid());
    const Result made = clitest::run({"/usr/bin/psql", admin, "-qc", "CREATE DATABASE " + name});
    REQUIRE_MESSAGE(made.code == 0, made.describe());
    std::string uri = admin;
    {
        const auto start = uri.find("://") + 3;
        const auto path = uri.find_first_of("/?", start);
        const auto query = uri.find('?', start);
        uri = uri.substr(0, path) + "/" + name +
              (query == std::string::npos ? "" : uri.substr(query));
    }
    Desk d;  // its SQLite file is not used: the servers below serve the PostgreSQL desk
    d.db = uri;
    constexpr int kTickets = 12;
    for (int i = 0; i < kTickets; ++i) open_waiting(uri, "PG-" + std::to_string(i));
    {
        Server a(d, {"--sla-hours", "0.001"});
        Server b(d, {"--sla-hours", "0.001"});
        for (int i = 0; i < kTickets; ++i)
            CHECK(wait_for_state(uri, "PG-" + std::to_string(i), "expired",
                                 std::chrono::seconds(30)) == "expired");
        CHECK(a.stop() == 0);
        CHECK(b.stop() == 0);
    }
    for (int i = 0; i < kTickets; ++i) {
        const json h = history_of(uri, "PG-" + std::to_string(i));
        int expiries = 0;
        for (const auto& e : h) expiries += e["event"] == "expire";
        CHECK(expiries == 1);
    }
    const Result v = clitest::tfadesk(uri, {"verify"});
    CHECK_MESSAGE(v.code == 0, v.describe());
    clitest::run(
        {"/usr/bin/psql", admin, "-qc", "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"});
}

// ---- systemd: Type=notify ----------------------------------------------------------------------

namespace {

// A unix datagram socket the test owns, standing in for systemd's $NOTIFY_SOCKET.
class NotifySocket {
public:
    explicit NotifySocket(std::string path) : path_(std::move(path)) {
        fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd_ < 0) throw std::runtime_error("socket");
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        if (path_.size() >= sizeof a.sun_path) throw std::runtime_error("socket path too long");
        std::memcpy(a.sun_path, path_.c_str(), path_.size() + 1);
        if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
            throw std::runtime_error("bind " + path_);
    }
    ~NotifySocket() {
        close(fd_);
        unlink(path_.c_str());
    }
    // The datagrams received within `limit`, until one holds `want`; all of them, joined.
    std::string until(const std::string& want, std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 50) <= 0) continue;
            char buf[4096];
            const ssize_t n = recv(fd_, buf, sizeof buf, 0);
            if (n <= 0) continue;
            seen_.append(buf, static_cast<std::size_t>(n)).append("\n");
            if (contains(std::string(buf, static_cast<std::size_t>(n)), want)) break;
        }
        return seen_;
    }

private:
    std::string path_;
    int fd_ = -1;
    std::string seen_;
};

}  // namespace

TEST_CASE(
    "service: serve tells systemd READY=1 once it listens, pings the watchdog, STOPPING=1 on "
    "SIGTERM") {
    Desk d;
    NotifySocket sock(d.dir / "notify.sock");
    // The server inherits our environment (as systemd would set it for the service).
    std::optional<Server> s;
    {
        const clitest::ScopedEnv systemd(
            {{"NOTIFY_SOCKET", d.dir / "notify.sock"}, {"WATCHDOG_USEC", "200000"}});
        s.emplace(d);
    }
    const std::string ready = sock.until("READY=1", std::chrono::seconds(5));
    CHECK_MESSAGE(contains(ready, "READY=1"), ready);
    // READY=1 comes once it listens: the port it names answers.
    CHECK(status_of(s->client().Get("/healthz")) == 200);
    const std::string pings = sock.until("WATCHDOG=1", std::chrono::seconds(3));
    CHECK_MESSAGE(contains(pings, "WATCHDOG=1"), pings);
    CHECK(!contains(pings, "STOPPING=1"));
    kill(s->pid(), SIGTERM);
    const std::string stopping = sock.until("STOPPING=1", std::chrono::seconds(10));
    CHECK_MESSAGE(contains(stopping, "STOPPING=1"), stopping);
    CHECK(s->stop() == 0);
}

// ---- raw sockets: strict HTTP, slow clients --------------------------------------------------

namespace {

// Thousands of connections need as many descriptors here and in the server (which inherits the
// limit; it also raises its own): the soft limit raised to `want`, within the hard one.
void raise_fd_limit(rlim_t want) {
    rlimit l{};
    if (getrlimit(RLIMIT_NOFILE, &l) != 0 || l.rlim_cur >= want) return;
    l.rlim_cur = l.rlim_max == RLIM_INFINITY ? want : std::min(want, l.rlim_max);
    setrlimit(RLIMIT_NOFILE, &l);
}

int connect_to(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        throw std::runtime_error("connect: " + std::string(std::strerror(errno)));
    }
    return fd;
}

void send_all(int fd, const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t n = send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
        if (n <= 0) return;  // the server closed: what it answered is read next
        off += static_cast<std::size_t>(n);
    }
}

// Everything the server sends until it closes the connection or `quiet` passes without a byte.
std::string read_until_quiet(int fd, std::chrono::milliseconds quiet) {
    std::string out;
    for (;;) {
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, static_cast<int>(quiet.count())) <= 0) break;
        char buf[8192];
        const ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// Sends `request` on a new connection; what came back, until close or 1.5 s of quiet.
std::string exchange(int port, const std::string& request) {
    const int fd = connect_to(port);
    send_all(fd, request);
    std::string out = read_until_quiet(fd, std::chrono::milliseconds(1500));
    close(fd);
    return out;
}

// One request and its answer, read until the server closes (Connection: close) or 5 s pass.
std::string exchange_once(int port, const std::string& request) {
    const int fd = connect_to(port);
    send_all(fd, request);
    std::string out = read_until_quiet(fd, std::chrono::milliseconds(5000));
    close(fd);
    return out;
}

// How many HTTP answers (status lines) `text` holds, 1xx interim answers not counted.
int answers_in(const std::string& text) {
    int n = 0;
    for (std::size_t pos = 0; (pos = text.find("HTTP/1.1 ", pos)) != std::string::npos; pos += 9)
        if (text.compare(pos + 9, 1, "1") != 0) ++n;
    return n;
}

std::string status_line(const std::string& text) { return text.substr(0, text.find("\r\n")); }

// A complete HTTP request that cancels REF, as a body another request might smuggle in.
std::string cancel_request(const std::string& ref, const std::string& token) {
    const std::string body = R"({"event":"cancel","note":"smuggled"})";
    return "POST /api/v1/tickets/" + ref + "/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " +
           token +
           "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n" + body;
}

std::string post_head(const std::string& path, const std::string& extra, std::size_t length) {
    return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra +
           "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

}  // namespace

TEST_CASE("strict HTTP: duplicate or negative Content-Length is 400 and the connection closes") {
    Desk d;
    Server s(d);
    const std::string auth = "Authorization: Bearer " + d.tokens.at("alice") + "\r\n";
    const std::string body = json(ticket_body("DUP-1")).dump();
    SUBCASE("two Content-Length headers") {
        const std::string r = exchange(
            s.port(),
            "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\n" + auth +
                "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
        CHECK_MESSAGE(status_line(r) == "HTTP/1.1 400 Bad Request", r);
        CHECK(answers_in(r) == 1);
        CHECK(contains(r, "Content-Length"));
    }
    SUBCASE("a negative Content-Length") {
        const std::string r = exchange(
            s.port(), "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\n" + auth +
                          "Content-Type: application/json\r\nContent-Length: -1\r\n\r\n" + body);
        CHECK_MESSAGE(status_line(r) == "HTTP/1.1 400 Bad Request", r);
        CHECK(answers_in(r) == 1);
    }
    SUBCASE("Content-Length with Transfer-Encoding") {
        const std::string r =
            exchange(s.port(), "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\n" + auth +
                                   "Content-Type: application/json\r\nContent-Length: 5\r\n"
                                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        CHECK_MESSAGE(status_line(r) == "HTTP/1.1 400 Bad Request", r);
    }
    CHECK(status_of(s.client(d.tokens.at("alice")).Get("/api/v1/tickets/DUP-1")) == 404);
    CHECK(s.stop() == 0);
}

TEST_CASE("strict HTTP: a body is never read as a request") {
    Desk d;
    Server s(d);
    auto alice = s.client(d.tokens.at("alice"));
    auto made =
        alice.Post("/api/v1/tickets", json(ticket_body("SMUG-1")).dump(), "application/json");
    REQUIRE(status_of(made) == 201);
    const std::string smuggled = cancel_request("SMUG-1", d.tokens.at("alice"));
    SUBCASE("a POST refused before its body is read (wrong token)") {
        const std::string r =
            exchange(s.port(), post_head("/api/v1/tickets/SMUG-1/events",
                                         "Authorization: Bearer wrong\r\n", smuggled.size()) +
                                   smuggled);
        CHECK_MESSAGE(status_line(r) == "HTTP/1.1 401 Unauthorized", r);
        CHECK_MESSAGE(answers_in(r) == 1, r);
    }
    SUBCASE("Expect: 100-continue, refused (no token)") {
        const int fd = connect_to(s.port());
        send_all(fd, post_head("/api/v1/tickets/SMUG-1/events", "Expect: 100-continue\r\n",
                               smuggled.size()));
        std::string r = read_until_quiet(fd, std::chrono::milliseconds(500));
        send_all(fd, smuggled);  // a client that sends anyway, or after the 100
        r += read_until_quiet(fd, std::chrono::milliseconds(1500));
        close(fd);
        CHECK_MESSAGE(contains(r, "HTTP/1.1 401"), r);
        CHECK_MESSAGE(answers_in(r) == 1, r);
    }
    SUBCASE("Expect: 100-continue, over the body limit") {
        const int fd = connect_to(s.port());
        send_all(fd, post_head("/api/v1/tickets/SMUG-1/events",
                               "Authorization: Bearer " + d.tokens.at("alice") +
                                   "\r\nExpect: 100-continue\r\n",
                               std::size_t{2} << 20));
        std::string r = read_until_quiet(fd, std::chrono::milliseconds(500));
        send_all(fd, smuggled);
        r += read_until_quiet(fd, std::chrono::milliseconds(1500));
        close(fd);
        CHECK_MESSAGE(status_line(r) == "HTTP/1.1 413 Payload Too Large", r);
        CHECK_MESSAGE(answers_in(r) == 1, r);
    }
    SUBCASE("an oversize body") {
        const std::string r =
            exchange(s.port(), post_head("/api/v1/tickets/SMUG-1/events",
                                         "Authorization: Bearer " + d.tokens.at("alice") + "\r\n",
                                         std::size_t{64} << 20) +
                                   smuggled);
        CHECK_MESSAGE(status_line(r) == "HTTP/1.1 413 Payload Too Large", r);
        CHECK_MESSAGE(answers_in(r) == 1, r);
    }
    // Nothing of the smuggled request ran.
    const json t = body_of(alice.Get("/api/v1/tickets/SMUG-1"));
    CHECK(t["state"] == "received");
    CHECK(s.stop() == 0);
}

TEST_CASE("strict HTTP: a method a route does not take is 405 with Allow") {
    Desk d;
    Server s(d);
    auto c = s.client(d.tokens.at("alice"));
    auto sweep = c.Get("/api/v1/sweep");
    REQUIRE(sweep);
    CHECK(sweep->status == 405);
    CHECK(sweep->get_header_value("Allow") == "POST");
    CHECK(body_of(sweep)["code"] == "method_not_allowed");
    auto del = c.Delete("/api/v1/tickets");
    REQUIRE(del);
    CHECK(del->status == 405);
    CHECK(del->get_header_value("Allow") == "GET, HEAD, POST");
    auto put = c.Put("/healthz", "{}", "application/json");
    REQUIRE(put);
    CHECK(put->status == 405);
    CHECK(put->get_header_value("Allow") == "GET, HEAD");
    // A path no route takes stays 404.
    CHECK(status_of(c.Get("/api/v1/nothing-here")) == 404);
    CHECK(status_of(c.Post("/api/v1/nothing-here", "{}", "application/json")) == 404);
    CHECK(s.stop() == 0);
}

// ---- metrics ---------------------------------------------------------------------------------

namespace {

int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    close(fd);
    return ntohs(a.sin_port);
}

// The value of the series `name` exactly as written (labels included), or -1 when absent.
double sample(const std::string& text, const std::string& name) {
    std::size_t pos = 0;
    while ((pos = text.find(name + " ", pos)) != std::string::npos) {
        if (pos == 0 || text[pos - 1] == '\n') return std::stod(text.substr(pos + name.size() + 1));
        pos += name.size();
    }
    return -1;
}

}  // namespace

TEST_CASE(
    "metrics: GET /metrics on --metrics-listen, in the Prometheus text format, moves with the "
    "desk") {
    Desk d;
    const int mport = free_port();
    Server s(d, {"--metrics-listen", "127.0.0.1:" + std::to_string(mport), "--sla-hours", "0.003"});
    httplib::Client m("127.0.0.1", mport);
    m.set_connection_timeout(5);
    auto scrape = [&] {
        auto r = m.Get("/metrics");
        REQUIRE_MESSAGE(r, "no answer from the metrics listener");
        REQUIRE(r->status == 200);
        CHECK(contains(r->get_header_value("Content-Type"), "text/plain"));
        return r->body;
    };
    const std::string before = scrape();
    CHECK(contains(before, "# TYPE tfadesk_log_head_seq gauge"));
    const double head_before = sample(before, "tfadesk_log_head_seq");
    CHECK(head_before >= 7);  // the seeded accounts
    auto alice = s.client(d.tokens.at("alice"));
    REQUIRE(status_of(alice.Post("/api/v1/tickets",
                                 json(ticket_body("M-1", "unknown", "unknown")).dump(),
                                 "application/json")) == 201);
    REQUIRE(status_of(alice.Post("/api/v1/tickets/M-1/events", R"({"event":"triage"})",
                                 "application/json")) == 200);
    CHECK(status_of(s.client(std::string("wrong")).Get("/api/v1/me")) == 401);
    CHECK(status_of(alice.Get("/api/v1/tickets/M-1")) == 200);
    // A request is counted once its answer is written (httplib's logger), so the last one may
    // reach the counters a moment after its client read the answer: scrape until it is in.
    std::string after = scrape();
    for (int i = 0; i < 100 && !contains(after, R"(route="/api/v1/tickets/{ref}",status="200")");
         ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        after = scrape();
    }
    CHECK(contains(after, "# TYPE tfadesk_http_requests_total counter"));
    CHECK(contains(after, "# TYPE tfadesk_http_request_duration_seconds histogram"));
    INFO(after);
    CHECK(sample(after, "tfadesk_log_head_seq") == head_before + 2);
    CHECK(
        sample(
            after,
            R"(tfadesk_http_requests_total{method="POST",route="/api/v1/tickets",status="201"})") ==
        1);
    CHECK(
        sample(
            after,
            R"(tfadesk_http_requests_total{method="GET",route="/api/v1/tickets/{ref}",status="200"})") ==
        1);
    CHECK(
        sample(
            after,
            R"(tfadesk_http_request_duration_seconds_count{route="/api/v1/tickets/{ref}/events"})") ==
        1);
    CHECK(sample(after, "tfadesk_signin_failures_total") == 1);
    CHECK(sample(after, "tfadesk_writer_writes_total") == 2);
    CHECK(sample(after, "tfadesk_writer_group_commits_total") >= 1);
    CHECK(sample(after, "tfadesk_writer_queue_depth") == 0);
    CHECK(sample(after, R"(tfadesk_tickets{state="awaiting_requester"})") == 1);
    CHECK(sample(after, "tfadesk_last_seal_timestamp_seconds") == 0);  // no key: no seal
    // The SLA (10.8 s) expires M-1 by itself: the expiry and the states show it.
    double expiries = 0;
    std::string later;
    for (int i = 0; i < 150 && expiries < 1; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        later = scrape();
        expiries = sample(later, "tfadesk_sla_expiries_total");
    }
    CHECK(expiries == 1);
    CHECK(sample(later, R"(tfadesk_tickets{state="expired"})") == 1);
    CHECK(sample(later, R"(tfadesk_tickets{state="awaiting_requester"})") == 0);
    CHECK(s.stop() == 0);
}

// ---- a server that keeps serving -------------------------------------------------------------

TEST_CASE(
    "slow clients: 2,000 idle or trickling connections; /healthz within 200 ms; SIGTERM exits "
    "within 15 s") {
    raise_fd_limit(4096);
    Desk d;
    Server s(d);
    constexpr int kIdle = 1000, kTrickling = 1000;
    std::vector<int> idle, trickling;
    for (int i = 0; i < kIdle; ++i) idle.push_back(connect_to(s.port()));
    for (int i = 0; i < kTrickling; ++i) {
        trickling.push_back(connect_to(s.port()));
        send_all(trickling.back(), "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    }
    // One byte a connection every 250 ms: a header that never ends (slowloris).
    std::atomic<bool> stop_trickle{false};
    std::thread trickler([&] {
        for (int round = 0; round < 200 && !stop_trickle; ++round) {
            for (int fd : trickling) send(fd, "X", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
    });
    // (The server drops a connection that sent nothing after the keep-alive timeout, 2 s, and one
    // whose header is not whole after 10 s: the probes come before.)
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    std::vector<double> ms;
    for (int probe = 0; probe < 10; ++probe) {
        const auto t0 = std::chrono::steady_clock::now();
        const std::string r = exchange_once(
            s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        CHECK_MESSAGE(status_line(r) == "HTTP/1.1 200 OK", r);
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::sort(ms.begin(), ms.end());
    MESSAGE("healthz under 2,000 slow connections: median " << ms[ms.size() / 2] << " ms, max "
                                                            << ms.back() << " ms");
    CHECK(ms.back() < 200.0);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(s.stop(std::chrono::seconds(15)) == 0);
    const double stop_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("SIGTERM to exit with 2,000 slow connections open: " << stop_s << " s");
    CHECK(stop_s < 15.0);
    stop_trickle = true;
    trickler.join();
    for (int fd : idle) close(fd);
    for (int fd : trickling) close(fd);
}

namespace {

// The first bytes an HTTPS client sends (its ClientHello), caught on a listener of our own.
std::string client_hello() {
    const int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(l, 1) == 0);
    REQUIRE(getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    std::thread client([port = ntohs(a.sin_port)] {
        httplib::SSLClient c("127.0.0.1", port);
        c.enable_server_certificate_verification(false);
        c.set_connection_timeout(2);
        c.set_read_timeout(2);
        c.Get("/");  // fails once we close
    });
    std::string hello;
    pollfd p{l, POLLIN, 0};
    if (poll(&p, 1, 5000) == 1) {
        const int fd = accept(l, nullptr, nullptr);
        hello = read_until_quiet(fd, std::chrono::milliseconds(300));
        close(fd);
    }
    close(l);
    client.join();
    return hello;
}

}  // namespace

TEST_CASE(
    "slow clients over HTTPS: idle, trickling-handshake, stalled-handshake and kept-alive "
    "connections hold no thread; /healthz within 200 ms; SIGTERM exits within 15 s") {
    raise_fd_limit(4096);
    Desk d;
    const auto [cert, key] = test_certificate(d.dir);
    // Two threads: a connection that held one while it waited would be seen at once.
    Server s(d, {"--tls-cert", cert, "--tls-key", key, "--threads", "2"});
    auto https = [&] {
        auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", s.port());
        c->enable_server_certificate_verification(false);
        c->set_connection_timeout(5);
        c->set_read_timeout(10);
        return c;
    };
    // Kept alive after one request each: between requests they wait on the front (their TLS
    // sessions kept), not on the two threads.
    std::vector<std::unique_ptr<httplib::SSLClient>> kept;
    for (int i = 0; i < 8; ++i) {
        kept.push_back(https());
        kept.back()->set_keep_alive(true);
        auto r = kept.back()->Get("/healthz");
        REQUIRE_MESSAGE(r, "kept-alive HTTPS client " << i << ": " << describe(r));
        CHECK(r->status == 200);
    }
    constexpr int kIdle = 150, kTrickling = 150;
    std::vector<int> idle, trickling;
    for (int i = 0; i < kIdle; ++i) idle.push_back(connect_to(s.port()));
    // A TLS record header announcing a 512-byte ClientHello, then one byte every 250 ms.
    for (int i = 0; i < kTrickling; ++i) {
        trickling.push_back(connect_to(s.port()));
        send_all(trickling.back(), std::string("\x16\x03\x01\x02\x00", 5));
    }
    // A whole ClientHello, then nothing: the server answers it and waits for the client's next
    // record on the front, not on a thread.
    const std::string hello = client_hello();
    REQUIRE(hello.size() > 5);
    REQUIRE(hello[0] == '\x16');
    constexpr int kStalled = 50;
    std::vector<int> stalled;
    for (int i = 0; i < kStalled; ++i) {
        stalled.push_back(connect_to(s.port()));
        send_all(stalled.back(), hello);
    }
    std::atomic<bool> stop_trickle{false};
    std::thread trickler([&] {
        for (int round = 0; round < 100 && !stop_trickle; ++round) {
            for (int fd : trickling) send(fd, "\x01", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    // Within the idle deadline (2 s): every idle connection is still open while these run.
    std::vector<double> ms;
    for (int probe = 0; probe < 8; ++probe) {
        const auto t0 = std::chrono::steady_clock::now();
        auto r = https()->Get("/healthz");  // a new connection: its own handshake
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        CHECK_MESSAGE((r && r->status == 200), describe(r));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // The kept-alive connections answer again on their sessions.
    for (auto& c : kept) CHECK(status_of(c->Get("/healthz")) == 200);
    std::sort(ms.begin(), ms.end());
    MESSAGE("HTTPS healthz under " << kIdle + kTrickling + kStalled << " slow and " << kept.size()
                                   << " kept-alive connections, 2 threads: median "
                                   << ms[ms.size() / 2] << " ms, max " << ms.back() << " ms");
    CHECK(ms.back() < 200.0);
    // An idle one is closed by the server at the idle deadline (2 s), without a byte.
    pollfd p{idle.front(), POLLIN, 0};
    CHECK(poll(&p, 1, 4000) == 1);
    char byte;
    CHECK(recv(idle.front(), &byte, 1, 0) == 0);
    const auto t0 = std::chrono::steady_clock::now();
    CHECK(s.stop(std::chrono::seconds(15)) == 0);
    const double stop_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("SIGTERM to exit with the slow HTTPS connections open: " << stop_s << " s");
    CHECK(stop_s < 15.0);
    stop_trickle = true;
    trickler.join();
    for (int fd : idle) close(fd);
    for (int fd : trickling) close(fd);
    for (int fd : stalled) close(fd);
}

namespace {

// A TLS client of our own on a raw socket, whose every SSL_write is one TLS record: a request can
// be sent a record at a time, as slowly as an attacker likes.
class RecordClient {
public:
    explicit RecordClient(int port) : fd_(connect_to(port)) {
        ctx_ = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        ok_ = SSL_connect(ssl_) == 1;
        // From here on reads wait in poll(), never in SSL_read (records that are no data).
        fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
    }
    ~RecordClient() {
        SSL_free(ssl_);
        SSL_CTX_free(ctx_);
        close(fd_);
    }
    RecordClient(const RecordClient&) = delete;
    RecordClient& operator=(const RecordClient&) = delete;
    bool connected() const { return ok_; }
    bool send_record(const std::string& bytes) {
        return SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size())) > 0;
    }
    // The records that would carry `bytes` (after a TLS 1.3 KeyUpdate record when `key_update`),
    // sealed but not sent: to be sent raw, cut wherever a test likes.
    std::string sealed(const std::string& bytes, bool key_update) {
        BIO* out = BIO_new(BIO_s_mem());
        SSL_set0_wbio(ssl_, out);  // the session's writes go to memory for now
        if (key_update) SSL_key_update(ssl_, SSL_KEY_UPDATE_NOT_REQUESTED);
        SSL_write(ssl_, bytes.data(), static_cast<int>(bytes.size()));
        char* data = nullptr;
        const long n = BIO_get_mem_data(out, &data);
        std::string records(data, static_cast<std::size_t>(n));
        SSL_set0_wbio(ssl_, BIO_new_socket(fd_, BIO_NOCLOSE));  // frees `out`
        return records;
    }
    void send_raw(const std::string& bytes) { send_all(fd_, bytes); }
    // What the server answers until it closes or `quiet` passes without a record.
    std::string answer(std::chrono::milliseconds quiet) {
        std::string out;
        while (readable(quiet)) {
            char buf[4096];
            const int n = SSL_read(ssl_, buf, sizeof buf);
            if (n > 0)
                out.append(buf, static_cast<std::size_t>(n));
            else if (SSL_get_error(ssl_, n) != SSL_ERROR_WANT_READ)
                break;  // closed
        }
        return out;
    }
    // Whether the server closes the connection within `within` (records that are no data, such as
    // TLS 1.3 session tickets, read and passed over).
    bool closed_by_server(std::chrono::milliseconds within) {
        const auto until = std::chrono::steady_clock::now() + within;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                until - std::chrono::steady_clock::now());
            if (left.count() <= 0 || !readable(left)) return false;
            char c;
            const int n = SSL_read(ssl_, &c, 1);
            if (n <= 0 && SSL_get_error(ssl_, n) != SSL_ERROR_WANT_READ) return true;
        }
    }

private:
    bool readable(std::chrono::milliseconds within) {
        if (SSL_pending(ssl_) > 0) return true;
        pollfd p{fd_, POLLIN, 0};
        return poll(&p, 1, static_cast<int>(within.count())) > 0;
    }

    int fd_;
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    bool ok_ = false;
};

}  // namespace

TEST_CASE(
    "slow clients over HTTPS: a request sent a byte per TLS record holds no thread, is answered "
    "once whole, and is cut off at the header deadline") {
    std::signal(SIGPIPE, SIG_IGN);  // records sent to a connection the server has just closed
    Desk d;
    const auto [cert, key] = test_certificate(d.dir);
    // Two threads: a connection that held one while its request trickled in would be seen at once.
    Server s(d, {"--tls-cert", cert, "--tls-key", key, "--threads", "2"});
    const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n";
    constexpr int kSlow = 8;
    std::vector<std::unique_ptr<RecordClient>> slow;
    for (int i = 0; i < kSlow; ++i) {
        slow.push_back(std::make_unique<RecordClient>(s.port()));
        REQUIRE(slow.back()->connected());
        REQUIRE(slow.back()->send_record(request));  // a header that has not ended
    }
    const auto began = std::chrono::steady_clock::now();
    // One more byte of header each 250 ms, each in its own record (from this thread only: an SSL
    // session is not shared between threads).
    auto trickle = [&] {
        for (std::size_t i = 1; i < slow.size(); ++i) slow[i]->send_record("X");
    };
    std::atomic<bool> stop_trickle{false};
    std::thread trickler([&] {
        for (int round = 0; round < 40 && !stop_trickle; ++round) {
            trickle();
            std::this_thread::sleep_for(std::chrono::milliseconds(250));
        }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    std::vector<double> ms;
    for (int probe = 0; probe < 6; ++probe) {
        auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", s.port());
        c->enable_server_certificate_verification(false);
        c->set_connection_timeout(5);
        c->set_read_timeout(5);
        const auto t0 = std::chrono::steady_clock::now();
        auto r = c->Get("/healthz");
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
        CHECK_MESSAGE((r && r->status == 200), describe(r));
    }
    stop_trickle = true;
    trickler.join();
    std::sort(ms.begin(), ms.end());
    MESSAGE("HTTPS healthz beside "
            << kSlow << " requests trickling a record at a time, 2 threads: "
            << "median " << ms[ms.size() / 2] << " ms, max " << ms.back() << " ms");
    CHECK(ms.back() < 200.0);
    // The first one finishes its header, a record at a time: it is answered as one request.
    for (const char* part : {"Connection: close\r\n", "\r", "\n"})
        REQUIRE(slow.front()->send_record(part));
    const std::string answer = slow.front()->answer(std::chrono::milliseconds(3000));
    CHECK_MESSAGE(status_line(answer) == "HTTP/1.1 200 OK", answer);
    CHECK(answers_in(answer) == 1);
    // The others go on trickling and never end their header: closed at the header deadline (10 s
    // after it began), however recently a record came.
    bool closed = false;
    for (int round = 0; round < 60 && !closed; ++round) {
        trickle();
        closed = slow.back()->closed_by_server(std::chrono::milliseconds(250));
    }
    const double cut_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
    MESSAGE("a header trickled a record at a time was cut off after " << cut_s << " s");
    CHECK(closed);
    CHECK(cut_s > 8.0);
    CHECK(cut_s < 13.0);
    CHECK(s.stop(std::chrono::seconds(15)) == 0);
}

namespace {

// The CPU time `pid` has used so far (user + system, all its threads), in seconds.
double cpu_seconds(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));  // fields from the third on
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i)
        if (i >= 14) ticks += std::stod(field);  // utime, stime
    return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE(
    "slow clients over HTTPS: a record that carries no data, then part of the next, neither "
    "spins a thread nor loses the request") {
    Desk d;
    const auto [cert, key] = test_certificate(d.dir);
    Server s(d, {"--tls-cert", cert, "--tls-key", key, "--threads", "2"});
    RecordClient c(s.port());
    REQUIRE(c.connected());
    // A KeyUpdate record (no data for the request), then the request in one record, of which
    // only the first 3 bytes come: OpenSSL reads past the KeyUpdate into a record not yet whole.
    const std::string records =
        c.sealed("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
    REQUIRE(records.size() > 5);
    const std::size_t first = 5 + ((std::size_t{static_cast<unsigned char>(records[3])} << 8) |
                                   static_cast<unsigned char>(records[4]));
    REQUIRE(records.size() > first + 5);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the server's start-up done
    const double before = cpu_seconds(s.pid());
    c.send_raw(records.substr(0, first + 3));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    const double used = cpu_seconds(s.pid()) - before;
    MESSAGE("server CPU while the record was incomplete: " << used << " s in 1.5 s");
    CHECK(used < 0.5);  // a thread spinning on it would use ~1.5 s
    c.send_raw(records.substr(first + 3));
    const std::string answer = c.answer(std::chrono::milliseconds(3000));
    CHECK_MESSAGE(status_line(answer) == "HTTP/1.1 200 OK", answer);
    CHECK(s.stop(std::chrono::seconds(15)) == 0);
}

// ---- backup ----------------------------------------------------------------------------------

TEST_CASE(
    "backup: a copy of a live desk taken while the server writes verifies, 0600, never over the "
    "desk") {
    Desk d;
    Server s(d);
    std::atomic<bool> stop{false};
    std::atomic<int> written{0};
    std::thread writer([&] {
        auto alice = s.client(d.tokens.at("alice"));
        for (int i = 0; i < 2000 && !stop; ++i) {
            auto r =
                alice.Post("/api/v1/tickets", json(ticket_body("BK-" + std::to_string(i))).dump(),
                           "application/json");
            if (r && r->status == 201) ++written;
        }
    });
    for (int i = 0; i < 100 && written < 20; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::vector<std::string> heads;
    for (int round = 0; round < 3; ++round) {
        const std::string copy = d.dir / ("copy-" + std::to_string(round) + ".db");
        const Result b = d.cli({"backup", "--out", copy});
        REQUIRE_MESSAGE(b.code == 0, b.describe());
        CHECK((fs::status(copy).permissions() & fs::perms::all) ==
              (fs::perms::owner_read | fs::perms::owner_write));
        CHECK(!fs::exists(copy + "-wal"));
        const auto at = b.out.find("head ");
        REQUIRE(at != std::string::npos);
        const std::string head = b.out.substr(at + 5, b.out.find('\n', at) - at - 5);
        heads.push_back(head);
        // The copy verifies on its own and holds the head the backup printed.
        const Result v = clitest::tfadesk(copy, {"verify", "--expect-head", head});
        CHECK_MESSAGE(v.code == 0, v.describe());
    }
    stop = true;
    writer.join();
    CHECK(written > 20);
    CHECK(heads.front() != heads.back());  // the writes went on between the copies
    // Never over the database in use, its -wal, or through a link to it.
    const Result over = d.cli({"backup", "--out", d.db});
    CHECK_MESSAGE(over.code == 2, over.describe());
    CHECK(d.cli({"backup", "--out", d.db + "-wal"}).code == 2);
    fs::create_symlink(d.db, d.dir / "link.db");
    CHECK(d.cli({"backup", "--out", d.dir / "link.db"}).code == 2);
    CHECK(s.stop() == 0);
    CHECK(d.cli({"verify"}).code == 0);
}

TEST_CASE("backup: a PostgreSQL desk is exit 2, pointing at pg_dump") {
    const Result r = clitest::tfadesk("postgresql://nobody@/nothing?host=/nonexistent",
                                      {"backup", "--out", "x.db"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "pg_dump"));
}

TEST_CASE("strict HTTP: HTTPS answers carry HSTS, plain HTTP ones do not") {
    Desk d;
    const auto [cert, key] = test_certificate(d.dir);
    {
        Server s(d, {"--tls-cert", cert, "--tls-key", key});
        httplib::SSLClient tls("127.0.0.1", s.port());
        tls.enable_server_certificate_verification(false);
        auto r = tls.Get("/healthz");
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(contains(r->get_header_value("Strict-Transport-Security"), "max-age="));
        tls.set_bearer_token_auth("wrong");
        auto refused = tls.Get("/api/v1/me");
        REQUIRE(refused);
        CHECK(refused->status == 401);
        CHECK(refused->has_header("Strict-Transport-Security"));
        CHECK(s.stop() == 0);
    }
    Server s(d);
    auto r = s.client().Get("/healthz");
    REQUIRE(r);
    CHECK(!r->has_header("Strict-Transport-Security"));
    CHECK(s.stop() == 0);
}

// ---- verify and the reserved agent -------------------------------------------------------------

TEST_CASE("sla scheduler: verify refuses an entry by tfadesk-sla other than expire") {
    clitest::TempDir dir;
    const std::string db = dir / "forged.db";
    open_waiting(db, "F-1");
    REQUIRE(clitest::tfadesk(db, {"verify"}).code == 0);
    // Someone with the file makes the triage look like the scheduler's, the chain made consistent.
    auto log = clitest::read_log(db);
    REQUIRE(log.size() == 2);
    log[1].agent = "tfadesk-sla";
    clitest::tamper_db(db, clitest::forge_chain_sql(log, 1));
    const Result v = clitest::tfadesk(db, {"verify"});
    CHECK_MESSAGE(v.code == 6, v.describe());
    CHECK(contains(v.out, "reserved for the SLA scheduler"));
}
