// Signed notes, checkpoints and key files (SPEC §8): see note.hpp for the formats and the rules.
// libsodium does the cryptography (Ed25519, SHA-256) and the base64; every decoder here is
// canonical - it re-encodes what it decoded and requires the same text back.
#include "tfadesk/desk/note.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "tfadesk/engine/error.hpp"

namespace tfadesk::desk {
namespace {

using engine::Error;
using engine::ErrorKind;
using Bytes = std::vector<unsigned char>;

constexpr std::string_view kSecretPrefix = "PRIVATE+KEY+";
constexpr std::string_view kSignaturePrefix = "\xE2\x80\x94 ";  // U+2014 EM DASH, then a space
constexpr unsigned char kAlgEd25519 = 0x01;
constexpr std::size_t kMaxKeyFileBytes = 4096;

void require_sodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw Error(ErrorKind::unexpected, "libsodium failed to initialise");
}

[[noreturn]] void invalid(const std::string& what) { throw Error(ErrorKind::invalid_input, what); }

// A path or flag value for an error message: quoted, control characters as \xNN, so a crafted
// name cannot forge a line on the terminal (SPEC §4).
std::string shown(std::string_view s) {
    std::string out = "'";
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            static const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xF];
        } else {
            out += c;
        }
    }
    return out + "'";
}

// Wipes a string that held secret text.
void wipe(std::string& s) {
    if (!s.empty()) sodium_memzero(s.data(), s.size());
    s.clear();
}

std::string base64(const unsigned char* data, std::size_t size) {
    std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();  // the terminating NUL
    return out;
}

// Standard base64 with padding, in its one canonical spelling; nothing for anything else.
std::optional<Bytes> unbase64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) return std::nullopt;
    Bytes out(text.size() / 4 * 3);
    std::size_t size = 0;
    if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &size, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return std::nullopt;
    out.resize(size);
    std::string again = base64(out.data(), out.size());
    if (again != text) return std::nullopt;
    return out;
}

std::string hex8(std::uint32_t v) {
    static const char* hex = "0123456789abcdef";
    std::string out(8, '0');
    for (int i = 7; i >= 0; --i, v >>= 4) out[static_cast<std::size_t>(i)] = hex[v & 0xF];
    return out;
}

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Exactly 8 lowercase hex digits (the spelling every key id is printed in).
std::optional<std::uint32_t> parse_key_id(std::string_view s) {
    if (s.size() != 8) return std::nullopt;
    std::uint32_t v = 0;
    for (const char c : s) {
        const int d = hex_digit(c);
        if (d < 0 || (c >= 'A' && c <= 'F')) return std::nullopt;
        v = (v << 4) | static_cast<std::uint32_t>(d);
    }
    return v;
}

void put_be32(std::uint32_t v, unsigned char* out) {
    for (int i = 3; i >= 0; --i, v >>= 8) out[i] = static_cast<unsigned char>(v & 0xFF);
}

std::uint32_t get_be32(const unsigned char* in) {
    return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) |
           (std::uint32_t{in[2]} << 8) | std::uint32_t{in[3]};
}

// The next UTF-8 code point at s[i] (advancing i), or -1 for an invalid sequence: overlong
// forms, surrogates and values above U+10FFFF are invalid.
long next_code_point(std::string_view s, std::size_t& i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
        ++i;
        return b0;
    }
    int len = 0;
    long cp = 0, min = 0;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2, cp = b0 & 0x1F, min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3, cp = b0 & 0x0F, min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4, cp = b0 & 0x07, min = 0x10000;
    } else {
        return -1;
    }
    if (i + static_cast<std::size_t>(len) > s.size()) return -1;
    for (int k = 1; k < len; ++k) {
        const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
        if ((b & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    i += static_cast<std::size_t>(len);
    return cp;
}

// The Unicode White_Space code points (Go's unicode.IsSpace, which the signed-note spec means).
bool is_unicode_space(long cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
           (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
           cp == 0x205F || cp == 0x3000;
}

// Why s is not note text (valid UTF-8, no control character but newline), or nothing.
std::optional<std::string> bad_note_text(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const std::size_t at = i;
        const long cp = next_code_point(s, i);
        if (cp < 0) return "invalid UTF-8 at byte " + std::to_string(at);
        if ((cp < 0x20 && cp != '\n') || cp == 0x7F)
            return "control character at byte " + std::to_string(at);
    }
    return std::nullopt;
}

// A signer's name as the generic signed-note format allows it: non-empty, no Unicode space, no '+'.
bool is_note_name(std::string_view name) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size();) {
        const long cp = next_code_point(name, i);
        if (cp < 0 || cp == '+' || is_unicode_space(cp)) return false;
    }
    return true;
}

