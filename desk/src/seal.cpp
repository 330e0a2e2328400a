#include "tfadesk/desk/seal.hpp"

#include <memory>

#include "tfadesk/engine/error.hpp"

#include "tfadesk/desk/note.hpp"

namespace tfadesk::desk {

void seal_with_key(engine::Store& store, const std::string& key_path) {
    auto key = std::make_shared<SigningKey>(load_key(key_path));
    engine::Store* s = &store;
    store.set_sealer([key, s](const engine::Head& before, const engine::Head& head) {
        // A seal vouches for everything before it. Once a desk is sealed, entries written since
        // the last seal without the key (by someone who could write the database but holds no
        // key) must not be laundered by the next sealed write: refuse it, naming the gap.
        if (const auto last = s->last_seal(); last && last->seq < before.seq)
            throw engine::Error(engine::ErrorKind::integrity,
                                "entries seq " + std::to_string(last->seq + 1) + " to " + std::to_string(before.seq) +
                                    " were written after the last seal without the desk key; refusing to seal over "
                                    "them (run verify --verifier-key and have them reviewed)");
        return sign_checkpoint(*key, head.seq, head.hash);
    });
}

void refuse_unsealed_writes(engine::Store& store) {
    engine::Store* s = &store;
    store.set_sealer([s](const engine::Head&, const engine::Head&) -> std::optional<std::string> {
        if (const auto last = s->last_seal())
            throw engine::Error(engine::ErrorKind::forbidden,
                                "this desk is sealed (its last seal is at seq " + std::to_string(last->seq) +
                                    "): a write needs the desk key, and nothing was written");
        return std::nullopt;
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
