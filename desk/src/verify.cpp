#include "tfadesk/desk/verify.hpp"

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "tfadesk/desk/seal.hpp"
#include "tfadesk/desk/signatures.hpp"
#include "tfadesk/desk/sla.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/decision.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/json_text.hpp"
#include "tfadesk/engine/lookup.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/rules/numbers.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/text.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::desk {

using engine::Error;
using engine::ErrorKind;
using engine::LogEntry;

namespace {

std::string entry_name(const LogEntry& e) {
    return (engine::is_account_key(e.ref)
                ? "account " + rules::escape_control(e.ref.substr(engine::kAccountPrefix.size()))
                : "ticket " + rules::escape_control(e.ref)) +
           " entry seq " + std::to_string(e.seq) + " (#" + std::to_string(e.tseq) + " " +
           rules::escape_control(e.event) + ")";
}

// What differs in one entry's place in the chain and time, or "" when it links and hashes right.
std::string chain_problem(const LogEntry& e, const std::optional<engine::PrevEntry>& prev) {
    std::string out;
    auto add = [&](const std::string& line) {
        out += (out.empty() ? "" : "\n") + entry_name(e) + ": " + line;
    };
    if (e.seq == 1 && e.prev_hash != engine::kGenesisHash)
        add("the first entry's prev_hash is not the genesis hash");
    else if (e.seq > 1 && !prev)
        add("the entry before it (seq " + std::to_string(e.seq - 1) + ") is missing");
    else if (e.seq > 1 && prev->hash != e.prev_hash)
        add("prev_hash does not match the hash of entry seq " + std::to_string(e.seq - 1));
    if (engine::entry_hash(e) != e.hash) add("hash does not match its content");
    const auto at = rules::parse_utc(e.at);
    if (!at || rules::format_utc_ms(*at) != e.at)
        add("its time '" + rules::escape_control(e.at) +
            "' is not a UTC time like 2026-11-20T09:15:00.000Z");
    else if (prev && e.seq > 1) {
        const auto before = rules::parse_utc(prev->at);
        if (before && *at < *before)
            add("its time " + e.at + " is before the time of entry seq " +
                std::to_string(e.seq - 1) + " (" + prev->at + ")");
    }
    return out;
}

// Hashes entries on a worker thread. Batches keep the locking rare; the queue is bounded so
// memory stays flat when hashing is slower than reading. Hashed batches go back to the reading
// thread to be freed there: memory freed on another thread than the one that allocated it
// takes the allocator's arena lock, and the two threads then spent their time waking each
// other (perf: a fifth of verify in malloc, free and the kernel's futex paths).
class ChainChecker {
public:
    using Item = std::pair<LogEntry, std::optional<engine::PrevEntry>>;
    ChainChecker() : worker_([this] { work(); }) {}
    ~ChainChecker() { finish(); }

    void add(LogEntry&& e, std::optional<engine::PrevEntry>&& prev) {
        batch_.emplace_back(std::move(e), std::move(prev));
        if (batch_.size() >= kBatch) flush();
    }
    // An entry and a previous-entry from a hashed batch, to be overwritten with the next ones
    // read (their strings keep their buffers); nothing when none is waiting.
    std::optional<Item> spare() {
        if (spare_.empty()) return std::nullopt;
        Item item = std::move(spare_.back());
        spare_.pop_back();
        return item;
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
        std::deque<std::vector<Item>> hashed;
        {
            std::unique_lock<std::mutex> lock(mutex_);
            room_.wait(lock, [&] { return queue_.size() < kMaxBatches; });
            queue_.push_back(std::move(batch_));
            hashed.swap(hashed_);
            ready_.notify_one();
        }
        batch_.clear();
        batch_.reserve(kBatch);
        for (auto& items : hashed)
            for (auto& item : items)
                if (spare_.size() < kBatch) spare_.push_back(std::move(item));
    }  // the rest of `hashed` is freed here, on this thread

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
            std::lock_guard<std::mutex> lock(mutex_);
            hashed_.push_back(std::move(items));
        }
    }

    std::vector<Item> batch_, spare_;
    std::deque<std::vector<Item>> queue_, hashed_;
    std::mutex mutex_;
    std::condition_variable ready_, room_;
    bool done_ = false;
    std::vector<std::string> problems_;  // written by the worker, read after join
    std::thread worker_;
};

