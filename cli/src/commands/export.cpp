// `tfadesk export`: the whole log with sequence numbers and hashes, for auditors' own tools.
// `details` is exported as the exact stored text (a JSON string), since the hash covers those
// bytes; see the README's "Hash chain" section for the canonical form.
#include <fstream>

#include "../command.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/ingest/records.hpp"

namespace tfadesk::cli {
namespace {

class ExportCommand final : public Command {
public:
    const char* name() const override { return "export"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override { return "the whole event log with its hashes (JSON Lines or CSV)"; }
    const char* example() const override { return "tfadesk export --format csv --out log.csv"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--format", format_, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
        app.add_option("--out", out_path_, "write to this file instead of stdout");
    }

    int run(Context& ctx) override {
        auto db = ctx.open(storage::Database::Mode::read_only);
        std::ofstream file;
        std::ostream* out = &ctx.out;
        const std::string tmp = out_path_ ? *out_path_ + ".partial" : "";
        if (out_path_) {
            file.open(tmp, std::ios::binary | std::ios::trunc);
            if (!file) throw engine::Error(engine::ErrorKind::unexpected, "cannot write " + *out_path_);
            out = &file;
        }
        if (format_ == "csv") *out << "seq,ref,tseq,event,details,agent,at,state,policy_version,prev_hash,hash\n";
        db.for_each_entry([&](const engine::LogEntry& e) {
            if (format_ == "csv") {
                *out << e.seq << ',' << ingest::csv_quote(e.ref) << ',' << e.tseq << ',' << ingest::csv_quote(e.event) << ','
                     << ingest::csv_quote(e.details) << ',' << ingest::csv_quote(e.agent) << ',' << e.at << ',' << e.state << ','
                     << e.policy_version << ',' << e.prev_hash << ',' << e.hash << '\n';
                return;
            }
            nlohmann::json j = {{"seq", e.seq},     {"ref", e.ref},       {"tseq", e.tseq},
                                {"event", e.event}, {"details", e.details}, {"agent", e.agent},
                                {"at", e.at},       {"state", e.state},   {"policy_version", e.policy_version},
                                {"prev_hash", e.prev_hash}, {"hash", e.hash}};
            *out << j.dump() << '\n';
        });
        if (out_path_) {
            file.close();
            if (!file || std::rename(tmp.c_str(), out_path_->c_str()) != 0)
                throw engine::Error(engine::ErrorKind::unexpected, "cannot write " + *out_path_);
        }
        return 0;
    }

private:
    std::string format_ = "jsonl";
    std::optional<std::string> out_path_;
};

}  // namespace

std::unique_ptr<Command> make_export() { return std::make_unique<ExportCommand>(); }

}  // namespace tfadesk::cli
