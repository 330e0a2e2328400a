// `tfadesk export`: the whole log with sequence numbers and hashes, for auditors' own tools.
// `details` is exported as the exact stored text (a JSON string), since the hash covers those
// bytes; docs/formats.md gives the canonical form.
#include "tfadesk/desk/export.hpp"

#include <spdlog/spdlog.h>

#include "../command.hpp"
#include "tfadesk/desk/access.hpp"
#include "tfadesk/ingest/output_file.hpp"

namespace tfadesk::cli {
namespace {

class ExportCommand final : public Command {
public:
    const char* name() const override { return "export"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override {
        return "the whole event log with its hashes (JSON Lines or CSV)";
    }
    const char* example() const override { return "tfadesk export --format csv --out log.csv"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--format", format_, "jsonl or csv")->check(CLI::IsMember({"jsonl", "csv"}));
        app.add_option("--out", out_path_, "write to this file instead of stdout");
        app.add_option("--agent", agent_,
                       "when the desk has accounts: the auditor exporting (checked for the role)");
    }

    int run(Context& ctx) override {
        auto& store = ctx.store();
        const std::string who = agent_ ? desk::canonical_agent(*agent_) : "unknown";
        if (agent_) desk::authorize(store, ctx.actor(*agent_, &store), "auditor", "export the log");
        spdlog::info("export ({}) by {}", format_, who);  // SPEC §12
        if (!out_path_) {
            desk::export_log(store, format_, ctx.out);
            return 0;
        }
        ingest::OutputFile file(*out_path_, ctx.protected_paths());
        desk::export_log(store, format_, file.stream());
        file.commit();
        return 0;
    }

private:
    std::string format_ = "jsonl";
    std::optional<std::string> out_path_, agent_;
};

}  // namespace

std::unique_ptr<Command> make_export() { return std::make_unique<ExportCommand>(); }

}  // namespace tfadesk::cli
