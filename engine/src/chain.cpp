// SHA-256 through Nettle, which picks the CPU's SHA extensions at run time (about 5x libsodium's
// portable code here, and no start-up cost).
#include "tfadesk/engine/chain.hpp"

#include <nettle/sha2.h>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/json_text.hpp"

namespace tfadesk::engine {

std::string to_hex(const unsigned char* bytes, std::size_t n) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out(2 * n, '0');
    for (std::size_t i = 0; i < n; ++i) {
        out[2 * i] = kHex[bytes[i] >> 4];
        out[2 * i + 1] = kHex[bytes[i] & 0xF];
    }
    return out;
}

void sha256(std::string_view data, unsigned char out[32]) {
    sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, data.size(), reinterpret_cast<const std::uint8_t*>(data.data()));
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, out);
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[SHA256_DIGEST_SIZE];
    sha256(data, digest);
    return to_hex(digest, sizeof digest);
}

namespace {

// Appends the canonical form of `e` to `s`.
void append_canonical(std::string& s, const LogEntry& e) {
    s.reserve(s.size() + e.details.size() + e.ref.size() + e.agent.size() + 128);
    s += '[';
    s += std::to_string(e.seq);
    s += ',';
    append_json_string(s, e.ref);
    s += ',';
    s += std::to_string(e.tseq);
    s += ',';
    append_json_string(s, e.event);
    s += ',';
    append_json_string(s, e.agent);
    s += ',';
    append_json_string(s, e.at);
    s += ',';
    append_json_string(s, e.state);
    s += ',';
    s += std::to_string(e.policy_version);
    s += ',';
    s += e.details;
    s += ']';
}

}  // namespace

std::string canonical(const LogEntry& e) {
    std::string s;
    append_canonical(s, e);
    return s;
}

std::string entry_hash(const LogEntry& e) {
    // One buffer per thread, reused: this runs for every entry written or verified.
    thread_local std::string content;
    content.clear();
    append_canonical(content, e);
    sha256_ctx ctx;
    sha256_init(&ctx);
    sha256_update(&ctx, e.prev_hash.size(),
                  reinterpret_cast<const std::uint8_t*>(e.prev_hash.data()));
    sha256_update(&ctx, content.size(), reinterpret_cast<const std::uint8_t*>(content.data()));
    unsigned char digest[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
    return to_hex(digest, sizeof digest);
}

void check_follows(std::int64_t head_seq, const std::string& head_hash, const LogEntry& e) {
    const std::string name =
        "entry seq " + std::to_string(e.seq) + " (" + e.ref + " #" + std::to_string(e.tseq) + ")";
    if (e.seq != head_seq + 1)
        throw Error(ErrorKind::integrity, name + ": expected seq " + std::to_string(head_seq + 1) +
                                              " after seq " + std::to_string(head_seq) +
                                              " (a gap or a reordering)");
    if (e.prev_hash != head_hash)
        throw Error(ErrorKind::integrity,
                    name + ": prev_hash does not match the hash of " +
                        (head_seq == 0 ? std::string("the genesis")
                                       : "entry seq " + std::to_string(head_seq)));
    if (entry_hash(e) != e.hash)
        throw Error(ErrorKind::integrity, name + ": hash does not match its content");
}

}  // namespace tfadesk::engine
