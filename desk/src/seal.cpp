#include "tfadesk/desk/seal.hpp"

#include <memory>
#include <nlohmann/json.hpp>

#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/note.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/policy.hpp"

namespace tfadesk::desk {

void seal_with_key(engine::Store& store, const std::string& key_path, bool adopting) {
    auto key = std::make_shared<SigningKey>(load_key(key_path));
    engine::Store* s = &store;
    store.set_sealer([key, s, adopting](const engine::Head& before, const engine::Head& head) {
        // A seal vouches for everything before it. Once a desk is sealed, entries written since
        // the last seal without the key (by someone who could write the database but holds no
        // key) must not be laundered by the next sealed write: refuse it, naming the gap.
        if (const auto last = s->last_seal(); last && last->seq < before.seq && !adopting)
            throw engine::Error(
                engine::ErrorKind::integrity,
                "entries seq " + std::to_string(last->seq + 1) + " to " +
                    std::to_string(before.seq) +
                    " were written after the last seal without the desk key; refusing to seal over "
                    "them (run verify --verifier-key, have them reviewed, and an admin may adopt "
                    "them "
                    "with tfadesk seal --adopt)");
        return sign_checkpoint(*key, head.seq, head.hash);
    });
}

void refuse_unsealed_writes(engine::Store& store) {
    engine::Store* s = &store;
    store.set_sealer([s](const engine::Head&, const engine::Head&) -> std::optional<std::string> {
        if (const auto last = s->last_seal())
            throw engine::Error(engine::ErrorKind::forbidden,
                                "this desk is sealed (its last seal is at seq " +
                                    std::to_string(last->seq) +
                                    "): a write needs the desk key, and nothing was written");
        return std::nullopt;
    });
}

Adoption adopt_unsealed(engine::Store& store, const Actor& raw_by, const std::string& note,
                        const std::string& key_path) {
    if (note.find_first_not_of(" \t\r\n") == std::string::npos)
        throw engine::Error(
            engine::ErrorKind::invalid_input,
            "--note: an adoption needs a note saying who reviewed the entries and why");
    if (auto bad = rules::check_note(note))
        throw engine::Error(engine::ErrorKind::invalid_input, "--note: " + *bad);
    const Actor by{canonical_agent(raw_by.name), raw_by.token_id};
    seal_with_key(store, key_path, true);
    return engine::in_transaction(store, [&] {
        authorize(store, by, "admin", "adopt unsealed entries");
        const auto last = store.last_seal();
        const engine::Head head = store.head();
        if (!last)
            throw engine::Error(
                engine::ErrorKind::refused,
                "the desk holds no seal: there is nothing to adopt (seal writes with --key)",
                "seals", "unsealed");
        if (last->seq >= head.seq)
            throw engine::Error(engine::ErrorKind::refused,
                                "every entry is sealed (the last seal is at the head, seq " +
                                    std::to_string(head.seq) + ")",
                                "seals", "sealed");
        Adoption out;
        for (auto seq = last->seq + 1; seq <= head.seq; ++seq)
            if (auto e = store.entry_at(seq)) out.entries.push_back(std::move(*e));
        engine::LogEntry& e = out.adopt;
        e.ref = std::string(engine::kAdoptKey);
        e.tseq = static_cast<std::int64_t>(store.entries(engine::kAdoptKey).size()) + 1;
        e.event = "seal-adopt";
        nlohmann::json details = {{"from", last->seq + 1}, {"note", note}, {"to", head.seq}};
        if (!by.token_id.empty()) details[std::string(engine::kByTokenKey)] = by.token_id;
        e.details = details.dump();
        e.agent = by.name;
        e.at = now_utc();
        e.state = "adopted";
        e.policy_version = rules::kPolicyVersion;
        store.append_desk_entry(e);
        return out;
    });
}

std::optional<std::string> seal_problem(const VerifierKey& key, const engine::Seal& seal) {
    try {
        const Checkpoint cp = parse_checkpoint(seal.note);
        if (!verify_checkpoint(key, seal.note)) return "its signature does not verify with the verifier key";
        if (cp.seq != seal.seq || cp.hash_hex != seal.hash)
            return "its note signs seq " + std::to_string(cp.seq) + " hash " + cp.hash_hex + ", not the seal's own";
    } catch (const engine::Error& e) {
        return std::string("its note is malformed: ") + e.what();
    }
    return std::nullopt;
}

}  // namespace tfadesk::desk
