#include "tfadesk/desk/export.hpp"

#include <nlohmann/json.hpp>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/ingest/records.hpp"

namespace tfadesk::desk {

void export_log(engine::LogReader& store, std::string_view format, std::ostream& out,
                const std::function<void(const engine::LogEntry&)>& seen) {
    if (format != "jsonl" && format != "csv")
        throw engine::Error::about(engine::ErrorKind::invalid_input, "format",
                                   "must be jsonl or csv");
    const bool csv = format == "csv";
    if (csv) out << "seq,ref,tseq,event,details,agent,at,state,policy_version,prev_hash,hash\n";
    store.for_each_entry([&](const engine::LogEntry& e) {
        if (csv) {
            out << e.seq << ',' << ingest::csv_quote(e.ref) << ',' << e.tseq << ','
                << ingest::csv_quote(e.event) << ',' << ingest::csv_quote(e.details) << ','
                << ingest::csv_quote(e.agent) << ',' << ingest::csv_quote(e.at) << ','
                << ingest::csv_quote(e.state) << ',' << e.policy_version << ','
                << ingest::csv_quote(e.prev_hash) << ',' << ingest::csv_quote(e.hash) << '\n';
            if (seen) seen(e);
            return;
        }
        nlohmann::json j = {{"seq", e.seq},
                            {"ref", e.ref},
                            {"tseq", e.tseq},
                            {"event", e.event},
                            {"details", e.details},
                            {"agent", e.agent},
                            {"at", e.at},
                            {"state", e.state},
                            {"policy_version", e.policy_version},
                            {"prev_hash", e.prev_hash},
                            {"hash", e.hash}};
        out << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
        if (seen) seen(e);
    });
}

}  // namespace tfadesk::desk
