// The desk server under concurrency (SPEC §9): an If-Match race has exactly one winner, many
// writers at once all land (group commit) and verify, idle connections do not starve a request,
// and SIGTERM during a stream of writes loses no acknowledged write. Every loop is bounded in
// count and time, and every socket is on 127.0.0.1.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <set>

#include "serve_process.hpp"

using namespace servetest;
using clitest::contains;

namespace {

httplib::Result post_json(httplib::Client& c, const std::string& path, const json& body,
                          const httplib::Headers& h = {}) {
    return c.Post(path.c_str(), h, body.dump(), "application/json");
}

int connect_idle(int port) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

using Clock = std::chrono::steady_clock;

}  // namespace

// doctest has no GENERATE: one SUBCASE per signal.
#define GENERATE_SIG()                           \
    [&] {                                        \
        int chosen = SIGTERM;                    \
        SUBCASE("SIGTERM") { chosen = SIGTERM; } \
        SUBCASE("SIGKILL") { chosen = SIGKILL; } \
        return chosen;                           \
    }()

TEST_CASE(
    "serve load: N clients race with the same If-Match - exactly one wins, the rest are 412") {
    Desk d;
    Server s(d);
    auto alice = s.client(d.tokens.at("alice"));
    REQUIRE(post_json(alice, "/api/v1/tickets", ticket_body("RACE-1"))->status == 201);
    constexpr int kClients = 16;
    for (int round = 0; round < 3; ++round) {
        const std::int64_t version = 1 + round;
        std::atomic<int> ready{0}, ok{0}, stale{0}, other{0};
        std::vector<std::thread> threads;
        for (int i = 0; i < kClients; ++i)
            threads.emplace_back([&, i] {
                auto c = s.client(d.tokens.at(i % 2 ? "alice" : "carol"));
                c.Get("/healthz");  // connect first, so the requests start together
                ++ready;
                while (ready < kClients) std::this_thread::yield();
                auto r = post_json(c, "/api/v1/tickets/RACE-1/events",
                                   {{"event", "update"}, {"note", "answer " + std::to_string(i)}},
                                   {{"If-Match", "\"" + std::to_string(version) + "\""}});
                if (r && r->status == 200)
                    ++ok;
                else if (r && r->status == 412)
                    ++stale;
                else
                    ++other;
            });
        for (auto& t : threads) t.join();
        CHECK(ok == 1);
        CHECK(stale == kClients - 1);
        CHECK(other == 0);
        CHECK(alice.Get("/api/v1/tickets/RACE-1")->get_header_value("ETag") ==
              "\"" + std::to_string(version + 1) + "\"");
    }
    CHECK(s.stop() == 0);
    CHECK(d.cli({"verify"}).code == 0);
}

TEST_CASE("serve load: 16 writers at once - every write lands once, in one chain") {
    Desk d;
    Server s(d);
    constexpr int kClients = 16, kTickets = 5;
    std::atomic<int> failures{0};
    std::mutex m;
    std::vector<std::string> errors;
    std::vector<std::thread> threads;
    for (int i = 0; i < kClients; ++i)
        threads.emplace_back([&, i] {
            auto c = s.client(d.tokens.at("alice"));
            for (int k = 0; k < kTickets; ++k) {
                const std::string ref = "W-" + std::to_string(i) + "-" + std::to_string(k);
                json b = ticket_body(ref);
                b["triage"] = true;
                auto r = post_json(c, "/api/v1/tickets", b);
                if (!r || r->status != 201) {
                    ++failures;
                    std::lock_guard<std::mutex> lock(m);
                    errors.push_back(ref + " open: " + describe(r));
                }
                r = post_json(c, "/api/v1/tickets/" + ref + "/events",
                              {{"event", "check-passed"}, {"check", "lost_access"}});
                if (!r || r->status != 200) {
                    ++failures;
                    std::lock_guard<std::mutex> lock(m);
                    errors.push_back(ref + " event: " + describe(r));
                }
            }
        });
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    for (const auto& e : errors) MESSAGE(e);
    if (failures) MESSAGE(s.stderr_text());
    CHECK(s.stop() == 0);
    const json list = json::parse(d.cli({"list", "--json"}).out);
    CHECK(list.size() == kClients * kTickets);
    for (const auto& t : list) CHECK(t["version"] == 3);
    const Result v = d.cli({"verify"});
    CHECK_MESSAGE(v.code == 0, v.describe());
}

