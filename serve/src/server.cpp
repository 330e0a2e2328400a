// The desk server's life: the httplib server and its limits, the page, the guards that run before
// any route (body limits, framing), the JSON error bodies for what httplib answers itself, and
// the orderly stop.
#include "tfadesk/serve/server.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "api.hpp"
#include "front.hpp"
#include "fronted_server.hpp"
#include "http.hpp"
#include "intake.hpp"
#include "metrics.hpp"
#include "outbox.hpp"
#include "page.hpp"
#include "sla_scheduler.hpp"
#include "tfadesk/desk/seal.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/storage/open.hpp"
#include "writer.hpp"

namespace tfadesk::serve {

using engine::Error;
using engine::ErrorKind;

namespace {

// No file, font or script from elsewhere; the diagram is shown from a blob: URL.
constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; connect-src "
    "'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

bool has_body(const httplib::Request& req) {
    if (req.has_header("Transfer-Encoding")) return true;
    return req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0";
}

const char* code_for_status(int status) {
    switch (status) {
        case 400:
            return "invalid";
        case 401:
            return "unauthorized";
        case 403:
            return "forbidden";
        case 404:
            return "not_found";
        case 405:
            return "method_not_allowed";
        case 409:
            return "conflict";
        case 412:
            return "stale";
        case 413:
            return "too_large";
        case 414:
            return "too_large";
        case 416:
            return "invalid";
        case 501:
            return "not_implemented";
        default:
            return status >= 500 ? "internal" : "invalid";
    }
}

// When the request started (routing), per pool thread: the metrics' latency.
std::chrono::steady_clock::time_point& request_started() {
    thread_local std::chrono::steady_clock::time_point t;
    return t;
}

// RFC 9112 §6.3: two Content-Length headers, one that is not digits (negative, a list), or
// Content-Length with Transfer-Encoding, can be framed two ways: why, or nothing when it is clear.
std::optional<std::string> ambiguous_framing(const httplib::Request& req) {
    const auto lengths = req.get_header_value_count("Content-Length");
    if (lengths > 1) return "Content-Length: given " + std::to_string(lengths) + " times";
    if (lengths == 1) {
        const std::string text = req.get_header_value("Content-Length");
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos)
            return std::string("Content-Length: must be a number of bytes (decimal digits only)");
        if (req.has_header("Transfer-Encoding"))
            return std::string("Content-Length and Transfer-Encoding: give one, not both");
    }
    if (req.get_header_value_count("Transfer-Encoding") > 1)
        return std::string("Transfer-Encoding: given more than once");
    return std::nullopt;
}

}  // namespace

void parse_listen(const std::string& text, Options& options) {
    const Error bad(
        ErrorKind::invalid_input,
        "--listen: must be HOST:PORT (e.g. 127.0.0.1:8080, [::1]:0), got '" + text + "'");
    const auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) throw bad;
    std::string host = text.substr(0, colon);
    const std::string port = text.substr(colon + 1);
    if (host.front() == '[') {
        if (host.back() != ']' || host.size() < 3) throw bad;
        host = host.substr(1, host.size() - 2);
    } else if (host.find(':') != std::string::npos) {
        throw bad;
    }
    if (port.size() > 5) throw bad;
    int p = 0;
    for (char c : port) {
        if (c < '0' || c > '9') throw bad;
        p = p * 10 + (c - '0');
    }
    if (p > 65535) throw bad;
    options.host = host;
    options.port = p;
}

struct Server::Impl {
    Options options;
    std::unique_ptr<httplib::Server> http;
    std::function<void()> widen_backlog;
    FrontedServer* fronted = nullptr;  // `http` (plain HTTP or HTTPS)
    std::atomic<httplib::TaskQueue*> pool{
        nullptr};  // httplib's, alive while listen_after_bind runs
    std::unique_ptr<Front> front;
    std::unique_ptr<Writer> writer;
    std::unique_ptr<Api> api;
    // the helpdesk connector (SPEC §17)
    Connectors connectors;
    std::unique_ptr<OutboxSender> outbox;
    // --- SPEC §16: the desk runs by itself ---
    std::unique_ptr<SlaScheduler> sla;  // runs while serve() serves
    Metrics metrics;
    std::unique_ptr<httplib::Server> metrics_http;  // --metrics-listen: GET /metrics only
    std::thread metrics_thread;
    int metrics_port = 0;
    void configure_metrics();
    void refuse_wrong_method(const httplib::Request& req, httplib::Response& res) const;
    int port = 0;
    std::mutex stop_mutex;
    bool stopped = false;
    std::atomic<bool> serving{false};