class Verifier {
public:
    Verifier(engine::Store& store, const VerifyOptions& options,
             const std::function<void(const std::string&)>& on_problem)
        : store_(store), options_(options), on_problem_(on_problem) {}

    VerifyReport run() {
        const auto& ref = options_.ref;
        if (ref && (engine::is_account_key(*ref) || !store_.exists(*ref)) &&
            store_.entries(*ref).empty())
            throw engine::no_such_ticket(*ref);
        ChainChecker chain;
        next_row_ = store_.ticket_cursor();
        row_ = next_row_();
        collect_accounts();
        collect_timeline();
        collect_signature_switches();
        // One ticket's (or account's) entries, judged together, then handed to the chain check.
        std::vector<LogEntry> group;
        std::vector<std::optional<engine::PrevEntry>> prevs;
        auto judge = [&] {
            if (group.empty()) return;
            const std::string& key = group.front().ref;
            rows_before(key);
            if (engine::is_account_key(key)) {
                if (!ref) judge_account(group);
            } else if (engine::is_desk_key(key)) {
                judge_desk(group);
            } else {
                std::optional<engine::Ticket> stored;
                if (row_ && row_->fields.ref == key) {
                    stored = std::move(row_);
                    row_ = next_row_();
                }
                if (!ref || key == *ref)
                    judge_ticket(group, stored);
                else
                    note_rejected(
                        group);  // R9 of the judged ticket needs the partner rejections of all
            }
            for (std::size_t i = 0; i < group.size(); ++i)
                chain.add(std::move(group[i]), std::move(prevs[i]));
            group.clear();
            prevs.clear();
        };
        store_.for_each_entry_by_ticket(
            [&](LogEntry&& e, const std::optional<engine::PrevEntry>& prev) {
                ++report_.entries;
                // Policy versions only go up along the log (an older build cannot write a newer
                // desk).
                if (e.policy_version >= 2)
                    first_v2_seq_ = first_v2_seq_ ? std::min(first_v2_seq_, e.seq) : e.seq;
                else
                    last_v1_seq_ = std::max(last_v1_seq_, e.seq);
                if (!group.empty() && group.front().ref != e.ref) judge();
                // Swapped with a hashed entry, not moved: the store reads the next row into its
                // buffers; the previous-entry is copied into a hashed one's likewise.
                auto used = chain.spare();
                group.emplace_back();
                prevs.emplace_back();
                if (used) {
                    group.back() = std::move(used->first);
                    prevs.back() = std::move(used->second);
                }
                std::swap(group.back(), e);
                if (!prev)
                    prevs.back().reset();
                else if (prevs.back())
                    *prevs.back() = *prev;
                else
                    prevs.back() = prev;
            });
        judge();
        rows_before("");
        judge_partner_memory();
        if (first_v2_seq_ && last_v1_seq_ > first_v2_seq_)
            report("entry seq " + std::to_string(last_v1_seq_) +
                   ": accepted under policy version 1 after entry seq " +
                   std::to_string(first_v2_seq_) +
                   " was accepted under version 2; versions never go back along the log, "
                   "so it escapes the checks of version 2 (tokens, R9, R10)");
        for (const auto& [name, account] : accounts_)
            if (!ref)
                report("account " + rules::escape_control(name) +
                       ": the account row has no log entries");
        for (auto& line : chain.finish()) report(line);

        report_.head = store_.head();
        const auto& head = report_.head;
        if (head.seq != report_.entries)
            report("the log holds " + std::to_string(report_.entries) +
                   " entries but its last seq is " + std::to_string(head.seq));
        for (const auto& expected : options_.expect_heads) {
            const std::string noted = std::to_string(expected.seq) + ":" + expected.hash;
            check_kept(expected.seq, expected.hash, "expected head " + noted);
        }
        std::optional<KeyChain> keys;
        if (options_.verifier_key) keys = key_chain(*options_.verifier_key, rotations_);
        for (const auto& kept : options_.checkpoints) {
            if (!kept.note.empty()) {
                const auto key = keys ? keys->key_at(kept.seq) : std::nullopt;
                if (!key || !verify_checkpoint(*key, kept.note)) {
                    report(
                        kept.what +
                        ": not signed by the verifier key or a key the desk rotated to after it");
                    continue;
                }
            }
            check_kept(kept.seq, kept.hash, kept.what);
        }
        if (keys) check_seals(*keys);
        return std::move(report_);
    }

private:
    void report(const std::string& line) {
        if (on_problem_) on_problem_(line);
        report_.problems.push_back(line);
    }

