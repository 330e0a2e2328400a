// A real `tfadesk serve` for the serve tests: a desk in a temp folder with one account per role
// (seeded through the desk's accounts API by serve_seed_account), the server started on
// 127.0.0.1 with port 0, its port read from the "listening on" line, and stopped with SIGTERM.
// httplib::Client talks to it. No doctest assertions here.
#pragma once

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "../cli/process.hpp"
#include "../support/process.hpp"

namespace servetest {

using clitest::Result;
using clitest::TempDir;
using nlohmann::json;

// The accounts every test desk has: name -> roles.
inline const std::vector<std::pair<std::string, std::string>>& accounts() {
    static const std::vector<std::pair<std::string, std::string>> a = {
        {"boss", "admin"},         {"alice", "agent"},   {"carol", "agent"},
        {"bob", "agent,approver"}, {"dave", "approver"}, {"olga", "operator"},
        {"audrey", "auditor"},
    };
    return a;
}

// A desk database with the accounts above; tokens by account name.
struct Desk {
    TempDir dir;
    std::string db = dir / "desk.db";
    std::map<std::string, std::string> tokens;

    Desk() {
        for (const auto& [name, roles] : accounts()) {
            clitest::RunOptions as_boss;
            if (name != "boss") as_boss.env.emplace_back("TFADESK_TOKEN", tokens.at("boss"));
            const Result r = clitest::run(
                {SEED_BIN, db, name, roles, name == "boss" ? "setup" : "boss"}, as_boss);
            if (r.code != 0) throw std::runtime_error("seeding " + name + ": " + r.describe());
            tokens[name] = r.out.substr(0, r.out.find('\n'));
            clitest::keychain()[db][name] = tokens[name];  // each person's own token, for cli()
        }
    }
    Result cli(const std::vector<std::string>& args) const { return clitest::tfadesk(db, args); }

    // SPEC §14 tests: a desk at `location` (a PostgreSQL URI; "": the SQLite file above), its
    // accounts added through `tfadesk agent add` (serve_seed_account has no PostgreSQL store).
    enum ViaCli { via_cli };
    Desk(const std::string& location, ViaCli) {
        if (!location.empty()) db = location;
        for (const auto& [name, roles] : accounts()) {
            const Result r = clitest::tfadesk(db, {"agent", "add", name, "--role", roles, "--agent",
                                                   name == "boss" ? "setup" : "boss"});
            if (r.code != 0) throw std::runtime_error("adding " + name + ": " + r.describe());
            tokens[name] = r.out.substr(0, r.out.find('\n'));
            clitest::keychain()[db][name] = tokens[name];
        }
    }
};

// A self-signed certificate for 127.0.0.1 and its key, made by openssl in `dir`, for the HTTPS
// cases: {cert.pem, key.pem}. Throws when openssl fails.
inline std::pair<std::string, std::string> test_certificate(const TempDir& dir) {
    const std::string cert = dir / "cert.pem", key = dir / "key.pem";
    const Result gen =
        clitest::run({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                      "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"});
    if (gen.code != 0) throw std::runtime_error("openssl: " + gen.describe());
    return {cert, key};
}

// `tfadesk --db DB serve --listen 127.0.0.1:0 EXTRA...`, running until stop().
class Server {
public:
    explicit Server(const Desk& desk, std::vector<std::string> extra = {})
        : Server(desk.db, desk.dir / "serve.err", std::move(extra)) {}
    // The same for any store location (a PostgreSQL URI too), stderr into `err_path`.
    Server(const std::string& db, const std::string& err_path, std::vector<std::string> extra)
        : err_path_(err_path) {
        tfadesk_test::Spawn spawn;
        spawn.argv = {TFADESK_BIN, "--db", db, "serve", "--listen", "127.0.0.1:0"};
        spawn.argv.insert(spawn.argv.end(), extra.begin(), extra.end());
        spawn.env = tfadesk_test::environment([](const std::string&) { return false; });
        spawn.err = tfadesk_test::Sink::file(err_path_);
        child_ = std::make_unique<tfadesk_test::Child>(spawn);
        line_ = child_->read_line(std::chrono::seconds(20));
        const bool tls = std::find(extra.begin(), extra.end(), "--tls-cert") != extra.end();
        const std::string prefix =
            std::string("listening on ") + (tls ? "https" : "http") + "://127.0.0.1:";
        if (line_.rfind(prefix, 0) != 0) {
            stop();
            throw std::runtime_error("no listening line; got '" + line_ +
                                     "'; stderr: " + clitest::slurp(err_path_));
        }
        port_ = std::stoi(line_.substr(prefix.size()));
    }
    ~Server() {
        if (child_) stop();
    }
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    int port() const { return port_; }
    const std::string& listening_line() const { return line_; }
    pid_t pid() const { return child_ ? child_->pid() : -1; }
    std::string stderr_text() const { return clitest::slurp(err_path_); }

    httplib::Client client(std::optional<std::string> token = std::nullopt) const {
        httplib::Client c("127.0.0.1", port_);
        c.set_connection_timeout(5);
        c.set_tcp_nodelay(true);
        c.set_read_timeout(30);
        c.set_write_timeout(30);
        if (token) c.set_bearer_token_auth(token->c_str());
        return c;
    }

    // SIGTERM, then waits (at most `limit`) for the exit; the exit code, 128 + signal, or -1 when
    // it did not stop in time (it is then killed).
    int stop(std::chrono::seconds limit = std::chrono::seconds(30), int sig = SIGTERM) {
        if (!child_) return code_;
        child_->signal(sig);
        const auto status = child_->wait_for(limit);
        child_.reset();  // killed and reaped when it did not stop in time
        return code_ = status ? tfadesk_test::shell_code(*status) : -1;
    }

private:
    std::string err_path_;
    std::unique_ptr<tfadesk_test::Child> child_;
    int port_ = 0;
    int code_ = -1;
    std::string line_;
};

// The JSON of an answer, or null when the body is not JSON.
inline json body_of(const httplib::Result& r) {
    if (!r) return nullptr;
    return json::parse(r->body, nullptr, false);
}

inline std::string describe(const httplib::Result& r) {
    if (!r) return "no answer: " + httplib::to_string(r.error());
    return "HTTP " + std::to_string(r->status) + " " + r->body;
}

// A ticket object of SPEC §2 for POST /api/v1/tickets.
inline json ticket_body(const std::string& ref, const std::string& role = "client",
                        const std::string& access = "no") {
    return json{{"ref", ref},
                {"phone", "+49 151 2345 6789"},
                {"client_id", "acme-gmbh"},
                {"requester_email", "ops@acme.example"},
                {"requester_role", role},
                {"portfolio_access", access}};
}

}  // namespace servetest