    void configure();
    void install_guards();
    void install_page();
};

Server::Server(Options options) : impl_(std::make_unique<Impl>()) {
    auto& o = impl_->options;
    o = std::move(options);
    if (o.threads < 2 || o.threads > 1024)
        throw Error(ErrorKind::invalid_input, "--threads: must be from 2 to 1024");
    if (o.tls_cert.has_value() != o.tls_key.has_value())
        throw Error(ErrorKind::invalid_input, "--tls-cert and --tls-key go together");
    // A client that goes away mid-answer must not kill the server (OpenSSL writes with write(2)).
    std::signal(SIGPIPE, SIG_IGN);
    auto store = storage::open_store(o.db, engine::Store::Mode::read_write);
    if (o.key_path) {
        desk::seal_with_key(*store, *o.key_path);
        desk::refuse_retired_key(
            *store, desk::load_key(*o.key_path).verifier());  // at start, not at each write
    } else
        desk::refuse_unsealed_writes(*store);
    if (o.connectors) {  // SPEC §17: a bad file, or an account that may not act, refuses the start
        impl_->connectors = load_connectors(*o.connectors);
        check_connector_accounts(*store, impl_->connectors, *o.connectors);
        impl_->outbox = std::make_unique<OutboxSender>(o.db, impl_->connectors, o.templates,
                                                       o.outbox_backoff_ms);
    }
    impl_->writer = std::make_unique<Writer>(std::move(store));
    impl_->api = std::make_unique<Api>(impl_->options, *impl_->writer);
    // SPEC §16: plain HTTP and HTTPS behind the front (front.hpp, fronted_server.hpp).
    auto fronted = std::make_unique<FrontedServer>();
    if (o.tls_cert && !fronted->use_tls(*o.tls_cert, *o.tls_key))
        throw Error(ErrorKind::invalid_input,
                    "--tls-cert " + *o.tls_cert + " / --tls-key " + *o.tls_key +
                        ": cannot load the certificate and key (PEM files)");
    impl_->widen_backlog = [p = fronted.get()] { p->widen_backlog(); };
    impl_->fronted = fronted.get();
    impl_->http = std::move(fronted);
    impl_->configure();
    if (o.metrics_host) impl_->configure_metrics();
}

Server::~Server() {
    stop();
    if (impl_->outbox) impl_->outbox->stop();
    if (impl_->sla) impl_->sla->stop();
    if (impl_->metrics_thread.joinable()) impl_->metrics_thread.join();
    if (impl_->writer) impl_->writer->stop();
}

