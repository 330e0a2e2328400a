// `tfadesk serve`: the desk server of SPEC §9 (serve/). This file parses the flags, prints the
// listening line once the socket accepts, and turns SIGTERM/SIGINT into an orderly stop: the
// signals are blocked in every thread and one thread waits for them with sigwait.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "../command.hpp"
#include "tfadesk/desk/sla.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/serve/server.hpp"

#ifdef TFADESK_FULL
#include <systemd/sd-daemon.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#endif

namespace tfadesk::cli {
namespace {

class ServeCommand final : public Command {
public:
    const char* name() const override { return "serve"; }
    const char* audience() const override { return "admins"; }
    const char* description() const override {
        return "serve the desk over HTTP: the JSON API and the agent page";
    }
    const char* example() const override {
        return "tfadesk --db /var/lib/tfadesk/desk.db serve --listen 127.0.0.1:8080";
    }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        app.add_option("--listen", listen_,
                       "HOST:PORT to listen on (default 127.0.0.1:8080; port 0 picks a free one)");
        app.add_option("--key", key_, "desk key: seal every write transaction (SPEC §8)");
        app.add_option("--threads", threads_,
                       "request threads (default 32; an idle keep-alive connection holds one)")
            ->check(CLI::Range(2, 1024));
        app.add_option("--tls-cert", tls_cert_,
                       "serve HTTPS with this PEM certificate (with --tls-key)");
        app.add_option("--tls-key", tls_key_, "the certificate's PEM private key");
        app.add_option("--max-import-mib", max_import_mib_,
                       "largest import body in MiB (default 256)")
            ->check(CLI::Range(1, 65536));
        app.add_option("--connectors", connectors_,
                       "helpdesk connectors (SPEC §17): intake webhooks and the outbox");
        app.add_option(
               "--outbox-backoff-ms", outbox_backoff_ms_,
               "the outbox's first retry delay in ms, doubled each try (default 10000; for tests)")
            ->check(CLI::Range(1, 3600000));
        app.add_option("--sla-hours", sla_hours_,
                       "expire tickets waiting on the requester after H hours (a decimal above 0; "
                       "default 168), as agent tfadesk-sla");
        app.add_option(
            "--metrics-listen", metrics_listen_,
            "HOST:PORT to serve GET /metrics on (Prometheus text format; a listener of its own)");
        app.add_option(
            "--rp-id", rp_id_,
            "the passkeys' relying party id (SPEC §13; default: the host the page is served from)");
        app.add_option(
               "--session-idle-minutes", session_idle_minutes_,
               "end a page session after M minutes without a request (a decimal; default 30)")
            ->check(CLI::Range(0.01, 24.0 * 60));
        app.add_option("--session-hours", session_hours_,
                       "end a page session H hours after sign-in (default 8)")
            ->check(CLI::Range(1, 24 * 7));
        app.add_option("--templates", templates_, "folder of the desk's reply texts (SPEC §11)")
            ->envname("TFADESK_TEMPLATES");
    }

#ifdef TFADESK_FULL
    int run(Context& ctx) override {
        serve::Options o;
        o.db = ctx.db_path;
        parse_listen(o);
        o.key_path = key_ ? key_ : ctx.key_path;
        o.threads = threads_;
        o.tls_cert = tls_cert_;
        o.tls_key = tls_key_;
        o.max_import_bytes = max_import_mib_ << 20;
        o.templates = templates_;
        o.connectors = connectors_;
        o.outbox_backoff_ms = outbox_backoff_ms_;
        if (sla_hours_) o.sla_ms = desk::parse_sla_hours(*sla_hours_);
        if (metrics_listen_) parse_metrics_listen(*metrics_listen_, o);
        o.rp_id = rp_id_;
        o.session_idle_ms = static_cast<std::int64_t>(session_idle_minutes_ * 60000);
        o.session_lifetime_ms = session_hours_ * 3600000;

        // Block the stop signals before any thread starts, so every thread inherits the mask and
        // only the waiter below receives them.
        sigset_t stop_signals;
        sigemptyset(&stop_signals);
        sigaddset(&stop_signals, SIGTERM);
        sigaddset(&stop_signals, SIGINT);
        pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

        serve::Server server(o);
        server.bind();
        ctx.out << "listening on " << server.url()
                << std::endl;  // flushed: scripts wait for this line
        if (metrics_listen_) ctx.out << "metrics on " << server.metrics_url() << std::endl;
        // SPEC §16: systemd's Type=notify (a no-op without $NOTIFY_SOCKET).
        sd_notifyf(0, "READY=1\nSTATUS=listening on %s", server.url().c_str());
        Watchdog watchdog;
        std::thread waiter([&] {
            int sig = 0;
            sigwait(&stop_signals, &sig);
            sd_notify(0, "STOPPING=1\nSTATUS=finishing the requests in flight");
            ctx.err << "tfadesk serve: " << (sig == SIGINT ? "SIGINT" : "SIGTERM")
                    << ": finishing the requests in flight\n";
            server.stop();
        });
        server.serve();
        // serve() returns only after stop(), which only the waiter calls.
        waiter.join();
        return 0;
    }
#else
    // The light tfadesk hands `serve` to tfadesk-full before parsing (main.cpp): never reached.
    int run(Context&) override {
        throw engine::Error(engine::ErrorKind::unexpected, "serve runs in tfadesk-full");
    }
#endif

private:
#ifdef TFADESK_FULL
    // Pings systemd's watchdog (WatchdogSec=, passed as $WATCHDOG_USEC) at half its period while
    // the server runs; nothing when the service has no watchdog.
    class Watchdog {
    public:
        Watchdog() {
            std::uint64_t usec = 0;
            if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return;
            const auto period = std::chrono::microseconds(std::max<std::uint64_t>(usec / 2, 1000));
            thread_ = std::thread([this, period] {
                std::unique_lock<std::mutex> lock(mutex_);
                while (!stop_) {
                    sd_notify(0, "WATCHDOG=1");
                    wake_.wait_for(lock, period, [this] { return stop_; });
                }
            });
        }
        ~Watchdog() {
            {
                std::lock_guard<std::mutex> lock(mutex_);
                stop_ = true;
            }
            wake_.notify_all();
            if (thread_.joinable()) thread_.join();
        }

    private:
        std::mutex mutex_;
        std::condition_variable wake_;
        bool stop_ = false;
        std::thread thread_;
    };

    // --metrics-listen takes what --listen takes, and is named in its errors.
    static void parse_metrics_listen(const std::string& text, serve::Options& o) {
        serve::Options m;
        try {
            serve::parse_listen(text, m);
        } catch (const engine::Error& e) {
            std::string why = e.what();
            if (why.rfind("--listen", 0) == 0) why = "--metrics-listen" + why.substr(8);
            throw engine::Error(engine::ErrorKind::invalid_input, why);
        }
        o.metrics_host = m.host;
        o.metrics_port = m.port;
    }

    void parse_listen(serve::Options& o) const {
        if (listen_) serve::parse_listen(*listen_, o);
    }
#endif

    std::optional<std::string> listen_, key_, tls_cert_, tls_key_, templates_, connectors_,
        sla_hours_, metrics_listen_, rp_id_;
    double session_idle_minutes_ = 30;
    std::int64_t session_hours_ = 8;
    std::int64_t outbox_backoff_ms_ = 0;
    std::size_t threads_ = 32;
    std::size_t max_import_mib_ = 256;
};

}  // namespace

std::unique_ptr<Command> make_serve() { return std::make_unique<ServeCommand>(); }

}  // namespace tfadesk::cli
