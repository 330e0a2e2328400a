// Signed notes and checkpoints: the cryptographic half of SPEC §8 "Sealed log and checkpoints".
// Pure functions over bytes - no database, no clock; only the key-file functions touch the file
// system. The formats are those of C2SP signed-note and tlog-checkpoint (Ed25519, algorithm byte
// 0x01), compatible with golang.org/x/mod/sumdb/note; docs/seals.md gives them with an example.
//
//   verifier key  NAME+KEYID+BASE64(0x01 || 32-byte public key)
//   secret key    PRIVATE+KEY+NAME+KEYID+BASE64(0x01 || 32-byte Ed25519 seed)   (the key file)
//   KEYID         first 4 bytes of SHA-256(NAME || 0x0A || 0x01 || public key), 8 lowercase hex
//   checkpoint    "tfadesk-chain/NAME\n" SEQ "\n" BASE64(head hash) "\n"          (the body)
//                 "\n"
//                 "— NAME " BASE64(KEYID[4, big-endian] || Ed25519 signature[64] over the body)
//                 "\n"
//
// Invariants: every text this file produces is accepted by its parser and verifies; the parsers
// accept exactly one spelling of each value (canonical base64 with padding, lowercase hex key
// ids, decimal seq without leading zeros), so two different texts never mean the same seal.
// Errors are engine::Error: invalid_input (exit 2) for anything malformed - a bad key, a bad
// note, a bad file - and unexpected (exit 1) for I/O failures and a broken libsodium. A note
// that is well formed but whose signature does not verify is NOT an error: verify_* return
// false, and the caller turns that into exit 6. No error message ever holds secret key bytes.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tfadesk::desk {

using PublicKey = std::array<unsigned char, 32>;

// The first line of every checkpoint is this prefix followed by the key's name.
inline constexpr std::string_view kCheckpointOriginPrefix = "tfadesk-chain/";

// A public key as the auditor holds it. Built only by parse_verifier_key / load_verifier_key /
// SigningKey::verifier(), so key_id always matches name and public_key.
struct VerifierKey {
    std::string name;
    std::uint32_t key_id = 0;
    PublicKey public_key{};
};

// An Ed25519 key pair with its name. The secret half stays inside: it can sign and be written to
// a key file, never printed. The destructor wipes it (sodium_memzero).
class SigningKey {
public:
    SigningKey(std::string name, const std::array<unsigned char, 32>& seed);  // derives the pair
    SigningKey(const SigningKey& other);
    SigningKey& operator=(const SigningKey& other);
    ~SigningKey();

    const std::string& name() const { return name_; }
    std::uint32_t key_id() const { return key_id_; }
    const PublicKey& public_key() const { return public_key_; }
    VerifierKey verifier() const { return {name_, key_id_, public_key_}; }

    // The Ed25519 signature (64 bytes) over `message`.
    std::array<unsigned char, 64> sign(std::string_view message) const;
    // The key file's text: "PRIVATE+KEY+NAME+KEYID+BASE64(0x01 || seed)\n". Secret: callers write
    // it to a 0600 file and wipe their copy; never log it.
    std::string secret_text() const;

private:
    std::string name_;
    std::uint32_t key_id_ = 0;
    PublicKey public_key_{};
    std::array<unsigned char, 64> secret_key_{};  // libsodium layout: seed || public key
};

// ---- keys --------------------------------------------------------------------------------------

// True when NAME is 1-64 characters of A-Z a-z 0-9 . _ - / (SPEC §8).
bool is_valid_key_name(std::string_view name);

// SHA-256(name || 0x0A || 0x01 || public_key), first 4 bytes read big-endian.
std::uint32_t compute_key_id(std::string_view name, const PublicKey& public_key);

// A fresh random key pair (crypto_sign_keypair). Throws invalid_input for a bad NAME.
SigningKey generate_key(const std::string& name);

// "NAME+KEYID+BASE64(0x01 || public key)", no newline.
std::string verifier_key(const SigningKey& key);
std::string verifier_key(const VerifierKey& key);

// Parses the verifier-key text. One trailing "\n" is accepted (a key read from a file); anything
// else is exact: three '+'-separated fields, a valid NAME, 8 lowercase hex digits, canonical
// standard base64 of 33 bytes whose first byte is 0x01, and a key id that matches NAME and the
// key. Throws invalid_input saying which part is wrong (a secret key given by mistake is named
// as such, and never echoed).
VerifierKey parse_verifier_key(std::string_view text);

