// `tfadesk event REF EVENT`: applies one event in one write transaction (SPEC §3, §4).
// Input checks (exit 2) come first, then the ticket (4), then --expect-version (5), then the
// workflow (3). A refused event writes nothing.
#include <spdlog/spdlog.h>

#include "../command.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/workflow.hpp"

namespace tfadesk::cli {
namespace {

using engine::Error;
using engine::ErrorKind;

template <class T>
std::optional<T> parse_or_fail(const std::string& text, const char* flag, const char* expected,
                               std::optional<T> (*parse)(std::string_view)) {
    if (text.empty()) return std::nullopt;
    auto v = parse(text);
    if (!v) throw Error(ErrorKind::invalid_input, std::string(flag) + ": must be " + expected + " (got '" + text + "')");
    return v;
}

class EventCommand final : public Command {
public:
    const char* name() const override { return "event"; }
    const char* audience() const override { return "agents"; }
    const char* description() const override { return "apply one event to a ticket; prints the new state"; }
    const char* example() const override {
        return "tfadesk event HD-1042 triage --agent alice";
    }
    bool read_only() const override { return false; }

    void setup(CLI::App& app) override {
        app.add_option("ref", ref_, "the ticket's ref")->required();
        app.add_option("event", event_,
                       "triage, update, check-passed, check-failed, partner-detected, approve, "
                       "submit-disable, confirm-disabled, disable-failed, cancel, expire")
            ->required();
        add_agent_option(app, cmd_.agent);
        app.add_option("--check", check_, "client_of_record, number_ownership or lost_access");
        app.add_option("--note", note_, "why (required by check-failed, disable-failed, cancel)");
        app.add_option("--reference", reference_, "the disable request's reference (submit-disable)");
        app.add_option("--role", role_, "update: client, portfolio_admin, partner or unknown");
        app.add_option("--access", access_, "update: yes, no or unknown");
        app.add_option("--requester-email", email_, "update: the requester's email");
        app.add_option("--expect-version", expect_version_,
                       "refuse (exit 5) unless the ticket is at this version");
    }

    int run(Context& ctx) override {
        auto kind = engine::parse_event(event_);
        if (!kind)
            throw Error(ErrorKind::invalid_input,
                        "unknown event '" + event_ + "' (expected one of: triage, update, check-passed, "
                        "check-failed, partner-detected, approve, submit-disable, confirm-disabled, "
                        "disable-failed, cancel, expire)");
        cmd_.kind = *kind;
        cmd_.check = check_;
        cmd_.note = note_;
        cmd_.reference = reference_;
        cmd_.requester_email = email_;
        cmd_.role = parse_or_fail(role_.value_or(""), "--role", "client, portfolio_admin, partner or unknown",
                                  &rules::parse_role);
        cmd_.access = parse_or_fail(access_.value_or(""), "--access", "yes, no or unknown", &rules::parse_access);
        if (role_ && role_->empty()) throw Error(ErrorKind::invalid_input, "--role: must not be empty");
        if (access_ && access_->empty()) throw Error(ErrorKind::invalid_input, "--access: must not be empty");
        engine::validate(cmd_);

        auto db = ctx.open(storage::Database::Mode::read_write);
        storage::Database::WriteTransaction tx(db);
        cmd_.at = Context::now();
        const auto result = engine::apply_event(db, ref_, cmd_, expect_version_);
        if (!result.outcome.accepted) {
            spdlog::info("{} {} refused: {}", ref_, event_, result.outcome.refusal->rule);
            throw Error(ErrorKind::refused, "ticket '" + ref_ + "': " + result.outcome.message(event_));
        }
        tx.commit();
        spdlog::info("{} {} by {} -> {}", ref_, event_, cmd_.agent, result.outcome.state);
        ctx.out << result.outcome.state << "\n";
        return 0;
    }

private:
    std::string ref_, event_;
    engine::Command cmd_;
    std::optional<std::string> check_, note_, reference_, role_, access_, email_;
    std::optional<std::int64_t> expect_version_;
};

}  // namespace

std::unique_ptr<Command> make_event() { return std::make_unique<EventCommand>(); }

}  // namespace tfadesk::cli
