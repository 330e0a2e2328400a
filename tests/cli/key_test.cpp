// `tfadesk key generate` run as a process (SPEC §8): the verifier key it prints and the key file it
// writes are checked here independently with libsodium (key id = SHA-256(NAME || 0x0A || 0x01 ||
// public key)[:4], the file's seed derives the printed public key); it refuses an existing file,
// a symbolic link and a bad name with exit 2, changing nothing, and never touches a database.
#include <doctest/doctest.h>
#include <sodium.h>
#include <sys/stat.h>

#include <regex>

#include "process.hpp"

namespace {

using namespace clitest;

std::vector<unsigned char> unbase64(const std::string& text) {
    std::vector<unsigned char> out(text.size());
    std::size_t size = 0;
    REQUIRE(sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &size,
                              nullptr, sodium_base64_VARIANT_ORIGINAL) == 0);
    out.resize(size);
    return out;
}

std::string key_id_hex(const std::string& name, const unsigned char* pub) {
    std::string msg = name + "\n\x01";
    msg.append(reinterpret_cast<const char*>(pub), 32);
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(msg.data()), msg.size());
    char hex[9];
    std::snprintf(hex, sizeof hex, "%02x%02x%02x%02x", digest[0], digest[1], digest[2], digest[3]);
    return hex;
}

