// `tfadesk migrate --from SRC --to DST`: copies a desk entry by entry between any two stores
// (SQLite file <-> PostgreSQL URI, or SQLite -> SQLite), re-verifying every link and hash as it
// goes, into an empty destination, in one transaction (SPEC §10). The algorithm is desk::migrate.
// Exit 5 when the destination is not empty, 6 on the first entry that does not verify; either
// way the destination is left as it was. The source is opened read-only (one snapshot); --db and
// --key are not used: the seals are copied as they are, none is added.
#include "tfadesk/desk/migrate.hpp"

#include <chrono>

#include "../command.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::cli {
namespace {

class MigrateCommand final : public Command {
public:
    const char* name() const override { return "migrate"; }
    const char* audience() const override { return "operators"; }
    const char* description() const override {
        return "copy a desk into an empty store (SQLite <-> PostgreSQL), re-verifying it";
    }
    const char* example() const override {
        return "tfadesk migrate --from desk.db --to desk-copy.db";
    }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        app.add_option("--from", from_,
                       "the desk to copy: a SQLite file or a postgresql:// URI (read only)")
            ->required();
        app.add_option("--to", to_,
                       "an empty store to copy it into: a SQLite file or a postgresql:// URI")
            ->required();
    }

    int run(Context& ctx) override {
        auto from = storage::open_store(from_, engine::Store::Mode::read_only);
        auto to = storage::open_store(to_, engine::Store::Mode::read_write);
        auto last = std::chrono::steady_clock::now();
        bool shown = false;
        const auto n = desk::migrate(*from, *to, [&](std::int64_t entries) {
            if (!ctx.err_is_terminal || (entries & 1023) != 0) return;
            const auto now = std::chrono::steady_clock::now();
            if (now - last < std::chrono::milliseconds(250)) return;
            last = now;
            ctx.err << "\rmigrate: " << entries << " entries" << std::flush;
            shown = true;
        });
        if (shown) ctx.err << "\n";
        ctx.out << "migrated " << n.entries << " entries (" << n.tickets << " tickets, "
                << n.accounts << " accounts, " << n.seals << " seals) from " << from->location()
                << " to " << to->location() << "\n";
        ctx.out << "head " << n.head.seq << ":" << n.head.hash << "\n";
        return 0;
    }

private:
    std::string from_, to_;
};

}  // namespace

std::unique_ptr<Command> make_migrate() { return std::make_unique<MigrateCommand>(); }

}  // namespace tfadesk::cli
