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

namespace {

bool same_key(const VerifierKey& a, const VerifierKey& b) {
    return a.name == b.name && a.key_id == b.key_id && a.public_key == b.public_key;
}

// Appends the desk's own entry (SPEC §12) under `key`, by `by`, inside the caller's transaction.
engine::LogEntry append_desk_entry(engine::Store& store, std::string_view key, const char* event,
                                   nlohmann::json details, const Actor& by, const char* state) {
    engine::LogEntry e;
    e.ref = std::string(key);
    e.tseq = static_cast<std::int64_t>(store.entries(key).size()) + 1;
    e.event = event;
    if (!by.token_id.empty()) details[std::string(engine::kByTokenKey)] = by.token_id;
    e.details = details.dump();
    e.agent = by.name;
    e.at = now_utc();
    e.state = state;
    e.policy_version = rules::kPolicyVersion;
    store.append_desk_entry(e);
    return e;
}

}  // namespace

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
                    "them (" +
                    engine::action("verify_with_key", "verify them with the verifier key") +
                    ", have them reviewed, and an admin may adopt them " +
                    engine::action("adopt", "by an adoption") + ")");
        // After a rotation only the key it names seals (the rotation's own transaction, whose
        // entry is past `before`, is still sealed by the key it retires).
        refuse_retired_key(*s, key->verifier(), before.seq);
        return sign_checkpoint(*key, head.seq, head.hash);
    });
}

void refuse_retired_key(engine::Store& store, const VerifierKey& key, std::int64_t up_to_seq) {
    const auto rotations = key_rotations(store);
    for (auto r = rotations.rbegin(); r != rotations.rend(); ++r) {
        if (r->seq > up_to_seq) continue;
        if (!same_key(r->to, key))
            throw engine::Error(engine::ErrorKind::forbidden,
                                "the desk key " + verifier_key(key) +
                                    " was retired by the key rotation at seq " +
                                    std::to_string(r->seq) + " (the key in force is " +
                                    verifier_key(r->to) + "); nothing was written");
        return;
    }
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
        throw engine::Error::about(
            engine::ErrorKind::invalid_input, "note",
            "an adoption needs a note saying who reviewed the entries and why");
    if (auto bad = rules::check_note(note))
        throw engine::Error::about(engine::ErrorKind::invalid_input, "note", *bad);
    const Actor by{canonical_agent(raw_by.name), raw_by.token_id};
    seal_with_key(store, key_path, true);
    return engine::in_transaction(store, [&] {
        authorize(store, by, "admin", "adopt unsealed entries");
        const auto last = store.last_seal();
        const engine::Head head = store.head();
        if (!last)
            throw engine::Error(
                engine::ErrorKind::refused,
                "the desk holds no seal: there is nothing to adopt (" +
                    engine::action("seal_with_key", "writes with the desk key seal it") + ")",
                "seals", "unsealed");
        if (last->seq >= head.seq)
            throw engine::Error(engine::ErrorKind::refused,
                                "every entry is sealed (the last seal is at the head, seq " +
                                    std::to_string(head.seq) + ")",
                                "seals", "sealed");
        Adoption out;
        for (auto seq = last->seq + 1; seq <= head.seq; ++seq)
            if (auto e = store.entry_at(seq)) out.entries.push_back(std::move(*e));
        out.adopt = append_desk_entry(store, engine::kAdoptKey, "seal-adopt",
                                      {{"from", last->seq + 1}, {"note", note}, {"to", head.seq}},
                                      by, "adopted");
        return out;
    });
}

std::optional<KeyRotation> parse_rotation(const engine::LogEntry& e) {
    if (e.ref != kKeysKey || e.event != "key-rotate" || e.state != "rotated") return std::nullopt;
    try {
        const auto d = nlohmann::json::parse(e.details);
        if (!d.is_object() || !d.contains("from") || !d.contains("to") || !d["from"].is_string() ||
            !d["to"].is_string())
            return std::nullopt;
        return KeyRotation{e.seq, parse_verifier_key(d["from"].get<std::string>()),
                           parse_verifier_key(d["to"].get<std::string>())};
    } catch (const nlohmann::json::exception&) {
    } catch (const engine::Error&) {
    }
    return std::nullopt;
}

