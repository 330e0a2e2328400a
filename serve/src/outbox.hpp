// The outbox sender of SPEC §17: a thread of `serve` that delivers what the outbox queued (rows
// written in the transaction of the entry that caused them), in order per ticket, signed as a
// Standard Webhook with the source's secret (webhook-id and Idempotency-Key = the entry's hash).
//
// Retries: a time-out, a connection failure, 408, 429 or 5xx is tried again after an exponential
// backoff (backoff_ms, doubled each attempt, at most an hour), or after Retry-After when the
// helpdesk gives one; a delivery still failing 24 hours after it was queued, or answered with
// another 4xx (or a 3xx) at once, becomes a dead letter. The queue is in the database, so a
// restart resumes it; each delivery is leased while it is sent, so several servers on one
// PostgreSQL desk never send the same delivery at once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>

#include "connectors.hpp"
#include "tfadesk/desk/reply.hpp"
#include "tfadesk/engine/store.hpp"

namespace tfadesk::serve {

// The body of one delivery: {"ref","state","event","seq","reply":{"subject","body"}}, the ticket
// as it stood after the entry at global seq `seq` (seq in the body is the per-ticket seq, as
// `history` numbers them). Error(not_found) when the log lacks the entry.
nlohmann::json outbox_body(engine::Store& store, const engine::OutboxDelivery& d,
                           const desk::Templates& texts);

class OutboxSender {
public:
    static constexpr std::int64_t kDefaultBackoffMs = 10'000;
    static constexpr std::int64_t kMaxBackoffMs = 3'600'000;
    static constexpr std::int64_t kGiveUpMs = 24LL * 3'600'000;

    OutboxSender(std::string db, const Connectors& connectors,
                 const std::optional<std::string>& templates, std::int64_t backoff_ms);
    ~OutboxSender();
    OutboxSender(const OutboxSender&) = delete;
    OutboxSender& operator=(const OutboxSender&) = delete;

    void start();
    void stop();  // idempotent; waits for the delivery in flight
    void wake();  // something may be due now

private:
    void loop();
    bool send_due(engine::Store& store);  // true when something was claimed
    void deliver(engine::Store& store, const engine::OutboxDelivery& d);

    std::string db_;
    const Connectors& connectors_;
    desk::Templates texts_;
    std::int64_t backoff_ms_;
    std::mutex mutex_;
    std::condition_variable cv_;
    bool stopping_ = false, woken_ = false;
    std::thread thread_;
};

}  // namespace tfadesk::serve
