#include "metrics.hpp"

#include <prometheus/text_serializer.h>

#include "tfadesk/rules/time.hpp"

namespace tfadesk::serve {

namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;

const prometheus::Histogram::BucketBoundaries& latency_buckets() {
    static const prometheus::Histogram::BucketBoundaries b = {
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    return b;
}

}  // namespace

Metrics::Metrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(BuildCounter()
                    .Name("tfadesk_http_requests_total")
                    .Help("HTTP answers by route, method and status")
                    .Register(*registry_)),
      latency_(BuildHistogram()
                   .Name("tfadesk_http_request_duration_seconds")
                   .Help("time from routing a request to its answer, by route")
                   .Register(*registry_)),
      signin_failures_(BuildCounter()
                           .Name("tfadesk_signin_failures_total")
                           .Help("requests refused 401: no token, or an unknown or replaced one")
                           .Register(*registry_)
                           .Add({})),
      groups_(BuildCounter()
                  .Name("tfadesk_writer_group_commits_total")
                  .Help("write transactions the writer committed for batched writes")
                  .Register(*registry_)
                  .Add({})),
      writes_(BuildCounter()
                  .Name("tfadesk_writer_writes_total")
                  .Help("batched writes (open, event) committed in group commits")
                  .Register(*registry_)
                  .Add({})),
      writes_per_group_(BuildGauge()
                            .Name("tfadesk_writer_writes_per_group_commit")
                            .Help("mean writes per group commit since the server started")
                            .Register(*registry_)
                            .Add({})),
      queue_depth_(BuildGauge()
                       .Name("tfadesk_writer_queue_depth")
                       .Help("jobs waiting for the writer")
                       .Register(*registry_)
                       .Add({})),
      tickets_(BuildGauge().Name("tfadesk_tickets").Help("tickets by state").Register(*registry_)),
      head_seq_(BuildGauge()
                    .Name("tfadesk_log_head_seq")
                    .Help("the global seq of the log's head")
                    .Register(*registry_)
                    .Add({})),
      last_seal_(BuildGauge()
                     .Name("tfadesk_last_seal_timestamp_seconds")
                     .Help("time of the entry the newest seal covers (0: no seal)")
                     .Register(*registry_)
                     .Add({})),
      sla_expiries_(BuildCounter()
                        .Name("tfadesk_sla_expiries_total")
                        .Help("tickets this server's SLA scheduler expired")
                        .Register(*registry_)
                        .Add({})) {}

void Metrics::observe_request(const std::string& route, const std::string& method, int status,
                              double seconds) {
    requests_.Add({{"route", route}, {"method", method}, {"status", std::to_string(status)}})
        .Increment();
    if (seconds >= 0) latency_.Add({{"route", route}}, latency_buckets()).Observe(seconds);
    if (status == 401) signin_failures_.Increment();
}

std::string Metrics::scrape(engine::Store& store, const Writer& writer,
                            std::uint64_t sla_expiries) {
    {
        std::lock_guard<std::mutex> lock(scrape_mutex_);
        const auto c = writer.counters();
        const auto groups = static_cast<double>(c.groups),
                   writes = static_cast<double>(c.batched_jobs);
        if (groups > seen_groups_) groups_.Increment(groups - seen_groups_);
        if (writes > seen_writes_) writes_.Increment(writes - seen_writes_);
        seen_groups_ = std::max(seen_groups_, groups);
        seen_writes_ = std::max(seen_writes_, writes);
        writes_per_group_.Set(groups > 0 ? writes / groups : 0);
        queue_depth_.Set(static_cast<double>(writer.queued()));
        const auto expiries = static_cast<double>(sla_expiries);
        if (expiries > seen_expiries_) sla_expiries_.Increment(expiries - seen_expiries_);
        seen_expiries_ = std::max(seen_expiries_, expiries);
        // A state that has emptied reads 0, not its last count.
        for (const auto& state : states_seen_) tickets_.Add({{"state", state}}).Set(0);
        for (const auto& [state, n] : store.stats(std::nullopt).per_state) {
            states_seen_.insert(state);
            tickets_.Add({{"state", state}}).Set(static_cast<double>(n));
        }
        const auto head = store.head();
        head_seq_.Set(static_cast<double>(head.seq));
        double sealed_at = 0;
        if (const auto seal = store.last_seal())
            if (const auto e = store.entry_at(seal->seq))
                if (const auto ms = rules::parse_utc(e->at))
                    sealed_at = static_cast<double>(*ms) / 1000.0;
        last_seal_.Set(sealed_at);
    }
    return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace tfadesk::serve
