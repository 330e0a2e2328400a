// The access log's use cases (SPEC §12): the record of one read of personal data, which the server
// puts on record before it answers, and the reading of the log, which `tfadesk access-log` and
// GET /api/v1/access-log share. Reading the access log is not itself a read of personal data.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/engine/access_log.hpp"
#include "tfadesk/engine/store.hpp"

namespace tfadesk::desk {

// The refs an answer returned, as a record keeps them: the first engine::kAccessRefsKept in the
// answer's order, and how many in all.
class ReturnedRefs {
public:
    ReturnedRefs() = default;
    explicit ReturnedRefs(std::string ref) { add(std::move(ref)); }
    void add(std::string ref);
    const std::vector<std::string>& kept() const { return kept_; }
    std::int64_t count() const { return count_; }

private:
    std::vector<std::string> kept_;
    std::int64_t count_ = 0;
};

// The record of `account` reading `refs` through `route` ("GET /api/v1/tickets/HD-1") from
// `client`, timed now by the desk's clock.
engine::AccessRecord access_record(const std::string& account, const std::string& route,
                                   const ReturnedRefs& refs, const std::string& client);

// The query of the readers' filters: a ref as given; an account name, made canonical; a UTC time,
// made the log's form. Error(invalid_input) about the field "agent" or "since" for a bad one.
engine::AccessQuery access_query(const std::optional<std::string>& ref,
                                 const std::optional<std::string>& agent,
                                 const std::optional<std::string>& since);

// One record as `access-log --json` and the API show it:
// {"at","account","route","refs":[...],"ref_count","client"}.
nlohmann::json access_view(const engine::AccessRecord& r);

// The records `query` selects, in time order, as one JSON array of access_view objects, written
// to `out` one at a time (memory stays flat however long the log is).
void write_access_json(engine::AccessLogStore& store, const engine::AccessQuery& query,
                       std::ostream& out);

}  // namespace tfadesk::desk
