// `tfadesk access-log`: who read which tickets' personal data through the server, when, through
// which route and from where (SPEC §12) - the access log kept beside the chain, in time order.
#include "tfadesk/desk/access_log.hpp"

#include "../command.hpp"
#include "../output.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/rules/text.hpp"

namespace tfadesk::cli {
namespace {

// The refs the record kept, comma-separated (the count beside it says how many the read returned).
std::string refs_cell(const engine::AccessRecord& r) {
    std::string cell;
    for (const auto& ref : r.refs) cell += (cell.empty() ? "" : ",") + rules::escape_control(ref);
    return cell;
}

class AccessLogCommand final : public Command {
public:
    const char* name() const override { return "access-log"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override {
        return "who read which tickets through the server: time, account, route, refs, client";
    }
    const char* example() const override {
        return "tfadesk access-log --ref HD-1042 --since 2026-11-01T00:00:00Z";
    }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("--ref", ref_, "only reads that returned this ticket");
        app.add_option("--agent", agent_, "only reads by this account");
        app.add_option("--since", since_, "only reads at or after this UTC time");
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        const auto query = desk::access_query(ref_, agent_, since_);
        auto& store = ctx.store();
        if (json_) {
            desk::write_access_json(store, query, ctx.out);
            return 0;
        }
        std::vector<std::vector<std::string>> rows;
        store.for_each_access(query, [&](const engine::AccessRecord& r) {
            std::vector<std::string> row = {r.at,
                                            rules::escape_control(r.account),
                                            rules::escape_control(r.route),
                                            std::to_string(r.ref_count),
                                            refs_cell(r),
                                            rules::escape_control(r.client)};
            if (ctx.out_is_terminal)
                rows.push_back(std::move(row));
            else
                print_table(ctx.out, {}, {row}, false);
        });
        if (ctx.out_is_terminal)
            print_table(ctx.out, {"AT", "ACCOUNT", "ROUTE", "COUNT", "REFS", "CLIENT"}, rows, true);
        return 0;
    }

private:
    std::optional<std::string> ref_, agent_, since_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_access_log() { return std::make_unique<AccessLogCommand>(); }

}  // namespace tfadesk::cli