    void check_kept(std::int64_t seq, const std::string& hash, const std::string& what) {
        const auto noted = store_.entry_at(seq);
        if (!noted)
            report(what + ": the log has no entry " + std::to_string(seq) +
                   " any more (cut back to " + std::to_string(report_.head.seq) + ")");
        else if (noted->hash != hash)
            report(what + ": entry " + std::to_string(seq) + " now has hash " + noted->hash);
    }

    // Seals made before the given key was in force cannot be checked with it; the chain makes a
    // later valid seal vouch for every entry before it.
    void check_seals(const KeyChain& keys) {
        std::int64_t covered = 0;
        std::set<std::int64_t> sealed_rotations;
        store_.for_each_seal(
            [&](const engine::Seal& seal, const std::optional<std::string>& log_hash) {
                const std::string name = "seal at seq " + std::to_string(seal.seq);
                const auto key = keys.key_at(seal.seq);
                if (!key) return;
                if (auto bad = seal_problem(*key, seal)) {
                    report(name + ": " + *bad);
                    return;
                }
                if (!log_hash) {
                    report(name + ": the log has no entry " + std::to_string(seal.seq));
                    return;
                }
                if (*log_hash != seal.hash) {
                    report(name + ": it signs hash " + seal.hash + " but the log's entry " +
                           std::to_string(seal.seq) + " has " + *log_hash);
                    return;
                }
                covered = std::max(covered, seal.seq);
                sealed_rotations.insert(seal.seq);
            });
        for (std::size_t i = keys.from_rotation; i < keys.rotations.size(); ++i) {
            const auto& r = keys.rotations[i];
            if (!sealed_rotations.count(r.seq))
                report("key rotation at seq " + std::to_string(r.seq) +
                       ": not sealed by the key in force (" + verifier_key(*keys.key_at(r.seq)) +
                       ")");
        }
        if (covered < report_.head.seq)
            report(
                "entry seq " + std::to_string(covered + 1) +
                (covered + 1 < report_.head.seq ? " to " + std::to_string(report_.head.seq) : "") +
                ": not covered by any valid seal (the last valid seal is at seq " +
                std::to_string(covered) + ")");
    }

    // Ticket rows before `key` in byte order have no entries at all.
    void rows_before(const std::string& key) {
        for (; row_ && (key.empty() || row_->fields.ref < key); row_ = next_row_())
            if (!options_.ref || row_->fields.ref == *options_.ref)
                report("ticket " + rules::escape_control(row_->fields.ref) +
                       ": the ticket row has no log entries");
    }

    // --- who acted (SPEC §12): every entry's agent against the accounts as the log had them ----

    // The account changes in log order, each account's states after each of its changes.
    void collect_timeline() {
        std::map<std::string, engine::Account, std::less<>> now;
        std::set<std::string, std::less<>> broken;
        for (const auto& e : store_.account_entries()) {
            const std::string name = e.ref.substr(engine::kAccountPrefix.size());
            if (first_account_seq_ == 0) first_account_seq_ = e.seq;
            if (broken.count(name)) continue;
            try {
                const auto it = now.find(name);
                auto after = engine::apply_account_entry(
                    it == now.end() ? std::nullopt : std::optional(it->second), e);
                timeline_[name].emplace_back(e.seq, after);
                now.insert_or_assign(name, std::move(after));
            } catch (const Error&) {
                broken.insert(name);  // judge_account names it; its later changes grant nothing
            }
        }
    }

    // The account `name` as it stood just before global seq `seq`, or nothing.
    const engine::Account* account_before(std::string_view name, std::int64_t seq) const {
        const auto it = timeline_.find(name);
        if (it == timeline_.end()) return nullptr;
        const engine::Account* found = nullptr;
        for (const auto& [at, a] : it->second) {
            if (at >= seq) break;
            found = &a;
        }
        return found;
    }

    bool desk_had_accounts(std::int64_t seq) const {
        return first_account_seq_ != 0 && first_account_seq_ < seq;
    }