std::string_view strip_one_newline(std::string_view s) {
    if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
    return s;
}

// s split at its first two '+' into NAME, KEYID and the rest (fewer fields when s has fewer
// '+'). The rest is base64, whose alphabet holds '+', so it is never split further.
std::vector<std::string_view> plus_fields(std::string_view s) {
    std::vector<std::string_view> out;
    while (out.size() < 2) {
        const std::size_t plus = s.find('+');
        if (plus == std::string_view::npos) break;
        out.push_back(s.substr(0, plus));
        s.remove_prefix(plus + 1);
    }
    out.push_back(s);
    return out;
}

// The verifier key in text, or the reason it is not one.
std::optional<VerifierKey> try_parse_verifier_key(std::string_view text, std::string& why) {
    const auto fail = [&why](std::string reason) {
        why = std::move(reason);
        return std::nullopt;
    };
    text = strip_one_newline(text);
    if (text.substr(0, kSecretPrefix.size()) == kSecretPrefix)
        return fail(
            "this is a SECRET key (PRIVATE+KEY+...), not a verifier key: give the line "
            "'tfadesk key generate' printed, and keep the secret key to the desk");
    const auto fields = plus_fields(text);
    if (fields.size() != 3) return fail("expected NAME+KEYID+BASE64 (three fields)");
    if (!is_valid_key_name(fields[0])) return fail("bad NAME (1-64 of A-Z a-z 0-9 . _ - /)");
    const auto id = parse_key_id(fields[1]);
    if (!id) return fail("KEYID is not 8 lowercase hex digits");
    const auto raw = unbase64(fields[2]);
    if (!raw) return fail("the key is not canonical standard base64");
    if (raw->size() != 1 + PublicKey().size())
        return fail("the key is " + std::to_string(raw->size()) + " bytes, not 33");
    if ((*raw)[0] != kAlgEd25519)
        return fail("unknown key algorithm (the first byte must be 0x01, Ed25519)");
    VerifierKey key{std::string(fields[0]), *id, {}};
    std::copy(raw->begin() + 1, raw->end(), key.public_key.begin());
    if (compute_key_id(key.name, key.public_key) != key.key_id)
        return fail("KEYID does not match NAME and the key");
    return key;
}

struct SmallFile {
    std::string text;
    mode_t mode = 0;
};

// The contents of a small regular file (following symbolic links), or invalid_input naming
// `what` and the path. A FIFO or device is refused before anything is read from it.
SmallFile read_small_file(const std::string& path, const std::string& what) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) invalid("cannot open " + what + " " + shown(path) + ": " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        invalid(what + " " + shown(path) + " is not a regular file");
    }
    if (static_cast<std::uintmax_t>(st.st_size) > kMaxKeyFileBytes) {
        ::close(fd);
        invalid(what + " " + shown(path) + " is too large (" + std::to_string(st.st_size) +
                " bytes) to hold a key");
    }
    SmallFile file{std::string(kMaxKeyFileBytes + 1, '\0'), st.st_mode};
    std::size_t size = 0;
    while (size < file.text.size()) {
        const ssize_t n = ::read(fd, file.text.data() + size, file.text.size() - size);
        if (n == 0) break;
        if (n > 0) {
            size += static_cast<std::size_t>(n);
        } else if (errno != EINTR) {
            const int e = errno;
            ::close(fd);
            wipe(file.text);
            throw Error(ErrorKind::unexpected,
                        "cannot read " + what + " " + shown(path) + ": " + std::strerror(e));
        }
    }
    ::close(fd);
    file.text.resize(size);
    return file;
}

// Best effort: makes a new directory entry durable. Some file systems refuse fsync on a folder.
void sync_parent_folder(const std::string& path) {
    std::string dir = std::filesystem::path(path).parent_path().string();
    if (dir.empty()) dir = ".";
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return;
    (void)::fsync(fd);
    ::close(fd);
}

