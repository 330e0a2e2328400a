// `tfadesk verify [REF] [--expect-head SEQ:HASH]`: the auditor's check (SPEC §6). In one pass
// over the log ordered by ticket it recomputes every hash and link of the chain, replays each
// ticket's entries from scratch through the state machine (re-judging every event) and compares
// the result with the stored ticket row, read by a merge join over the ticket table in the same
// order. Memory holds one ticket's entries and a bounded queue of entries waiting to be hashed;
// the hashing runs on a second thread, beside the replay.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "../command.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::cli {
namespace {

std::string entry_name(const engine::LogEntry& e) {
    return "ticket " + e.ref + " entry seq " + std::to_string(e.seq) + " (#" + std::to_string(e.tseq) + " " + e.event + ")";
}

// What differs in one entry's place in the chain, or "" when it links and hashes right.
std::string chain_problem(const engine::LogEntry& e, const std::optional<std::string>& prev) {
    std::string out;
    if (e.seq == 1 && e.prev_hash != storage::kGenesisHash)
        out = entry_name(e) + ": the first entry's prev_hash is not the genesis hash";
    else if (e.seq > 1 && !prev)
        out = entry_name(e) + ": the entry before it (seq " + std::to_string(e.seq - 1) + ") is missing";
    else if (e.seq > 1 && *prev != e.prev_hash)
        out = entry_name(e) + ": prev_hash does not match the hash of entry seq " + std::to_string(e.seq - 1);
    if (storage::entry_hash(e) != e.hash) out += (out.empty() ? "" : "\n") + entry_name(e) + ": hash does not match its content";
    return out;
}

// Hashes entries on a worker thread. Batches keep the locking rare; the queue is bounded so
// memory stays flat when hashing is slower than reading.
class ChainChecker {
public:
    using Item = std::pair<engine::LogEntry, std::optional<std::string>>;
    ChainChecker() : worker_([this] { work(); }) {}
    ~ChainChecker() { finish(); }

    void add(const engine::LogEntry& e, const std::optional<std::string>& prev) {
        batch_.emplace_back(e, prev);
        if (batch_.size() >= kBatch) flush();
    }
    // Waits for the worker; returns its problem lines.
    std::vector<std::string> finish() {
        if (worker_.joinable()) {
            flush();
            {
                std::lock_guard<std::mutex> lock(mutex_);
                done_ = true;
            }
            ready_.notify_all();
            worker_.join();
        }
        return problems_;
    }

private:
    static constexpr std::size_t kBatch = 512, kMaxBatches = 16;

    void flush() {
        if (batch_.empty()) return;
        std::unique_lock<std::mutex> lock(mutex_);
        room_.wait(lock, [&] { return queue_.size() < kMaxBatches; });
        queue_.push_back(std::move(batch_));
        batch_.clear();
        ready_.notify_one();
    }

    void work() {
        for (;;) {
            std::vector<Item> items;
            {
                std::unique_lock<std::mutex> lock(mutex_);
                ready_.wait(lock, [&] { return !queue_.empty() || done_; });
                if (queue_.empty()) return;
                items = std::move(queue_.front());
                queue_.pop_front();
            }
            room_.notify_one();
            for (const auto& [e, prev] : items)
                if (auto p = chain_problem(e, prev); !p.empty()) problems_.push_back(std::move(p));
        }
    }

    std::vector<Item> batch_;
    std::deque<std::vector<Item>> queue_;
    std::mutex mutex_;
    std::condition_variable ready_, room_;
    bool done_ = false;
    std::vector<std::string> problems_;  // written by the worker, read after join
    std::thread worker_;
};

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
        const auto [head_seq, head_hash] = parse_expected_head();
        auto db = ctx.open(storage::Database::Mode::read_only);
        if (ref_ && !db.exists(*ref_) && db.entries(*ref_).empty())
            throw engine::Error(engine::ErrorKind::not_found, "no such ticket: '" + *ref_ + "'");

        ChainChecker chain;
        auto next_row = db.ticket_cursor();
        std::optional<engine::Ticket> row = next_row();
        // Rows before `ref` in byte order have no entries at all.
        auto rows_before = [&](const std::string& ref) {
            for (; row && (ref.empty() || row->fields.ref < ref); row = next_row())
                if (!ref_ || row->fields.ref == *ref_)
                    report("ticket " + row->fields.ref + ": the ticket row has no log entries");
        };
        std::vector<engine::LogEntry> group;
        auto judge = [&] {
            if (group.empty()) return;
            const std::string& ref = group.front().ref;
            rows_before(ref);
            std::optional<engine::Ticket> stored;
            if (row && row->fields.ref == ref) {
                stored = std::move(row);
                row = next_row();
            }
            if (!ref_ || ref == *ref_) judge_ticket(group, stored);
            group.clear();
        };
        db.for_each_entry_by_ticket([&](const engine::LogEntry& e, const std::optional<std::string>& prev) {
            ++entries_;
            chain.add(e, prev);
            if (!group.empty() && group.front().ref != e.ref) judge();
            group.push_back(e);
        });
        judge();
        rows_before("");
        for (auto& line : chain.finish()) report(line);

        const storage::Head head = db.head();
        if (head.seq != entries_)
            report("the log holds " + std::to_string(entries_) + " entries but its last seq is " + std::to_string(head.seq));
        if (expect_head_) {
            const auto noted = db.entry_at(head_seq);
            if (!noted)
                report("expected head " + *expect_head_ + ": the log has no entry " + std::to_string(head_seq) +
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
    std::pair<std::int64_t, std::string> parse_expected_head() const {
        if (!expect_head_) return {0, ""};
        const auto colon = expect_head_->find(':');
        std::int64_t seq = 0;
        try {
            seq = std::stoll(expect_head_->substr(0, colon));
        } catch (const std::exception&) {
            seq = 0;
        }
        if (colon == std::string::npos || seq < 1 || expect_head_->size() - colon - 1 != 64)
            throw engine::Error(engine::ErrorKind::invalid_input,
                                "--expect-head: must be SEQ:HASH with a 64-hex-digit hash");
        return {seq, expect_head_->substr(colon + 1)};
    }

    void report(const std::string& line) {
        ++differences_;
        *out_ << line << "\n";
    }

    void judge_ticket(const std::vector<engine::LogEntry>& entries, const std::optional<engine::Ticket>& stored) {
        ++tickets_;
        const std::string& ref = entries.front().ref;
        for (const auto& e : entries)
            if (!rules::knows_policy_version(e.policy_version)) {
                report(entry_name(e) + ": accepted under policy version " + std::to_string(e.policy_version) +
                       ", which this build (policy version " + std::to_string(rules::kPolicyVersion) +
                       ") does not know; the ticket is not judged");
                return;
            }
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