// The --verifier-key flag's value: the key text itself, or else the path of a file holding it
// (at most 4 KiB). Text that parses as a verifier key is taken as the key, whatever files exist.
// Throws invalid_input when it is neither (naming the path, never printing the file's contents).
VerifierKey load_verifier_key(std::string_view text_or_path);

// Parses the secret-key text written by SigningKey::secret_text() (one trailing "\n" accepted);
// the key id must match the public key derived from the seed. Throws invalid_input naming
// `source` (e.g. the file's path) but never any key bytes.
SigningKey parse_signing_key(std::string_view text, const std::string& source = "secret key");

// Writes key.secret_text() to a NEW file at path with mode 0600: open(O_CREAT|O_EXCL|O_NOFOLLOW),
// so it never replaces an existing file and never writes through a symbolic link (both
// invalid_input, nothing changed); fsyncs the file and its folder. On a failed write the file it
// created is removed and the error is unexpected.
void write_key_file(const std::string& path, const SigningKey& key);

// Reads a key file written by write_key_file. It must be a regular file (symbolic links to one
// are followed: secret mounts are often links) of at most 4 KiB. A file that group or others may
// read or write is used, with a spdlog warning naming the path and the fix (chmod 600). Missing,
// unreadable or malformed: invalid_input naming the path.
SigningKey load_key(const std::string& path);

// ---- signed notes (C2SP signed-note) -----------------------------------------------------------

struct NoteSignature {
    std::string name;
    std::uint32_t key_id = 0;
    std::vector<unsigned char> signature;  // the bytes after the key id
};

struct SignedNote {
    std::string text;  // the signed body, with its final newline, without the blank line
    std::vector<NoteSignature> signatures;  // in the note's order, 1 to kMaxNoteSignatures
};

inline constexpr std::size_t kMaxNoteSignatures = 100;

// text + "\n" + "— NAME BASE64(KEYID || Ed25519 signature over text)\n". Throws invalid_input
// for a text that does not end in "\n", is not UTF-8 or holds a control character other than
// newline (what parse_note would refuse).
std::string sign_note(const SigningKey& key, std::string_view text);

// Splits a signed note into its text and signature lines, checking the generic format: valid
// UTF-8, no control character but newline, text ended by the LAST blank line, then 1 to
// kMaxNoteSignatures lines "— NAME BASE64\n" with NAME non-empty and free of spaces and '+',
// and BASE64 canonical, holding at least 5 bytes. Throws invalid_input otherwise.
SignedNote parse_note(std::string_view note);

// True when at least one signature line names this key (name AND key id) and every such line
// holds a valid Ed25519 signature over note.text. Lines of other keys are ignored (C2SP allows a
// note several signers).
bool verify_note(const VerifierKey& key, const SignedNote& note);

// ---- checkpoints (C2SP tlog-checkpoint layout, SPEC §8) -----------------------------------------

struct Checkpoint {
    std::string origin;    // "tfadesk-chain/NAME"
    std::int64_t seq = 0;  // the head's global seq
    std::string hash_hex;  // the head's hash, 64 lowercase hex digits
};

// The signed note for the log's head at seq (>= 0) with hash head_hash_hex (64 hex digits,
// either case): body "tfadesk-chain/NAME\nSEQ\nBASE64(hash)\n", a blank line, one signature line.
// Throws invalid_input for a negative seq or a hash that is not 64 hex digits.
std::string sign_checkpoint(const SigningKey& key, std::int64_t seq,
                            std::string_view head_hash_hex);

// Parses a checkpoint without checking any signature: parse_note, then a body of exactly three
// lines - "tfadesk-chain/" + a valid NAME, a seq in canonical decimal (no sign, no leading
// zero, fits int64), and the canonical 44-char base64 of 32 bytes. Throws invalid_input
// otherwise (exit 2).
Checkpoint parse_checkpoint(std::string_view note);

// parse_checkpoint (so a malformed note throws invalid_input), then true only when the origin
// is "tfadesk-chain/" + key.name and verify_note accepts the note for key. A well-formed note
// that fails either test returns false: the caller reports an integrity failure (exit 6).
bool verify_checkpoint(const VerifierKey& key, std::string_view note);

}  // namespace tfadesk::desk
