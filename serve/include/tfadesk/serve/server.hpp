// The desk server (SPEC §9): one database served to a desk of agents over HTTP - the JSON API
// under /api/v1 and the agent page at / - on top of the desk layer's use cases.
//
// Invariants:
//  - SQLite connections are never shared between threads. Each read request opens its own
//    read-only store (one snapshot); every write goes through the one writer thread, which owns
//    the read-write store and commits in groups (serve/src/writer.hpp). What the server answers
//    as written is committed with synchronous=FULL before the answer is sent.
//  - The acting agent is always the bearer token's account; a body naming an agent is refused.
//  - Every body is bounded (1 MiB; an import `max_import_bytes`), every connection is timed out
//    (read, write, keep-alive), and requests are served by a bounded thread pool.
//  - stop() stops accepting, lets the requests in flight finish (the writer drains its queue),
//    and serve() then returns.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>

namespace tfadesk::serve {

struct Options {
    std::string db;  // the store's location (--db / $TFADESK_DB)
    std::string host = "127.0.0.1";
    int port = 8080;                      // 0 picks a free port
    std::optional<std::string> key_path;  // seal every write transaction (SPEC §8)
    std::size_t threads = 32;             // the request thread pool
    std::optional<std::string> tls_cert, tls_key;
    std::size_t max_body_bytes = std::size_t{1} << 20;
    std::size_t max_import_bytes = std::size_t{256} << 20;
    std::optional<std::string> templates;  // the desk's reply texts (SPEC §11)
    std::time_t keep_alive_seconds = 2;
    std::size_t keep_alive_max_requests = 100;
    std::time_t read_timeout_seconds = 5, write_timeout_seconds = 10;
    // --- the helpdesk connector (SPEC §17) ---
    std::optional<std::string> connectors;  // --connectors FILE
    std::int64_t outbox_backoff_ms = 0;     // the outbox's first retry delay; 0: the default (10 s)
    // --- SPEC §16: the desk runs by itself ---
    std::int64_t sla_ms = std::int64_t{168} * 3600000;  // --sla-hours: the SLA scheduler's SLA
    std::optional<std::string> metrics_host;            // --metrics-listen: GET /metrics there
    int metrics_port = 0;
    // --- SPEC §13: browser sessions and passkeys ---
    std::int64_t session_idle_ms = 30 * 60000;       // a session ends after this long unused
    std::int64_t session_lifetime_ms = 8 * 3600000;  // and this long after it started
    std::optional<std::string> rp_id;  // --rp-id: the passkeys' relying party id (else the Host)
};

// "HOST:PORT" or "[IPV6]:PORT" into options.host/port; Error(invalid_input) naming --listen.
void parse_listen(const std::string& text, Options& options);

class Server {
public:
    // Opens (creating when needed) the writer's store, seals it with the key when given, loads
    // the TLS files and the reply texts. Throws engine::Error (invalid_input for a bad option or
    // key, unexpected for a store or file that cannot be opened).
    explicit Server(Options options);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    // Binds and listens (the kernel accepts from here on); Error(unexpected) when it cannot.
    void bind();
    // "http://HOST:PORT" (or https), with the real port, once bound.
    std::string url() const;
    // "http://HOST:PORT/metrics" once bound, when --metrics-listen was given; "" otherwise.
    std::string metrics_url() const;
    // Serves until stop(); returns once the requests in flight are answered and the writer is
    // drained.
    void serve();
    // Thread-safe (not async-signal-safe: call it from a thread that waited for the signal).
    void stop();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace tfadesk::serve
