#include "sla_scheduler.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>

#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/sla.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/mask.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::serve {

namespace {

// The desk's clock (the one entries are stamped with), in ms since the epoch.
std::int64_t desk_now_ms() { return rules::parse_utc(desk::now_utc()).value_or(0); }

}  // namespace

SlaScheduler::SlaScheduler(Writer& writer, ReadStore read_store, std::int64_t sla_ms)
    : writer_(writer),
      read_store_(std::move(read_store)),
      sla_ms_(sla_ms),
      thread_([this] { loop(); }) {}

SlaScheduler::~SlaScheduler() { stop(); }

void SlaScheduler::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::int64_t SlaScheduler::tick() {
    const std::int64_t now = desk_now_ms();
    // A ticket that starts waiting after this look falls due an SLA later at the earliest: looking
    // again within one SLA (and one minute) catches it within that of its due time.
    std::int64_t next = now + std::min(kMaxWaitMs, sla_ms_);
    try {
        desk::DueTickets due;
        {
            auto store = read_store_();
            due = desk::due_tickets(*store, sla_ms_, now);
        }
        if (due.next_due_ms) next = std::min(next, *due.next_due_ms + 1);
        if (due.due.empty()) return next;
        const auto sla = sla_ms_;
        const auto refs = due.due;
        const nlohmann::json expired = writer_.solo([sla, refs](engine::Store& s) {
            return nlohmann::json(desk::expire_due(s, refs, sla));
        });
        expiries_ += expired.size();
        for (const auto& ref : expired)
            spdlog::info("{} expired by the SLA", ref.get<std::string>());
    } catch (const std::exception& e) {
        // A PostgreSQL restart, a busy SQLite file, the server stopping: try again later.
        spdlog::warn("SLA scheduler: {} (trying again within {} s)", rules::mask_pii(e.what()),
                     kMaxWaitMs / 1000);
    }
    return next;
}

void SlaScheduler::loop() {
    for (;;) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopping_) return;
        }
        const std::int64_t next = tick();
        const auto wait = std::chrono::milliseconds(
            std::clamp<std::int64_t>(next - desk_now_ms(), 10, kMaxWaitMs));
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait_for(lock, wait, [this] { return stopping_; });
    }
}

}  // namespace tfadesk::serve
