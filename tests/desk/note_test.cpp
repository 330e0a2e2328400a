// Signed notes, checkpoints and key files (desk/note.hpp, SPEC §8). Known answers come from
// outside this code: the example key and note published in golang.org/x/mod/sumdb/note's package
// documentation, and a checkpoint signed with that key by Python's `cryptography` (OpenSSL) -
// Ed25519 is deterministic, so our bytes must match theirs exactly.
#include "tfadesk/desk/note.hpp"

#include <doctest/doctest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "../support/temp_dir.hpp"
#include "../support/text.hpp"
#include "tfadesk/engine/error.hpp"

namespace {

using namespace tfadesk;
using desk::Checkpoint;
using desk::SigningKey;
using desk::VerifierKey;

// ---- known answers -----------------------------------------------------------------------------

// golang.org/x/mod/sumdb/note, package documentation ("Example").
const std::string kGoVerifierKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const std::string kGoSecretKey =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const std::string kGoSeedBase64 = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const std::string kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
const std::string kGoNote =
    kGoText + "\n" +
    "\xE2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

// The Go key signing seq 42 with head SHA-256("tfadesk seals known answer"), computed with
// Python `cryptography` 48 (Ed25519PrivateKey.sign) from the layout of SPEC §8.
const std::string kHeadHex = "2ca6425aa178a7b7704f870c4f453b3938cca6f4b1e1c03f56c51fb78578f42e";
const std::string kCheckpointBody =
    "tfadesk-chain/PeterNeumann\n"
    "42\n"
    "LKZCWqF4p7dwT4cMT0U7OTjMpvSx4cA/VsUft4V49C4=\n";
const std::string kCheckpoint =
    kCheckpointBody + "\n" +
    "\xE2\x80\x94 PeterNeumann "
    "x08go3tRu3rEaR/"
    "GoKCw5RwZgR7rKttH40eP2YKmEXFUka70JPqf50fKnLgru+3cjDeXyqk0KFQG0zQyq4Wr8uCJxgo=\n";

const std::string kDash = "\xE2\x80\x94 ";

// ---- helpers -----------------------------------------------------------------------------------

// The message of the engine::Error that f throws; fails the test unless it throws one of `kind`.
std::string error_of(const std::function<void()>& f,
                     engine::ErrorKind kind = engine::ErrorKind::invalid_input) {
    try {
        f();
    } catch (const engine::Error& e) {
        CHECK(static_cast<int>(e.kind()) == static_cast<int>(kind));
        return e.what();
    } catch (const std::exception& e) {
        FAIL("not an engine::Error: " << e.what());
    }
    FAIL("no exception");
    return {};
}

enum class Verdict { valid, bad_signature, malformed };

// What an auditor's verify would conclude: exit 0, 6 or 2.
Verdict judge(const VerifierKey& key, const std::string& note) {
    try {
        return desk::verify_checkpoint(key, note) ? Verdict::valid : Verdict::bad_signature;
    } catch (const engine::Error& e) {
        REQUIRE(e.kind() == engine::ErrorKind::invalid_input);
        return Verdict::malformed;
    }
}

std::string replace_once(std::string s, const std::string& from, const std::string& to) {
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

SigningKey go_key() { return desk::parse_signing_key(kGoSecretKey); }

std::string fresh_hash(int i) {
    std::string h(64, '0');
    static const char* hex = "0123456789abcdef";
    for (std::size_t k = 0; k < h.size(); ++k)
        h[k] = hex[(static_cast<std::size_t>(i) * 7 + k * 13) % 16];
    return h;
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

// ---- known-answer tests ------------------------------------------------------------------------

TEST_CASE("the Go note package's example verifier key parses and its key id recomputes") {
    const VerifierKey vk = desk::parse_verifier_key(kGoVerifierKey);
    CHECK(vk.name == "PeterNeumann");
    CHECK(vk.key_id == 0xc74f20a3u);
    CHECK(desk::compute_key_id(vk.name, vk.public_key) == 0xc74f20a3u);
    CHECK(desk::compute_key_id("PeterNeumann2", vk.public_key) != 0xc74f20a3u);
    CHECK(desk::verifier_key(vk) == kGoVerifierKey);
}

TEST_CASE("the Go example secret key gives exactly the example verifier key and signs like Go") {
    const SigningKey key = go_key();
    CHECK(key.name() == "PeterNeumann");
    CHECK(key.key_id() == 0xc74f20a3u);
    CHECK(desk::verifier_key(key) == kGoVerifierKey);
    CHECK(key.secret_text() == kGoSecretKey + "\n");

    SUBCASE("the example note is reproduced byte for byte") {
        CHECK(desk::sign_note(key, kGoText) == kGoNote);
    }
    SUBCASE("the example note parses and verifies against the example verifier key") {
        const desk::SignedNote note = desk::parse_note(kGoNote);
        CHECK(note.text == kGoText);
        REQUIRE(note.signatures.size() == 1);
        CHECK(note.signatures[0].name == "PeterNeumann");
        CHECK(note.signatures[0].key_id == 0xc74f20a3u);
        CHECK(note.signatures[0].signature.size() == 64);
        CHECK(desk::verify_note(desk::parse_verifier_key(kGoVerifierKey), note));
    }
}

TEST_CASE("a checkpoint signed with the Go example key matches one signed independently") {
    const SigningKey key = go_key();
    CHECK(desk::sign_checkpoint(key, 42, kHeadHex) == kCheckpoint);
    std::string upper = kHeadHex;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(desk::sign_checkpoint(key, 42, upper) == kCheckpoint);

    const Checkpoint c = desk::parse_checkpoint(kCheckpoint);
    CHECK(c.origin == "tfadesk-chain/PeterNeumann");
    CHECK(c.seq == 42);
    CHECK(c.hash_hex == kHeadHex);
    CHECK(desk::verify_checkpoint(desk::parse_verifier_key(kGoVerifierKey), kCheckpoint));
}

// ---- round trips -------------------------------------------------------------------------------

TEST_CASE("sign, parse and verify round-trip with a generated key") {
    const SigningKey key = desk::generate_key("desk.example/helpdesk");
    const std::string vkey_text = desk::verifier_key(key);
    const VerifierKey vk = desk::parse_verifier_key(vkey_text);
    CHECK(vk.name == "desk.example/helpdesk");
    CHECK(vk.key_id == key.key_id());
    CHECK(vk.public_key == key.public_key());
    CHECK(desk::verifier_key(vk) == vkey_text);
    CHECK(desk::parse_signing_key(key.secret_text()).public_key() == key.public_key());

    for (const std::int64_t seq :
         {std::int64_t{0}, std::int64_t{1}, std::int64_t{1000000}, std::int64_t{INT64_MAX}}) {
        CAPTURE(seq);
        const std::string hash = fresh_hash(static_cast<int>(seq % 97));
        const std::string note = desk::sign_checkpoint(key, seq, hash);
        const Checkpoint c = desk::parse_checkpoint(note);
        CHECK(c.origin == "tfadesk-chain/desk.example/helpdesk");
        CHECK(c.seq == seq);
        CHECK(c.hash_hex == hash);
        CHECK(desk::verify_checkpoint(vk, note));
    }
}

TEST_CASE("two generated keys differ") {
    const SigningKey a = desk::generate_key("desk");
    const SigningKey b = desk::generate_key("desk");
    CHECK(a.public_key() != b.public_key());
    CHECK(desk::verifier_key(a) != desk::verifier_key(b));
}

// ---- tampering ---------------------------------------------------------------------------------

TEST_CASE("a flipped bit anywhere in a checkpoint makes it fail or be refused") {
    const SigningKey key = desk::generate_key("desk.example/helpdesk");
    const VerifierKey vk = key.verifier();
    const std::string note = desk::sign_checkpoint(key, 1234, fresh_hash(3));
    REQUIRE(judge(vk, note) == Verdict::valid);

    int bad_signature = 0, malformed = 0;
    for (std::size_t i = 0; i < note.size(); ++i) {
        for (const unsigned char mask : {0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80}) {
            std::string t = note;
            t[i] = static_cast<char>(static_cast<unsigned char>(t[i]) ^ mask);
            CAPTURE(i);
            CAPTURE(static_cast<int>(mask));
            const Verdict v = judge(vk, t);
            CHECK(v != Verdict::valid);
            (v == Verdict::malformed ? malformed : bad_signature)++;
        }
    }
    // Both outcomes occur: edits of the seq or of signature characters parse but fail to verify.
    CHECK(bad_signature > 0);
    CHECK(malformed > 0);

    SUBCASE("and so does every truncation") {
        for (std::size_t n = 0; n < note.size(); ++n) {
            CAPTURE(n);
            CHECK(judge(vk, note.substr(0, n)) != Verdict::valid);
        }
    }
}

TEST_CASE("a checkpoint verifies only against its own key") {
    const SigningKey key = desk::generate_key("desk");
    const std::string note = desk::sign_checkpoint(key, 7, fresh_hash(7));

    SUBCASE("another key of the same name: its key id differs, so no line names it") {
        const SigningKey other = desk::generate_key("desk");
        CHECK(judge(other.verifier(), note) == Verdict::bad_signature);
    }
    SUBCASE("another public key claiming this key's name and id: the signature fails") {
        VerifierKey forged = desk::generate_key("desk").verifier();
        forged.key_id = key.key_id();
        CHECK(judge(forged, note) == Verdict::bad_signature);
    }
    SUBCASE("a key of another name that signed the same body: the origin does not match") {
        const SigningKey other = desk::generate_key("other");
        const std::string body = desk::parse_note(note).text;
        const std::string theirs = desk::sign_note(other, body);
        CHECK(judge(other.verifier(), theirs) == Verdict::bad_signature);
        CHECK(judge(key.verifier(), theirs) == Verdict::bad_signature);
    }
    SUBCASE("a valid signature moved onto another seq fails") {
        const std::string moved = replace_once(note, "\n7\n", "\n8\n");
        CHECK(judge(key.verifier(), moved) == Verdict::bad_signature);
    }
}

TEST_CASE("signature lines of other keys are ignored; a bad line of this key is not") {
    const SigningKey key = desk::generate_key("desk");
    const SigningKey witness = desk::generate_key("witness.example/w1");
    const std::string note = desk::sign_checkpoint(key, 99, fresh_hash(9));
    const std::string body = desk::parse_note(note).text;
    const std::string witness_line = desk::sign_note(witness, body).substr(body.size() + 1);
    const std::string unknown_line = kDash + "someone.else/ümlaut " + std::string(92, 'A') + "\n";

    const std::string cosigned = note + witness_line + unknown_line;
    CHECK(desk::parse_note(cosigned).signatures.size() == 3);
    CHECK(judge(key.verifier(), cosigned) == Verdict::valid);
    CHECK(judge(key.verifier(), body + "\n" + witness_line + note.substr(body.size() + 1)) ==
          Verdict::valid);  // our line need not come first

    SUBCASE("only other keys' lines: not verified") {
        CHECK(judge(key.verifier(), body + "\n" + witness_line) == Verdict::bad_signature);
    }
    SUBCASE("our valid signature under another name is another key's line") {
        const std::string renamed = replace_once(note, kDash + "desk ", kDash + "desk2 ");
        CHECK(judge(key.verifier(), renamed) == Verdict::bad_signature);
    }
    SUBCASE("a second line naming this key with a wrong signature rejects the note") {
        const std::string sig = note.substr(note.rfind(' ') + 1);
        std::string broken = sig;
        broken[10] = broken[10] == 'A' ? 'B' : 'A';
        CHECK(judge(key.verifier(), note + kDash + "desk " + broken) == Verdict::bad_signature);
    }
}

// ---- malformed input ---------------------------------------------------------------------------

TEST_CASE("malformed verifier keys are invalid input") {
    const std::string pub33 = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "three fields"},
        {"PeterNeumann", "three fields"},
        {"PeterNeumann+c74f20a3", "three fields"},
        {"PeterNeumann+c74f20a3+", "base64"},
        {"+c74f20a3+" + pub33, "NAME"},
        {"Peter Neumann+c74f20a3+" + pub33, "NAME"},
        {std::string(65, 'a') + "+c74f20a3+" + pub33, "NAME"},
        {"PeterNeumann+c74f20a4+" + pub33, "does not match"},
        {"PeterNeumann+C74F20A3+" + pub33, "lowercase hex"},
        {"PeterNeumann+c74f20a+" + pub33, "lowercase hex"},
        {"PeterNeumann+0xc74f20a3+" + pub33, "lowercase hex"},
        {"PeterNeumann+c74f20a3+" + pub33.substr(0, 43), "base64"},
        {"PeterNeumann+c74f20a3+" + pub33 + "=", "base64"},
        {"PeterNeumann+c74f20a3+" + pub33 + "+AAAA", "base64"},
        {"PeterNeumann+c74f20a3+" + pub33 + "AAAA", "36 bytes"},
        {"PeterNeumann+c74f20a3+GRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW", "0x01"},
        {"PeterNeumann+c74f20a3+" + pub33.substr(0, 40) + "10T=", "base64"},
        {kGoVerifierKey + "\n\n", "base64"},
        {kGoVerifierKey + "\r\n", "base64"},
        {kGoVerifierKey + " ", "base64"},
        {" " + kGoVerifierKey, "NAME"},
        {"\n" + kGoVerifierKey, "NAME"},
    };
    for (const auto& [text, why] : cases) {
        CAPTURE(text);
        const std::string message = error_of([&] { desk::parse_verifier_key(text); });
        CHECK(message.find("malformed verifier key") != std::string::npos);
        CHECK(message.find(why) != std::string::npos);
    }
    // One trailing newline is accepted: a key read from a file.
    CHECK(desk::parse_verifier_key(kGoVerifierKey + "\n").key_id == 0xc74f20a3u);
}

TEST_CASE("a secret key given as a verifier key is refused without being echoed") {
    for (const std::string& text : std::vector<std::string>{kGoSecretKey, kGoSecretKey + "\n"}) {
        const std::string message = error_of([&] { desk::parse_verifier_key(text); });
        CHECK(message.find("SECRET") != std::string::npos);
        CHECK(message.find(kGoSeedBase64) == std::string::npos);
        const std::string loaded = error_of([&] { desk::load_verifier_key(text); });
        CHECK(loaded.find(kGoSeedBase64) == std::string::npos);
    }
}

TEST_CASE("malformed secret keys are invalid input and never echo key bytes") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {kGoVerifierKey, "PRIVATE+KEY+"},
        {"PRIVATE+KEY+PeterNeumann+c74f20a4+" + kGoSeedBase64, "does not match"},
        {"PRIVATE+KEY+Peter Neumann+c74f20a3+" + kGoSeedBase64, "NAME"},
        {"PRIVATE+KEY+PeterNeumann+c74f20a3", "PRIVATE+KEY+NAME+KEYID+BASE64"},
        {"PRIVATE+KEY+PeterNeumann+c74f20a3+" + kGoSeedBase64.substr(0, 40), "not base64"},
        {"PRIVATE+KEY+PeterNeumann+c74f20a3+A4" + kGoSeedBase64.substr(2),
         "not base64"},  // alg 0x03
        {"PRIVATE+KEY+PeterNeumann+c74f20a3+" + kGoSeedBase64 + "\n\n", "not base64"},
        {"private+key+PeterNeumann+c74f20a3+" + kGoSeedBase64, "PRIVATE+KEY+"},
    };
    for (const auto& [text, why] : cases) {
        CAPTURE(why);
        const std::string message =
            error_of([&] { desk::parse_signing_key(text, "key file 'k'"); });
        CHECK(message.find("key file 'k' is not a tfadesk secret key") != std::string::npos);
        CHECK(message.find(why) != std::string::npos);
        CHECK(message.find(kGoSeedBase64.substr(4, 20)) == std::string::npos);
    }
}

