// The server's metrics (SPEC §16), in the Prometheus text format on `--metrics-listen`: kept with
// prometheus-cpp's core (registry, counters, gauges, histograms) and written by its
// TextSerializer, so the exposition format is the library's, not ours.
//
// Series (all prefixed tfadesk_):
//   http_requests_total{route,method,status}     counter, every answer (route from RouteBook)
//   http_request_duration_seconds{route}         histogram, from routing to the answer
//   writer_group_commits_total, writer_writes_total (batched writes; writes per group commit =
//       their ratio), writer_writes_per_group_commit (mean so far), writer_queue_depth
//   tickets{state}, log_head_seq, last_seal_timestamp_seconds (read from the store per scrape)
//   sla_expiries_total, signin_failures_total
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "tfadesk/engine/store.hpp"
#include "writer.hpp"

namespace tfadesk::serve {

class Metrics {
public:
    Metrics();
    // One answer: its route label, method, status and how long it took (seconds; < 0: unknown).
    void observe_request(const std::string& route, const std::string& method, int status,
                         double seconds);
    // The exposition: the request series as observed, the rest read now from `store`, `writer`
    // and the SLA scheduler's count of expiries.
    std::string scrape(engine::Store& store, const Writer& writer, std::uint64_t sla_expiries);

private:
    std::shared_ptr<prometheus::Registry> registry_;
    prometheus::Family<prometheus::Counter>& requests_;
    prometheus::Family<prometheus::Histogram>& latency_;
    prometheus::Counter& signin_failures_;
    prometheus::Counter& groups_;
    prometheus::Counter& writes_;
    prometheus::Gauge& writes_per_group_;
    prometheus::Gauge& queue_depth_;
    prometheus::Family<prometheus::Gauge>& tickets_;
    prometheus::Gauge& head_seq_;
    prometheus::Gauge& last_seal_;
    prometheus::Counter& sla_expiries_;
    std::mutex scrape_mutex_;  // the counters mirrored from the writer advance by deltas
    double seen_groups_ = 0, seen_writes_ = 0, seen_expiries_ = 0;
    std::set<std::string> states_seen_;
};

}  // namespace tfadesk::serve
