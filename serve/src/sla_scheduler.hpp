// The SLA that fires by itself (SPEC §16): a thread of the server that expires each ticket
// waiting on the requester once its SLA has passed, as `expire` by the reserved agent
// `tfadesk-sla`, through the server's one writer (so the expiry is sealed when the server holds
// the key, and group commits never wait on it for long).
//
// It looks at least every 60 s (every SLA, when that is shorter), and wakes at the earliest due
// time it saw, so a ticket expires within 60 s of falling due (within one SLA, when shorter). On
// PostgreSQL several servers may run it on one desk: the writer's transaction re-reads the ticket
// under the head's lock, so a ticket another server expired first is skipped, and expires once.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "tfadesk/engine/store.hpp"
#include "writer.hpp"

namespace tfadesk::serve {

class SlaScheduler {
public:
    using ReadStore = std::function<std::unique_ptr<engine::Store>()>;
    static constexpr std::int64_t kMaxWaitMs = 60000;

    // Starts the thread at once; `writer` must outlive it (stop() before the writer stops).
    SlaScheduler(Writer& writer, ReadStore read_store, std::int64_t sla_ms);
    ~SlaScheduler();
    SlaScheduler(const SlaScheduler&) = delete;
    SlaScheduler& operator=(const SlaScheduler&) = delete;

    // Wakes the thread and joins it. Idempotent.
    void stop();
    // Tickets it expired since it started.
    std::uint64_t expiries() const { return expiries_.load(); }

private:
    void loop();
    // One look: expires what is due; returns when to look again (ms since the epoch).
    std::int64_t tick();

    Writer& writer_;
    ReadStore read_store_;
    std::int64_t sla_ms_;
    std::atomic<std::uint64_t> expiries_{0};
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tfadesk::serve
