// `tfadesk event REF EVENT`: applies one event in one write transaction (SPEC §3, §4).
// Input checks (exit 2) come first, then the ticket (4), then --expect-version (5), then the
// workflow (3). A refused event writes nothing.
#include "../command.hpp"
#include "tfadesk/desk/signatures.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/engine/command.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::cli {
namespace {

class EventCommand final : public Command {
public:
    const char* name() const override { return "event"; }
    const char* audience() const override { return "agents"; }
    const char* description() const override {
        return "apply one event to a ticket; prints the new state";
    }
    const char* example() const override { return "tfadesk event HD-1042 triage --agent alice"; }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        app.add_option("ref", ref_, "the ticket's ref")->required();
        std::string events;
        for (auto k : engine::all_events())
            events += (events.empty() ? "" : ", ") + std::string(engine::to_string(k));
        app.add_option("event", req_.event, events)->required();
        add_agent_option(app, req_.agent);
        app.add_option("--check", req_.check, "client_of_record, number_ownership or lost_access");
        app.add_option("--note", req_.note,
                       "why (required by check-failed, disable-failed, cancel)");
        app.add_option("--reference", req_.reference,
                       "the disable request's reference (submit-disable)");
        app.add_option("--role", req_.role, "update: client, portfolio_admin, partner or unknown");
        app.add_option("--access", req_.access, "update: yes, no or unknown");
        app.add_option("--requester-email", req_.requester_email, "update: the requester's email");
        app.add_option("--ack-related", req_.ack_related,
                       "approve: a related ticket rejected as a partner's request, checked and "
                       "named (R9; repeatable)");
        app.add_option("--expect-version", expect_version_,
                       "refuse (exit 5) unless the ticket is at this version");
        app.add_option(
            "--sign-key", sign_key_,
            "your personal key file: sign the decision (SPEC §13; see 'agent key generate')");
    }

    int run(Context& ctx) override {
        req_.expect_version = parse_count(expect_version_, "--expect-version");
        if (!ctx.store_exists())
            desk::validate_event(req_);  // exit 2 first, then 4 without creating a database
        if (!ctx.store_exists())
            throw engine::Error(engine::ErrorKind::not_found,
                                "no such ticket: '" + ref_ + "' (no database at " +
                                    storage::shown_location(ctx.db_path) + ")");
        const auto who = ctx.actor(req_.agent);
        req_.agent = who.name;
        req_.token_id = who.token_id;
        if (sign_key_) {
            auto signer = std::make_shared<desk::DecisionSigner>();
            signer->key = desk::load_key(*sign_key_);
            req_.signer = std::move(signer);
        }
        ctx.out << desk::apply_event(ctx.store(), ref_, req_).state << "\n";
        return 0;
    }

private:
    std::string ref_;
    desk::EventRequest req_;
    std::optional<std::string> expect_version_, sign_key_;
};

}  // namespace

std::unique_ptr<Command> make_event() { return std::make_unique<EventCommand>(); }

}  // namespace tfadesk::cli