    // Checks that `e`'s agent could write it: an enabled account holding one of `roles` at that
    // point of the log, authenticated (policy 2 on) by its token of record then.
    void judge_actor(const LogEntry& e, std::initializer_list<std::string_view> roles) {
        if (!desk_had_accounts(e.seq)) return;
        const engine::Account* a = account_before(e.agent, e.seq);
        auto problem = [&](const std::string& what) { report(entry_name(e) + ": " + what); };
        if (!a)
            return problem("agent '" + rules::escape_control(e.agent) +
                           "' had no account on the desk at that point");
        if (!a->enabled)
            return problem("the account of agent '" + e.agent + "' was disabled at that point");
        bool holds = false;
        std::string wanted;
        for (auto r : roles) {
            holds = holds || a->has(r);
            wanted += (wanted.empty() ? "" : " or ") + std::string(r);
        }
        if (!holds)
            return problem("agent '" + e.agent + "' did not hold the role " + wanted +
                           " at that point");
        if (e.policy_version < 2) return;  // token ids are recorded from policy version 2 on
        const std::string by = engine::recorded_by_token(e);
        if (by.empty())
            return problem(
                "it records no token: every entry written by an account names the token that "
                "authenticated it");
        if (!a->token_id.empty() && by != a->token_id)
            return problem("it was written with token " + by +
                           ", but the token of record of account '" + e.agent +
                           "' at that point was " + a->token_id);
    }

    // Who may write a ticket entry: SPEC §7's role for the command that writes it.
    void judge_ticket_actors(const std::vector<LogEntry>& entries) {
        // SPEC §16: the server's SLA scheduler has no account and may only expire.
        for (const auto& e : entries)
            if (e.agent == kSlaAgent && e.event != "expire")
                report(entry_name(e) + ": agent '" + e.agent +
                       "' is reserved for the SLA scheduler, which only expires tickets");
        if (first_account_seq_ == 0) return;
        for (const auto& e : entries) {
            if (e.agent == kSlaAgent) continue;  // judged above
            if (e.event == "open" || e.event == "triage")
                judge_actor(e, {"agent", "operator"});  // open, or import
            else if (e.event == "approve")
                judge_actor(e, {"approver"});
            else if (e.event == "expire")
                judge_actor(e, {"operator", "agent"});  // sweep, or `event expire`
            else
                judge_actor(e, {"agent"});
        }
    }

    // Account changes: made by an enabled admin (but the desk's first), R10 from policy 2 on.
    void judge_account_actors(const std::vector<LogEntry>& entries, const engine::Account& after) {
        for (const auto& e : entries) {
            if (e.seq == first_account_seq_)
                continue;  // SPEC §7: the first account is added by whoever sets the desk up
            if (judge_own_key_change(e, after.name)) continue;
            judge_actor(e, {"admin"});
            if (e.policy_version < 2) continue;
            const auto change = engine::parse_account_change(e.event);
            const bool raising =
                change == engine::AccountChange::grant || change == engine::AccountChange::enable;
            if (auto r = rules::privilege_four_eyes(e.agent, after.name, raising))
                report(entry_name(e) + ": " + r->message());
        }
        if (!after.token_id.empty()) {
            const auto row_hash = store_.account_token_hash(after.name);
            if (!row_hash || engine::token_id_of(*row_hash) != after.token_id)
                report("account " + rules::escape_control(after.name) +
                       ": the account row's token_hash is not the token its log issued (" +
                       after.token_id + ")");
        }
    }

    // --- signed decisions (SPEC §13)
    // --------------------------------------------------------------

    // The require-signatures switches of the log, in global order.
    void collect_signature_switches() {
        for (const auto& e : store_.account_entries()) {
            if (e.event != "account-require-signatures") continue;
            try {
                const auto d = nlohmann::json::parse(e.details);
                if (d.is_object() && d.contains("on") && d["on"].is_boolean())
                    switches_.emplace_back(e.seq, d["on"].get<bool>());
            } catch (const nlohmann::json::exception&) {
                // judge_account names the entry
            }
        }
    }

    // The seq of the switch that made signatures required before `seq`, or 0 when they were not.
    std::int64_t required_since(std::int64_t seq) const {
        std::int64_t since = 0;
        for (const auto& [at, on] : switches_) {
            if (at >= seq) break;
            since = on ? at : 0;
        }
        return since;
    }