// The checkpoint in a note's text, or the reason the text is not one (SPEC §8 layout).
std::optional<Checkpoint> try_parse_body(std::string_view text, std::string& why) {
    const auto fail = [&why](std::string reason) {
        why = std::move(reason);
        return std::nullopt;
    };
    std::vector<std::string_view> lines;
    for (std::size_t start = 0; start < text.size();) {
        const std::size_t nl = text.find('\n', start);  // text ends in '\n' (parse_note)
        lines.push_back(text.substr(start, nl - start));
        start = nl + 1;
    }
    if (lines.size() != 3)
        return fail("the body must be exactly three lines (origin, seq, hash), not " +
                    std::to_string(lines.size()));
    const std::string_view origin = lines[0], seq = lines[1], hash = lines[2];
    if (origin.substr(0, kCheckpointOriginPrefix.size()) != kCheckpointOriginPrefix ||
        !is_valid_key_name(origin.substr(kCheckpointOriginPrefix.size())))
        return fail("the origin line must be 'tfadesk-chain/NAME'");
    const bool canonical = !seq.empty() && seq.size() <= 19 && (seq == "0" || seq[0] != '0') &&
                           seq.find_first_not_of("0123456789") == std::string_view::npos;
    std::uint64_t value = 0;  // 19 decimal digits always fit in 64 unsigned bits
    if (canonical)
        for (const char c : seq) value = value * 10 + static_cast<std::uint64_t>(c - '0');
    if (!canonical || value > static_cast<std::uint64_t>(INT64_MAX))
        return fail("the seq line is not a decimal number (0 to 2^63-1, no sign, no leading zero)");
    const auto raw = hash.size() == 44 ? unbase64(hash) : std::nullopt;
    if (!raw || raw->size() != 32)
        return fail("the hash line is not the 44-character base64 of 32 bytes");
    static const char* hex = "0123456789abcdef";
    Checkpoint c{std::string(origin), static_cast<std::int64_t>(value), {}};
    for (const unsigned char b : *raw) (c.hash_hex += hex[b >> 4]) += hex[b & 0xF];
    return c;
}

Checkpoint parse_body(std::string_view text) {
    std::string why;
    auto c = try_parse_body(text, why);
    if (!c) invalid("malformed checkpoint: " + why);
    return *c;
}

}  // namespace

// ---- SigningKey --------------------------------------------------------------------------------

SigningKey::SigningKey(std::string name, const std::array<unsigned char, 32>& seed)
    : name_(std::move(name)) {
    require_sodium();
    if (!is_valid_key_name(name_)) invalid("bad key name (1-64 of A-Z a-z 0-9 . _ - /)");
    if (crypto_sign_seed_keypair(public_key_.data(), secret_key_.data(), seed.data()) != 0)
        throw Error(ErrorKind::unexpected, "libsodium could not derive an Ed25519 key pair");
    key_id_ = compute_key_id(name_, public_key_);
}

SigningKey::SigningKey(const SigningKey& other) = default;
SigningKey& SigningKey::operator=(const SigningKey& other) = default;
SigningKey::~SigningKey() { sodium_memzero(secret_key_.data(), secret_key_.size()); }

std::array<unsigned char, 64> SigningKey::sign(std::string_view message) const {
    std::array<unsigned char, 64> sig{};
    crypto_sign_detached(sig.data(), nullptr,
                         reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                         secret_key_.data());
    return sig;
}

std::string SigningKey::secret_text() const {
    std::array<unsigned char, 33> raw{};
    raw[0] = kAlgEd25519;
    std::copy(secret_key_.begin(), secret_key_.begin() + 32, raw.begin() + 1);  // the seed
    std::string b64 = base64(raw.data(), raw.size());
    sodium_memzero(raw.data(), raw.size());
    std::string text = std::string(kSecretPrefix) + name_ + "+" + hex8(key_id_) + "+" + b64 + "\n";
    wipe(b64);
    return text;
}

// ---- keys --------------------------------------------------------------------------------------

bool is_valid_key_name(std::string_view name) {
    if (name.empty() || name.size() > 64) return false;
    for (const char c : name) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                        (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' || c == '/';
        if (!ok) return false;
    }
    return true;
}

std::uint32_t compute_key_id(std::string_view name, const PublicKey& public_key) {
    require_sodium();
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(name.data()),
                              name.size());
    const unsigned char sep[2] = {'\n', kAlgEd25519};
    crypto_hash_sha256_update(&st, sep, sizeof sep);
    crypto_hash_sha256_update(&st, public_key.data(), public_key.size());
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&st, digest);
    return get_be32(digest);
}

SigningKey generate_key(const std::string& name) {
    require_sodium();
    if (!is_valid_key_name(name))
        invalid("bad key name " + shown(name) + ": 1-64 of A-Z a-z 0-9 . _ - /");
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    std::array<unsigned char, 32> seed{};
    crypto_sign_keypair(pk, sk);
    crypto_sign_ed25519_sk_to_seed(seed.data(), sk);
    sodium_memzero(sk, sizeof sk);
    SigningKey key(name, seed);
    sodium_memzero(seed.data(), seed.size());
    return key;
}

