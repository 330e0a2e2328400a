#include "tfadesk/desk/access_log.hpp"

#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/clock.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;

void ReturnedRefs::add(std::string ref) {
    if (kept_.size() < engine::kAccessRefsKept) kept_.push_back(std::move(ref));
    ++count_;
}

engine::AccessRecord access_record(const std::string& account, const std::string& route,
                                   const ReturnedRefs& refs, const std::string& client) {
    return engine::AccessRecord{now_utc(), account, route, refs.kept(), refs.count(), client};
}

engine::AccessQuery access_query(const std::optional<std::string>& ref,
                                 const std::optional<std::string>& agent,
                                 const std::optional<std::string>& since) {
    engine::AccessQuery q;
    q.ref = ref;
    if (agent) q.account = canonical_agent(*agent, "agent");
    if (since) {
        const auto ms = rules::parse_utc(*since);
        if (!ms)
            throw Error::about(ErrorKind::invalid_input, "since",
                               "must be an ISO 8601 UTC time like 2026-11-20T09:15:00Z");
        q.since = rules::format_utc_ms(*ms);
    }
    return q;
}

nlohmann::json access_view(const engine::AccessRecord& r) {
    return {{"at", r.at},     {"account", r.account},     {"route", r.route},
            {"refs", r.refs}, {"ref_count", r.ref_count}, {"client", r.client}};
}

void write_access_json(engine::AccessLogStore& store, const engine::AccessQuery& query,
                       std::ostream& out) {
    bool first = true;
    out << "[";
    store.for_each_access(query, [&](const engine::AccessRecord& r) {
        out << (first ? "\n" : ",\n")
            << access_view(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        first = false;
    });
    out << (first ? "]\n" : "\n]\n");
}

}  // namespace tfadesk::desk