TEST_CASE("serve load: idle connections beyond the pool do not starve a request") {
    Desk d;
    Server s(d, {"--threads", "4"});
    std::vector<int> idle;
    for (int i = 0; i < 12; ++i) {
        const int fd = connect_idle(s.port());
        REQUIRE(fd >= 0);
        idle.push_back(fd);
    }
    const auto start = Clock::now();
    auto c = s.client(d.tokens.at("alice"));
    c.set_read_timeout(20);
    auto r = c.Get("/api/v1/me");
    const double waited = std::chrono::duration<double>(Clock::now() - start).count();
    REQUIRE_MESSAGE(r, describe(r));
    CHECK(r->status == 200);
    // 12 idle sockets on 4 threads, each dropped after the 2 s keep-alive timeout: ~6 s at most.
    CHECK_MESSAGE(waited < 10.0, "waited " << waited << " s");
    // The server hung up on the idle sockets (read returns 0), within the bound too.
    int closed = 0;
    for (int fd : idle) {
        pollfd p{fd, POLLIN, 0};
        char buf[16];
        if (poll(&p, 1, 5000) == 1 && read(fd, buf, sizeof buf) == 0) ++closed;
        close(fd);
    }
    CHECK(closed == 12);
    CHECK(s.stop() == 0);
}

TEST_CASE(
    "serve load: SIGTERM (or SIGKILL) during a stream of writes - every acknowledged write is in "
    "the log") {
    // SIGTERM: an orderly stop, exit 0. SIGKILL: no stop at all - what was answered must have
    // been committed before the answer (the database survives the process).
    const int sig = GENERATE_SIG();
    Desk d;
    Server s(d);
    std::mutex m;
    std::set<std::string> acknowledged;
    std::atomic<bool> stop{false};
    std::atomic<int> attempts{0};
    std::vector<std::thread> threads;
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    for (int i = 0; i < 8; ++i)
        threads.emplace_back([&, i] {
            auto c = s.client(d.tokens.at("alice"));
            for (int k = 0; k < 2000 && !stop && Clock::now() < deadline; ++k) {
                const std::string ref = "T-" + std::to_string(i) + "-" + std::to_string(k);
                ++attempts;
                auto r = post_json(c, "/api/v1/tickets", ticket_body(ref));
                if (r && r->status == 201) {
                    std::lock_guard<std::mutex> lock(m);
                    acknowledged.insert(ref);
                } else if (!r) {
                    break;  // the server is going away
                }
            }
        });
    while (Clock::now() < deadline) {  // let a good number of writes through first
        {
            std::lock_guard<std::mutex> lock(m);
            if (acknowledged.size() >= 200) break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    const int code = s.stop(std::chrono::seconds(20), sig);
    stop = true;
    for (auto& t : threads) t.join();
    CHECK(code == (sig == SIGTERM ? 0 : 128 + SIGKILL));
    REQUIRE(acknowledged.size() >= 200);
    const Result list = d.cli({"list", "--json"});
    REQUIRE(list.code == 0);
    std::set<std::string> stored;
    for (const auto& t : json::parse(list.out)) stored.insert(t["ref"].get<std::string>());
    for (const auto& ref : acknowledged)
        CHECK_MESSAGE(stored.count(ref) == 1, ref << " was acknowledged but is not in the log");
    CHECK(stored.size() <= static_cast<std::size_t>(attempts.load()));
    const Result v = d.cli({"verify"});
    CHECK_MESSAGE(v.code == 0, v.describe());
}