void Server::Impl::configure() {
    auto& svr = *http;
    const std::size_t threads = options.threads;
    svr.new_task_queue = [this, threads] {
        auto* p = new httplib::ThreadPool(threads);
        pool = p;
        return p;
    };
    // SPEC §16: the front parks connections whose request is still on its way (front.hpp): a
    // header has twice the read timeout to arrive whole, the next request on a kept-alive
    // connection the keep-alive timeout.
    if (fronted) {
        front = std::make_unique<Front>(
            [this](int fd) {
                auto* p = pool.load();
                if (!p) {
                    ::close(fd);
                    return;
                }
                p->enqueue([this, fd] { fronted->serve_connection(fd); });
            },
            std::chrono::seconds(2 * options.read_timeout_seconds),
            std::chrono::seconds(options.keep_alive_seconds),
            options.tls_cert ? Front::Framing::tls : Front::Framing::http,
            [this](int fd) { fronted->drop_connection(fd); });
        fronted->front = front.get();
    }
    svr.set_keep_alive_timeout(options.keep_alive_seconds);
    svr.set_keep_alive_max_count(options.keep_alive_max_requests);
    svr.set_read_timeout(options.read_timeout_seconds, 0);
    svr.set_write_timeout(options.write_timeout_seconds, 0);
    svr.set_idle_interval(0, 100000);
    svr.set_tcp_nodelay(true);
    // httplib's own cap, for bodies framed by Content-Length, above ours: the routes count every
    // body themselves (chunked too) and answer 413 with the JSON error.
    svr.set_payload_max_length(
        drain_limit(std::max(options.max_body_bytes, options.max_import_bytes)));
    httplib::Headers headers = {{"Content-Security-Policy", kCsp},
                                {"X-Content-Type-Options", "nosniff"},
                                {"Referrer-Policy", "no-referrer"},
                                {"Cache-Control", "no-store"}};
    // SPEC §16: HTTPS answers carry HSTS (RFC 6797); plain HTTP must not (§8.1 of it).
    if (options.tls_cert) headers.emplace("Strict-Transport-Security", "max-age=31536000");
    svr.set_default_headers(headers);
    svr.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
            try {
                std::rethrow_exception(ep);
            } catch (...) {
                send_current_exception(res, req);
            }
        });
    // httplib answers some requests itself (no route, a malformed request, a body over its cap):
    // give those the same JSON error body as ours.
    svr.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req,
                                                                      httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 404 && !api->routes.allowed(req.path).empty()) {
            refuse_wrong_method(req, res);
            return httplib::Server::HandlerResponse::Handled;
        }
        const int status = res.status;
        const std::string message = status == 404 ? "no such route: " + req.method + " " + req.path
                                    : status == 413 ? std::string("the body is too large")
                                    : status == 414 ? std::string("the request line is too long")
                                                    : "the request could not be served (HTTP " +
                                                          std::to_string(status) + ")";
        send_error(res, status, code_for_status(status), message);
        return httplib::Server::HandlerResponse::Handled;
    }));
    svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        spdlog::debug("{} {} -> {}", req.method, req.path, res.status);
        auto& started = request_started();
        const double seconds =
            started.time_since_epoch().count() == 0
                ? -1.0
                : std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        started = {};
        metrics.observe_request(api->routes.label(req.path), req.method, res.status, seconds);
    });
    install_guards();
    install_page();
    install_api(svr, *api);
    install_signin(svr, *api);
    install_accounts(svr, *api);
    install_intake(svr, *api, connectors);  // SPEC §17 (with no connectors every source is 404)
    // SPEC §14: a body over 64 KiB is gzipped when the client accepts it (stream.cpp).
    svr.set_post_routing_handler(
        [](const httplib::Request& req, httplib::Response& res) { compress_large_body(req, res); });
    // Any other body-carrying request: answered without reading the body (httplib would read
    // it all into memory before finding no route).
    auto no_route = [this](const httplib::Request& req, httplib::Response& res,
                           const httplib::ContentReader&) {
        close_after(req);
        if (!api->routes.allowed(req.path).empty()) return refuse_wrong_method(req, res);
        send_error(res, 404, "not_found", "no such route: " + req.method + " " + req.path);
    };
    svr.Post(".*", no_route);
    svr.Put(".*", no_route);
    svr.Patch(".*", no_route);
    svr.Delete(".*", no_route);
}

