// `tfadesk reply REF`: the message to send the requester at the ticket's current state (SPEC §11).
// Thin on purpose: load the templates, read the ticket and its log, let desk::Templates render.
#include "tfadesk/desk/reply.hpp"

#include <optional>

#include "../command.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::cli {
namespace {

class ReplyCommand final : public Command {
public:
    const char* name() const override { return "reply"; }
    const char* audience() const override { return "agents"; }
    const char* description() const override {
        return "the reply to send the requester at the ticket's state";
    }
    const char* example() const override {
        return "tfadesk reply HD-1042 --lang de --templates samples/templates";
    }
    bool read_only() const override { return true; }

    void setup(CLI::App& app) override {
        app.add_option("ref", ref_, "the ticket's ref")->required();
        app.add_option(
            "--lang", lang_,
            "language of the reply (default en; English when the desk has no text in it)");
        app.add_option("--templates", templates_,
                       "folder of the desk's STATE.LANG.txt texts (see docs/replies.md)")
            ->envname("TFADESK_TEMPLATES");
        add_json_flag(app, json_);
    }

    int run(Context& ctx) override {
        // Templates first: a bad folder is named whatever the ticket.
        const auto templates =
            desk::Templates::load(templates_.empty() ? std::nullopt : std::optional(templates_));
        const auto reply = desk::reply_for(ctx.store(), ref_, lang_, templates);
        if (json_)
            ctx.out << desk::to_json(reply).dump(2) << "\n";
        else
            ctx.out << "Subject: " << reply.subject << "\n\n" << reply.body << "\n";
        return 0;
    }

private:
    std::string ref_;
    std::string lang_ = "en";
    std::string templates_;
    bool json_ = false;
};

}  // namespace

std::unique_ptr<Command> make_reply() { return std::make_unique<ReplyCommand>(); }

}  // namespace tfadesk::cli
