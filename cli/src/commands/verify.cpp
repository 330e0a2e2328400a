// `tfadesk verify [REF] [--expect-head SEQ:HASH]`: the auditor's check (SPEC §6); the algorithm
// is desk::verify, this file parses the flags and prints its report.
#include "tfadesk/desk/verify.hpp"

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "../command.hpp"
#include "tfadesk/desk/note.hpp"
#include "tfadesk/desk/seal.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::cli {
namespace {

class VerifyCommand final : public Command {
public:
    const char* name() const override { return "verify"; }
    const char* audience() const override { return "auditors"; }
    const char* description() const override {
        return "rebuild tickets from the log, compare, check the hash chain";
    }
    const char* example() const override { return "tfadesk verify HD-1042"; }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("ref", ref_, "only replay this ticket (the chain is always checked whole)");
        app.add_option("--expect-head", expect_head_,
                       "SEQ:HASH noted on an earlier visit; must still be there");
        app.add_option("--verifier-key", verifier_key_,
                       "the desk's verifier key (text or a file holding it): check every seal");
        app.add_option("--checkpoint", checkpoints_,
                       "a kept checkpoint note (repeatable); needs --verifier-key");
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        desk::VerifyOptions options;
        options.ref = ref_;
        if (expect_head_) options.expect_heads.push_back(desk::parse_expected_head(*expect_head_));
        if (!checkpoints_.empty() && !verifier_key_)
            throw engine::Error(engine::ErrorKind::invalid_input,
                                "--checkpoint: needs --verifier-key to check the note's signature");
        if (verifier_key_) {
            options.verifier_key = desk::load_verifier_key(*verifier_key_);
            for (const auto& path : checkpoints_) {
                const std::string note = read_note(path);
                const auto cp = desk::parse_checkpoint(note);  // malformed: exit 2
                options.checkpoints.push_back(
                    {cp.seq, cp.hash_hex,
                     "checkpoint " + path + " (seq " + std::to_string(cp.seq) + ")", note});
            }
        }
        auto report = desk::verify(ctx.store(), options, [&](const std::string& line) {
            if (!json_) ctx.out << line << "\n";
        });
        if (json_) {
            print_json(ctx, report);
            return report.ok() ? 0 : static_cast<int>(engine::ErrorKind::integrity);
        }
        for (const auto& line : report.adopted) ctx.out << "adopted: " << line << "\n";
        for (const auto& line : report.rotations) ctx.out << "key rotated: " << line << "\n";
        if (report.ok())
            ctx.out << "ok: " << report.tickets << " tickets and " << report.entries
                    << " entries agree with the log\n";
        else
            ctx.out << report.problems.size() << " difference(s) found\n";
        ctx.out << "head " << report.head.seq << ":" << report.head.hash << "\n";
        return report.ok() ? 0 : static_cast<int>(engine::ErrorKind::integrity);
    }

private:
    // `verify --json`: the report as one document, with SPEC §13's signed and unsigned decisions
    // per agent.
    static void print_json(Context& ctx, const desk::VerifyReport& report) {
        ctx.out << desk::verify_view(report).dump(2) << "\n";
    }

    static std::string read_note(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            throw engine::Error(engine::ErrorKind::invalid_input,
                                "--checkpoint " + path + ": cannot read the file");
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (text.size() > 65536)
            throw engine::Error(engine::ErrorKind::invalid_input,
                                "--checkpoint " + path + ": not a checkpoint note (too long)");
        return text;
    }

    std::optional<std::string> ref_;
    std::optional<std::string> expect_head_, verifier_key_;
    std::vector<std::string> checkpoints_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_verify() { return std::make_unique<VerifyCommand>(); }

}  // namespace tfadesk::cli
