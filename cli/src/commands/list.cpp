// `tfadesk list [--state S] [--search Q] [--open] [--assignee A] [--overdue] [--sort K]
// [--limit N]`: one line per ticket, from the ticket cache (SPEC §4, §14).
#include <cstdlib>

#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/desk/workspace.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/machine.hpp"

namespace tfadesk::cli {
namespace {

class ListCommand final : public Command {
public:
    const char* name() const override { return "list"; }
    const char* audience() const override { return "agents"; }
    const char* description() const override {
        return "one line per ticket (ref, state, version, role, access, updated)";
    }
    const char* example() const override { return "tfadesk list --state identity_check"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--state", state_, "only tickets in this state");
        // SPEC §14: search and order, through the cache's indexes.
        app.add_option(
            "--search", search_,
            "a ref or ref prefix, a phone (any spelling, or its last 4+ digits), an email, "
            "or a client/WABA/portfolio id");
        app.add_flag("--open", open_, "only tickets in a non-terminal state");
        app.add_option("--assignee", assignee_, "me ($TFADESK_AGENT), none, or an agent name");
        app.add_flag("--overdue", overdue_, "only tickets waiting on the requester past the SLA");
        app.add_option("--sort", sort_,
                       "due_at, updated_at, submitted_at or ref; '-' prefix for descending");
        app.add_option("--limit", limit_, "at most N tickets (1-500)");
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        if (state_) {
            const auto& states = engine::Machine::states();
            if (std::none_of(states.begin(), states.end(),
                             [&](const auto& s) { return s.first == *state_; }))
                throw engine::Error(engine::ErrorKind::invalid_input,
                                    "--state: unknown state '" + *state_ + "'");
        }
        auto& db = ctx.store();
        const bool workspace = search_ || open_ || assignee_ || overdue_ || sort_ || limit_;
        std::function<void(const std::function<void(const engine::Ticket&)>&)> each =
            [&](const std::function<void(const engine::Ticket&)>& fn) {
                db.for_each_ticket(state_, fn);
            };
        if (workspace) {
            desk::ListRequest r;
            r.q = search_;
            if (state_) r.states.push_back(*state_);
            r.open = open_;
            r.assignee = assignee_;
            r.overdue = overdue_;
            r.sort = sort_;
            r.limit = limit_;
            const char* me = std::getenv("TFADESK_AGENT");
            std::string agent;
            if (me && *me && (!assignee_ || *assignee_ == "me"))
                agent = desk::canonical_agent(me, "TFADESK_AGENT");
            auto query = desk::ticket_query(r, agent, desk::now_utc());
            // Without --limit, every match, a page at a time (memory stays flat).
            if (!limit_) query.limit = desk::kMaxPage;
            each = [&db, query,
                    all = !limit_](const std::function<void(const engine::Ticket&)>& fn) mutable {
                for (;;) {
                    auto [page, more] = db.find_tickets(query);
                    for (const auto& t : page) fn(t);
                    if (!all || !more || page.empty()) return;
                    query.after = std::pair(engine::sort_value(page.back(), query.sort),
                                            page.back().fields.ref);
                }
            };
        }
        if (json_) {
            // Streamed as one JSON array so memory stays flat however many tickets there are.
            bool first = true;
            ctx.out << "[";
            each([&](const engine::Ticket& t) {
                ctx.out << (first ? "\n" : ",\n") << desk::ticket_view_text(t);
                first = false;
            });
            ctx.out << (first ? "]\n" : "\n]\n");
            return 0;
        }
        std::vector<std::vector<std::string>> rows;
        each([&](const engine::Ticket& t) {
            std::vector<std::string> row = {
                t.fields.ref,
                t.state,
                std::to_string(t.version),
                std::string(rules::to_string(t.fields.requester_role)),
                std::string(rules::to_string(t.fields.portfolio_access)),
                t.updated_at};
            if (ctx.out_is_terminal)
                rows.push_back(std::move(row));
            else
                print_table(ctx.out, {}, {row}, false);
        });
        if (ctx.out_is_terminal)
            print_table(ctx.out, {"REF", "STATE", "VERSION", "ROLE", "ACCESS", "UPDATED"}, rows,
                        true);
        return 0;
    }

private:
    std::optional<std::string> state_, search_, assignee_, sort_, limit_;
    bool open_ = false, overdue_ = false;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_list() { return std::make_unique<ListCommand>(); }

}  // namespace tfadesk::cli