void Server::Impl::install_guards() {
    const Options* o = &options;
    const Impl* self = this;
    // A client that asks first (Expect: 100-continue, as curl does for large bodies) hears "too
    // large" before it sends anything.
    http->set_expect_100_continue_handler([o](const httplib::Request& req, httplib::Response& res) {
        if (auto why = ambiguous_framing(req)) {
            close_after(req);
            send_error(res, 400, "invalid", *why);
            return 400;
        }
        const std::string text = req.get_header_value("Content-Length");
        const auto limit = body_limit(*o, req.path);
        if (!text.empty() && (text.size() > 19 || std::stoull(text) > limit)) {
            close_after(req);
            send_error(res, 413, "too_large",
                       "the body is larger than " + std::to_string(limit) + " bytes");
            return 413;
        }
        return 100;
    });
    http->set_pre_routing_handler([o, self](const httplib::Request& req, httplib::Response& res) {
        using R = httplib::Server::HandlerResponse;
        request_started() = std::chrono::steady_clock::now();
        // SPEC §16, RFC 9112 §6.3: framing that two parties could read two ways is refused, and
        // the connection closed, before any body is read.
        if (auto why = ambiguous_framing(req)) {
            close_after(req);
            send_error(res, 400, "invalid", *why);
            return R::Handled;
        }
        // SPEC §16: a method the route does not take is 405 with Allow, before its body is judged.
        if (self->api->routes.wrong_method(req.method, req.path)) {
            if (has_body(req)) close_after(req);
            self->refuse_wrong_method(req, res);
            return R::Handled;
        }
        hide_accept_encoding(req);  // SPEC §14: only we compress (stream.cpp)
        if (req.is_multipart_form_data()) {
            close_after(req);
            send_error(
                res, 400, "invalid",
                "multipart bodies are not accepted: send JSON (or the import file as it is)");
            return R::Handled;
        }
        const bool writes = req.method == "POST";
        if (!writes && has_body(req)) {
            close_after(req);
            send_error(res, 400, "invalid", req.method + " takes no body");
            return R::Handled;
        }
        if (writes && req.has_header("Content-Length")) {
            const std::string text = req.get_header_value("Content-Length");
            const auto limit = body_limit(*o, req.path);
            if (text.size() > 19 || std::stoull(text) > drain_limit(limit)) {
                close_after(req);
                send_error(res, 413, "too_large",
                           "the body is larger than " + std::to_string(limit) + " bytes");
                return R::Handled;
            }
        }
        return R::Unhandled;
    });
}

void Server::Impl::install_page() {
    for (const PageFile* f = kPageFiles; f->path; ++f) {
        const PageFile file = *f;
        http->Get(file.path, [file](const httplib::Request&, httplib::Response& res) {
            res.set_content(file.body.data(), file.body.size(), file.content_type);
            res.set_header("Cache-Control", "no-cache");
        });
    }
    // SPEC §15: every ticket and view has its own URL; each is the page, which reads its path.
    for (const PageFile* f = kPageFiles; f->path; ++f) {
        if (std::string_view(f->path) != "/") continue;
        const PageFile file = *f;
        for (const char* view :
             {R"(/tickets/[A-Za-z0-9._-]{1,64})", "/queue", "/import", "/audit", "/accounts"}) {
            http->Get(view, [file](const httplib::Request&, httplib::Response& res) {
                res.set_content(file.body.data(), file.body.size(), file.content_type);
                res.set_header("Cache-Control", "no-cache");
            });
            api->routes.add("GET", view);
        }
    }
    http->Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
        send_json(res, 200, {{"ok", true}});
    });
    for (const PageFile* f = kPageFiles; f->path; ++f) api->routes.add("GET", f->path);
    api->routes.add("GET", "/healthz");
}

void Server::bind() {
    auto& o = impl_->options;
    if (o.port == 0) {
        impl_->port = impl_->http->bind_to_any_port(o.host);
        if (impl_->port <= 0)
            throw Error(ErrorKind::unexpected, "cannot listen on " + o.host + " (any port)");
    } else {
        if (!impl_->http->bind_to_port(o.host, o.port))
            throw Error(ErrorKind::unexpected, "cannot listen on " + o.host + ":" +
                                                   std::to_string(o.port) +
                                                   " (in use, or not an address of this machine)");
        impl_->port = o.port;
    }
    impl_->widen_backlog();
    if (impl_->metrics_http) {
        const auto& host = *o.metrics_host;
        if (o.metrics_port == 0)
            impl_->metrics_port = impl_->metrics_http->bind_to_any_port(host);
        else if (impl_->metrics_http->bind_to_port(host, o.metrics_port))
            impl_->metrics_port = o.metrics_port;
        if (impl_->metrics_port <= 0)
            throw Error(ErrorKind::unexpected, "--metrics-listen: cannot listen on " + host + ":" +
                                                   std::to_string(o.metrics_port) +
                                                   " (in use, or not an address of this machine)");
    }
}

