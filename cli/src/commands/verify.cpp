// `tfadesk verify [REF] [--expect-head SEQ:HASH]`: the auditor's check (SPEC §6); the algorithm
// is desk::verify, this file parses the flags and prints its report.
#include "../command.hpp"
#include "tfadesk/desk/verify.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::cli {
namespace {

class VerifyCommand final : public Command {
public:
    const char* name() const override { return "verify"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override { return "rebuild tickets from the log, compare, check the hash chain"; }
    const char* example() const override { return "tfadesk verify HD-1042"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("ref", ref_, "only replay this ticket (the chain is always checked whole)");
        app.add_option("--expect-head", expect_head_, "SEQ:HASH noted on an earlier visit; must still be there");
    }

    int run(Context& ctx) override {
        desk::VerifyOptions options;
        options.ref = ref_;
        if (expect_head_) options.expect_heads.push_back(desk::parse_expected_head(*expect_head_));
        const auto report = desk::verify(ctx.store(), options, [&](const std::string& line) { ctx.out << line << "\n"; });
        if (report.ok())
            ctx.out << "ok: " << report.tickets << " tickets and " << report.entries << " entries agree with the log\n";
        else
            ctx.out << report.problems.size() << " difference(s) found\n";
        ctx.out << "head " << report.head.seq << ":" << report.head.hash << "\n";
        return report.ok() ? 0 : static_cast<int>(engine::ErrorKind::integrity);
    }

private:
    std::optional<std::string> ref_;
    std::optional<std::string> expect_head_;
};

}  // namespace

std::unique_ptr<Command> make_verify() { return std::make_unique<VerifyCommand>(); }

}  // namespace tfadesk::cli