    // A key or passkey added or removed: written by the account itself (any role, enabled, its
    // token), so a key is registered only by its own account. True when `e` is one (it has been
    // judged).
    bool judge_own_key_change(const LogEntry& e, const std::string& account) {
        if (!engine::is_own_key_change(e.event)) return false;
        if (e.agent != account)
            report(entry_name(e) + ": a key of account '" + rules::escape_control(account) +
                   "' was registered or removed by '" + rules::escape_control(e.agent) +
                   "'; a key is registered only by its own account");
        else
            judge_actor(e, {"admin", "agent", "approver", "auditor", "operator"});
        return true;
    }

    // Every decision's signature against the keys its agent held at that point of the log; where
    // signatures were required, a decision without a valid one (a first key: another admin's
    // countersignature) is named. Counts signed and unsigned decisions per agent.
    void judge_signatures(const std::vector<LogEntry>& entries) {
        for (const auto& e : entries) {
            if (!engine::is_decision(e)) continue;
            auto problem = [&](const std::string& what) { report(entry_name(e) + ": " + what); };
            std::string text;
            std::optional<engine::RecordedSignature> sig, cs;
            try {
                sig = engine::recorded_signature(e, engine::kSignatureKey);
                cs = engine::recorded_signature(e, engine::kCountersignatureKey);
                if (sig || cs) text = engine::decision_text(e);  // an unsigned entry needs none
            } catch (const Error& error) {
                problem(error.what());
                continue;
            }
            bool valid = false;
            if (sig) {
                if (auto bad =
                        signature_problem(*sig, text, account_before(e.agent, e.seq), e.agent))
                    problem(*bad);
                else
                    valid = true;
            }
            bool countersigned = false;
            if (cs) {
                const std::string owner = engine::is_account_key(e.ref)
                                              ? e.ref.substr(engine::kAccountPrefix.size())
                                              : e.agent;
                const engine::Account* admin = account_before(cs->agent, e.seq);
                if (cs->agent == owner || !admin || !admin->enabled || !admin->has("admin"))
                    problem("it is countersigned by '" + rules::escape_control(cs->agent) +
                            "', who was not another enabled admin then");
                else if (auto bad = signature_problem(*cs, text, admin, cs->agent))
                    problem("countersignature: " + *bad);
                else
                    countersigned = true;
            }
            auto& counts = report_.signatures[e.agent];
            ++(valid ? counts.signed_decisions : counts.unsigned_decisions);
            const std::int64_t since = required_since(e.seq);
            if (valid || since == 0) continue;
            const engine::Account* before = account_before(e.agent, e.seq);
            const bool first_key = engine::registers_first_key(e, before);
            if (first_key && countersigned) continue;
            if (!sig)
                problem(std::string("it is not signed by '") + rules::escape_control(e.agent) +
                        "', but signed decisions were required from entry seq " +
                        std::to_string(since) + " on" +
                        (first_key ? " (a first key needs another admin's countersignature)" : ""));
        }
    }

    // --- the desk's own entries: seal adoptions (SPEC §12) ---------------------------------------

    void judge_desk(const std::vector<LogEntry>& entries) {
        if (!known_policy(entries)) return;
        if (entries.front().ref == kKeysKey) return judge_rotations(entries);
        std::int64_t tseq = 0;
        for (const auto& e : entries) {
            auto problem = [&](const std::string& what) { report(entry_name(e) + ": " + what); };
            if (e.ref != engine::kAdoptKey || e.event != "seal-adopt" || e.state != "adopted") {
                problem("not an entry of the desk's own that this build knows");
                continue;
            }
            if (e.tseq != ++tseq) problem("expected #" + std::to_string(tseq));
            nlohmann::json d;
            try {
                d = nlohmann::json::parse(e.details);
            } catch (const nlohmann::json::exception&) {
            }
            const bool well_formed = d.is_object() && d.contains("from") &&
                                     d["from"].is_number_integer() && d.contains("to") &&
                                     d["to"].is_number_integer() && d.contains("note") &&
                                     d["note"].is_string() && d["from"].get<std::int64_t>() >= 1 &&
                                     d["from"].get<std::int64_t>() <= d["to"].get<std::int64_t>() &&
                                     d["to"].get<std::int64_t>() < e.seq;
            if (!well_formed) {
                problem("its details do not name an adopted range (from, to, note) before it");
                continue;
            }
            judge_actor(e, {"admin"});
            report_.adopted.push_back(
                "entries seq " + std::to_string(d["from"].get<std::int64_t>()) + " to " +
                std::to_string(d["to"].get<std::int64_t>()) +
                " were written after a seal without the key and adopted at seq " +
                std::to_string(e.seq) + " by " + rules::escape_control(e.agent) + " (" + e.at +
                "): " + rules::escape_control(d["note"].get<std::string>()));
        }
    }

