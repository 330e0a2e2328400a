// `tfadesk open`: opens a ticket in `received` (SPEC §4). Validation is rules::validate_fields,
// the same function `import` calls for every row.
#include "../command.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/rules/fields.hpp"

namespace tfadesk::cli {
namespace {

class OpenCommand final : public Command {
public:
    const char* name() const override { return "open"; }
    const char* audience() const override { return "agents"; }
    const char* description() const override {
        return "open a ticket in 'received'; prints its ref";
    }
    const char* example() const override {
        return "tfadesk open --ref HD-1042 --phone '+49 151 2345 6789' --client-id acme-gmbh "
               "--requester-email ops@acme.example --role client --access no --reason lost_access "
               "--agent alice";
    }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        for (const auto& f : rules::field_table()) {
            auto* opt = app.add_option(std::string(f.flag), values_[std::string(f.name)],
                                       std::string(f.help));
            if (f.required) opt->required();
        }
        add_agent_option(app, agent_);
    }

    int run(Context& ctx) override {
        const auto t = desk::open_ticket(ctx.store(), values_, ctx.actor(agent_));
        ctx.out << t.fields.ref << "\n";
        return 0;
    }

private:
    rules::RawFields values_;
    std::string agent_;
};

}  // namespace

std::unique_ptr<Command> make_open() { return std::make_unique<OpenCommand>(); }

}  // namespace tfadesk::cli