mode_t mode_of(const std::string& path) {
    struct stat st {};
    REQUIRE(lstat(path.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("key generate writes a 0600 key file and prints its verifier key") {
    REQUIRE(sodium_init() >= 0);
    Desk desk;
    const std::string out = desk.dir / "seal.key";
    const Result r = desk({"key", "generate", "--name", "desk.example/helpdesk", "--out", out});
    REQUIRE_MESSAGE(r.code == 0, r.describe());
    CHECK(r.err.empty());

    // stdout: exactly one line NAME+KEYID+BASE64.
    REQUIRE(r.out_lines().size() == 1);
    const std::regex form(
        "(desk\\.example/helpdesk)\\+([0-9a-f]{8})\\+([A-Za-z0-9+/]{43}=?|[A-Za-z0-9+/]{44})\n");
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_match(r.out, m, form), r.out);
    const std::string key_id = m[2];
    const auto pub = unbase64(m[3]);
    REQUIRE(pub.size() == 33);
    CHECK(pub[0] == 0x01);
    CHECK(key_id_hex("desk.example/helpdesk", pub.data() + 1) == key_id);

    // The key file: mode 0600, PRIVATE+KEY+NAME+KEYID+BASE64(0x01 || seed), and the seed derives
    // exactly the public key that was printed.
    CHECK(mode_of(out) == 0600);
    const std::string text = slurp(out);
    const std::string prefix = "PRIVATE+KEY+desk.example/helpdesk+" + key_id + "+";
    REQUIRE(text.rfind(prefix, 0) == 0);
    REQUIRE(text.back() == '\n');
    const auto seed = unbase64(text.substr(prefix.size(), text.size() - prefix.size() - 1));
    REQUIRE(seed.size() == 33);
    CHECK(seed[0] == 0x01);
    unsigned char derived_pub[32], derived_sk[64];
    crypto_sign_seed_keypair(derived_pub, derived_sk, seed.data() + 1);
    CHECK(std::memcmp(derived_pub, pub.data() + 1, 32) == 0);
    CHECK(!contains(r.out + r.err, text.substr(prefix.size(), 20)));  // the secret is never printed

    // It is not a database command: no database appears.
    CHECK_FALSE(fs::exists(desk.db));
}

TEST_CASE("key generate refuses to replace a file or follow a symbolic link, changing nothing") {
    Desk desk;
    const std::string out = desk.dir / "seal.key";
    REQUIRE(desk({"key", "generate", "--name", "desk", "--out", out}).code == 0);
    const std::string before = slurp(out);

    SUBCASE("the same path again") {
        const Result r = desk({"key", "generate", "--name", "desk", "--out", out});
        CHECK_MESSAGE(r.code == 2, r.describe());
        CHECK(r.out.empty());
        CHECK(contains(r.err, "already exists"));
        CHECK(slurp(out) == before);
        CHECK(mode_of(out) == 0600);
    }
    SUBCASE("a symbolic link to the key file, and a dangling one") {
        fs::create_symlink(out, desk.dir / "link.key");
        fs::create_symlink(desk.dir / "target.key", desk.dir / "dangling.key");
        for (const char* link : {"link.key", "dangling.key"}) {
            CAPTURE(link);
            const Result r = desk({"key", "generate", "--name", "desk", "--out", desk.dir / link});
            CHECK_MESSAGE(r.code == 2, r.describe());
            CHECK(r.out.empty());
        }
        CHECK(slurp(out) == before);
        CHECK_FALSE(fs::exists(desk.dir / "target.key"));
    }
    SUBCASE("an existing ordinary file of someone else's") {
        const std::string other = desk.dir / "notes.txt";
        spit(other, "keep me\n");
        const Result r = desk({"key", "generate", "--name", "desk", "--out", other});
        CHECK_MESSAGE(r.code == 2, r.describe());
        CHECK(slurp(other) == "keep me\n");
    }
}

TEST_CASE("key generate: bad input is exit 2 and writes nothing") {
    Desk desk;
    const std::string out = desk.dir / "seal.key";
    const std::vector<std::vector<std::string>> cases = {
        {"key", "generate", "--name", "a b", "--out", out},
        {"key", "generate", "--name", "", "--out", out},
        {"key", "generate", "--name", std::string(65, 'x'), "--out", out},
        {"key", "generate", "--name", "desk+1", "--out", out},
        {"key", "generate", "--name", "caf\xC3\xA9", "--out", out},
        {"key", "generate", "--out", out},
        {"key", "generate", "--name", "desk"},
        {"key", "generate", "--name", "desk", "--out", out, "--bogus"},
        {"key", "generate", "--name", "desk", "--out", desk.dir / "missing/seal.key"},
        {"key"},
        {"key", "bogus"},
    };
    for (const auto& args : cases) {
        std::string line;
        for (const auto& a : args) line += " " + a;
        CAPTURE(line);
        const Result r = desk(args);
        CHECK_MESSAGE(r.code == 2, r.describe());
        CHECK(r.out.empty());
        CHECK_FALSE(r.err.empty());
        CHECK_FALSE(fs::exists(out));
    }
    CHECK_FALSE(fs::exists(desk.db));
}

TEST_CASE("key generate opens no database, wherever one is configured") {
    Desk desk;
    RunOptions opt;
    opt.cwd = desk.dir.path();
    SUBCASE("default ./tfadesk.db") {
        const Result r =
            tfadesk_bare({"key", "generate", "--name", "desk", "--out", "seal.key"}, opt);
        CHECK_MESSAGE(r.code == 0, r.describe());
        CHECK_FALSE(fs::exists(desk.dir / "tfadesk.db"));
    }
    SUBCASE("$TFADESK_DB") {
        opt.env = {{"TFADESK_DB", desk.db}};
        const Result r =
            tfadesk_bare({"key", "generate", "--name", "desk", "--out", "seal.key"}, opt);
        CHECK_MESSAGE(r.code == 0, r.describe());
    }
    SUBCASE("--db naming an existing desk: its files are left alone") {
        REQUIRE(desk.open("HD-1", "client", "yes").code == 0);
        const std::string before = slurp(desk.db);
        const auto mtime = mtime_ns(desk.db);
        const bool wal = fs::exists(desk.db + "-wal"), shm = fs::exists(desk.db + "-shm");
        const Result r =
            desk({"key", "generate", "--name", "desk", "--out", desk.dir / "seal.key"});
        CHECK_MESSAGE(r.code == 0, r.describe());
        CHECK(slurp(desk.db) == before);
        CHECK(mtime_ns(desk.db) == mtime);
        CHECK(fs::exists(desk.db + "-wal") == wal);
        CHECK(fs::exists(desk.db + "-shm") == shm);
        return;
    }
    CHECK_FALSE(fs::exists(desk.db));
    CHECK(mode_of(desk.dir / "seal.key") == 0600);
}

TEST_CASE("key generate --help shows a working example") {
    const Result r = tfadesk_bare({"key", "generate", "--help"});
    CHECK_MESSAGE(r.code == 0, r.describe());
    CHECK(contains(r.out, "--name"));
    CHECK(contains(r.out, "--out"));
    CHECK(contains(tfadesk_bare({"--help"}).out, "\n  key "));

    // Run the example as printed, with its --out moved into a temp folder.
    const std::string marker = "Example:\n  tfadesk ";
    const auto at = r.out.find(marker);
    REQUIRE(at != std::string::npos);
    const std::string example = r.out.substr(
        at + marker.size(), r.out.find('\n', at + marker.size()) - (at + marker.size()));
    std::vector<std::string> args = split(example, ' ');
    REQUIRE(args.size() == 6);
    REQUIRE(args[4] == "--out");
    Desk desk;
    args[5] = desk.dir / fs::path(args[5]).filename().string();
    const Result run = tfadesk_bare(args);
    CHECK_MESSAGE(run.code == 0, run.describe());
    CHECK(run.out_lines().size() == 1);
    CHECK(fs::exists(args[5]));
}