    // A rotation retires the key in force and names one the desk never used.
    void judge_rotations(const std::vector<LogEntry>& entries) {
        std::int64_t tseq = 0;
        for (const auto& e : entries) {
            auto problem = [&](const std::string& what) { report(entry_name(e) + ": " + what); };
            if (e.tseq != ++tseq) problem("expected #" + std::to_string(tseq));
            auto r = parse_rotation(e);
            if (!r) {
                problem(
                    "not a key rotation naming the retired and the new verifier key (from, to)");
                continue;
            }
            judge_actor(e, {"admin"});
            if (!rotations_.empty() && verifier_key(rotations_.back().to) != verifier_key(r->from))
                problem("it retires " + verifier_key(r->from) + " but the key in force was " +
                        verifier_key(rotations_.back().to));
            for (const auto& before : rotations_)
                if (verifier_key(before.from) == verifier_key(r->to) ||
                    verifier_key(before.to) == verifier_key(r->to))
                    problem("it puts back a key the desk used before (" + verifier_key(r->to) +
                            ")");
            if (verifier_key(r->from) == verifier_key(r->to)) problem("it rotates a key to itself");
            report_.rotations.push_back(
                "seq " + std::to_string(e.seq) + " by " + rules::escape_control(e.agent) + " (" +
                e.at + "): " + verifier_key(r->from) + " -> " + verifier_key(r->to));
            rotations_.push_back(std::move(*r));
        }
    }

    // --- R9, re-judged once every ticket was read ----------------------------------------------

    static std::string lower_ascii(std::string s) {
        for (auto& c : s)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        return s;
    }

    void note_partner_memory(const std::vector<LogEntry>& entries, const engine::Ticket& t) {
        const std::string email = lower_ascii(t.fields.requester_email);
        for (const auto& e : entries) {
            if (e.event == "approve" && e.policy_version >= 2) {
                LogEntry named;  // what entry_name() needs, without the details
                named.seq = e.seq;
                named.ref = e.ref;
                named.tseq = e.tseq;
                named.event = e.event;
                Approval a{std::move(named), t.fields.phone, email, {}};
                if (auto flat = engine::parse_flat_object(e.details))
                    for (const auto& m : *flat)
                        if (m.key == engine::kAckRelatedKey) a.acked = "," + m.text + ",";
                approvals_.push_back(std::move(a));
            }
            if (e.state == "partner_rejected") {
                rejected_by_phone_.emplace(t.fields.phone, std::pair(e.seq, e.ref));
                rejected_by_email_.emplace(email, std::pair(e.seq, e.ref));
            }
        }
    }

    // The partner rejection of a ticket that is not judged itself (verify REF), for R9.
    void note_rejected(const std::vector<LogEntry>& entries) {
        if (entries.back().state != "partner_rejected" || !known_policy_quiet(entries)) return;
        try {
            const engine::Machine m = engine::replay(entries);
            note_partner_memory(entries, m.ticket());
        } catch (const Error&) {
            // judged (and named) only when verify judges that ticket
        }
    }

    static bool known_policy_quiet(const std::vector<LogEntry>& entries) {
        for (const auto& e : entries)
            if (!rules::knows_policy_version(e.policy_version)) return false;
        return true;
    }

    void judge_partner_memory() {
        for (const auto& a : approvals_) {
            std::set<std::string> missing;
            auto check = [&](const auto& index, const std::string& key) {
                const auto [from, to] = index.equal_range(key);
                for (auto it = from; it != to; ++it)
                    if (it->second.first < a.entry.seq && it->second.second != a.entry.ref &&
                        a.acked.find("," + it->second.second + ",") == std::string::npos)
                        missing.insert(it->second.second);
            };
            check(rejected_by_phone_, a.phone);
            check(rejected_by_email_, a.email);
            if (!missing.empty()) {
                if (auto r = rules::partner_memory({missing.begin(), missing.end()}, {}))
                    report(entry_name(a.entry) + ": " + r->message());
            }
        }
    }

