// `tfadesk verify [REF] [--expect-head SEQ:HASH]`: the auditor's check (SPEC §6). In one pass
// over the log ordered by ticket it recomputes every hash and link of the chain, replays each
// ticket's entries from scratch through the state machine (re-judging every event) and compares
// the result with the stored ticket row. Memory holds one ticket's entries at a time.
#include "../command.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::cli {
namespace {

std::string entry_name(const engine::LogEntry& e) {
    return "ticket " + e.ref + " entry seq " + std::to_string(e.seq) + " (#" + std::to_string(e.tseq) + " " + e.event + ")";
}

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
        out_ = &ctx.out;
        std::int64_t head_seq = 0;
        std::string head_hash;
        if (expect_head_) {
            const auto colon = expect_head_->find(':');
            try {
                head_seq = std::stoll(expect_head_->substr(0, colon));
            } catch (const std::exception&) {
                colon_error();
            }
            if (colon == std::string::npos || head_seq < 1 || expect_head_->size() - colon - 1 != 64) colon_error();
            head_hash = expect_head_->substr(colon + 1);
        }
        auto db = ctx.open(storage::Database::Mode::read_only);
        if (ref_ && !db.exists(*ref_) && db.entries(*ref_).empty())
            throw engine::Error(engine::ErrorKind::not_found, "no such ticket: '" + *ref_ + "'");

        std::vector<engine::LogEntry> group;
        auto judge = [&] {
            if (!group.empty() && (!ref_ || group.front().ref == *ref_)) judge_ticket(db, group);
            group.clear();
        };
        db.for_each_entry_by_ticket([&](const engine::LogEntry& e, const std::optional<std::string>& prev) {
            ++entries_;
            check_link(e, prev);
            if (!group.empty() && group.front().ref != e.ref) judge();
            group.push_back(e);
        });
        judge();
        for (const auto& ref : db.refs_without_entries())
            if (!ref_ || ref == *ref_) report("ticket " + ref + ": the ticket row has no log entries");

        const storage::Head head = db.head();
        if (head.seq != entries_)
            report("the log holds " + std::to_string(entries_) + " entries but its last seq is " + std::to_string(head.seq));
        if (expect_head_) {
            const auto noted = db.entry_at(head_seq);
            if (!noted) report("expected head " + *expect_head_ + ": the log has no entry " + std::to_string(head_seq) +
                               " any more (cut back to " + std::to_string(head.seq) + ")");
            else if (noted->hash != head_hash)
                report("expected head " + *expect_head_ + ": entry " + std::to_string(head_seq) + " now has hash " + noted->hash);
        }
        if (differences_ == 0)
            ctx.out << "ok: " << tickets_ << " tickets and " << entries_ << " entries agree with the log\n";
        else
            ctx.out << differences_ << " difference(s) found\n";
        ctx.out << "head " << head.seq << ":" << head.hash << "\n";
        return differences_ == 0 ? 0 : static_cast<int>(engine::ErrorKind::integrity);
    }

private:
    [[noreturn]] void colon_error() const {
        throw engine::Error(engine::ErrorKind::invalid_input, "--expect-head: must be SEQ:HASH with a 64-hex-digit hash");
    }

    void report(const std::string& line) {
        ++differences_;
        *out_ << line << "\n";
    }

    void check_link(const engine::LogEntry& e, const std::optional<std::string>& prev) {
        if (e.seq == 1 && e.prev_hash != storage::kGenesisHash)
            report(entry_name(e) + ": the first entry's prev_hash is not the genesis hash");
        else if (e.seq > 1 && !prev)
            report(entry_name(e) + ": the entry before it (seq " + std::to_string(e.seq - 1) + ") is missing");
        else if (e.seq > 1 && *prev != e.prev_hash)
            report(entry_name(e) + ": prev_hash does not match the hash of entry seq " + std::to_string(e.seq - 1));
        if (storage::entry_hash(e) != e.hash) report(entry_name(e) + ": hash does not match its content");
    }

    void judge_ticket(storage::Database& db, const std::vector<engine::LogEntry>& entries) {
        ++tickets_;
        const std::string& ref = entries.front().ref;
        for (const auto& e : entries)
            if (!rules::knows_policy_version(e.policy_version)) {
                report(entry_name(e) + ": accepted under policy version " + std::to_string(e.policy_version) +
                       ", which this build (policy version " + std::to_string(rules::kPolicyVersion) +
                       ") does not know; the ticket is not judged");
                return;
            }
        const auto stored = db.ticket(ref);
        try {
            const engine::Machine m = engine::replay(entries);
            if (!stored) {
                report("ticket " + ref + ": the log has " + std::to_string(entries.size()) + " entries but there is no ticket row");
                return;
            }
            for (const auto& field : engine::differences(m.ticket(), *stored))
                report("ticket " + ref + ": the ticket row's " + field + " disagrees with its log (last entry seq " +
                       std::to_string(entries.back().seq) + ")");
        } catch (const engine::Error& e) {
            report(e.what());
        }
    }

    std::ostream* out_ = nullptr;
    std::optional<std::string> ref_;
    std::optional<std::string> expect_head_;
    std::int64_t entries_ = 0;
    std::int64_t tickets_ = 0;
    std::int64_t differences_ = 0;
};

}  // namespace

std::unique_ptr<Command> make_verify() { return std::make_unique<VerifyCommand>(); }

}  // namespace tfadesk::cli
