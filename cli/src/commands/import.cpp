// `tfadesk import FILE`: batch import of pending requests (SPEC §5).
//
// How nothing is lost or doubled: the whole file is imported in ONE write transaction. A run that
// is killed part way commits nothing, so running the same command again imports every valid row
// exactly once; duplicates (refs already in the database, or earlier in the same file, which the
// open transaction already holds) are counted and skipped, so a second run of a finished import
// imports nothing. Rows are streamed: memory does not grow with the file (a dry run keeps only
// the set of refs it has seen, to count in-file duplicates without writing).
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <spdlog/spdlog.h>
#include <unordered_set>

#include "../command.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/ingest/records.hpp"

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
    const char* description() const override { return "import pending requests from CSV or JSON Lines"; }
    const char* example() const override {
        return "tfadesk import samples/pending-requests.jsonl --triage --rejects rejects.jsonl --agent ops-bot";
    }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        app.add_option("file", file_, "the CSV or JSON Lines file")->required();
        add_agent_option(app, agent_);
        app.add_option("--format", format_, "csv or jsonl (default: from the file's extension)")
            ->check(CLI::IsMember({"csv", "jsonl"}));
        app.add_flag("--triage", triage_, "triage each imported ticket through the state machine");
        app.add_flag("--strict", strict_, "any invalid row rejects the whole file");
        app.add_flag("--dry-run", dry_run_, "validate and count exactly as an import would; write nothing");
        app.add_option("--rejects", rejects_path_, "write rejected rows, unchanged, plus an error column, here");
    }

    int run(Context& ctx) override {
        if (agent_.find_first_not_of(" \t") == std::string::npos)
            throw Error(ErrorKind::invalid_input, "--agent: an agent name is required");
        const auto format = ingest::pick_format(format_, file_);
        if (!format)
            throw Error(ErrorKind::invalid_input, file_ + ": cannot tell the format from the name; give --format csv|jsonl");
        std::ifstream in(file_, std::ios::binary);
        if (!in) throw Error(ErrorKind::unexpected, "cannot read " + file_);
        std::vector<std::string> known;
        for (auto f : rules::field_names()) known.emplace_back(f);

        try {
            ingest::RecordReader reader(in, *format, known);
            std::optional<storage::Database> db;
            std::optional<storage::Database::WriteTransaction> tx;
            if (!dry_run_) {
                db.emplace(ctx.db_path, storage::Database::Mode::read_write);
                tx.emplace(*db);
            } else if (std::ifstream(ctx.db_path).good()) {
                db.emplace(ctx.db_path, storage::Database::Mode::read_only);
            }
            std::ofstream rejects_file;
            std::optional<ingest::RejectWriter> rejects;
            if (rejects_path_) {
                rejects_file.open(*rejects_path_ + ".partial", std::ios::binary | std::ios::trunc);
                if (!rejects_file) throw Error(ErrorKind::unexpected, "cannot write " + *rejects_path_);
                rejects.emplace(rejects_file, *format, reader.header());
            }
            const Counts n = import_rows(ctx, reader, db ? &*db : nullptr, rejects ? &*rejects : nullptr);
            if (rejects) {
                rejects_file.close();
                if (!rejects_file || std::rename((*rejects_path_ + ".partial").c_str(), rejects_path_->c_str()) != 0)
                    throw Error(ErrorKind::unexpected, "cannot write " + *rejects_path_);
            }
            const bool keep = !(strict_ && n.rejected > 0);
            if (tx && keep) tx->commit();
            if (!keep) ctx.err << file_ << ": --strict: " << n.rejected << " invalid row(s); nothing imported\n";
            spdlog::info("import {} by {}: imported {}, duplicates {}, rejected {}{}", file_, agent_, n.imported,
                         n.duplicates, n.rejected, dry_run_ ? " (dry run)" : "");
            if (dry_run_) ctx.err << file_ << ": --dry-run: nothing was written\n";
            ctx.out << "imported " << (keep ? n.imported : 0) << ", duplicates " << n.duplicates << ", rejected "
                    << n.rejected << "\n";
            return n.rejected == 0 ? 0 : static_cast<int>(ErrorKind::invalid_input);
        } catch (const ingest::FileError& e) {
            throw Error(ErrorKind::invalid_input,
                        file_ + (e.line() ? ":" + std::to_string(e.line()) : std::string()) + ": " + e.what() +
                            "; nothing imported");
        }
    }

private:
    struct Counts {
        std::size_t imported = 0, duplicates = 0, rejected = 0;
    };

    Counts import_rows(Context& ctx, ingest::RecordReader& reader, storage::Database* db,
                       ingest::RejectWriter* rejects) {
        Counts n;
        std::unordered_set<std::string> seen;  // dry run only: refs "imported" so far
        Progress progress(ctx.err, ctx.err_is_terminal);
        ingest::Record rec;
        rules::RawFields raw;
        while (reader.next(rec)) {
            progress.tick(n.imported + n.duplicates + n.rejected, n.rejected);
            std::string error = rec.error;
            const std::string now = Context::now();
            std::optional<rules::Fields> fields;
            if (error.empty()) {
                raw.clear();
                for (auto& [key, value] : rec.fields) raw.emplace(key, value);
                auto result = rules::validate_fields(raw, now);
                if (auto* bad = std::get_if<rules::FieldError>(&result)) error = bad->message();
                else fields = std::move(std::get<rules::Fields>(result));
            }
            if (!error.empty()) {
                ++n.rejected;
                ctx.err << file_ << ":" << rec.line << ": " << error << "\n";
                if (rejects) rejects->write(rec, error);
                continue;
            }
            const bool fresh = dry_run_ ? !(db && db->exists(fields->ref)) && seen.insert(fields->ref).second
                                        : engine::open_if_new(*db, *fields, agent_, now, triage_);
            ++(fresh ? n.imported : n.duplicates);
        }
        return n;
    }

    std::string file_, agent_;
    std::optional<std::string> format_, rejects_path_;
    bool triage_ = false, strict_ = false, dry_run_ = false;
};

}  // namespace

std::unique_ptr<Command> make_import() { return std::make_unique<ImportCommand>(); }

}  // namespace tfadesk::cli