    void collect_accounts() {
        // Accounts are few (a desk's staff): kept in memory for the comparison.
        store_.for_each_account([&](const engine::Account& a) { accounts_.emplace(a.name, a); });
    }

    bool known_policy(const std::vector<LogEntry>& entries) {
        for (const auto& e : entries)
            if (!rules::knows_policy_version(e.policy_version)) {
                report(entry_name(e) + ": accepted under policy version " +
                       std::to_string(e.policy_version) + ", which this build (policy version " +
                       std::to_string(rules::kPolicyVersion) + ") does not know; it is not judged");
                return false;
            }
        return true;
    }

    void judge_ticket(const std::vector<LogEntry>& entries,
                      const std::optional<engine::Ticket>& stored) {
        ++report_.tickets;
        const std::string ref = rules::escape_control(entries.front().ref);
        if (!known_policy(entries)) return;
        judge_ticket_actors(entries);
        judge_signatures(entries);
        try {
            const engine::Machine m = engine::replay(entries);
            note_partner_memory(entries, m.ticket());
            if (!stored) {
                report("ticket " + ref + ": the log has " + std::to_string(entries.size()) +
                       " entries but there is no ticket row (last entry seq " +
                       std::to_string(entries.back().seq) + ")");
                return;
            }
            for (const auto& field : engine::differences(m.ticket(), *stored))
                report("ticket " + ref + ": the ticket row's " + field +
                       " disagrees with its log (last entry seq " +
                       std::to_string(entries.back().seq) + ")");
        } catch (const Error& e) {
            report(e.what());
        }
    }

    void judge_account(const std::vector<LogEntry>& entries) {
        ++report_.accounts;
        const std::string name = entries.front().ref.substr(engine::kAccountPrefix.size());
        if (!known_policy(entries)) return;
        const auto stored = accounts_.find(name);
        try {
            const engine::Account a = engine::replay_account(entries);
            judge_account_actors(entries, a);
            judge_signatures(entries);
            if (stored == accounts_.end()) {
                report("account " + rules::escape_control(name) + ": the log has " +
                       std::to_string(entries.size()) +
                       " changes but there is no account row (last entry seq " +
                       std::to_string(entries.back().seq) + ")");
                return;
            }
            for (const auto& field : engine::differences(a, stored->second))
                report("account " + rules::escape_control(name) + ": the account row's " + field +
                       " disagrees with its log (last entry seq " +
                       std::to_string(entries.back().seq) + ")");
        } catch (const Error& e) {
            report(e.what());
        }
        if (stored != accounts_.end()) accounts_.erase(stored);
    }

    engine::Store& store_;
    const VerifyOptions& options_;
    const std::function<void(const std::string&)>& on_problem_;
    VerifyReport report_;
    std::function<std::optional<engine::Ticket>()> next_row_;
    std::optional<engine::Ticket> row_;
    std::map<std::string, engine::Account, std::less<>> accounts_;
    std::int64_t first_account_seq_ = 0;  // 0: the desk has no accounts
    std::int64_t first_v2_seq_ = 0, last_v1_seq_ = 0;
    std::vector<KeyRotation> rotations_;                   // well-formed ones, in seq order
    std::vector<std::pair<std::int64_t, bool>> switches_;  // SPEC §13: (seq, on), in log order
    std::map<std::string, std::vector<std::pair<std::int64_t, engine::Account>>, std::less<>>
        timeline_;
    struct Approval {
        LogEntry entry;
        std::string phone, email, acked;  // acked: ",REF,REF,"
    };
    std::vector<Approval> approvals_;
    std::multimap<std::string, std::pair<std::int64_t, std::string>> rejected_by_phone_,
        rejected_by_email_;
};

}  // namespace

ExpectedHead parse_expected_head(const std::string& text) {
    auto result = rules::parse_expect_head(text);
    if (auto* bad = std::get_if<rules::FieldError>(&result))
        throw Error::about(ErrorKind::invalid_input, "expect_head", bad->reason);
    const auto& head = std::get<rules::LogHead>(result);
    return ExpectedHead{head.seq, head.hash};
}

VerifyReport verify(engine::Store& store, const VerifyOptions& options,
                    const std::function<void(const std::string&)>& on_problem) {
    return Verifier(store, options, on_problem).run();
}

}  // namespace tfadesk::desk
