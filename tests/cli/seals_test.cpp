// Sealed log and checkpoints (SPEC §8) through the real `tfadesk` program: a write given --key or
// $TFADESK_KEY stores one seal per transaction; `checkpoint` prints the newest as a C2SP signed
// note whose layout and Ed25519 signature are checked here with libsodium, independently of the
// product; `verify --verifier-key` catches what the hash chain alone cannot - a whole chain
// rewritten, an entry appended without the key, a log cut back below a kept checkpoint - and
// refuses malformed keys and notes. Tampering goes through the sqlite3 shell, as in verify_test.
#include <doctest/doctest.h>
#include <sodium.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "log_forge.hpp"

namespace {

using namespace clitest;
using nlohmann::json;
using Bytes = std::vector<unsigned char>;

const std::string kKeyName = "desk.example/tfadesk";
const std::string kDash = "\xE2\x80\x94 ";  // U+2014 EM DASH and a space

Bytes unbase64(const std::string& text) {
    Bytes out(text.size() + 1);
    std::size_t size = 0;
    const char* end = nullptr;
    REQUIRE_MESSAGE(sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr,
                                      &size, &end, sodium_base64_VARIANT_ORIGINAL) == 0,
                    text);
    REQUIRE(end == text.data() + text.size());
    out.resize(size);
    return out;
}

