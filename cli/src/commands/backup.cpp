// `tfadesk backup --out FILE` (SPEC §16): a consistent copy of a live SQLite desk while writers go
// on (storage::backup_sqlite), verified as `verify` would before it takes FILE's name, mode 0600,
// never over the database in use (ingest::OutputFile's rules). A PostgreSQL desk is backed up by
// PostgreSQL's own tools (docs/backup.md).
#include "tfadesk/storage/backup.hpp"

#include <ostream>

#include "../command.hpp"
#include "tfadesk/desk/verify.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/ingest/output_file.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::cli {
namespace {

class BackupCommand final : public Command {
public:
    const char* name() const override { return "backup"; }
    const char* audience() const override { return "admins"; }
    const char* description() const override {
        return "a verified copy of a live SQLite desk (mode 0600)";
    }
    const char* example() const override { return "tfadesk backup --out desk-copy.db"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--out", out_path_,
                       "the copy to write (0600; replaced only once the copy verifies)")
            ->required();
    }

    int run(Context& ctx) override {
        using engine::Error;
        using engine::ErrorKind;
        if (storage::is_server_location(ctx.db_path))
            throw Error(
                ErrorKind::invalid_input,
                "backup: --db is a PostgreSQL desk: back it up with pg_dump (docs/backup.md)");
        ctx.store();  // the desk must exist and be a tfadesk database (exit 1 naming it otherwise)
        ingest::OutputFile file(out_path_, ctx.protected_paths());
        storage::backup_sqlite(ctx.db_path, file.temp_path());
        desk::VerifyReport report;
        {
            auto copy = storage::open_store(file.temp_path(), engine::Store::Mode::read_only);
            report = desk::verify(*copy, {});
        }
        if (!report.ok()) {
            for (const auto& p : report.problems) ctx.out << p << "\n";
            throw Error(ErrorKind::integrity, "backup: the copy does not verify (" +
                                                  std::to_string(report.problems.size()) +
                                                  " difference(s)); " + out_path_ +
                                                  " was not written");
        }
        file.commit();
        ctx.out << "backed up to " << out_path_ << ": " << report.tickets << " tickets and "
                << report.entries << " entries agree with the log\n";
        ctx.out << "head " << report.head.seq << ":" << report.head.hash << "\n";
        return 0;
    }

private:
    std::string out_path_;
};

}  // namespace

std::unique_ptr<Command> make_backup() { return std::make_unique<BackupCommand>(); }

}  // namespace tfadesk::cli
