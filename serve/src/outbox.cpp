#include "outbox.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <ctime>

#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/mask.hpp"
#include "tfadesk/rules/time.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::serve {

using engine::Error;
using engine::ErrorKind;
using nlohmann::json;

namespace {

constexpr std::size_t kClaimBatch = 16;
constexpr std::int64_t kLeaseMs = 120'000;  // longer than one send can take (5 s + 10 s)
constexpr auto kPoll = std::chrono::milliseconds(200);

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// The outcome of one attempt: sent, to retry (after `after_ms` when the helpdesk said so), or dead.
struct Outcome {
    enum class Kind { sent, retry, dead } kind;
    std::string error;
    std::optional<std::int64_t> after_ms;
};

// Retry-After: delay-seconds, or an HTTP date.
std::optional<std::int64_t> retry_after_ms(const std::string& value) {
    if (value.empty()) return std::nullopt;
    if (value.size() <= 9 && value.find_first_not_of("0123456789") == std::string::npos)
        return std::stoll(value) * 1000;
    std::tm tm{};
    if (strptime(value.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) {
        const auto at = static_cast<std::int64_t>(timegm(&tm)) * 1000;
        return std::max<std::int64_t>(0, at - now_ms());
    }
    return std::nullopt;
}

Outcome judge(const httplib::Result& r) {
    if (!r)
        return {Outcome::Kind::retry, "no answer (" + httplib::to_string(r.error()) + ")",
                std::nullopt};
    const int status = r->status;
    const std::string what = "HTTP " + std::to_string(status);
    if (status >= 200 && status < 300) return {Outcome::Kind::sent, "", std::nullopt};
    if (status == 408 || status == 429 || status >= 500)
        return {Outcome::Kind::retry, what, retry_after_ms(r->get_header_value("Retry-After"))};
    return {Outcome::Kind::dead, what, std::nullopt};
}

// Splits "https://host:port/path?q" into the client's base and the request's path.
std::pair<std::string, std::string> split_url(const std::string& url) {
    const auto host = url.find("://") + 3;
    const auto slash = url.find('/', host);
    if (slash == std::string::npos) return {url, "/"};
    return {url.substr(0, slash), url.substr(slash)};
}

}  // namespace

json outbox_body(engine::Store& store, const engine::OutboxDelivery& d,
                 const desk::Templates& texts) {
    auto entries = store.entries(d.ref);
    const auto at =
        std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.seq == d.seq; });
    if (at == entries.end())
        throw Error(ErrorKind::not_found,
                    "outbox delivery " + std::to_string(d.id) + ": the log has no entry seq " +
                        std::to_string(d.seq) + " for ticket '" + d.ref + "'");
    entries.erase(at + 1, entries.end());
    const auto ticket = engine::replay(entries).ticket();
    const auto reply = texts.render(ticket, "en", desk::facts_from_log(entries));
    return {{"ref", d.ref},
            {"state", entries.back().state},
            {"event", entries.back().event},
            {"seq", entries.back().tseq},
            {"reply", {{"subject", reply.subject}, {"body", reply.body}}}};
}

OutboxSender::OutboxSender(std::string db, const Connectors& connectors,
                           const std::optional<std::string>& templates, std::int64_t backoff_ms)
    : db_(std::move(db)),
      connectors_(connectors),
      texts_(desk::Templates::load(templates)),
      backoff_ms_(backoff_ms > 0 ? backoff_ms : kDefaultBackoffMs) {}

OutboxSender::~OutboxSender() { stop(); }

void OutboxSender::start() {
    thread_ = std::thread([this] { loop(); });
}

void OutboxSender::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void OutboxSender::wake() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        woken_ = true;
    }
    cv_.notify_all();
}

void OutboxSender::loop() {
    std::unique_ptr<engine::Store> store;
    for (;;) {
        bool busy = false;
        try {
            if (!store) store = storage::open_store(db_, engine::Store::Mode::read_write);
            busy = send_due(*store);
        } catch (const std::exception& e) {
            spdlog::warn("outbox: {}", rules::mask_pii(e.what()));
            store.reset();  // a lost connection is opened again on the next round
        }
        std::unique_lock<std::mutex> lock(mutex_);
        if (stopping_) return;
        if (!busy) cv_.wait_for(lock, kPoll, [this] { return stopping_ || woken_; });
        woken_ = false;
        if (stopping_) return;
    }
}

bool OutboxSender::send_due(engine::Store& store) {
    const auto now = now_ms();
    const auto due = store.claim_outbox(rules::format_utc_ms(now),
                                        rules::format_utc_ms(now + kLeaseMs), kClaimBatch);
    for (const auto& d : due) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) break;  // the lease runs out; the next start sends it
        }
        deliver(store, d);
    }
    return !due.empty();
}

void OutboxSender::deliver(engine::Store& store, const engine::OutboxDelivery& d) {
    const auto it = connectors_.find(d.source);
    if (it == connectors_.end() || !it->second.outbox) {
        // Kept pending: a server started with that source's outbox will send it.
        store.settle_outbox(d.id, "pending", rules::format_utc_ms(now_ms() + kMaxBackoffMs),
                            "no outbox configured for source '" + d.source + "' on this server");
        return;
    }
    const Connector& c = it->second;
    const std::string body =
        outbox_body(store, d, texts_).dump(-1, ' ', false, json::error_handler_t::replace);
    const std::string timestamp = std::to_string(now_ms() / 1000);
    httplib::Headers headers{
        {"webhook-id", d.hash},
        {"webhook-timestamp", timestamp},
        {"webhook-signature", standard_signature(c.key, d.hash, timestamp, body)},
        {"Idempotency-Key", d.hash}};
    const auto [base, path] = split_url(*c.outbox);
    httplib::Client client(base);
    client.set_connection_timeout(5, 0);
    client.set_read_timeout(10, 0);
    client.set_write_timeout(10, 0);
    const Outcome o = judge(client.Post(path, headers, body, "application/json"));
    const auto now = now_ms();
    if (o.kind == Outcome::Kind::sent) {
        store.settle_outbox(d.id, "sent", rules::format_utc_ms(now), "");
        spdlog::info("outbox: {} #{} ({}) delivered to {}", d.ref, d.seq, d.source, c.source);
        return;
    }
    const auto created = rules::parse_utc(d.created_at).value_or(now);
    const auto backoff =
        std::min(kMaxBackoffMs, backoff_ms_ << std::min<std::int64_t>(d.attempts, 20));
    const auto next = now + (o.after_ms ? *o.after_ms : backoff);
    if (o.kind == Outcome::Kind::dead || next > created + kGiveUpMs) {
        store.settle_outbox(d.id, "dead", rules::format_utc_ms(now), o.error);
        spdlog::warn("outbox: {} #{} ({}) is a dead letter: {}", d.ref, d.seq, d.source, o.error);
        return;
    }
    store.settle_outbox(d.id, "pending", rules::format_utc_ms(next), o.error);
    spdlog::info("outbox: {} #{} ({}) failed ({}), next try at {}", d.ref, d.seq, d.source, o.error,
                 rules::format_utc_ms(next));
}

}  // namespace tfadesk::serve