TEST_CASE("malformed checkpoints are invalid input, both to parse and to verify") {
    const VerifierKey vk = desk::parse_verifier_key(kGoVerifierKey);
    const std::string sig_line = kCheckpoint.substr(kCheckpointBody.size() + 1);
    const std::string b64 = "LKZCWqF4p7dwT4cMT0U7OTjMpvSx4cA/VsUft4V49C4=";
    const auto with_body = [&](const std::string& body) { return body + "\n" + sig_line; };
    const std::vector<std::pair<std::string, std::string>> cases = {
        {kCheckpointBody + sig_line, "no blank line"},
        {kCheckpointBody + "\n", "no signature line"},
        {kCheckpoint.substr(0, kCheckpoint.size() - 1), "does not end in a newline"},
        {kCheckpoint + "\n", "no signature line"},
        {replace_once(kCheckpoint, "\n42\n", "\r\n42\n"), "control character"},
        {replace_once(kCheckpoint, "PeterNeumann\n", "Peter\tNeumann\n"), "control character"},
        {replace_once(kCheckpoint, "PeterNeumann\n", std::string("Peter\0Neumann\n", 14)),
         "control character"},
        {replace_once(kCheckpoint, "PeterNeumann\n", "PeterNeumann\xFF\n"), "UTF-8"},
        {replace_once(kCheckpoint, "PeterNeumann\n", "PeterNeumann\xC0\xAF\n"),
         "UTF-8"},  // overlong '/'
        {replace_once(kCheckpoint, "PeterNeumann\n", "PeterNeumann\xED\xA0\x80\n"),
         "UTF-8"},  // surrogate
        {with_body("tfadesk-chain/PeterNeumann\n042\n" + b64 + "\n"), "seq"},
        {with_body("tfadesk-chain/PeterNeumann\n+42\n" + b64 + "\n"), "seq"},
        {with_body("tfadesk-chain/PeterNeumann\n-1\n" + b64 + "\n"), "seq"},
        {with_body("tfadesk-chain/PeterNeumann\n4 2\n" + b64 + "\n"), "seq"},
        {with_body("tfadesk-chain/PeterNeumann\n42 \n" + b64 + "\n"), "seq"},
        {with_body("tfadesk-chain/PeterNeumann\n9223372036854775808\n" + b64 + "\n"), "seq"},
        {with_body("tfadesk-chain/PeterNeumann\n99999999999999999999\n" + b64 + "\n"), "seq"},
        {with_body("tfadesk-chain/PeterNeumann\n\n" + b64 + "\n"), "seq"},
        {with_body("tfadesk-chain/PeterNeumann\n42\n" + b64.substr(0, 43) + "\n"), "hash"},
        {with_body("tfadesk-chain/PeterNeumann\n42\n" + b64.substr(0, 42) + "5=\n"),
         "hash"},  // non-canonical
        {with_body("tfadesk-chain/PeterNeumann\n42\n" + kHeadHex + "\n"), "hash"},
        {with_body(
             "tfadesk-chain/PeterNeumann\n42\nLKZCWqF4p7dwT4cMT0U7OTjMpvSx4cA/VsUft4V49C4A\n"),
         "hash"},
        {with_body("tfadesk-chain/PeterNeumann\n42\nLKZCWqF4p7dwT4cMT0U7OTjMpvSx4cA/VsUft4V4\n"),
         "hash"},
        {with_body("tfadesk-chain/PeterNeumann\n42\n"), "three lines"},
        {with_body("tfadesk-chain/PeterNeumann\n42\n" + b64 + "\nextension\n"), "three lines"},
        {with_body("PeterNeumann\n42\n" + b64 + "\n"), "origin"},
        {with_body("tfadesk-chain/\n42\n" + b64 + "\n"), "origin"},
        {with_body("tfadesk-chain/Peter Neumann\n42\n" + b64 + "\n"), "origin"},
        {with_body("tlog/PeterNeumann\n42\n" + b64 + "\n"), "origin"},
        {kCheckpointBody + "\n" + replace_once(sig_line, kDash, "- "), "em dash"},
        {kCheckpointBody + "\n" + replace_once(sig_line, kDash, "\xE2\x80\x94"), "em dash"},
        {kCheckpointBody + "\n" + replace_once(sig_line, "PeterNeumann ", "PeterNeumann"),
         "NAME BASE64"},
        {kCheckpointBody + "\n" + replace_once(sig_line, "PeterNeumann ", "Peter+Neumann "),
         "NAME BASE64"},
        {kCheckpointBody + "\n" + replace_once(sig_line, "PeterNeumann ", " "), "NAME BASE64"},
        {kCheckpointBody + "\n" + kDash + "PeterNeumann x08gow==\n",
         "base64"},  // 4 bytes: no signature
        {kCheckpointBody + "\n" + replace_once(sig_line, "=\n", "\n"), "base64"},
        {kCheckpointBody + "\n" + replace_once(sig_line, "=\n", "= \n"), "base64"},
    };
    for (const auto& [note, why] : cases) {
        CAPTURE(note);
        const std::string parsed = error_of([&] { desk::parse_checkpoint(note); });
        CHECK(parsed.find(why) != std::string::npos);
        error_of([&] { desk::verify_checkpoint(vk, note); });
    }
}

