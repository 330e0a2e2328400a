// `tfadesk outbox [--dead] [--retry ID] [--json]`: the helpdesk connector's outbox (SPEC §17) -
// the deliveries not yet sent, or only the dead letters; --retry puts a dead letter back in the
// queue (an operator's write: it needs the account's token on a desk with accounts). The server
// (`serve --connectors`) sends what is queued; this command never sends anything itself.
#include <nlohmann/json.hpp>

#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/text.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::cli {
namespace {

class OutboxCommand final : public Command {
public:
    const char* name() const override { return "outbox"; }
    const char* audience() const override { return "operators"; }
    const char* description() const override {
        return "the helpdesk connector's outbox: pending deliveries, dead letters, --retry ID";
    }
    const char* example() const override { return "tfadesk outbox --dead"; }
    bool read_only() const override { return true; }  // --retry opens the desk for writing itself

    void setup(CLI::App& app) override {
        app.add_flag("--dead", dead_, "only the dead letters");
        app.add_option("--retry", retry_,
                       "put dead letter ID back in the queue (operator; needs the token)");
        add_agent_option(app, agent_);
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        if (retry_) return retry(ctx, *retry_);
        const auto rows = ctx.store().outbox(dead_);
        if (json_) {
            nlohmann::json all = nlohmann::json::array();
            for (const auto& d : rows) all.push_back(desk::outbox_view(d));
            ctx.out << all.dump(2) << "\n";
            return 0;
        }
        std::vector<std::vector<std::string>> table;
        for (const auto& d : rows)
            table.push_back({std::to_string(d.id), rules::escape_control(d.ref),
                             std::to_string(d.seq), rules::escape_control(d.source), d.status,
                             std::to_string(d.attempts), d.next_at,
                             rules::escape_control(d.last_error)});
        print_table(ctx.out,
                    {"ID", "REF", "SEQ", "SOURCE", "STATUS", "ATTEMPTS", "NEXT", "LAST ERROR"},
                    table, ctx.out_is_terminal);
        return 0;
    }

private:
    int retry(Context& ctx, std::int64_t id) {
        if (!ctx.store_exists())
            throw engine::Error(engine::ErrorKind::unexpected,
                                "no desk at " + storage::shown_location(ctx.db_path));
        auto store = ctx.open(engine::Store::Mode::read_write);
        const auto who = ctx.actor(agent_, store.get());
        desk::authorize(*store, who, "operator", "retry outbox deliveries");
        if (!store->retry_outbox(id, desk::now_utc()))
            throw engine::Error(engine::ErrorKind::not_found,
                                "--retry: no dead letter has id " + std::to_string(id));
        ctx.out << "queued " << id << "\n";
        return 0;
    }

    bool dead_ = false, json_ = false;
    std::optional<std::int64_t> retry_;
    std::string agent_;
};

}  // namespace

std::unique_ptr<Command> make_outbox() { return std::make_unique<OutboxCommand>(); }

}  // namespace tfadesk::cli
