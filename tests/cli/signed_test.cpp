// Signed decisions (SPEC §13) through the real `tfadesk` program: personal keys generated and
// registered by their own accounts, decisions signed with --sign-key, `agent require-signatures`,
// refusals (exit 7, nothing written), and verify against someone who holds the desk key and the
// database: an approval re-attributed to bob and re-sealed, a signature moved from one entry to
// another, a key registered by another account. The decision text is rebuilt here from the
// SPEC's words (canonical JSON of agent, details without the signature, event, ref, version) and
// every signature checked with libsodium, never with the product's own code.
#include <doctest/doctest.h>
#include <sodium.h>

#include <memory>
#include <nlohmann/json.hpp>

#include "expect.hpp"
#include "log_forge.hpp"
#include "spec_words.hpp"

namespace {

using namespace clitest;
using nlohmann::json;

void ok_or_throw(const Result& r, const char* what) {
    if (r.code != 0) throw std::runtime_error(std::string(what) + " failed: " + r.describe());
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// The BASE64 field of NAME+KEYID+BASE64 (with "PRIVATE+KEY+" before it in a key file): base64
// holds '+' itself, so the field starts 10 characters after the end of NAME.
std::string key_field(std::string text) {
    if (text.rfind("PRIVATE+KEY+", 0) == 0) text = text.substr(12);
    return text.substr(text.find('+') + 10);
}

std::vector<unsigned char> unbase64(const std::string& b64) {
    std::vector<unsigned char> out(b64.size());
    std::size_t n = 0;
    if (sodium_base642bin(out.data(), out.size(), b64.data(), b64.size(), nullptr, &n, nullptr,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        throw std::runtime_error("bad base64: " + b64);
    out.resize(n);
    return out;
}

std::string base64(const unsigned char* data, std::size_t size) {
    std::string out(sodium_base64_ENCODED_LEN(size, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
    out.pop_back();
    return out;
}

// A personal key as `agent key generate` made it: the file and the public key it printed.
struct PersonalKey {
    std::string file, pub, id;
    std::vector<unsigned char> public_key() const {
        const auto raw = unbase64(key_field(pub));
        return {raw.begin() + 1, raw.end()};  // after the algorithm byte 0x01
    }
    // Signs `text` with the seed in the key file (PRIVATE+KEY+NAME+KEYID+BASE64(0x01 || seed)).
    std::string sign(const std::string& text) const {
        const std::string secret = first_line(slurp(file));
        const auto raw = unbase64(key_field(secret));
        unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES], sig[64];
        crypto_sign_seed_keypair(pk, sk, raw.data() + 1);
        crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(text.data()),
                             text.size(), sk);
        return base64(sig, sizeof sig);
    }
};

// SPEC §13: canonical JSON of {"agent","details","event","ref","version"}; details without the
// signature; version = the entries before this one.
std::string decision_text(const Entry& e) {
    json details = json::parse(e.details);
    details.erase("signature");
    details.erase("countersignature");
    return json{{"agent", e.agent},
                {"details", details},
                {"event", e.event},
                {"ref", e.ref},
                {"version", e.tseq - 1}}
        .dump();
}

bool signature_verifies(const Entry& e, const PersonalKey& key) {
    const json d = json::parse(e.details);
    if (!d.contains("signature") || d["signature"].at("key") != key.id) return false;
    const auto sig = unbase64(d["signature"].at("sig").get<std::string>());
    const std::string text = decision_text(e);
    return sig.size() == 64 && crypto_sign_verify_detached(
                                   sig.data(), reinterpret_cast<const unsigned char*>(text.data()),
                                   text.size(), key.public_key().data()) == 0;
}

std::string token_id_of(const std::string& db, const std::string& name) {
    return sha256_hex(keychain()[db][name]).substr(0, 16);
}

// ---- the desk the cases start from -----------------------------------------------------------
//   root, root2 admin      alice agent      bob, dave approver      (each with a personal key)
//   every write sealed with the desk key; then `require-signatures on` (signed by root)
//   T-1, T-2  approved by bob (signed)      T-3 approved by dave (signed)
//   T-4       identity_check, all three checks passed (signed by alice)
struct SignedDesk {
    Desk desk;
    std::string desk_key = desk.dir / "desk.key", vkey;
    std::map<std::string, PersonalKey> keys;

    RunOptions sealed() const {
        RunOptions o;
        o.env = {{"TFADESK_KEY", desk_key}};
        return o;
    }
    Result operator()(const std::vector<std::string>& args) const { return desk(args, sealed()); }

    PersonalKey make_key(const std::string& name) const {
        PersonalKey k{desk.dir / (name + ".key"), {}, {}};
        const Result r = desk({"agent", "key", "generate", "--out", k.file, "--agent", name});
        ok_or_throw(r, "key generate");
        k.pub = first_line(r.out);
        k.id = k.pub.substr(name.size() + 1, 8);
        return k;
    }

    SignedDesk() {
        const Result g = run(
            {TFADESK_BIN, "key", "generate", "--name", "desk.example/signed", "--out", desk_key});
        ok_or_throw(g, "desk key");
        vkey = first_line(g.out);
        const auto& d = *this;
        ok_or_throw(d({"agent", "add", "root", "--role", "admin", "--agent", "setup"}), "root");
        for (const auto& [name, role] : std::vector<std::pair<std::string, std::string>>{
                 {"root2", "admin"}, {"alice", "agent"}, {"bob", "approver"}, {"dave", "approver"}})
            ok_or_throw(d({"agent", "add", name, "--role", role, "--agent", "root"}), "add");
        for (const std::string name : {"root", "root2", "alice", "bob", "dave"}) {
            keys.emplace(name, make_key(name));
            ok_or_throw(d({"agent", "key", "add", keys.at(name).pub, "--agent", name}), "key add");
        }
        ok_or_throw(d({"agent", "require-signatures", "on", "--agent", "root", "--sign-key",
                       keys.at("root").file}),
                    "require-signatures");
        for (const auto& [ref, approver] : std::vector<std::pair<std::string, std::string>>{
                 {"T-1", "bob"}, {"T-2", "bob"}, {"T-3", "dave"}, {"T-4", ""}}) {
            ok_or_throw(
                d({"open", "--ref", ref, "--phone", "+49 151 2345 67" + std::to_string(10 + ref[2]),
                   "--client-id", "acme", "--requester-email", "ops@acme.example", "--role",
                   "client", "--access", "no", "--agent", "alice"}),
                "open");
            ok_or_throw(d({"event", ref, "triage", "--agent", "alice"}), "triage");
            for (const auto& c : kChecks)
                ok_or_throw(d({"event", ref, "check-passed", "--check", c, "--agent", "alice",
                               "--sign-key", keys.at("alice").file}),
                            "check");
            if (!approver.empty())
                ok_or_throw(d({"event", ref, "approve", "--agent", approver, "--sign-key",
                               keys.at(approver).file}),
                            "approve");
        }
    }
};

const SignedDesk& base() {
    static const std::unique_ptr<SignedDesk> d = std::make_unique<SignedDesk>();
    return *d;
}

// A copy of the base desk in a folder of its own; the keys stay where the base keeps them.
struct Copy {
    TempDir dir;
    std::string db = dir / "copy.db";
    Copy() { copy_db(base().desk.db, db); }
    Result operator()(const std::vector<std::string>& args) const {
        return tfadesk(db, args, base().sealed());
    }
    Result verify() const { return tfadesk(db, {"verify", "--verifier-key", base().vkey}); }
};

const Entry& find_entry(const std::vector<Entry>& log, const std::string& ref,
                        const std::string& event) {
    for (const auto& e : log)
        if (e.ref == ref && e.event == event) return e;
    throw std::runtime_error("no " + event + " of " + ref + " in the log");
}

std::size_t index_of(const std::vector<Entry>& log, std::int64_t seq) {
    for (std::size_t i = 0; i < log.size(); ++i)
        if (log[i].seq == seq) return i;
    throw std::runtime_error("no seq " + std::to_string(seq));
}

// What the desk key holder does after editing entries from `from` on: re-hash the chain, drop
// the seals and let the program seal the new head with the desk key (a sealed write).
void rehash_and_reseal(const Copy& c, const std::vector<Entry>& log, std::size_t from) {
    tamper_db(c.db, forge_chain_sql(log, from) + "DELETE FROM seals;");
    ok_or_throw(c({"open", "--ref", "Z-1", "--phone", "+49 151 9999 0000", "--client-id", "acme",
                   "--requester-email", "z@acme.example", "--role", "client", "--access", "no",
                   "--agent", "alice"}),
                "sealed write after the forgery");
}

void expect_exit_7_nothing_written(const Result& r, const std::string& db, const DbBytes& before) {
    INFO("expected exit 7, nothing written\n", r.describe());
    CHECK(r.code == 7);
    CHECK(r.out.empty());
    CHECK(DbBytes(db) == before);
}

}  // namespace

TEST_CASE(
    "signed: decisions signed with personal keys pass verify; the signature is over the decision "
    "text") {
    const auto& b = base();
    const Result v = tfadesk(b.desk.db, {"verify", "--verifier-key", b.vkey});
    INFO(v.describe());
    CHECK(v.code == 0);

    const auto log = read_log(b.desk.db);
    const Entry& approve = find_entry(log, "T-1", "approve");
    CHECK(approve.agent == "bob");
    CHECK(json::parse(approve.details).at("signature").at("key") == b.keys.at("bob").id);
    CHECK(signature_verifies(approve, b.keys.at("bob")));
    CHECK_FALSE(signature_verifies(approve, b.keys.at("dave")));
    CHECK(signature_verifies(find_entry(log, "T-4", "check-passed"), b.keys.at("alice")));
    CHECK(signature_verifies(find_entry(log, "account:root", "account-require-signatures"),
                             b.keys.at("root")));
    // SPEC §12 still holds: the signed entry names the token that authenticated it.
    CHECK(json::parse(approve.details).at("by_token") == token_id_of(b.desk.db, "bob"));
    // Non-decisions carry no signature.
    CHECK_FALSE(json::parse(find_entry(log, "T-1", "triage").details).contains("signature"));
}

TEST_CASE("signed: verify --json counts signed and unsigned decisions per agent") {
    const auto& b = base();
    const Result v = tfadesk(b.desk.db, {"verify", "--json"});
    INFO(v.describe());
    REQUIRE(v.code == 0);
    const json j = json::parse(v.out);
    CHECK(j.at("ok") == true);
    const json& s = j.at("signatures");
    // bob and dave: their approvals signed; their key-adds came before signatures were required.
    CHECK(s.at("bob") == json{{"signed", 2}, {"unsigned", 1}});
    CHECK(s.at("dave") == json{{"signed", 1}, {"unsigned", 1}});
    // alice: 12 checks signed; her key-add came before signatures were required.
    CHECK(s.at("alice") == json{{"signed", 12}, {"unsigned", 1}});
    // root: four adds and its key-add unsigned (the first add is by "setup"), require-signatures
    // signed.
    CHECK(s.at("root") == json{{"signed", 1}, {"unsigned", 5}});
    CHECK(s.at("setup") == json{{"signed", 0}, {"unsigned", 1}});
}

TEST_CASE(
    "signed: with signatures required, an unsigned decision or one signed by someone else is "
    "refused (exit 7)") {
    Copy c;
    // Non-decisions need no signature.
    CHECK(c({"open", "--ref", "N-1", "--phone", "+49 151 2345 0001", "--client-id", "acme",
             "--requester-email", "n@acme.example", "--role", "client", "--access", "no", "--agent",
             "alice"})
              .code == 0);
    CHECK(c({"event", "N-1", "triage", "--agent", "alice"}).code == 0);
    const DbBytes before(c.db);
    expect_exit_7_nothing_written(
        c({"event", "N-1", "check-passed", "--check", "lost_access", "--agent", "alice"}), c.db,
        before);
    expect_exit_7_nothing_written(c({"event", "N-1", "check-passed", "--check", "lost_access",
                                     "--agent", "alice", "--sign-key", base().keys.at("bob").file}),
                                  c.db, before);
    expect_exit_7_nothing_written(c({"event", "T-4", "approve", "--agent", "bob"}), c.db, before);
    expect_exit_7_nothing_written(c({"agent", "grant", "alice", "approver", "--agent", "root"}),
                                  c.db, before);
    expect_exit_7_nothing_written(c({"agent", "require-signatures", "off", "--agent", "root"}),
                                  c.db, before);
    // Signed, the same writes pass.
    CHECK(c({"event", "T-4", "approve", "--agent", "bob", "--sign-key", base().keys.at("bob").file})
              .code == 0);
    CHECK(c({"agent", "require-signatures", "off", "--agent", "root", "--sign-key",
             base().keys.at("root").file})
              .code == 0);
    // From then on an unsigned decision is accepted again, and verify agrees with all of it.
    CHECK(c({"event", "N-1", "check-passed", "--check", "lost_access", "--agent", "alice"}).code ==
          0);
    const Result v = c.verify();
    INFO(v.describe());
    CHECK(v.code == 0);
}

TEST_CASE(
    "signed: keys are registered by their own account; a first key needs another admin's "
    "countersignature") {
    Copy c;
    const auto& keys = base().keys;
    // A key named after bob cannot be registered by alice (exit 2), signed or not.
    const Result other = c({"agent", "key", "add", keys.at("bob").pub, "--agent", "alice",
                            "--sign-key", keys.at("alice").file});
    expect_error(other, 2);
    REQUIRE(c({"agent", "add", "erin", "--role", "agent", "--agent", "root", "--sign-key",
               keys.at("root").file})
                .code == 0);
    const Result g =
        c({"agent", "key", "generate", "--out", c.dir / "erin.key", "--agent", "erin"});
    REQUIRE(g.code == 0);
    const std::string erin_pub = first_line(g.out);
    const std::string erin_key = c.dir / "erin.key";
    CHECK(fs::status(erin_key).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
    // Never over an existing file.
    expect_error(c({"agent", "key", "generate", "--out", erin_key, "--agent", "erin"}), 2);
    const DbBytes before(c.db);
    expect_exit_7_nothing_written(c({"agent", "key", "add", erin_pub, "--agent", "erin"}), c.db,
                                  before);
    // A countersignature by someone who is not an admin does not vouch for it.
    expect_exit_7_nothing_written(c({"agent", "key", "add", erin_pub, "--agent", "erin",
                                     "--countersign-key", keys.at("alice").file}),
                                  c.db, before);
    CHECK(c({"agent", "key", "add", erin_pub, "--agent", "erin", "--countersign-key",
             keys.at("root2").file})
              .code == 0);
    // The second key is signed by the first.
    const Result g2 =
        c({"agent", "key", "generate", "--out", c.dir / "erin2.key", "--agent", "erin"});
    REQUIRE(g2.code == 0);
    const std::string erin2_pub = first_line(g2.out);
    const DbBytes before2(c.db);
    expect_exit_7_nothing_written(c({"agent", "key", "add", erin2_pub, "--agent", "erin"}), c.db,
                                  before2);
    CHECK(c({"agent", "key", "add", erin2_pub, "--agent", "erin", "--sign-key", erin_key}).code ==
          0);
    // A retired key signs nothing more.
    const std::string first_id = erin_pub.substr(5, 8);
    CHECK(c({"agent", "key", "remove", first_id, "--agent", "erin", "--sign-key", erin_key}).code ==
          0);
    REQUIRE(c({"open", "--ref", "E-1", "--phone", "+49 151 2345 0002", "--client-id", "acme",
               "--requester-email", "e@acme.example", "--role", "client", "--access", "no",
               "--agent", "erin"})
                .code == 0);
    REQUIRE(c({"event", "E-1", "triage", "--agent", "erin"}).code == 0);
    const DbBytes before3(c.db);
    expect_exit_7_nothing_written(c({"event", "E-1", "check-passed", "--check", "lost_access",
                                     "--agent", "erin", "--sign-key", erin_key}),
                                  c.db, before3);
    CHECK(c({"event", "E-1", "check-passed", "--check", "lost_access", "--agent", "erin",
             "--sign-key", c.dir / "erin2.key"})
              .code == 0);
    const Result v = c.verify();
    INFO(v.describe());
    CHECK(v.code == 0);
}

TEST_CASE(
    "signed: the desk key holder re-attributes an approval to bob and re-seals: verify fails") {
    const auto& b = base();
    for (const bool keep_daves_signature : {false, true}) {
        CAPTURE(keep_daves_signature);
        Copy c;
        auto log = read_log(c.db);
        const std::size_t i = index_of(log, find_entry(log, "T-3", "approve").seq);
        json d = json::parse(log[i].details);
        log[i].agent = "bob";
        d["by_token"] = token_id_of(c.db, "bob");  // bob's token of record: SPEC §12 is satisfied
        if (!keep_daves_signature) d.erase("signature");
        log[i].details = d.dump();
        rehash_and_reseal(c, log, i);
        // Nothing but the signature gives it away: the seals and the chain hold.
        const Result v = c.verify();
        INFO(v.describe());
        CHECK(v.code == 6);
        CHECK(contains(v.out, "seq " + std::to_string(log[i].seq)));
        CHECK(contains(
            v.out, keep_daves_signature ? "not a key registered to 'bob'" : "not signed by 'bob'"));
        CHECK_FALSE(contains(v.out, "seal"));
    }
    (void)b;
}

TEST_CASE("signed: a signature moved from one entry to another fails verify") {
    Copy c;
    auto log = read_log(c.db);
    const Entry& from = find_entry(log, "T-1", "approve");
    const std::size_t i = index_of(log, find_entry(log, "T-2", "approve").seq);
    json d = json::parse(log[i].details);
    d["signature"] = json::parse(from.details).at("signature");
    log[i].details = d.dump();
    rehash_and_reseal(c, log, i);
    const Result v = c.verify();
    INFO(v.describe());
    CHECK(v.code == 6);
    CHECK(contains(v.out, "seq " + std::to_string(log[i].seq)));
    CHECK(contains(v.out, "does not verify over its decision text"));
}

TEST_CASE("signed: a key registered by another account, or forged into an account, fails verify") {
    const auto& b = base();
    SUBCASE("bob's key-add rewritten as made by root") {
        Copy c;
        auto log = read_log(c.db);
        const std::size_t i = index_of(log, find_entry(log, "account:bob", "account-key-add").seq);
        json d = json::parse(log[i].details);
        log[i].agent = "root";
        d["by_token"] = token_id_of(c.db, "root");
        log[i].details = d.dump();
        rehash_and_reseal(c, log, i);
        const Result v = c.verify();
        INFO(v.describe());
        CHECK(v.code == 6);
        CHECK(contains(v.out, "seq " + std::to_string(log[i].seq)));
        CHECK(contains(v.out, "registered only by its own account"));
    }
    SUBCASE(
        "an attacker's key appended to bob's account, unsigned, after signatures were required") {
        Copy c;
        // The attacker's own key, named after bob (no desk needed to make one).
        const Result g = run({TFADESK_BIN, "agent", "key", "generate", "--name", "bob", "--out",
                              c.dir / "evil.key"});
        REQUIRE(g.code == 0);
        const PersonalKey evil{c.dir / "evil.key", first_line(g.out),
                               first_line(g.out).substr(4, 8)};
        auto log = read_log(c.db);
        // Append bob's key-add after the last entry (by bob, with bob's token id), unsigned.
        const Entry& last_bob = find_entry(log, "account:bob", "account-key-add");
        Entry add = last_bob;
        add.seq = log.back().seq + 1;
        add.tseq = last_bob.tseq + 1;
        add.at = log.back().at;
        add.details = json{{"by_token", token_id_of(c.db, "bob")}, {"public_key", evil.pub}}.dump();
        add.prev_hash = log.back().hash;
        add.hash = entry_hash(add);
        tamper_db(c.db, insert_sql(add) +
                            "UPDATE accounts SET version = " + std::to_string(add.tseq) +
                            ", updated_at = " + sql_quote(add.at) + " WHERE name = 'bob';");
        (void)b;
        const Result v = c.verify();
        INFO(v.describe());
        CHECK(v.code == 6);
        CHECK(contains(v.out, "seq " + std::to_string(add.seq)));
        CHECK(contains(v.out, "not signed by 'bob'"));
    }
}