TEST_CASE("a note may carry at most 100 signatures") {
    const SigningKey key = go_key();
    std::string note = kCheckpoint;
    const std::string line = kCheckpoint.substr(kCheckpointBody.size() + 1);
    for (int i = 1; i < 100; ++i) note += line;
    CHECK(desk::parse_note(note).signatures.size() == 100);
    CHECK(desk::verify_checkpoint(key.verifier(), note));
    error_of([&] { desk::parse_note(note + line); });
}

TEST_CASE("what sign_checkpoint and sign_note refuse") {
    const SigningKey key = go_key();
    error_of([&] { desk::sign_checkpoint(key, -1, kHeadHex); });
    error_of([&] { desk::sign_checkpoint(key, 1, kHeadHex.substr(1)); });
    error_of([&] { desk::sign_checkpoint(key, 1, kHeadHex + "0"); });
    error_of([&] { desk::sign_checkpoint(key, 1, "g" + kHeadHex.substr(1)); });
    error_of([&] { desk::sign_note(key, "no final newline"); });
    error_of([&] { desk::sign_note(key, ""); });
    error_of([&] { desk::sign_note(key, "a\rb\n"); });
    error_of([&] { desk::sign_note(key, "\xFF\n"); });
}

TEST_CASE("key names") {
    for (const std::string& name : std::vector<std::string>{"a", "desk.example/help_desk-1",
                                                            "A-Z.0_9/", std::string(64, 'x')}) {
        CAPTURE(name);
        CHECK(desk::is_valid_key_name(name));
        CHECK(desk::generate_key(name).name() == name);
    }
    for (const std::string& name : std::vector<std::string>{
             "", std::string(65, 'x'), "a b", "a+b", "a\nb", "caf\xC3\xA9", "a:b", "a@b", "a\\b"}) {
        CAPTURE(name);
        CHECK_FALSE(desk::is_valid_key_name(name));
        error_of([&] { desk::generate_key(name); });
    }
}

