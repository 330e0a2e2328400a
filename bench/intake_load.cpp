// intake_load: intake deliveries per second through POST /intake/SOURCE (SPEC §17, a Standard
// Webhooks source, each delivery signed with HMAC-SHA256) beside plain POST /api/v1/tickets, in
// the same run against the same server: N client threads, each with its own keep-alive
// connection, open K tickets each way. Prints one JSON line with both rates and their ratio.
//
//   intake_load --port P --token T --key KEY --source S --clients N --tickets K [--prefix PFX]
#include <httplib.h>
#include <nettle/hmac.h>
#include <sodium.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "flags.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
    int port = 0, clients = 4, tickets = 200;
    std::string token, key, source = "std", prefix = "IB";
};

std::string sign(const std::string& key, const std::string& message) {
    hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, key.size(), reinterpret_cast<const std::uint8_t*>(key.data()));
    hmac_sha256_update(&ctx, message.size(), reinterpret_cast<const std::uint8_t*>(message.data()));
    std::uint8_t mac[SHA256_DIGEST_SIZE];
    hmac_sha256_digest(&ctx, sizeof mac, mac);
    char out[sodium_base64_ENCODED_LEN(SHA256_DIGEST_SIZE, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(out, sizeof out, mac, sizeof mac, sodium_base64_VARIANT_ORIGINAL);
    return out;
}

std::string ticket(const std::string& ref, bool wrapped) {
    const std::string fields =
        "\"phone\":\"+49 151 2345 6789\",\"client_id\":\"acme-gmbh\","
        "\"requester_email\":\"ops@acme.example\",\"requester_role\":\"client\","
        "\"portfolio_access\":\"no\"";
    if (wrapped) return "{\"ticket\":{\"ref\":\"" + ref + "\"," + fields + "}}";
    return "{\"ref\":\"" + ref + "\"," + fields + ",\"triage\":true}";
}

// Opens `a.tickets` tickets per client one way; the rate, and the number of failures.
std::pair<double, int> run(const Args& a, bool intake) {
    std::atomic<int> errors{0};
    std::vector<std::thread> threads;
    const auto start = Clock::now();
    for (int c = 0; c < a.clients; ++c) {
        threads.emplace_back([&, c] {
            httplib::Client cli("127.0.0.1", a.port);
            cli.set_keep_alive(true);
            cli.set_tcp_nodelay(true);
            if (!intake) cli.set_bearer_token_auth(a.token.c_str());
            for (int i = 0; i < a.tickets; ++i) {
                const std::string ref =
                    a.prefix + (intake ? "I" : "P") + std::to_string(c) + "-" + std::to_string(i);
                const std::string body = ticket(ref, intake);
                auto post = [&]() -> httplib::Result {
                    if (!intake) return cli.Post("/api/v1/tickets", body, "application/json");
                    const std::string id = "bench-" + ref, ts = std::to_string(std::time(nullptr));
                    httplib::Headers h{
                        {"webhook-id", id},
                        {"webhook-timestamp", ts},
                        {"webhook-signature", "v1," + sign(a.key, id + "." + ts + "." + body)}};
                    return cli.Post(("/intake/" + a.source).c_str(), h, body, "application/json");
                };
                const auto r = post();
                if (!r || (r->status != 200 && r->status != 201)) ++errors;
            }
        });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return {a.clients * a.tickets / seconds, errors.load()};
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    bench::parse_flags("intake_load", argc, argv,
                       {{"--port", &a.port},
                        {"--clients", &a.clients},
                        {"--tickets", &a.tickets},
                        {"--token", &a.token},
                        {"--key", &a.key},
                        {"--source", &a.source},
                        {"--prefix", &a.prefix}});
    if (a.port <= 0 || a.token.empty() || a.key.empty() || a.clients < 1 || a.tickets < 1) {
        std::fprintf(stderr, "intake_load: --port, --token and --key are required\n");
        return 2;
    }
    // The API before and after the intake (the later run writes into a larger desk): their mean.
    auto first = run(a, false);
    const auto intake = run(a, true);
    a.prefix += "b";
    const auto second = run(a, false);
    const std::pair<double, int> plain{(first.first + second.first) / 2,
                                       first.second + second.second};
    std::printf(
        "{\"clients\":%d,\"tickets_per_client\":%d,\"api_per_s\":%.1f,\"intake_per_s\":%.1f,"
        "\"ratio\":%.3f,\"errors\":%d}\n",
        a.clients, a.tickets, plain.first, intake.first, intake.first / plain.first,
        plain.second + intake.second);
    return plain.second + intake.second == 0 ? 0 : 1;
}
