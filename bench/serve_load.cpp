// serve_load: the load driver of `bench/run --serve`. N client threads, each with its own
// keep-alive connection to a `tfadesk serve` on 127.0.0.1, walk tickets along the on-behalf path
// of SPEC §3 - open, triage, three checks by one account, approve by another, submit the disable,
// confirm it: 8 requests, 8 log entries per ticket. Bounded by --tickets per client and by
// --max-seconds. Prints one JSON line: events, seconds, events/s, p50/p99 latency, errors.
//
//   serve_load --port P --agent-token T --approver-token T --clients N --tickets K
//              [--max-seconds S] [--prefix PFX]
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "flags.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
    int port = 0, clients = 1, tickets = 10;
    double max_seconds = 60;
    std::string agent, approver, prefix = "LD";
};

Args parse(int argc, char** argv) {
    Args a;
    bench::parse_flags("serve_load", argc, argv,
                       {{"--port", &a.port},
                        {"--clients", &a.clients},
                        {"--tickets", &a.tickets},
                        {"--max-seconds", &a.max_seconds},
                        {"--agent-token", &a.agent},
                        {"--approver-token", &a.approver},
                        {"--prefix", &a.prefix}});
    if (a.port <= 0 || a.clients < 1 || a.tickets < 1 || a.agent.empty() || a.approver.empty()) {
        std::fprintf(stderr,
                     "serve_load: --port, --clients, --tickets, --agent-token and --approver-token "
                     "are required\n");
        std::exit(2);
    }
    return a;
}

struct Step {
    const char* path_suffix;  // "" for the open
    std::string body;
    bool approver;
    int want;
};

std::vector<Step> walk(const std::string& ref) {
    return {
        {"",
         "{\"ref\":\"" + ref +
             "\",\"phone\":\"+4915123456789\",\"client_id\":\"acme\",\"requester_email\":\"ops@"
             "acme.example\","
             "\"requester_role\":\"client\",\"portfolio_access\":\"no\",\"reason\":\"lost_"
             "access\"}",
         false, 201},
        {"/events", "{\"event\":\"triage\"}", false, 200},
        {"/events", "{\"event\":\"check-passed\",\"check\":\"client_of_record\"}", false, 200},
        {"/events", "{\"event\":\"check-passed\",\"check\":\"number_ownership\"}", false, 200},
        {"/events", "{\"event\":\"check-passed\",\"check\":\"lost_access\"}", false, 200},
        {"/events", "{\"event\":\"approve\"}", true, 200},
        {"/events", "{\"event\":\"submit-disable\",\"reference\":\"WAM-" + ref + "\"}", false, 200},
        {"/events", "{\"event\":\"confirm-disabled\"}", false, 200},
    };
}

}  // namespace

int main(int argc, char** argv) {
    const Args a = parse(argc, argv);
    std::mutex m;
    std::vector<double> latencies_ms;
    std::atomic<long> errors{0};
    std::string first_error;
    const auto start = Clock::now();
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(a.max_seconds));
    std::vector<std::thread> threads;
    for (int c = 0; c < a.clients; ++c)
        threads.emplace_back([&, c] {
            httplib::Client client("127.0.0.1", a.port);
            client.set_keep_alive(true);
            client.set_tcp_nodelay(
                true);  // headers and body go in two sends: no Nagle wait between them
            client.set_connection_timeout(5);
            client.set_read_timeout(30);
            const httplib::Headers agent = {{"Authorization", "Bearer " + a.agent}};
            const httplib::Headers approver = {{"Authorization", "Bearer " + a.approver}};
            std::vector<double> mine;
            mine.reserve(static_cast<std::size_t>(a.tickets) * 8);
            for (int k = 0; k < a.tickets && Clock::now() < deadline; ++k) {
                const std::string ref =
                    a.prefix + "-" + std::to_string(c) + "-" + std::to_string(k);
                for (const auto& step : walk(ref)) {
                    const std::string path =
                        "/api/v1/tickets" +
                        (step.path_suffix[0] ? "/" + ref + step.path_suffix : std::string());
                    const auto t0 = Clock::now();
                    auto r = client.Post(path.c_str(), step.approver ? approver : agent, step.body,
                                         "application/json");
                    const double ms =
                        std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                    if (!r || r->status != step.want) {
                        ++errors;
                        std::lock_guard<std::mutex> lock(m);
                        if (first_error.empty())
                            first_error = path + ": " +
                                          (r ? std::to_string(r->status) + " " + r->body
                                             : httplib::to_string(r.error()));
                        break;
                    }
                    mine.push_back(ms);
                }
            }
            std::lock_guard<std::mutex> lock(m);
            latencies_ms.insert(latencies_ms.end(), mine.begin(), mine.end());
        });
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(latencies_ms.begin(), latencies_ms.end());
    auto pct = [&](double p) {
        if (latencies_ms.empty()) return 0.0;
        const auto i =
            static_cast<std::size_t>(p * static_cast<double>(latencies_ms.size() - 1) + 0.5);
        return latencies_ms[std::min(i, latencies_ms.size() - 1)];
    };
    std::printf(
        "{\"clients\":%d,\"events\":%zu,\"seconds\":%.3f,\"events_per_s\":%.1f,\"p50_ms\":%.2f,"
        "\"p99_ms\":%.2f,\"errors\":%ld",
        a.clients, latencies_ms.size(), seconds, static_cast<double>(latencies_ms.size()) / seconds,
        pct(0.50), pct(0.99), errors.load());
    if (!first_error.empty()) {
        std::string e;
        for (char ch : first_error.substr(0, 200))
            e += (ch == '"' || ch == '\\') ? ' '
                                           : (static_cast<unsigned char>(ch) < 0x20 ? ' ' : ch);
        std::printf(",\"first_error\":\"%s\"", e.c_str());
    }
    std::printf("}\n");
    return errors ? 1 : 0;
}