std::string base64(const Bytes& data) {
    std::string out(sodium_base64_ENCODED_LEN(data.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data.data(), data.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

Bytes from_hex(const std::string& hex) {
    Bytes out;
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        out.push_back(static_cast<unsigned char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
    return out;
}

// SPEC §8: the first 4 bytes of SHA-256(NAME || 0x0A || 0x01 || public key).
Bytes key_id_of(const std::string& name, const Bytes& pub) {
    std::string msg = name + "\n\x01";
    msg.append(reinterpret_cast<const char*>(pub.data()), pub.size());
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
    return Bytes(digest, digest + 4);
}

// NAME+KEYID+BASE64 as its three parts (BASE64 may itself hold '+'; NAME and KEYID cannot).
std::vector<std::string> verifier_parts(const std::string& vkey) {
    const auto a = vkey.find('+');
    REQUIRE(a != std::string::npos);
    const auto b = vkey.find('+', a + 1);
    REQUIRE(b != std::string::npos);
    return {vkey.substr(0, a), vkey.substr(a + 1, b - a - 1), vkey.substr(b + 1)};
}

// A desk key as `key generate` makes it: the secret key file and the verifier key it printed,
// with the public key and the seed decoded here (to sign notes of our own in the tests).
struct DeskKey {
    std::string name, file, verifier;
    Bytes pub, seed;
};

DeskKey generate(const TempDir& dir, const std::string& name, const std::string& file_name) {
    REQUIRE(sodium_init() >= 0);
    DeskKey k;
    k.name = name;
    k.file = dir / file_name;
    const Result r = run({TFADESK_BIN, "key", "generate", "--name", name, "--out", k.file});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    REQUIRE(r.out_lines().size() == 1);
    k.verifier = r.out_lines()[0];
    const auto parts = verifier_parts(k.verifier);
    REQUIRE(parts.size() == 3);
    REQUIRE(parts[0] == name);
    const Bytes raw = unbase64(parts[2]);
    REQUIRE(raw.size() == 33);
    REQUIRE(raw[0] == 0x01);
    k.pub.assign(raw.begin() + 1, raw.end());
    std::string text = slurp(k.file);
    const std::string prefix = "PRIVATE+KEY+" + name + "+" + parts[1] + "+";
    REQUIRE(text.rfind(prefix, 0) == 0);
    const Bytes sraw = unbase64(text.substr(prefix.size(), text.size() - prefix.size() - 1));
    REQUIRE(sraw.size() == 33);
    k.seed.assign(sraw.begin() + 1, sraw.end());
    return k;
}

// Signs `body` as a signed note with `key`'s secret, under `name` and `key_id` (normally the key's
// own; a forger's otherwise).
std::string sign_note(const DeskKey& key, const std::string& body, const std::string& name,
                      const Bytes& key_id) {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
    crypto_sign_seed_keypair(pk, sk, key.seed.data());
    unsigned char sig[crypto_sign_BYTES];
    crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(body.data()),
                         body.size(), sk);
    Bytes blob = key_id;
    blob.insert(blob.end(), sig, sig + sizeof sig);
    return body + "\n" + kDash + name + " " + base64(blob) + "\n";
}

// The body of a checkpoint for (seq, head hash) under origin tfadesk-chain/NAME.
std::string checkpoint_body(const std::string& name, std::int64_t seq,
                            const std::string& hash_hex) {
    return "tfadesk-chain/" + name + "\n" + std::to_string(seq) + "\n" +
           base64(from_hex(hash_hex)) + "\n";
}

std::int64_t count_seals(const std::string& db) {
    const Result r = sqlite(db, "SELECT count(*) FROM seals");
    INFO(r.describe());
    REQUIRE(r.code == 0);
    return std::stoll(r.out);
}

std::string csv_of(const std::vector<std::string>& refs) {
    std::string out = "ref,phone,client_id,requester_email,requester_role\n";
    for (const auto& r : refs) out += r + ",+4915123456789,acme,ops@acme.example,client\n";
    return out;
}

std::vector<std::string> open_args(const std::string& ref) {
    return {"open",
            "--ref",
            ref,
            "--phone",
            "+4915123456789",
            "--client-id",
            "acme",
            "--requester-email",
            "ops@acme.example",
            "--role",
            "client",
            "--access",
            "no",
            "--agent",
            "alice"};
}

// The sealed desk the verify cases start from, every write sealed:
//   seq 1  open S-1                        (--key after the command)
//   seq 2  S-1 cancel, note "duplicate"    ($TFADESK_KEY)
//   seq 3  open S-2                        (--key before the command)
//   seq 4-6  import of S-3, S-4, S-5       (one transaction: one seal, at 6)
//   seq 7  S-2 triage                      -> seals at 1, 2, 3, 6, 7
struct SealedDesk {
    Desk desk;
    DeskKey key;
    std::string note3;  // `checkpoint` as it printed after seq 3
    SealedDesk() : key(generate(desk.dir, kKeyName, "desk.key")) {
        auto ok = [](const Result& r) {
            if (r.code != 0)
                throw std::runtime_error("building the sealed desk failed: " + r.describe());
        };
        const Desk& d = desk;
        auto with_key = open_args("S-1");
        with_key.insert(with_key.end(), {"--key", key.file});
        ok(d(with_key));
        RunOptions env;
        env.env = {{"TFADESK_KEY", key.file}};
        ok(d({"event", "S-1", "cancel", "--note", "duplicate", "--agent", "alice"}, env));
        auto before = open_args("S-2");
        before.insert(before.begin(), {"--key", key.file});
        ok(d(before));
        const Result cp = d({"checkpoint"});
        ok(cp);
        note3 = cp.out;
        const std::string file = desk.dir / "in.csv";
        spit(file, csv_of({"S-3", "S-4", "S-5"}));
        ok(d({"import", file, "--agent", "op", "--key", key.file}));
        ok(d({"event", "S-2", "triage", "--agent", "alice", "--key", key.file}));
    }
};

const SealedDesk& sealed() {
    static const std::unique_ptr<SealedDesk> s = std::make_unique<SealedDesk>();
    return *s;
}

struct Copy {
    TempDir dir;
    std::string db = dir / "copy.db";
    Copy() { copy_db(sealed().desk.db, db); }
    Result operator()(const std::vector<std::string>& args, const RunOptions& opt = {}) const {
        return tfadesk(db, args, opt);
    }
    Result verify_sealed(const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> args = {"verify", "--verifier-key", sealed().key.verifier};
        args.insert(args.end(), extra.begin(), extra.end());
        return tfadesk(db, args);
    }
    std::string keep(const std::string& name, const std::string& note) const {
        const std::string path = dir / name;
        spit(path, note);
        return path;
    }
};

// verify exits 6, names `needle` as a word, and ends with its head line.
void expect_caught(const Result& r, const std::string& needle) {
    INFO(r.describe());
    CHECK(r.code == 6);
    CHECK(has_word(r.out + r.err, needle));
    const auto lines = r.out_lines();
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back().rfind("head ", 0) == 0);
}

}  // namespace

TEST_CASE("seals: a write with --key or $TFADESK_KEY stores exactly one seal per transaction") {
    Desk d;
    const DeskKey key = generate(d.dir, "desk", "desk.key");
    auto last_seal_matches_head = [&] {
        const Result r = sqlite(d.db,
                                "SELECT s.seq = e.seq AND s.hash = e.hash FROM seals s, events e "
                                "WHERE s.seq = (SELECT max(seq) FROM seals) AND e.seq = (SELECT "
                                "max(seq) FROM events)");
        INFO(r.describe());
        CHECK(r.out == "1\n");
    };
    auto args = open_args("HD-1");
    args.insert(args.end(), {"--key", key.file});
    REQUIRE(d(args).code == 0);
    CHECK(count_seals(d.db) == 1);
    last_seal_matches_head();

    const std::string file = d.dir / "in.csv";
    spit(file, csv_of({"HD-2", "HD-3", "HD-4"}));
    const Result imp = d({"import", file, "--agent", "op", "--key", key.file});
    INFO(imp.describe());
    REQUIRE(imp.code == 0);
    CHECK(count_seals(d.db) == 2);  // three entries, one transaction, one seal
    last_seal_matches_head();

    const std::string file2 = d.dir / "in2.csv";
    spit(file2, csv_of({"HD-5", "HD-6"}));
    RunOptions env;
    env.env = {{"TFADESK_KEY", key.file}};
    REQUIRE(d({"import", file2, "--agent", "op", "--triage"}, env).code == 0);
    CHECK(count_seals(d.db) == 3);  // four entries (two opens, two triages), one seal
    last_seal_matches_head();

    // SPEC §12: once the desk holds a seal, a write without the key is refused (exit 7, naming the
    // key) and writes nothing; a refused write with a key stores nothing at all.
    {
        const DbBytes unsealed(d.db);
        const Result r = d.event("HD-1", "triage", "alice");
        INFO(r.describe());
        CHECK(r.code == 7);
        CHECK(contains(r.err, "key"));
        CHECK(DbBytes(d.db) == unsealed);
    }
    REQUIRE(d({"event", "HD-1", "triage", "--agent", "alice", "--key", key.file}).code == 0);
    CHECK(count_seals(d.db) == 4);
    const DbBytes before(d.db);
    CHECK(d({"event", "HD-1", "approve", "--agent", "bob", "--key", key.file}).code == 3);
    CHECK(DbBytes(d.db) == before);
    // A key file that is missing, or not a secret key, is bad input: nothing is written.
    for (const std::string& bad : {std::string(d.dir / "missing.key"), file}) {
        CAPTURE(bad);
        const Result r =
            d({"event", "HD-1", "cancel", "--note", "x", "--agent", "alice", "--key", bad});
        INFO(r.describe());
        CHECK(r.code == 2);
        CHECK(DbBytes(d.db) == before);
    }
    CHECK(count_seals(d.db) == 4);
}

TEST_CASE("seals: checkpoint prints the newest seal as a signed note that verifies here") {
    Copy c;
    const DeskKey& key = sealed().key;
    const DbBytes before(c.db);
    const Result r = c({"checkpoint"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    CHECK(r.err.empty());
    CHECK(DbBytes(c.db) == before);  // a read

    const auto log = read_log(c.db);
    REQUIRE(log.size() == 7);
    const Entry& head = log.back();

    // Layout, line by line (SPEC §8).
    const std::string& note = r.out;
    REQUIRE_FALSE(note.empty());
    CHECK(note.back() == '\n');
    const auto lines = split(note.substr(0, note.size() - 1), '\n');
    REQUIRE(lines.size() == 5);
    CHECK(lines[0] == "tfadesk-chain/" + kKeyName);
    CHECK(lines[1] == "7");
    CHECK(lines[1] == std::to_string(head.seq));
    REQUIRE(lines[2].size() == 44);
    CHECK(unbase64(lines[2]) == from_hex(head.hash));
    CHECK(lines[3].empty());
    const std::string sig_prefix = kDash + kKeyName + " ";
    REQUIRE(lines[4].rfind(sig_prefix, 0) == 0);
    const Bytes blob = unbase64(lines[4].substr(sig_prefix.size()));
    REQUIRE(blob.size() == 4 + 64);

    // The key id and the Ed25519 signature over the body bytes (the three lines and their
    // newlines), checked with libsodium.
    CHECK(Bytes(blob.begin(), blob.begin() + 4) == key_id_of(kKeyName, key.pub));
    const std::string body = lines[0] + "\n" + lines[1] + "\n" + lines[2] + "\n";
    CHECK(note == body + "\n" + lines[4] + "\n");
    CHECK(crypto_sign_verify_detached(blob.data() + 4,
                                      reinterpret_cast<const unsigned char*>(body.data()),
                                      body.size(), key.pub.data()) == 0);
    // Our own signature over the same body is the same bytes (Ed25519 is deterministic).
    CHECK(sign_note(key, checkpoint_body(kKeyName, head.seq, head.hash), kKeyName,
                    key_id_of(kKeyName, key.pub)) == note);

    // It is the newest seal row, and every seal row is a note of its own seq and hash.
    const Result rows = sqlite_json(c.db, "SELECT seq, hash, note FROM seals ORDER BY seq");
    REQUIRE(rows.code == 0);
    const json seals = json::parse(rows.out);
    std::vector<std::int64_t> seqs;
    for (const auto& s : seals) {
        const auto seq = s.at("seq").get<std::int64_t>();
        seqs.push_back(seq);
        CHECK(s.at("hash") == log.at(static_cast<std::size_t>(seq - 1)).hash);
        CHECK(s.at("note") == sign_note(key, checkpoint_body(kKeyName, seq, s.at("hash")), kKeyName,
                                        key_id_of(kKeyName, key.pub)));
    }
    CHECK(seqs == std::vector<std::int64_t>{1, 2, 3, 6, 7});
    CHECK(seals.back().at("note") == note);
}

TEST_CASE("seals: checkpoint on a desk without seals exits 4") {
    Desk d;
    REQUIRE(d(open_args("HD-1")).code == 0);
    const Result r = d({"checkpoint"});
    INFO(r.describe());
    CHECK(r.code == 4);
    CHECK(r.out.empty());
    CHECK_FALSE(r.err.empty());
    // No database at all: a read command names it and creates nothing (SPEC §4).
    Desk none;
    const Result m = none({"checkpoint"});
    INFO(m.describe());
    CHECK(m.code == 1);
    CHECK(contains(m.err, none.db));
    CHECK_FALSE(fs::exists(none.db));
}

TEST_CASE("seals: an untouched sealed desk passes verify --verifier-key, as text or as a file") {
    Copy c;
    const DeskKey& key = sealed().key;
    const std::string with_nl = c.keep("vkey.txt", key.verifier + "\n");
    const std::string without_nl = c.keep("vkey-bare.txt", key.verifier);
    for (const std::string& vkey : {key.verifier, with_nl, without_nl}) {
        CAPTURE(vkey);
        const Result r = c({"verify", "--verifier-key", vkey});
        INFO(r.describe());
        CHECK(r.code == 0);
        CHECK(r.out_lines().back() == "head 7:" + read_log(c.db).back().hash);
    }
    // Kept notes that the log still holds: the current one and the one noted after seq 3.
    const Result now = c({"checkpoint"});
    REQUIRE(now.code == 0);
    const Result r = c.verify_sealed({"--checkpoint", c.keep("now.note", now.out), "--checkpoint",
                                      c.keep("seq3.note", sealed().note3)});
    INFO(r.describe());
    CHECK(r.code == 0);
}

TEST_CASE("seals: a whole chain rewritten passes plain verify but not verify --verifier-key") {
    Copy c;
    auto log = read_log(c.db);
    REQUIRE(log.size() == 7);
    REQUIRE(log[1].event == "cancel");
    REQUIRE(contains(log[1].details, "duplicate"));
    log[1].details = R"({"note":"the client asked us to stop"})";
    tamper_db(c.db, forge_chain_sql(log, 1));
    const Result plain = c({"verify"});
    INFO(plain.describe());
    REQUIRE(plain.code == 0);  // the forged chain is consistent in itself
    // The seal at seq 2 signed the entry as it was.
    expect_caught(c.verify_sealed(), "seq 2");
}

TEST_CASE("seals: a chain rewritten with the seals' hash column made to match still fails") {
    Copy c;
    auto log = read_log(c.db);
    log[1].details = R"({"note":"the client asked us to stop"})";
    // Every seal row now names the forged hash of its seq; its note still signs the true one.
    tamper_db(c.db, forge_chain_sql(log, 1) +
                        "UPDATE seals SET hash = (SELECT hash FROM events WHERE events.seq = "
                        "seals.seq);");
    REQUIRE(c({"verify"}).code == 0);
    const Result r = sqlite(c.db,
                            "SELECT count(*) FROM seals s JOIN events e ON e.seq = s.seq "
                            "WHERE s.hash = e.hash");
    REQUIRE(r.out == std::to_string(count_seals(c.db)) + "\n");
    expect_caught(c.verify_sealed(), "seq 2");
}

TEST_CASE("seals: entries appended without the key fail verify --verifier-key at the first") {
    SUBCASE("a write without --key is refused before anything is written (SPEC §12)") {
        Copy c;
        const std::string before = slurp(c.db);
        const Result r =
            c({"event", "S-2", "check-passed", "--check", "lost_access", "--agent", "alice"});
        INFO(r.describe());
        CHECK(r.code == 7);
        CHECK(contains(r.err, "sealed"));
        CHECK(slurp(c.db) == before);
        CHECK(c.verify_sealed().code == 0);
    }
    SUBCASE("a forged entry with a correct hash, the ticket row made to match") {
        Copy c;
        const auto log = read_log(c.db);
        Entry e = log.back();
        REQUIRE(e.ref == "S-2");
        REQUIRE(e.tseq == 2);
        e.seq = 8;
        e.tseq = 3;
        e.event = "cancel";
        e.details = R"({"note":"withdrawn"})";
        e.agent = "mallory";
        e.state = "cancelled";
        e.prev_hash = log.back().hash;
        e.hash = entry_hash(e);
        tamper_db(c.db,
                  insert_sql(e) +
                      "UPDATE tickets SET state = 'cancelled', version = 3 WHERE ref = 'S-2';");
        const Result plain = c({"verify"});
        INFO(plain.describe());
        REQUIRE(plain.code == 0);
        expect_caught(c.verify_sealed(), "seq 8");
    }
}

// An entry appended after the last seal without the key (by an older version, or someone with the
// file): forged with a correct hash, as version 3 refuses such a write itself. It is seq 8.
void append_unsealed(const Copy& c) {
    const auto log = read_log(c.db);
    Entry e = log.back();
    REQUIRE(e.ref == "S-2");
    e.seq = 8;
    e.tseq = 3;
    e.event = "cancel";
    e.details = R"({"note":"withdrawn"})";
    e.state = "cancelled";
    e.prev_hash = log.back().hash;
    e.hash = entry_hash(e);
    tamper_db(c.db, insert_sql(e) +
                        "UPDATE tickets SET state = 'cancelled', version = 3 WHERE ref = 'S-2';");
    REQUIRE(c({"verify"}).code == 0);  // the chain and the rows agree: only the seals can tell
}

TEST_CASE(
    "seals: a sealed write refuses to seal over entries written after the last seal without the "
    "key") {
    Copy c;
    append_unsealed(c);
    const std::string before = slurp(c.db);
    const Result r = c({"event", "S-3", "triage", "--agent", "alice", "--key", sealed().key.file});
    INFO(r.describe());
    CHECK(r.code == 6);
    CHECK(r.err.find("seq 8") !=
          std::string::npos);                   // names the unsealed entry it will not launder
    CHECK(slurp(c.db) == before);               // nothing written
    expect_caught(c.verify_sealed(), "seq 8");  // the gap stays visible
}

TEST_CASE(
    "seals: seal --adopt recovers a desk with an unsealed tail, and verify names the range (SPEC "
    "§12)") {
    Copy c;
    append_unsealed(c);
    const std::string key = sealed().key.file;
    const std::string before = slurp(c.db);
    // The key is needed, and so is a note; nothing is written without them.
    CHECK(c({"seal", "--adopt", "--note", "reviewed by the lead", "--agent", "lead"}).code == 2);
    CHECK(c({"seal", "--adopt", "--agent", "lead", "--key", key}).code == 2);
    CHECK(c({"seal", "--adopt", "--note", "  ", "--agent", "lead", "--key", key}).code == 2);
    CHECK(slurp(c.db) == before);
    expect_caught(c.verify_sealed(), "seq 8");

    const Result r =
        c({"seal", "--adopt", "--note", "reviewed by the lead", "--agent", "lead", "--key", key});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    CHECK(has_word(r.out, "8"));         // the adopted entry is shown
    CHECK(contains(r.out, "at seq 9"));  // and the entry that adopts it
    const Result v = c.verify_sealed();
    INFO(v.describe());
    CHECK(v.code == 0);
    CHECK(contains(v.out, "adopted: entries seq 8 to 8"));
    CHECK(contains(v.out, "reviewed by the lead"));
    // The desk takes sealed writes again, and there is nothing left to adopt (exit 3).
    CHECK(c({"event", "S-3", "triage", "--agent", "alice", "--key", key}).code == 0);
    CHECK(c({"seal", "--adopt", "--note", "again", "--agent", "lead", "--key", key}).code == 3);
    CHECK(c.verify_sealed().code == 0);
}

TEST_CASE("seals: a log cut back below a kept checkpoint fails verify --checkpoint") {
    Copy c;
    const Result cp = c({"checkpoint"});
    REQUIRE(cp.code == 0);
    const std::string kept = c.keep("kept.note", cp.out);
    const auto log = read_log(c.db);
    REQUIRE(log.back().seq == 7);
    REQUIRE(log.back().ref == "S-2");
    const Entry& opened = log[2];
    REQUIRE(opened.ref == "S-2");
    // The last entry and its seal go; S-2's row is rolled back to match its open.
    tamper_db(c.db,
              "DELETE FROM events WHERE seq = 7; DELETE FROM seals WHERE seq = 7; "
              "UPDATE tickets SET state = 'received', version = 1, updated_at = " +
                  sql_quote(opened.at) + ", active_at = " + sql_quote(opened.at) +
                  " WHERE ref = 'S-2';");
    // Consistent in itself, and every entry left is covered by a seal left...
    const Result plain = c({"verify"});
    INFO(plain.describe());
    REQUIRE(plain.code == 0);
    const Result sealed_only = c.verify_sealed();
    INFO(sealed_only.describe());
    CHECK(sealed_only.code == 0);
    // ... but the auditor's note of seq 7 is no longer in the log.
    expect_caught(c.verify_sealed({"--checkpoint", kept}), "7");
    // An older kept note still holds.
    CHECK(c.verify_sealed({"--checkpoint", c.keep("seq3.note", sealed().note3)}).code == 0);
}

TEST_CASE("seals: a kept note with any byte flipped is never accepted (2 or 6)") {
    Copy c;
    const Result cp = c({"checkpoint"});
    REQUIRE(cp.code == 0);
    const std::string& note = cp.out;
    for (std::size_t i = 0; i < note.size(); ++i) {
        CAPTURE(i);
        std::string bad = note;
        bad[i] = static_cast<char>(bad[i] ^ 0x01);
        const Result r = c.verify_sealed({"--checkpoint", c.keep("bad.note", bad)});
        INFO(r.describe());
        CHECK((r.code == 2 || r.code == 6));
    }
    // Truncated, empty, with its signature line dropped: malformed or unsigned, never accepted.
    for (const std::string& bad : {note.substr(0, note.size() - 1), std::string(),
                                   note.substr(0, note.find("\n\n") + 1), note + note}) {
        CAPTURE(bad);
        const Result r = c.verify_sealed({"--checkpoint", c.keep("bad.note", bad)});
        INFO(r.describe());
        CHECK((r.code == 2 || r.code == 6));
    }
}

TEST_CASE("seals: a note or a log signed by another key fails (6)") {
    Copy c;
    const DeskKey& key = sealed().key;
    const DeskKey other = generate(c.dir, "other.example/desk", "other.key");
    const DeskKey same_name = generate(c.dir, kKeyName, "same-name.key");
    const auto log = read_log(c.db);
    const std::string body = checkpoint_body(kKeyName, 7, log.back().hash);

    SUBCASE("a checkpoint of another desk, sealed with another key") {
        Desk d2;
        auto args = open_args("X-1");
        args.insert(args.end(), {"--key", other.file});
        REQUIRE(d2(args).code == 0);
        const Result cp = d2({"checkpoint"});
        REQUIRE(cp.code == 0);
        expect_caught(c.verify_sealed({"--checkpoint", c.keep("other.note", cp.out)}),
                      "checkpoint");
    }
    SUBCASE("the right body signed by a key of the same name") {
        const std::string forged =
            sign_note(same_name, body, kKeyName, key_id_of(kKeyName, same_name.pub));
        const Result r = c.verify_sealed({"--checkpoint", c.keep("forged.note", forged)});
        INFO(r.describe());
        CHECK(r.code == 6);
    }
    SUBCASE("the right body and key id, the signature made with another key") {
        const std::string forged = sign_note(other, body, kKeyName, key_id_of(kKeyName, key.pub));
        const Result r = c.verify_sealed({"--checkpoint", c.keep("forged.note", forged)});
        INFO(r.describe());
        CHECK(r.code == 6);
    }
    SUBCASE("control: the same body signed with the desk's key is accepted") {
        const std::string genuine = sign_note(key, body, kKeyName, key_id_of(kKeyName, key.pub));
        CHECK(c.verify_sealed({"--checkpoint", c.keep("genuine.note", genuine)}).code == 0);
    }
    SUBCASE("the whole log checked against another verifier key") {
        for (const DeskKey* k : {&other, &same_name}) {
            const Result r = c({"verify", "--verifier-key", k->verifier});
            INFO(r.describe());
            CHECK(r.code == 6);
            CHECK(has_word(r.out, "seq 1"));
        }
    }
}

TEST_CASE("seals: a malformed verifier key or note is exit 2") {
    Copy c;
    const DeskKey& key = sealed().key;
    const auto parts = verifier_parts(key.verifier);
    REQUIRE(parts.size() == 3);
    std::string wrong_id = parts[1];
    wrong_id[0] = wrong_id[0] == '0' ? '1' : '0';
    const std::string secret = slurp(key.file);
    const std::string garbage = c.keep("garbage.txt", "not a key\n");
    const std::vector<std::string> bad_keys = {
        "",
        "desk",
        kKeyName + "+" + parts[1],
        kKeyName + "+" + parts[1] + "+AAAA",
        kKeyName + "+" + wrong_id + "+" + parts[2],
        kKeyName + "+" + parts[1] + "+" + parts[2] + "x",
        kKeyName + "+" + parts[1].substr(0, 7) + "+" + parts[2],
        "bad name+" + parts[1] + "+" + parts[2],
        secret.substr(0, secret.size() - 1),
        garbage,
        c.dir / "missing.vkey",
    };
    const DbBytes before(c.db);
    for (const auto& vkey : bad_keys) {
        CAPTURE(vkey);
        const Result r = c({"verify", "--verifier-key", vkey});
        INFO(r.describe());
        CHECK(r.code == 2);
        CHECK(r.out.empty());
    }
    // A secret key given by mistake is never echoed.
    const std::string secret_b64 =
        secret.substr(std::string("PRIVATE+KEY+" + kKeyName + "+" + parts[1] + "+").size(), 40);
    const Result s = c({"verify", "--verifier-key", secret.substr(0, secret.size() - 1)});
    CHECK_FALSE(contains(s.out + s.err, secret_b64));
    const Result sf = c({"verify", "--verifier-key", key.file});
    CHECK(sf.code == 2);
    CHECK_FALSE(contains(sf.out + sf.err, secret_b64));

    // Malformed notes.
    const Result cp = c({"checkpoint"});
    REQUIRE(cp.code == 0);
    for (const std::string& bad :
         {std::string("hello\n"), cp.out.substr(0, cp.out.find("\n\n")),
          "tfadesk-chain/" + kKeyName + "\nseven\n" +
              cp.out.substr(cp.out.find('\n', cp.out.find('\n') + 1) + 1)}) {
        CAPTURE(bad);
        const Result r = c.verify_sealed({"--checkpoint", c.keep("bad.note", bad)});
        INFO(r.describe());
        CHECK(r.code == 2);
    }
    CHECK(DbBytes(c.db) == before);
}

// ---- key rotation (SPEC §12) --------------------------------------------------------------------

namespace {

std::string sql_text(const std::string& s) {
    std::string out = "'";
    for (char ch : s) out += ch == '\'' ? std::string("''") : std::string(1, ch);
    return out + "'";
}

// The signature line's key name of the seal stored at `seq`.
std::string sealed_by(const std::string& db, std::int64_t seq) {
    const Result r = sqlite(db, "SELECT note FROM seals WHERE seq = " + std::to_string(seq));
    INFO(r.describe());
    REQUIRE(r.code == 0);
    const auto at = r.out.find(kDash);
    REQUIRE(at != std::string::npos);
    const auto name_end = r.out.find(' ', at + kDash.size());
    return r.out.substr(at + kDash.size(), name_end - at - kDash.size());
}

}  // namespace

TEST_CASE(
    "key rotate: seals after the rotation are made with the new key; verify follows it from the "
    "old") {
    Copy c;
    const std::string old_key = sealed().key.file;
    const DeskKey next = generate(c.dir, "desk.example/tfadesk-2027", "next.key");
    const Result r =
        c({"key", "rotate", "--key", old_key, "--new-key", next.file, "--agent", "lead"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    CHECK(contains(r.out, "at seq 8"));
    CHECK(contains(r.out, next.verifier));
    // The rotation entry is sealed by the key it retires, in its own transaction.
    CHECK(sealed_by(c.db, 8) == kKeyName);
    const auto log = read_log(c.db);
    REQUIRE(log.size() == 8);
    CHECK(log[7].ref == "desk:keys");
    CHECK(log[7].event == "key-rotate");
    CHECK(contains(log[7].details, next.verifier));
    CHECK(contains(log[7].details, sealed().key.verifier));

    // The retired key seals nothing more, and nothing is written.
    const std::string before = slurp(c.db);
    const Result retired = c({"event", "S-3", "triage", "--agent", "alice", "--key", old_key});
    INFO(retired.describe());
    CHECK(retired.code == 7);
    CHECK(contains(retired.err, "retired"));
    CHECK(slurp(c.db) == before);
    // Rotating again from the retired key is refused too.
    const DeskKey third = generate(c.dir, "desk.example/tfadesk-2028", "third.key");
    CHECK(c({"key", "rotate", "--key", old_key, "--new-key", third.file, "--agent", "lead"}).code !=
          0);
    CHECK(slurp(c.db) == before);

    // The new key seals, and verify from either key accepts every seal.
    REQUIRE(c({"event", "S-3", "triage", "--agent", "alice", "--key", next.file}).code == 0);
    CHECK(sealed_by(c.db, 9) == next.name);
    const Result from_old = c.verify_sealed();
    INFO(from_old.describe());
    CHECK(from_old.code == 0);
    CHECK(contains(from_old.out, "key rotated: seq 8 by lead"));
    const Result from_new = c({"verify", "--verifier-key", next.verifier});
    INFO(from_new.describe());
    CHECK(from_new.code == 0);
    // A key the desk never used verifies nothing.
    expect_caught(c({"verify", "--verifier-key", third.verifier}), "seq");
    // A checkpoint taken after the rotation is checked with the key in force at its seq.
    const std::string kept = c.keep("cp9.note", c({"checkpoint"}).out);
    CHECK(c({"verify", "--verifier-key", sealed().key.verifier, "--checkpoint", kept}).code == 0);
    // The key may not come back, nor stay the same.
    CHECK(c({"key", "rotate", "--key", next.file, "--new-key", old_key, "--agent", "lead"}).code ==
          3);
    CHECK(
        c({"key", "rotate", "--key", next.file, "--new-key", next.file, "--agent", "lead"}).code ==
        3);
}

TEST_CASE("key rotate: a key that did not make the desk's last seal cannot rotate it") {
    Copy c;
    const DeskKey mine = generate(c.dir, "mallory/key", "mine.key");
    const DeskKey mine2 = generate(c.dir, "mallory/key2", "mine2.key");
    const std::string before = slurp(c.db);
    const Result r =
        c({"key", "rotate", "--key", mine.file, "--new-key", mine2.file, "--agent", "mallory"});
    INFO(r.describe());
    CHECK(r.code == 3);
    CHECK(contains(r.err, "last seal"));
    CHECK(slurp(c.db) == before);
}

TEST_CASE(
    "key rotate: a rotation forged into the log and sealed by the forger's key fails verify (6)") {
    Copy c;
    // Someone with the database but not the desk key appends a rotation to a key of their own,
    // seals it with that key, and goes on writing sealed entries with it.
    const DeskKey mine = generate(c.dir, "desk.example/tfadesk", "mine.key");
    const auto log = read_log(c.db);
    Entry e;
    e.seq = 8;
    e.ref = "desk:keys";
    e.tseq = 1;
    e.event = "key-rotate";
    e.details = nlohmann::json{{"from", sealed().key.verifier}, {"to", mine.verifier}}.dump();
    e.agent = "lead";
    e.at = log.back().at;
    e.state = "rotated";
    e.policy_version = log.back().policy_version;
    e.prev_hash = log.back().hash;
    e.hash = entry_hash(e);
    SUBCASE("the rotation sealed by the forger's key") {
        const auto parts = verifier_parts(mine.verifier);
        const std::string note =
            sign_note(mine, checkpoint_body(mine.name, 8, e.hash), mine.name, from_hex(parts[1]));
        tamper_db(c.db, insert_sql(e) + "INSERT INTO seals (seq, hash, note) VALUES (8, " +
                            sql_text(e.hash) + ", " + sql_text(note) + ");");
        REQUIRE(c({"verify"}).code == 0);  // the chain alone cannot tell
        // The forger's key now seals writes as the key in force.
        REQUIRE(c({"event", "S-3", "triage", "--agent", "alice", "--key", mine.file}).code == 0);
    }
    SUBCASE("the rotation left unsealed, then adopted and sealed by the forger's key") {
        tamper_db(c.db, insert_sql(e));
        REQUIRE(c({"verify"}).code == 0);
        // Every seal from here on is the forger's, and valid under the key the rotation names:
        // only the missing seal of the retired key at the rotation's own seq gives it away.
        REQUIRE(
            c({"seal", "--adopt", "--note", "looks fine", "--agent", "lead", "--key", mine.file})
                .code == 0);
        REQUIRE(c({"event", "S-3", "triage", "--agent", "alice", "--key", mine.file}).code == 0);
    }
    const Result v = c.verify_sealed();
    INFO(v.describe());
    CHECK(v.code == 6);
    CHECK(contains(v.out, "key rotation at seq 8: not sealed by the key in force"));
}
