// signed_load: what signing an approval with a passkey costs through the server (SPEC §13),
// against an unsigned approval, in the same run on the same server. One approver signed in to
// the page (a session cookie) approves N tickets unsigned (one POST each) and N tickets signed
// with a passkey (POST .../events/options for the challenge, the assertion made by a software
// authenticator - tests/support/soft_authenticator.hpp, EdDSA or ES256 - and the POST with it).
// The tickets are prepared first (open, triage, three checks by another agent), untimed.
// Prints one JSON line: approvals per second each way, and the signed/unsigned time ratio.
//
//   signed_load --port P --agent-token T --approver-token T [--tickets N] [--alg -7|-8]
#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

#include "../tests/support/soft_authenticator.hpp"
#include "flags.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

struct Args {
    int port = 0, tickets = 200, alg = -8;
    std::string agent_token, approver_token;
};

[[noreturn]] void fail(const std::string& what, const httplib::Result& r) {
    std::fprintf(stderr, "signed_load: %s: %s\n", what.c_str(),
                 r ? (std::to_string(r->status) + " " + r->body).c_str() : "no answer");
    std::exit(1);
}

// The page of one signed-in person: Host and Origin of http://localhost:PORT, the session cookie.
struct Page {
    httplib::Client client;
    httplib::Headers headers;
    Page(int port, const std::string& token) : client("127.0.0.1", port) {
        client.set_keep_alive(true);
        client.set_tcp_nodelay(true);
        const std::string origin = "http://localhost:" + std::to_string(port);
        headers = {{"Host", "localhost:" + std::to_string(port)},
                   {"Origin", origin},
                   {"X-Requested-With", "tfadesk"}};
        softauth::kRpId = "localhost";
        softauth::kOrigin = origin;
        const auto r = client.Post("/api/v1/session", headers, json{{"token", token}}.dump(),
                                   "application/json");
        if (!r || r->status != 201) fail("sign-in", r);
        const std::string c = r->get_header_value("Set-Cookie");
        headers.emplace("Cookie", c.substr(0, c.find(';')));
    }
    json post(const std::string& path, const json& body, int want) {
        const auto r = client.Post(path.c_str(), headers, body.dump(), "application/json");
        if (!r || r->status != want) fail("POST " + path, r);
        return json::parse(r->body);
    }
};

std::string challenge_of(const json& options) {
    return softauth::base64url_decode(options.at("challenge").get<std::string>());
}

}  // namespace

int main(int argc, char** argv) {
    Args a;
    bench::parse_flags("signed_load", argc, argv,
                       {{"--port", &a.port},
                        {"--tickets", &a.tickets},
                        {"--alg", &a.alg},
                        {"--agent-token", &a.agent_token},
                        {"--approver-token", &a.approver_token}});
    Page agent(a.port, a.agent_token), approver(a.port, a.approver_token);
    softauth::Authenticator key(a.alg);
    {
        softauth::Ceremony c;
        c.flags = softauth::kUP | softauth::kAT;
        c.challenge =
            challenge_of(approver.post("/api/v1/me/passkeys/options", json::object(), 200));
        approver.post("/api/v1/me/passkeys", softauth::create(key, c), 201);
    }
    // Untimed: 2N tickets ready for approval.
    for (int i = 0; i < 2 * a.tickets; ++i) {
        const std::string ref = "SB-" + std::to_string(i);
        agent.post("/api/v1/tickets",
                   {{"ref", ref},
                    {"phone", "+49 151 2345 6789"},
                    {"client_id", "acme-gmbh"},
                    {"requester_email", "ops@acme.example"},
                    {"requester_role", "client"},
                    {"portfolio_access", "no"},
                    {"triage", true}},
                   201);
        for (const char* check : {"client_of_record", "number_ownership", "lost_access"})
            agent.post("/api/v1/tickets/" + ref + "/events",
                       {{"event", "check-passed"}, {"check", check}}, 200);
    }
    const auto t0 = Clock::now();
    for (int i = 0; i < a.tickets; ++i)
        approver.post("/api/v1/tickets/SB-" + std::to_string(i) + "/events", {{"event", "approve"}},
                      200);
    const auto t1 = Clock::now();
    for (int i = a.tickets; i < 2 * a.tickets; ++i) {
        const std::string path = "/api/v1/tickets/SB-" + std::to_string(i) + "/events";
        softauth::Ceremony c;
        c.challenge = challenge_of(approver.post(path + "/options", {{"event", "approve"}}, 200));
        approver.post(path, {{"event", "approve"}, {"assertion", softauth::get(key, c)}}, 200);
    }
    const auto t2 = Clock::now();
    const double unsigned_s = std::chrono::duration<double>(t1 - t0).count();
    const double signed_s = std::chrono::duration<double>(t2 - t1).count();
    std::printf(
        "{\"tickets\": %d, \"alg\": %d, \"unsigned_per_s\": %.1f, \"signed_per_s\": %.1f, "
        "\"signed_over_unsigned\": %.2f}\n",
        a.tickets, a.alg, a.tickets / unsigned_s, a.tickets / signed_s, signed_s / unsigned_s);
    return 0;
}