// ---- key files ---------------------------------------------------------------------------------

TEST_CASE("a key file is created 0600 whatever the umask, and loads back to the same key") {
    tfadesk_test::TempDir dir;
    const std::string path = dir / "seal.key";
    const SigningKey key = desk::generate_key("desk.example/helpdesk");
    for (const mode_t mask : {mode_t{0}, mode_t{0277}}) {  // 0277 would leave 0400 without fchmod
        const std::string other = dir / ("umask-" + std::to_string(mask) + ".key");
        const mode_t old_mask = umask(mask);
        desk::write_key_file(other, key);
        umask(old_mask);
        CHECK(mode_of(other) == 0600);
    }
    desk::write_key_file(path, key);
    CHECK(mode_of(path) == 0600);
    const std::string text = tfadesk_test::slurp(path);
    CHECK(text == key.secret_text());
    CHECK(text.rfind("PRIVATE+KEY+desk.example/helpdesk+", 0) == 0);

    const SigningKey loaded = desk::load_key(path);
    CHECK(desk::verifier_key(loaded) == desk::verifier_key(key));
    CHECK(loaded.sign("x") == key.sign("x"));
}

TEST_CASE("a key file never replaces an existing file or writes through a symbolic link") {
    namespace fs = std::filesystem;
    tfadesk_test::TempDir dir;
    const SigningKey key = desk::generate_key("desk");
    const std::string path = dir / "seal.key";
    desk::write_key_file(path, key);
    const std::string before = tfadesk_test::slurp(path);

    SUBCASE("an existing key file") {
        const std::string message =
            error_of([&] { desk::write_key_file(path, desk::generate_key("desk")); });
        CHECK(message.find("already exists") != std::string::npos);
        CHECK(tfadesk_test::slurp(path) == before);
        CHECK(desk::verifier_key(desk::load_key(path)) == desk::verifier_key(key));
    }
    SUBCASE("a symbolic link to an existing file") {
        const std::string link = dir / "link.key";
        fs::create_symlink(path, link);
        error_of([&] { desk::write_key_file(link, desk::generate_key("desk")); });
        CHECK(tfadesk_test::slurp(path) == before);
    }
    SUBCASE("a dangling symbolic link: its target is not created") {
        const std::string link = dir / "dangling.key";
        fs::create_symlink(dir / "target.key", link);
        error_of([&] { desk::write_key_file(link, key); });
        CHECK_FALSE(fs::exists(dir / "target.key"));
    }
    SUBCASE("a folder, or a path in a missing folder") {
        error_of([&] { desk::write_key_file(dir.path().string(), key); });
        error_of([&] { desk::write_key_file(dir / "missing/seal.key", key); });
        CHECK_FALSE(fs::exists(dir / "missing"));
    }
}