std::string verifier_key(const VerifierKey& key) {
    std::array<unsigned char, 33> raw{};
    raw[0] = kAlgEd25519;
    std::copy(key.public_key.begin(), key.public_key.end(), raw.begin() + 1);
    return key.name + "+" + hex8(key.key_id) + "+" + base64(raw.data(), raw.size());
}

std::string verifier_key(const SigningKey& key) { return verifier_key(key.verifier()); }

VerifierKey parse_verifier_key(std::string_view text) {
    std::string why;
    auto key = try_parse_verifier_key(text, why);
    if (!key) invalid("malformed verifier key: " + why);
    return *key;
}

VerifierKey load_verifier_key(std::string_view text_or_path) {
    std::string why;
    if (auto key = try_parse_verifier_key(text_or_path, why)) return *key;
    if (text_or_path.substr(0, kSecretPrefix.size()) == kSecretPrefix)
        invalid("malformed verifier key: " + why);  // never echo a secret key
    const std::string path(text_or_path);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)  // only to word the error: read_small_file decides
        invalid("the verifier key " + shown(path.substr(0, 120)) +
                " is neither NAME+KEYID+BASE64 (" + why + ") nor the path of a file");
    SmallFile file = read_small_file(path, "verifier key file");
    auto key = try_parse_verifier_key(file.text, why);
    wipe(file.text);  // it might hold a secret key given by mistake
    if (!key) invalid("verifier key file " + shown(path) + " is malformed: " + why);
    return *key;
}

SigningKey parse_signing_key(std::string_view text, const std::string& source) {
    const std::string bad = source + " is not a tfadesk secret key: ";
    text = strip_one_newline(text);
    if (text.substr(0, kSecretPrefix.size()) != kSecretPrefix)
        invalid(bad + "it does not start with PRIVATE+KEY+ (a verifier key is not a secret key)");
    const auto fields = plus_fields(text.substr(kSecretPrefix.size()));
    if (fields.size() != 3) invalid(bad + "expected PRIVATE+KEY+NAME+KEYID+BASE64");
    if (!is_valid_key_name(fields[0])) invalid(bad + "bad NAME (1-64 of A-Z a-z 0-9 . _ - /)");
    const auto id = parse_key_id(fields[1]);
    if (!id) invalid(bad + "KEYID is not 8 lowercase hex digits");
    auto raw = unbase64(fields[2]);
    const bool shape = raw && raw->size() == 33 && (*raw)[0] == kAlgEd25519;
    std::array<unsigned char, 32> seed{};
    if (shape) std::copy(raw->begin() + 1, raw->end(), seed.begin());
    if (raw) sodium_memzero(raw->data(), raw->size());
    if (!shape) invalid(bad + "the key is not base64 of 0x01 and a 32-byte Ed25519 seed");
    SigningKey key{std::string(fields[0]), seed};
    sodium_memzero(seed.data(), seed.size());
    if (key.key_id() != *id) invalid(bad + "KEYID does not match the key");
    return key;
}

void write_key_file(const std::string& path, const SigningKey& key) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EEXIST || errno == ELOOP))
        invalid("key file " + shown(path) +
                " already exists (or is a symbolic link); refusing to overwrite it - choose a new "
                "path");
    if (fd < 0) invalid("cannot create key file " + shown(path) + ": " + std::strerror(errno));
    std::string text = key.secret_text();
    int error = ::fchmod(fd, 0600) == 0 ? 0 : errno;  // exactly 0600, whatever the umask
    for (std::size_t done = 0; error == 0 && done < text.size();) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n > 0)
            done += static_cast<std::size_t>(n);
        else if (n == 0)
            error = EIO;
        else if (errno != EINTR)
            error = errno;
    }
    wipe(text);
    if (error == 0 && ::fsync(fd) != 0) error = errno;
    if (::close(fd) != 0 && error == 0) error = errno;
    if (error != 0) {
        ::unlink(path.c_str());  // ours: O_EXCL created it
        throw Error(ErrorKind::unexpected,
                    "cannot write key file " + shown(path) + ": " + std::strerror(error));
    }
    sync_parent_folder(path);
}

SigningKey load_key(const std::string& path) {
    SmallFile file = read_small_file(path, "key file");
    if ((file.mode & 077) != 0)
        spdlog::warn(
            "key file {} may be read or written by group or others (mode {:04o}); "
            "run 'chmod 600' on it",
            shown(path), static_cast<unsigned>(file.mode & 07777));
    try {
        SigningKey key = parse_signing_key(file.text, "key file " + shown(path));
        wipe(file.text);
        return key;
    } catch (...) {
        wipe(file.text);
        throw;
    }
}

