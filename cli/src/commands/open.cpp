// `tfadesk open`: opens a ticket in `received` (SPEC §4). Validation is rules::validate_fields,
// the same function `import` calls for every row.
#include "../command.hpp"
#include "tfadesk/desk/tickets.hpp"


namespace tfadesk::cli {
namespace {

class OpenCommand final : public Command {
public:
    const char* name() const override { return "open"; }
    const char* audience() const override { return "agents"; }
    const char* description() const override { return "open a ticket in 'received'; prints its ref"; }
    const char* example() const override {
        return "tfadesk open --ref HD-1042 --phone '+49 151 2345 6789' --client-id acme-gmbh "
               "--requester-email ops@acme.example --role client --access no --reason lost_access "
               "--agent alice";
    }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        // Flag name -> §2 field name.
        static const std::pair<const char*, const char*> kFlags[] = {
            {"--ref", "ref"},
            {"--phone", "phone"},
            {"--client-id", "client_id"},
            {"--requester-email", "requester_email"},
            {"--role", "requester_role"},
            {"--access", "portfolio_access"},
            {"--reason", "reason"},
            {"--waba-id", "waba_id"},
            {"--portfolio-id", "portfolio_id"},
            {"--submitted-at", "submitted_at"},
            {"--note", "note"},
        };
        for (const auto& [flag, field] : kFlags) {
            auto* opt = app.add_option(flag, values_[field], std::string("the ticket's ") + field);
            const std::string f = field;
            if (f == "ref" || f == "phone" || f == "client_id" || f == "requester_email" ||
                f == "requester_role")
                opt->required();
        }
        add_agent_option(app, agent_);
    }

    int run(Context& ctx) override {
        const auto t = desk::open_ticket(ctx.store(), values_, agent_);
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