std::string Server::metrics_url() const {
    const auto& o = impl_->options;
    if (!o.metrics_host) return {};
    const bool v6 = o.metrics_host->find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + *o.metrics_host + "]" : *o.metrics_host) + ":" +
           std::to_string(impl_->metrics_port) + "/metrics";
}

std::string Server::url() const {
    const auto& o = impl_->options;
    const bool v6 = o.host.find(':') != std::string::npos;
    return std::string(o.tls_cert ? "https" : "http") + "://" + (v6 ? "[" + o.host + "]" : o.host) +
           ":" + std::to_string(impl_->port);
}

void Server::serve() {
    {
        std::lock_guard<std::mutex> lock(impl_->stop_mutex);
        if (!impl_->stopped) impl_->serving = true;
    }
    if (impl_->serving) {
        if (impl_->outbox) impl_->outbox->start();
        if (impl_->metrics_http)
            impl_->metrics_thread =
                std::thread([m = impl_->metrics_http.get()] { m->listen_after_bind(); });
        const Api* api = impl_->api.get();
        impl_->sla = std::make_unique<SlaScheduler>(
            *impl_->writer, [api] { return api->open_read_store(); }, impl_->options.sla_ms);
        impl_->http
            ->listen_after_bind();  // returns after stop(), once the pool has finished its work
        impl_->sla->stop();         // before the writer: its last expiry, if any, still commits
        if (impl_->metrics_thread.joinable()) impl_->metrics_thread.join();
    }
    if (impl_->outbox) impl_->outbox->stop();
    impl_->writer->stop();
    const auto c = impl_->writer->counters();
    spdlog::info(
        "stopped: {} group commit(s) of {} write(s), {} import/sweep job(s), {} group(s) retried "
        "one by one, {} access record(s) in {} transaction(s)",
        c.groups, c.batched_jobs, c.solo_jobs, c.retried_groups, c.access_records,
        c.access_commits);
}

void Server::stop() {
    std::lock_guard<std::mutex> lock(impl_->stop_mutex);
    if (impl_->stopped || !impl_->http) return;
    impl_->stopped = true;
    if (impl_->front) impl_->front->stop();  // parked connections are closed: none is in flight
    if (impl_->api && impl_->api->feed) impl_->api->feed->stop();  // SPEC §14: streams end too
    // httplib's stop() does nothing until its accept loop runs: a stop that comes just as serve()
    // starts waits (briefly) for it, so it is never lost.
    for (int i = 0; i < 500 && impl_->serving && !impl_->http->is_running(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    impl_->http->stop();
    if (impl_->metrics_http) {
        for (int i = 0; i < 500 && impl_->serving && !impl_->metrics_http->is_running(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        impl_->metrics_http->stop();
    }
}

// --- SPEC §16: metrics, 405 ---

void Server::Impl::refuse_wrong_method(const httplib::Request& req, httplib::Response& res) const {
    const std::string allow = api->routes.allowed(req.path);
    res.set_header("Allow", allow);
    send_error(res, 405, "method_not_allowed",
               req.method + " " + req.path + ": this route takes " + allow);
}

void Server::Impl::configure_metrics() {
    metrics_http = std::make_unique<httplib::Server>();
    metrics_http->new_task_queue = [] { return new httplib::ThreadPool(2); };
    metrics_http->set_keep_alive_timeout(2);
    metrics_http->set_read_timeout(5, 0);
    metrics_http->set_write_timeout(5, 0);
    metrics_http->Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
        try {
            auto store = api->read_store();
            const std::string text =
                metrics.scrape(*store, *writer, sla ? sla->expiries() : std::uint64_t{0});
            res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
        } catch (const std::exception& e) {
            spdlog::warn("metrics: {}", e.what());
            res.status = 503;
            res.set_content("the desk could not be read\n", "text/plain; charset=utf-8");
        }
    });
}

}  // namespace tfadesk::serve