// ---- signed notes ------------------------------------------------------------------------------

std::string sign_note(const SigningKey& key, std::string_view text) {
    if (text.empty() || text.back() != '\n') invalid("a note's text must end in a newline");
    if (auto why = bad_note_text(text)) invalid("a note's text cannot hold this: " + *why);
    std::array<unsigned char, 68> blob{};
    put_be32(key.key_id(), blob.data());
    const auto sig = key.sign(text);
    std::copy(sig.begin(), sig.end(), blob.begin() + 4);
    return std::string(text) + "\n" + std::string(kSignaturePrefix) + key.name() + " " +
           base64(blob.data(), blob.size()) + "\n";
}

SignedNote parse_note(std::string_view note) {
    const std::string bad = "malformed note: ";
    if (auto why = bad_note_text(note)) invalid(bad + *why);
    const std::size_t split = note.rfind("\n\n");
    if (split == std::string_view::npos) invalid(bad + "no blank line before the signatures");
    SignedNote out{std::string(note.substr(0, split + 1)), {}};
    std::string_view sigs = note.substr(split + 2);
    if (sigs.empty()) invalid(bad + "no signature line after the blank line");
    if (sigs.back() != '\n') invalid(bad + "the last signature line does not end in a newline");
    while (!sigs.empty()) {
        const std::size_t nl = sigs.find('\n');
        std::string_view line = sigs.substr(0, nl);
        sigs.remove_prefix(nl + 1);
        if (out.signatures.size() == kMaxNoteSignatures)
            invalid(bad + "more than " + std::to_string(kMaxNoteSignatures) + " signatures");
        if (line.substr(0, kSignaturePrefix.size()) != kSignaturePrefix)
            invalid(bad + "a signature line must start with an em dash (U+2014) and a space");
        line.remove_prefix(kSignaturePrefix.size());
        const std::size_t space = line.find(' ');
        const std::string_view name = line.substr(0, space);
        if (space == std::string_view::npos || !is_note_name(name))
            invalid(bad +
                    "a signature line must be '— NAME BASE64' with a NAME free of spaces and '+'");
        const auto raw = unbase64(line.substr(space + 1));
        if (!raw || raw->size() < 5)
            invalid(bad + "a signature is not canonical base64 of a key id and bytes");
        out.signatures.push_back(
            {std::string(name), get_be32(raw->data()), Bytes(raw->begin() + 4, raw->end())});
    }
    return out;
}

bool verify_note(const VerifierKey& key, const SignedNote& note) {
    require_sodium();
    bool matched = false;
    for (const auto& s : note.signatures) {
        if (s.name != key.name || s.key_id != key.key_id) continue;  // another signer's line
        matched = true;
        if (s.signature.size() != crypto_sign_BYTES ||
            crypto_sign_verify_detached(s.signature.data(),
                                        reinterpret_cast<const unsigned char*>(note.text.data()),
                                        note.text.size(), key.public_key.data()) != 0)
            return false;  // C2SP: a known key's failed signature rejects the whole note
    }
    return matched;
}

// ---- checkpoints -------------------------------------------------------------------------------

std::string sign_checkpoint(const SigningKey& key, std::int64_t seq,
                            std::string_view head_hash_hex) {
    if (seq < 0) invalid("a checkpoint's seq cannot be negative (" + std::to_string(seq) + ")");
    std::array<unsigned char, 32> hash{};
    bool ok = head_hash_hex.size() == 64;
    for (std::size_t i = 0; ok && i < hash.size(); ++i) {
        const int hi = hex_digit(head_hash_hex[2 * i]), lo = hex_digit(head_hash_hex[2 * i + 1]);
        ok = hi >= 0 && lo >= 0;
        hash[i] = static_cast<unsigned char>(ok ? hi * 16 + lo : 0);
    }
    if (!ok) invalid("a checkpoint's head hash must be 64 hex digits");
    const std::string body = std::string(kCheckpointOriginPrefix) + key.name() + "\n" +
                             std::to_string(seq) + "\n" + base64(hash.data(), hash.size()) + "\n";
    return sign_note(key, body);
}

Checkpoint parse_checkpoint(std::string_view note) { return parse_body(parse_note(note).text); }

bool verify_checkpoint(const VerifierKey& key, std::string_view note) {
    const SignedNote parsed = parse_note(note);
    const Checkpoint c = parse_body(parsed.text);
    if (c.origin != std::string(kCheckpointOriginPrefix) + key.name) return false;
    return verify_note(key, parsed);
}

}  // namespace tfadesk::desk
