// `tfadesk import FILE`: batch import of pending requests (SPEC §5).
//
// The use case is desk::import_records (one transaction per file, streaming); this file parses
// the flags, opens the files, shows progress and prints.
#include "tfadesk/desk/import.hpp"

#include <unistd.h>

#include <chrono>
#include <fstream>

#include "../command.hpp"
#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/ingest/output_file.hpp"
#include "tfadesk/ingest/records.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::cli {
namespace {

using engine::Error;
using engine::ErrorKind;

// Shows rows done, rate and rejects on a terminal, at most a few times a second.
class Progress {
public:
    Progress(std::ostream& err, bool enabled) : err_(err), enabled_(enabled) {}
    void tick(std::size_t rows, std::size_t rejected) {
        if (!enabled_ || (rows & 1023) != 0) return;
        const auto now = std::chrono::steady_clock::now();
        if (now - last_ < std::chrono::milliseconds(250)) return;
        last_ = now;
        const double secs = std::chrono::duration<double>(now - start_).count();
        err_ << "\rimport: " << rows << " rows, " << static_cast<long>(rows / (secs > 0 ? secs : 1))
             << " rows/s, " << rejected << " rejected" << std::flush;
        shown_ = true;
    }
    ~Progress() {
        if (shown_) err_ << "\n";
    }

private:
    std::ostream& err_;
    bool enabled_;
    bool shown_ = false;
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_ = start_;
};

class ImportCommand final : public Command {
public:
    const char* name() const override { return "import"; }
    const char* audience() const override { return "operators"; }
    const char* description() const override {
        return "import pending requests from CSV or JSON Lines";
    }
    const char* example() const override {
        return "tfadesk import samples/pending-requests.jsonl --triage --rejects rejects.jsonl "
               "--agent ops-bot";
    }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        app.add_option("file", file_, "the CSV or JSON Lines file")->required();
        add_agent_option(app, agent_);
        app.add_option("--format", format_, "csv or jsonl (default: from the file's extension)")
            ->check(CLI::IsMember({"csv", "jsonl"}));
        app.add_flag("--triage", triage_, "triage each imported ticket through the state machine");
        app.add_flag("--strict", strict_, "any invalid row rejects the whole file");
        app.add_flag("--dry-run", dry_run_,
                     "validate and count exactly as an import would; write nothing");
        app.add_option("--rejects", rejects_path_,
                       "write rejected rows, unchanged, plus an error column, here");
    }

    int run(Context& ctx) override {
        const auto format = ingest::pick_format(format_, file_);
        if (!format)
            throw Error(ErrorKind::invalid_input,
                        file_ + ": cannot tell the format from the name; give --format csv|jsonl");
        if (!agent_.empty()) desk::canonical_agent(agent_);
        ctx.inputs.push_back(file_);
        std::optional<ingest::OutputFile> rejects_file;
        if (rejects_path_ && !dry_run_) rejects_file.emplace(*rejects_path_, ctx.protected_paths());
        std::ifstream in(file_, std::ios::binary);
        if (!in) throw Error(ErrorKind::unexpected, "cannot read " + file_);
        try {
            ingest::RecordReader reader(in, *format, desk::import_columns());
            std::unique_ptr<engine::Store> dry;
            engine::Store* store = nullptr;
            if (!dry_run_)
                store = &ctx.store();
            else if (ctx.store_exists())
                store = (dry = ctx.open(engine::Store::Mode::read_only)).get();
            std::optional<ingest::RejectWriter> rejects;
            if (rejects_file) rejects.emplace(rejects_file->stream(), *format, reader.header());
            Progress progress(ctx.err, ctx.err_is_terminal);
            desk::ImportHooks hooks;
            hooks.on_reject = [&](const ingest::Record& rec, const std::string& reason) {
                ctx.err << rules::escape_control(file_) << ":" << rec.line << ": " << reason
                        << "\n";
                if (rejects) rejects->write(rec, reason);
            };
            hooks.on_progress = [&](const desk::ImportCounts& n) {
                progress.tick(n.imported + n.duplicates + n.rejected, n.rejected);
            };
            const auto who = ctx.actor(agent_, store);
            const auto n = desk::import_records(
                store, reader, {who.name, who.token_id, triage_, strict_, dry_run_}, hooks);
            if (rejects_file) rejects_file->commit();
            if (!n.kept)
                ctx.err << file_ << ": --strict: " << n.rejected
                        << " invalid row(s); nothing imported\n";
            if (dry_run_) ctx.err << file_ << ": --dry-run: nothing was written\n";
            ctx.out << "imported " << n.imported << ", duplicates " << n.duplicates << ", rejected "
                    << n.rejected << "\n";
            return n.rejected == 0 ? 0 : static_cast<int>(ErrorKind::invalid_input);
        } catch (const ingest::FileError& e) {
            throw Error(ErrorKind::invalid_input,
                        file_ + (e.line() ? ":" + std::to_string(e.line()) : std::string()) + ": " +
                            rules::escape_control(e.what()) + "; nothing imported");
        }
    }

private:
    std::string file_, agent_;
    std::optional<std::string> format_, rejects_path_;
    bool triage_ = false, strict_ = false, dry_run_ = false;
};

}  // namespace

std::unique_ptr<Command> make_import() { return std::make_unique<ImportCommand>(); }

}  // namespace tfadesk::cli