std::vector<KeyRotation> key_rotations(engine::Store& store) {
    std::vector<KeyRotation> out;
    for (const auto& e : store.entries(kKeysKey))
        if (auto r = parse_rotation(e)) out.push_back(std::move(*r));
    return out;
}

engine::LogEntry rotate_key(engine::Store& store, const Actor& raw_by,
                            const std::string& old_key_path, const std::string& new_key_path) {
    const VerifierKey old_key = load_key(old_key_path).verifier();
    const VerifierKey new_key = load_key(new_key_path).verifier();
    const Actor by{canonical_agent(raw_by.name), raw_by.token_id};
    seal_with_key(store, old_key_path);
    return engine::in_transaction(store, [&] {
        authorize(store, by, "admin", "rotate the desk key");
        const auto rotations = key_rotations(store);
        if (!rotations.empty() && !same_key(rotations.back().to, old_key))
            throw engine::Error(engine::ErrorKind::refused,
                                "the old key " + verifier_key(old_key) +
                                    " is not the key in force (the rotation at seq " +
                                    std::to_string(rotations.back().seq) + " put " +
                                    verifier_key(rotations.back().to) + " in force)",
                                "seals", "retired");
        if (const auto last = store.last_seal(); last && seal_problem(old_key, *last))
            throw engine::Error(engine::ErrorKind::refused,
                                "the old key " + verifier_key(old_key) +
                                    " did not make the desk's last seal (seq " +
                                    std::to_string(last->seq) + "): it is not the key in force",
                                "seals", "retired");
        if (same_key(old_key, new_key))
            throw engine::Error(engine::ErrorKind::refused,
                                "the new key is the key in force: rotate to a newly generated key",
                                "seals", "unchanged");
        for (const auto& r : rotations)
            if (same_key(r.from, new_key) || same_key(r.to, new_key))
                throw engine::Error(engine::ErrorKind::refused,
                                    "the new key " + verifier_key(new_key) +
                                        " was used by this desk before (rotation at seq " +
                                        std::to_string(r.seq) +
                                        "): rotate to a newly generated key",
                                    "seals", "reused");
        return append_desk_entry(store, kKeysKey, "key-rotate",
                                 {{"from", verifier_key(old_key)}, {"to", verifier_key(new_key)}},
                                 by, "rotated");
    });
}

std::optional<VerifierKey> KeyChain::key_at(std::int64_t seal_seq) const {
    std::size_t epoch = 0;  // rotations before the seal
    while (epoch < rotations.size() && rotations[epoch].seq < seal_seq) ++epoch;
    if (epoch < from_rotation) return std::nullopt;
    return epoch == from_rotation ? start : rotations[epoch - 1].to;
}

KeyChain key_chain(const VerifierKey& start, std::vector<KeyRotation> rotations) {
    KeyChain chain;
    chain.start = start;
    for (std::size_t i = 0; i < rotations.size(); ++i)
        if (same_key(rotations[i].to, start)) {
            chain.from_rotation = i + 1;
            break;
        }
    chain.rotations = std::move(rotations);
    return chain;
}

std::optional<std::string> seal_problem(const VerifierKey& key, const engine::Seal& seal) {
    try {
        const Checkpoint cp = parse_checkpoint(seal.note);
        if (!verify_checkpoint(key, seal.note))
            return "its signature does not verify with the verifier key";
        if (cp.seq != seal.seq || cp.hash_hex != seal.hash)
            return "its note signs seq " + std::to_string(cp.seq) + " hash " + cp.hash_hex +
                   ", not the seal's own";
    } catch (const engine::Error& e) {
        return std::string("its note is malformed: ") + e.what();
    }
    return std::nullopt;
}

}  // namespace tfadesk::desk