TEST_CASE("loading a key file: what is refused, and the warning for loose permissions") {
    namespace fs = std::filesystem;
    tfadesk_test::TempDir dir;
    const SigningKey key = go_key();
    const auto spit = [](const std::string& p, const std::string& text) {
        std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    };

    SUBCASE("missing, a folder, a FIFO (refused without blocking), too large") {
        CHECK(error_of([&] { desk::load_key(dir / "none.key"); }).find("none.key") !=
              std::string::npos);
        CHECK(error_of([&] { desk::load_key(dir.path().string()); }).find("not a regular file") !=
              std::string::npos);
        REQUIRE(mkfifo((dir / "fifo").c_str(), 0600) == 0);
        CHECK(error_of([&] { desk::load_key(dir / "fifo"); }).find("not a regular file") !=
              std::string::npos);
        spit(dir / "big.key", std::string(5000, 'A'));
        CHECK(error_of([&] { desk::load_key(dir / "big.key"); }).find("too large") !=
              std::string::npos);
    }
    SUBCASE("malformed: named by path, the contents never echoed") {
        const std::string path = dir / "bad.key";
        spit(path, "PRIVATE+KEY+PeterNeumann+c74f20a4+" + kGoSeedBase64 + "\n");
        chmod(path.c_str(), 0600);
        const std::string message = error_of([&] { desk::load_key(path); });
        CHECK(message.find(path) != std::string::npos);
        CHECK(message.find(kGoSeedBase64.substr(4, 20)) == std::string::npos);
    }
    SUBCASE("a symbolic link to a key file is followed (secret mounts are links)") {
        const std::string path = dir / "real.key";
        desk::write_key_file(path, key);
        fs::create_symlink(path, dir / "link.key");
        CHECK(desk::verifier_key(desk::load_key(dir / "link.key")) == kGoVerifierKey);
    }
    SUBCASE("readable by group or others: loaded, with a warning naming the path") {
        const std::string path = dir / "loose.key";
        spit(path, key.secret_text());
        auto previous = spdlog::default_logger();
        std::ostringstream log;
        auto capture = std::make_shared<spdlog::logger>(
            "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log));
        spdlog::set_default_logger(capture);
        REQUIRE(chmod(path.c_str(), 0600) == 0);
        desk::load_key(path);
        CHECK(log.str().empty());
        REQUIRE(chmod(path.c_str(), 0640) == 0);
        CHECK(desk::verifier_key(desk::load_key(path)) == kGoVerifierKey);
        spdlog::set_default_logger(previous);
        CHECK(log.str().find("loose.key") != std::string::npos);
        CHECK(log.str().find("chmod 600") != std::string::npos);
        CHECK(log.str().find(kGoSeedBase64.substr(4, 20)) == std::string::npos);
    }
}

TEST_CASE("load_verifier_key takes the key text or the path of a file holding it") {
    tfadesk_test::TempDir dir;
    const auto spit = [](const std::string& p, const std::string& text) {
        std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
    };
    CHECK(desk::load_verifier_key(kGoVerifierKey).key_id == 0xc74f20a3u);

    const std::string file = dir / "desk.vkey";
    spit(file, kGoVerifierKey + "\n");
    CHECK(desk::verifier_key(desk::load_verifier_key(file)) == kGoVerifierKey);

    spit(file, kGoVerifierKey + "\n\n");
    CHECK(error_of([&] { desk::load_verifier_key(file); }).find("desk.vkey") != std::string::npos);

    spit(file, kGoSecretKey + "\n");
    const std::string secret = error_of([&] { desk::load_verifier_key(file); });
    CHECK(secret.find("SECRET") != std::string::npos);
    CHECK(secret.find(kGoSeedBase64.substr(4, 20)) == std::string::npos);

    const std::string missing = error_of([&] { desk::load_verifier_key(dir / "none.vkey"); });
    CHECK(missing.find("none.vkey") != std::string::npos);
    CHECK(missing.find("neither") != std::string::npos);
    error_of([&] { desk::load_verifier_key(""); });
}

// ---- the documentation ------------------------------------------------------------------------

TEST_CASE("docs/seals.md: the worked example verifies with the verifier key it shows") {
    const std::string doc = tfadesk_test::slurp(std::string(TFADESK_SOURCE_DIR) + "/docs/seals.md");
    REQUIRE_FALSE(doc.empty());
    const auto lines = tfadesk_test::lines_of(doc);
    std::string vkey, note;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (vkey.empty() && lines[i].rfind("desk.example/helpdesk+", 0) == 0) vkey = lines[i];
        if (note.empty() && lines[i] == "tfadesk-chain/desk.example/helpdesk") {
            for (std::size_t k = i; k < lines.size() && k < i + 5; ++k) note += lines[k] + "\n";
        }
    }
    REQUIRE_FALSE(vkey.empty());
    REQUIRE_FALSE(note.empty());
    CAPTURE(note);
    const VerifierKey vk = desk::parse_verifier_key(vkey);
    CHECK(desk::verify_checkpoint(vk, note));
    const Checkpoint c = desk::parse_checkpoint(note);
    CHECK(c.seq == 1042);
    CHECK(doc.find(c.hash_hex) != std::string::npos);  // the hex the page quotes
    CHECK(doc.find(desk::verifier_key(vk)) != std::string::npos);
    CHECK(doc.find(std::to_string(desk::parse_note(note).text.size()) +
                   " bytes of the three body lines") != std::string::npos);
}
