#include <algorithm>
// The SQLite journal on real files in a temporary folder: the hash chain, the append-only
// triggers, transactions, opening modes and the queries verify and list rely on.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <SQLiteCpp/SQLiteCpp.h>
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/workflow.hpp"
#include "tfadesk/storage/database.hpp"
#include "workspace.hpp"  // storage/src: the workspace queries' SQL

namespace {

namespace fs = std::filesystem;
using namespace tfadesk::engine;
using tfadesk::rules::Access;
using tfadesk::rules::Fields;
using tfadesk::rules::Role;
using tfadesk::storage::Database;
using tfadesk::storage::kGenesisHash;
using tfadesk::storage::sha256_hex;

// A fresh folder under the system's temp dir, removed with everything in it.
class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        std::random_device rd;
        const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
        path_ = fs::temp_directory_path() / ("tfadesk-storage-test-" + std::to_string(rd()) + "-" +
                                             std::to_string(now) + "-" + std::to_string(counter++));
        fs::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    std::string file(const std::string& name) const { return (path_ / name).string(); }

private:
    fs::path path_;
};

Fields fields(const std::string& ref, Role role = Role::client, Access access = Access::no) {
    Fields f;
    f.ref = ref;
    f.phone = "+491512345678";
    f.client_id = "acct-" + ref;
    f.requester_email = "owner@example.com";
    f.requester_role = role;
    f.portfolio_access = access;
    f.submitted_at = "2026-03-01T09:00:00Z";
    return f;
}

std::string at_second(int s) {
    return "2026-03-01T10:00:" + std::string(s < 10 ? "0" : "") + std::to_string(s) + ".000Z";
}

Command cmd(EventKind kind, const std::string& agent, int second) {
    Command c;
    c.kind = kind;
    c.agent = agent;
    c.at = at_second(second);
    return c;
}

Command check(const std::string& name, int second) {
    Command c = cmd(EventKind::check_passed, "a1", second);
    c.check = name;
    return c;
}

void open(Database& db, const Fields& f, int second) {
    Database::WriteTransaction tx(db);
    open_ticket(db, f, "a1", at_second(second));
    tx.commit();
}

void event(Database& db, const std::string& ref, const Command& c) {
    Database::WriteTransaction tx(db);
    const EventResult r = apply_event(db, ref, c);
    REQUIRE_MESSAGE(r.outcome.accepted, r.outcome.message(to_string(c.kind)));
    tx.commit();
}

// Three tickets whose events interleave, so global order differs from per-ticket order:
//   HD-B: open, triage (identity_check), 3 checks, approve  -> approved, 6 entries
//   HD-A: open, triage (self_service_advised)                -> 2 entries
//   HD-C: open, triage (awaiting_requester)                  -> 2 entries
void populate(Database& db) {
    open(db, fields("HD-B"), 1);
    open(db, fields("HD-A", Role::client, Access::yes), 2);
    event(db, "HD-B", cmd(EventKind::triage, "a1", 3));
    open(db, fields("HD-C", Role::unknown, Access::unknown), 4);
    event(db, "HD-B", check("client_of_record", 5));
    event(db, "HD-A", cmd(EventKind::triage, "a1", 6));
    event(db, "HD-B", check("number_ownership", 7));
    event(db, "HD-C", cmd(EventKind::triage, "a1", 8));
    event(db, "HD-B", check("lost_access", 9));
    event(db, "HD-B", cmd(EventKind::approve, "a2", 10));
}

std::vector<LogEntry> all_entries(Database& db) {
    std::vector<LogEntry> out;
    db.for_each_entry([&](const LogEntry& e) { out.push_back(e); });
    return out;
}

// The Error that `f` throws; a failed check (and an `unexpected` placeholder) when it throws none.
template <class F>
Error error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e;
    }
    FAIL_CHECK("expected an Error, but nothing was thrown");
    return Error(ErrorKind::unexpected, "<nothing was thrown>");
}

std::string read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

bool is_lower_hex64(const std::string& s) {
    return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

TEST_CASE("sha256_hex matches the FIPS 180-2 test vectors") {
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
          "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("canonical: the exact text the header comment describes") {
    LogEntry e;
    e.seq = 7;
    e.ref = "HD-1";
    e.tseq = 2;
    e.event = "check-passed";
    e.details = R"({"check":"lost_access"})";
    e.agent = "Zo\xc3\xab \"Z\" \\ ok";
    e.at = "2026-03-01T11:00:00.000Z";
    e.state = "identity_check";
    e.policy_version = 1;
    e.prev_hash = kGenesisHash;
    e.hash = "not part of the content";

    // [seq,"ref",tseq,"event","agent","at","state",policy_version,DETAILS] - written out by hand.
    const std::string expected =
        "[7,\"HD-1\",2,\"check-passed\",\"Zo\xc3\xab \\\"Z\\\" \\\\ "
        "ok\",\"2026-03-01T11:00:00.000Z\","
        "\"identity_check\",1,{\"check\":\"lost_access\"}]";
    CHECK(tfadesk::storage::canonical(e) == expected);

    SUBCASE("the hash covers the previous hash and the canonical text") {
        CHECK(tfadesk::storage::entry_hash(e) == sha256_hex(kGenesisHash + expected));
        CHECK(tfadesk::storage::entry_hash(e) ==
              "ec2d760f888094de9a879114341fa2632c5372d5b6b59091f61817d243647d5f");
    }
    SUBCASE("details are taken verbatim, not re-encoded") {
        e.details = R"({"note":"a  b","check":"lost_access"})";
        CHECK(tfadesk::storage::canonical(e).find(R"(,1,{"note":"a  b","check":"lost_access"}])") !=
              std::string::npos);
    }
    SUBCASE("control characters are JSON-escaped") {
        e.agent = "a\nb\x01";
        CHECK(tfadesk::storage::canonical(e).find(R"(,"a\nb\u0001",)") != std::string::npos);
    }
    SUBCASE("strings are encoded exactly as nlohmann::json dumps them") {
        const std::string tricky = "q\" b\\ / \b\f\n\r\t \x01\x1f\x7f caf\xc3\xa9 \xf0\x9f\x98\x80";
        e.agent = tricky;
        e.ref = "HD-\x02";
        const std::string c = tfadesk::storage::canonical(e);
        CHECK(c.find("," + nlohmann::json(tricky).dump() + ",") != std::string::npos);
        CHECK(c.rfind("[7," + nlohmann::json("HD-\x02").dump() + ",2,", 0) == 0);
    }
    SUBCASE("every field changes the hash") {
        const std::string h = tfadesk::storage::entry_hash(e);
        LogEntry x = e;
        x.seq = 8;
        CHECK(tfadesk::storage::entry_hash(x) != h);
        x = e;
        x.tseq = 3;
        CHECK(tfadesk::storage::entry_hash(x) != h);
        x = e;
        x.state = "approved";
        CHECK(tfadesk::storage::entry_hash(x) != h);
        x = e;
        x.policy_version = 2;
        CHECK(tfadesk::storage::entry_hash(x) != h);
        x = e;
        x.prev_hash = std::string(64, '1');
        CHECK(tfadesk::storage::entry_hash(x) != h);
        x = e;
        x.details = R"({"check":"client_of_record"})";
        CHECK(tfadesk::storage::entry_hash(x) != h);
    }
}

TEST_CASE("the hash chain links every entry to the one before it") {
    TempDir dir;
    Database db(dir.file("desk.db"), Database::Mode::read_write);
    populate(db);
    const auto entries = all_entries(db);
    REQUIRE(entries.size() == 10);
    CHECK(kGenesisHash == std::string(64, '0'));
    CHECK(entries[0].prev_hash == kGenesisHash);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const LogEntry& e = entries[i];
        CAPTURE(e.seq);
        CHECK(e.seq == static_cast<std::int64_t>(i) + 1);
        if (i > 0) CHECK(e.prev_hash == entries[i - 1].hash);
        CHECK(is_lower_hex64(e.hash));
        CHECK(e.hash == sha256_hex(e.prev_hash + tfadesk::storage::canonical(e)));
        CHECK(e.policy_version == tfadesk::rules::kPolicyVersion);
    }
    // Stored details are what the engine produced, byte for byte.
    CHECK(entries[4].event == "check-passed");
    CHECK(entries[4].details == R"({"check":"client_of_record"})");
    CHECK(entries[0].details == fields_to_json(fields("HD-B")).dump());
}

TEST_CASE("the chain continues across reopening the file") {
    TempDir dir;
    const std::string path = dir.file("desk.db");
    {
        Database db(path, Database::Mode::read_write);
        open(db, fields("HD-1"), 1);
    }
    Database db(path, Database::Mode::read_write);
    open(db, fields("HD-2"), 2);
    const auto entries = all_entries(db);
    REQUIRE(entries.size() == 2);
    CHECK(entries[1].seq == 2);
    CHECK(entries[1].prev_hash == entries[0].hash);
}

TEST_CASE("the events table refuses UPDATE and DELETE (append-only, R8)") {
    TempDir dir;
    const std::string path = dir.file("desk.db");
    Database db(path, Database::Mode::read_write);
    populate(db);
    const auto before = all_entries(db);

    SQLite::Database raw(path, SQLite::OPEN_READWRITE);
    raw.setBusyTimeout(5000);
    auto sql_error = [&](const char* sql) -> std::string {
        try {
            raw.exec(sql);
        } catch (const SQLite::Exception& e) {
            return e.what();
        }
        return "";
    };
    SUBCASE("UPDATE") {
        const std::string what = sql_error("UPDATE events SET agent = 'mallory' WHERE seq = 3");
        CHECK(what.find("append-only") != std::string::npos);
        CHECK(sql_error("UPDATE events SET state = 'approved'").find("append-only") !=
              std::string::npos);
    }
    SUBCASE("DELETE") {
        CHECK(sql_error("DELETE FROM events WHERE seq = 10").find("append-only") !=
              std::string::npos);
        CHECK(sql_error("DELETE FROM events").find("append-only") != std::string::npos);
    }
    const auto after = all_entries(db);
    REQUIRE(after.size() == before.size());
    for (std::size_t i = 0; i < after.size(); ++i) {
        CHECK(after[i].agent == before[i].agent);
        CHECK(after[i].state == before[i].state);
        CHECK(after[i].hash == before[i].hash);
    }
}

TEST_CASE("a WriteTransaction that is not committed leaves nothing") {
    TempDir dir;
    const std::string path = dir.file("desk.db");
    Database db(path, Database::Mode::read_write);

    SUBCASE("on an empty database") {
        {
            Database::WriteTransaction tx(db);
            open_ticket(db, fields("HD-1"), "a1", at_second(1));
            CHECK(db.entry_count() == 1);  // visible inside the transaction
        }
        CHECK(db.entry_count() == 0);
        CHECK_FALSE(db.exists("HD-1"));
        CHECK_FALSE(db.ticket("HD-1").has_value());
        CHECK(db.entries("HD-1").empty());
        CHECK(db.head().seq == 0);
        CHECK(db.head().hash == kGenesisHash);

        Database reader(path, Database::Mode::read_only);
        CHECK(reader.entry_count() == 0);
        CHECK_FALSE(reader.exists("HD-1"));

        // The next committed append starts the chain afresh.
        open(db, fields("HD-2"), 2);
        const auto entries = all_entries(db);
        REQUIRE(entries.size() == 1);
        CHECK(entries[0].seq == 1);
        CHECK(entries[0].prev_hash == kGenesisHash);
    }
    SUBCASE("after committed entries") {
        open(db, fields("HD-1"), 1);
        const auto head = db.head();
        {
            Database::WriteTransaction tx(db);
            apply_event(db, "HD-1", cmd(EventKind::triage, "a1", 2));
            open_ticket(db, fields("HD-2"), "a1", at_second(3));
        }
        CHECK(db.entry_count() == 1);
        CHECK(db.head().seq == head.seq);
        CHECK(db.head().hash == head.hash);
        CHECK(db.ticket("HD-1")->state == "received");
        CHECK(db.ticket("HD-1")->version == 1);
        CHECK_FALSE(db.exists("HD-2"));

        event(db, "HD-1", cmd(EventKind::triage, "a1", 4));
        const auto entries = all_entries(db);
        REQUIRE(entries.size() == 2);
        CHECK(entries[1].seq == 2);
        CHECK(entries[1].prev_hash == entries[0].hash);
    }
}

TEST_CASE("several appends in one transaction leave every ticket row at its last state") {
    TempDir dir;
    const std::string path = dir.file("desk.db");
    Database db(path, Database::Mode::read_write);
    {
        Database::WriteTransaction tx(db);
        open_ticket(db, fields("HD-1"), "a1", at_second(1));
        apply_event(db, "HD-1", cmd(EventKind::triage, "a1", 2));
        CHECK(db.ticket("HD-1")->state == "identity_check");  // read inside the transaction
        apply_event(db, "HD-1", check("lost_access", 3));
        open_ticket(db, fields("HD-2", Role::partner), "a1", at_second(4));
        apply_event(db, "HD-2", cmd(EventKind::triage, "a1", 5));
        tx.commit();
    }
    Database reader(path, Database::Mode::read_only);
    const auto one = reader.ticket("HD-1");
    const auto two = reader.ticket("HD-2");
    REQUIRE(one.has_value());
    REQUIRE(two.has_value());
    CHECK(one->state == "identity_check");
    CHECK(one->version == 3);
    CHECK(one->checks.at("lost_access") == "a1");
    CHECK(one->updated_at == at_second(3));
    CHECK(two->state == "partner_rejected");
    CHECK(two->version == 2);
    CHECK(reader.refs_in_state("partner_rejected") == std::vector<std::string>{"HD-2"});
    CHECK(differences(replay(reader.entries("HD-1")).ticket(), *one).empty());
    CHECK(differences(replay(reader.entries("HD-2")).ticket(), *two).empty());
}

TEST_CASE("read-only on a missing file: an error naming the path, and no file created") {
    TempDir dir;
    const std::string path = dir.file("nowhere.db");
    const Error e = error_of([&] { Database db(path, Database::Mode::read_only); });
    CHECK(e.kind() == ErrorKind::unexpected);
    CHECK(e.exit_code() == 1);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK_FALSE(fs::exists(path));
    CHECK_FALSE(fs::exists(path + "-wal"));
    CHECK_FALSE(fs::exists(path + "-journal"));
}

TEST_CASE("read-only reads what a writer committed and cannot write") {
    TempDir dir;
    const std::string path = dir.file("desk.db");
    {
        Database db(path, Database::Mode::read_write);
        populate(db);
    }
    Database reader(path, Database::Mode::read_only);
    CHECK(reader.entry_count() == 10);
    CHECK(reader.ticket("HD-B")->state == "approved");
    const Error e = error_of([&] {
        Database::WriteTransaction tx(reader);
        open_ticket(reader, fields("HD-W"), "a1", at_second(30));
        tx.commit();
    });
    CHECK(e.kind() == ErrorKind::unexpected);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK(reader.entry_count() == 10);
    CHECK_FALSE(reader.exists("HD-W"));
    Database again(path, Database::Mode::read_write);
    CHECK(again.entry_count() == 10);
}

TEST_CASE("a SQLite file that is not a tfadesk database is refused in both modes") {
    TempDir dir;
    const std::string path = dir.file("other.db");
    {
        SQLite::Database other(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        other.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
        other.exec("INSERT INTO notes (body) VALUES ('keep me')");
    }
    for (auto mode : {Database::Mode::read_only, Database::Mode::read_write}) {
        CAPTURE(mode == Database::Mode::read_only ? "read_only" : "read_write");
        const Error e = error_of([&] { Database db(path, mode); });
        CHECK(e.kind() == ErrorKind::unexpected);
        CHECK(std::string(e.what()).find(path) != std::string::npos);
        CHECK(std::string(e.what()).find("not a tfadesk database") != std::string::npos);
    }
    SQLite::Database other(path, SQLite::OPEN_READONLY);
    CHECK(other.execAndGet("SELECT body FROM notes").getString() == "keep me");
    CHECK(other.execAndGet("SELECT count(*) FROM sqlite_master WHERE name IN ('events', 'tickets')")
              .getInt() == 0);
}

TEST_CASE("refusing a foreign SQLite file leaves it as it was") {
    TempDir dir;
    const std::string path = dir.file("other.db");
    {
        SQLite::Database other(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        other.exec("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)");
        other.exec("INSERT INTO notes (body) VALUES ('keep me')");
    }
    const std::string bytes = read_bytes(path);
    CHECK_THROWS_AS(Database(path, Database::Mode::read_write), Error);
    SQLite::Database other(path, SQLite::OPEN_READONLY);
    CHECK(other.execAndGet("PRAGMA journal_mode").getString() == "delete");
    const bool unchanged = read_bytes(path) == bytes;
    CHECK_MESSAGE(unchanged, "the refused file's bytes were changed");
}

TEST_CASE("an empty file is not a tfadesk database for a reader") {
    TempDir dir;
    const std::string path = dir.file("empty.db");
    { std::ofstream touch(path, std::ios::binary); }
    const Error e = error_of([&] { Database db(path, Database::Mode::read_only); });
    CHECK(e.kind() == ErrorKind::unexpected);
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK(fs::file_size(path) == 0);
}

TEST_CASE("an empty file is a new desk for a writer: it gets the schema and keeps its mode") {
    TempDir dir;
    const std::string path = dir.file("empty.db");
    { std::ofstream touch(path, std::ios::binary); }
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
    {
        Database db(path, Database::Mode::read_write);
        populate(db);
    }
    CHECK(Database(path, Database::Mode::read_only).entry_count() == 10);
    CHECK(fs::status(path).permissions() ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
}

// SPEC §12: a new database is private whatever the umask, and SQLite gives its -wal and -shm the
// database file's mode.
TEST_CASE("a new database and its -wal and -shm are 0600 whatever the umask") {
    auto mode_of = [](const std::string& p) {
        struct stat st {};
        REQUIRE(::lstat(p.c_str(), &st) == 0);
        return st.st_mode & 07777;
    };
    // 0277 alone would leave the file 0400, which the writer could not write.
    for (const mode_t mask : {mode_t{000}, mode_t{022}, mode_t{0277}}) {
        CAPTURE(mask);
        TempDir dir;
        const std::string path = dir.file("desk.db");
        const mode_t ours = ::umask(mask);
        std::optional<Database> db;
        try {
            db.emplace(path, Database::Mode::read_write);
            open(*db, fields("HD-1"), 1);
        } catch (...) {
            ::umask(ours);
            throw;
        }
        ::umask(ours);
        CHECK(mode_of(path) == 0600);
        CHECK(mode_of(path + "-wal") == 0600);  // held open: SQLite keeps both while in use
        CHECK(mode_of(path + "-shm") == 0600);
        CHECK(db->entry_count() == 1);
    }
}

TEST_CASE("a file of random bytes is refused as unexpected in both modes") {
    TempDir dir;
    const std::string path = dir.file("noise.db");
    std::mt19937 gen(20260301);
    std::string noise(8192, '\0');
    for (char& c : noise) c = static_cast<char>(gen() & 0xFF);
    {
        std::ofstream out(path, std::ios::binary);
        out << noise;
    }
    for (auto mode : {Database::Mode::read_only, Database::Mode::read_write}) {
        CAPTURE(mode == Database::Mode::read_only ? "read_only" : "read_write");
        const Error e = error_of([&] { Database db(path, mode); });
        CHECK(e.kind() == ErrorKind::unexpected);
        CHECK(std::string(e.what()).find(path) != std::string::npos);
    }
    const bool unchanged = read_bytes(path) == noise;
    CHECK_MESSAGE(unchanged, "the refused file's bytes were changed");
}

TEST_CASE("a database from a newer tfadesk is refused") {
    TempDir dir;
    const std::string path = dir.file("desk.db");
    {
        Database db(path, Database::Mode::read_write);
        open(db, fields("HD-1"), 1);
    }
    {
        SQLite::Database raw(path, SQLite::OPEN_READWRITE);
        raw.exec("PRAGMA user_version = " + std::to_string(tfadesk::storage::kSchemaVersion + 1));
    }
    for (auto mode : {Database::Mode::read_only, Database::Mode::read_write}) {
        CAPTURE(mode == Database::Mode::read_only ? "read_only" : "read_write");
        const Error e = error_of([&] { Database db(path, mode); });
        CHECK(e.kind() == ErrorKind::unexpected);
        CHECK(std::string(e.what()).find("newer") != std::string::npos);
    }
}

TEST_CASE("queries: entries, for_each_entry, head, refs_in_state, ticket") {
    TempDir dir;
    Database db(dir.file("desk.db"), Database::Mode::read_write);
    CHECK(db.head().seq == 0);
    CHECK(db.head().hash == kGenesisHash);
    CHECK(db.entry_count() == 0);
    populate(db);

    SUBCASE("entries(ref): one ticket's entries in tseq order") {
        const auto b = db.entries("HD-B");
        REQUIRE(b.size() == 6);
        const std::vector<std::int64_t> seqs = {1, 3, 5, 7, 9, 10};
        const std::vector<std::string> events = {"open",         "triage",       "check-passed",
                                                 "check-passed", "check-passed", "approve"};
        for (std::size_t i = 0; i < b.size(); ++i) {
            CHECK(b[i].ref == "HD-B");
            CHECK(b[i].tseq == static_cast<std::int64_t>(i) + 1);
            CHECK(b[i].seq == seqs[i]);
            CHECK(b[i].event == events[i]);
        }
        CHECK(db.entries("HD-A").size() == 2);
        CHECK(db.entries("HD-Z").empty());
        CHECK(db.exists("HD-A"));
        CHECK_FALSE(db.exists("HD-Z"));
        CHECK(replay(b).ticket().state == "approved");
    }
    SUBCASE("for_each_entry: global order") {
        const auto all = all_entries(db);
        const std::vector<std::string> refs = {"HD-B", "HD-A", "HD-B", "HD-C", "HD-B",
                                               "HD-A", "HD-B", "HD-C", "HD-B", "HD-B"};
        REQUIRE(all.size() == refs.size());
        for (std::size_t i = 0; i < all.size(); ++i) {
            CHECK(all[i].seq == static_cast<std::int64_t>(i) + 1);
            CHECK(all[i].ref == refs[i]);
        }
    }
    SUBCASE("for_each_entry_by_ticket: (ref, tseq) order with the previous seq's hash") {
        const auto all = all_entries(db);
        std::vector<std::pair<std::string, std::int64_t>> order;
        db.for_each_entry_by_ticket([&](const LogEntry& e, const std::optional<PrevEntry>& prev) {
            order.emplace_back(e.ref, e.tseq);
            CAPTURE(e.seq);
            if (e.seq == 1) {
                CHECK_FALSE(prev.has_value());
            } else {
                REQUIRE(prev.has_value());
                CHECK(prev->hash == all[static_cast<std::size_t>(e.seq) - 2].hash);
                CHECK(prev->at == all[static_cast<std::size_t>(e.seq) - 2].at);
                CHECK(prev->hash == e.prev_hash);
            }
        });
        const std::vector<std::pair<std::string, std::int64_t>> expected = {
            {"HD-A", 1}, {"HD-A", 2}, {"HD-B", 1}, {"HD-B", 2}, {"HD-B", 3},
            {"HD-B", 4}, {"HD-B", 5}, {"HD-B", 6}, {"HD-C", 1}, {"HD-C", 2}};
        CHECK(order == expected);
    }
    SUBCASE("head and entry_at") {
        const auto all = all_entries(db);
        CHECK(db.head().seq == 10);
        CHECK(db.head().hash == all.back().hash);
        CHECK(db.entry_count() == 10);
        const auto e4 = db.entry_at(4);
        REQUIRE(e4.has_value());
        CHECK(e4->ref == "HD-C");
        CHECK(e4->hash == all[3].hash);
        CHECK_FALSE(db.entry_at(11).has_value());
        CHECK_FALSE(db.entry_at(0).has_value());
    }
    SUBCASE("refs_in_state and for_each_ticket") {
        open(db, fields("HD-0", Role::client, Access::yes), 20);
        event(db, "HD-0", cmd(EventKind::triage, "a1", 21));
        CHECK(db.refs_in_state("self_service_advised") == std::vector<std::string>{"HD-0", "HD-A"});
        CHECK(db.refs_in_state("approved") == std::vector<std::string>{"HD-B"});
        CHECK(db.refs_in_state("awaiting_requester") == std::vector<std::string>{"HD-C"});
        CHECK(db.refs_in_state("completed").empty());
        std::vector<std::string> all, advised;
        db.for_each_ticket(std::nullopt, [&](const Ticket& t) { all.push_back(t.fields.ref); });
        db.for_each_ticket(std::string("self_service_advised"),
                           [&](const Ticket& t) { advised.push_back(t.fields.ref); });
        CHECK(all == std::vector<std::string>{"HD-0", "HD-A", "HD-B", "HD-C"});
        CHECK(advised == std::vector<std::string>{"HD-0", "HD-A"});
    }
    SUBCASE("the cached ticket row equals the replayed ticket") {
        for (const char* ref : {"HD-A", "HD-B", "HD-C"}) {
            CAPTURE(ref);
            const auto cached = db.ticket(ref);
            REQUIRE(cached.has_value());
            const Ticket replayed = replay(db.entries(ref)).ticket();
            CHECK(differences(replayed, *cached).empty());
            CHECK(cached->fields == replayed.fields);
            CHECK(cached->checks == replayed.checks);
            CHECK(cached->check_agents == replayed.check_agents);
        }
        CHECK(db.ticket("HD-B")->checks.size() == 3);
        CHECK(db.ticket("HD-B")->check_agents == std::set<std::string, std::less<>>{"a1"});
        CHECK_FALSE(db.ticket("HD-Z").has_value());
    }
    SUBCASE("optional fields survive the cache") {
        Fields f = fields("HD-9");
        f.waba_id = "1234";
        f.portfolio_id = "5678";
        f.note = "with a note";
        open(db, f, 30);
        CHECK(db.ticket("HD-9")->fields == f);
        CHECK(db.ticket("HD-A")->fields.note == std::nullopt);
        CHECK(db.ticket("HD-A")->fields.waba_id == std::nullopt);
    }
}

TEST_CASE("ticket_cursor walks every ticket row in byte order of ref, backed by the log or not") {
    TempDir dir;
    const std::string path = dir.file("desk.db");
    Database db(path, Database::Mode::read_write);
    populate(db);
    {
        SQLite::Database raw(path, SQLite::OPEN_READWRITE);
        raw.setBusyTimeout(5000);
        raw.exec(
            "INSERT INTO tickets SELECT 'HD-X', phone, client_id, requester_email, requester_role, "
            "portfolio_access, reason, waba_id, portfolio_id, submitted_at, note, state, version, "
            "checks, "
            "check_agents, updated_at, assignee, active_at, due_at, phone_rev, is_open "  // SPEC
                                                                                          // §14
            "FROM tickets WHERE ref = 'HD-A'");
    }
    auto next = db.ticket_cursor();
    std::vector<std::string> refs;
    while (auto t = next()) refs.push_back(t->fields.ref);
    REQUIRE(!refs.empty());
    CHECK(std::is_sorted(refs.begin(), refs.end()));
    CHECK(std::count(refs.begin(), refs.end(), "HD-X") == 1);
    CHECK(std::count(refs.begin(), refs.end(), "HD-A") == 1);
}

namespace {

// The plan SQLite chooses for `sql` (its detail lines, joined).
std::string plan_of(const std::string& path, const tfadesk::storage::workspace::Sql& sql) {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(raw, "EXPLAIN QUERY PLAN " + sql.text);
    for (std::size_t i = 0; i < sql.params.size(); ++i)
        q.bind(static_cast<int>(i + 1), sql.params[i]);
    std::string plan;
    while (q.executeStep()) plan += q.getColumn(3).getString() + "\n";
    return plan;
}

}  // namespace

TEST_CASE(
    "ready for approval reads the partial index, not every ticket in identity_check (SPEC §14)") {
    namespace ws = tfadesk::storage::workspace;
    TempDir dir;
    const std::string path = dir.file("desk.db");
    {
        Database db(path, Store::Mode::read_write);
        populate(db);
        open(db, fields("HD-D"), 40);  // identity_check with its three checks passed by a1
        event(db, "HD-D", cmd(EventKind::triage, "a1", 41));
        for (const char* c : {"client_of_record", "number_ownership", "lost_access"})
            event(db, "HD-D", check(c, 42));
    }
    TicketQuery q;
    q.ready_for = "a2";
    for (const auto& sql :
         {ws::count(q, ws::Dialect::sqlite), ws::page(q, "ref", ws::Dialect::sqlite)}) {
        const std::string plan = plan_of(path, sql);
        CHECK_MESSAGE(plan.find("tickets_ready_for_approval") != std::string::npos, sql.text
                                                                                        << "\n"
                                                                                        << plan);
    }
    Database db(path, Store::Mode::read_only);
    CHECK(db.count_tickets(q) == 1);  // HD-D (HD-B was approved already)
    CHECK(db.find_tickets(q).first.at(0).fields.ref == "HD-D");
    q.ready_for = "a1";  // R6: a1 passed its checks
    CHECK(db.count_tickets(q) == 0);
}

TEST_CASE(
    "a sort by time over open (or closed) states reads its (is_open, column, ref) index in order, "
    "with the same tickets") {
    namespace ws = tfadesk::storage::workspace;
    TempDir dir;
    const std::string path = dir.file("desk.db");
    {
        Database db(path, Store::Mode::read_write);
        populate(db);
        open(db, fields("HD-D", Role::unknown, Access::unknown), 20);
        event(db, "HD-D", cmd(EventKind::triage, "a1", 21));  // awaiting_requester, like HD-C
    }
    const std::pair<const char*, const char*> sorts[] = {
        {"due_at", "tickets_open_by_due"},
        {"updated_at", "tickets_open_by_updated"},
        {"submitted_at", "tickets_open_by_submitted"}};
    for (const auto& [sort, index] : sorts) {
        TicketQuery q;
        q.states = {"awaiting_requester"};
        q.sort = sort;
        q.after = std::pair(std::string(), std::string());  // a later page, as the SLA's look
        const std::string plan = plan_of(path, ws::page(q, "ref", ws::Dialect::sqlite));
        CHECK_MESSAGE(plan.find(index) != std::string::npos, sort, "\n", plan);
        CHECK_MESSAGE(plan.find("TEMP B-TREE") == std::string::npos, sort, "\n", plan);
    }
    Database db(path, Store::Mode::read_only);
    TicketQuery waiting;
    waiting.states = {"awaiting_requester"};
    waiting.sort = "updated_at";
    std::vector<std::string> refs;
    for (const auto& t : db.find_tickets(waiting).first) refs.push_back(t.fields.ref);
    CHECK(refs == std::vector<std::string>{"HD-C", "HD-D"});
    waiting.descending = true;
    refs.clear();
    for (const auto& t : db.find_tickets(waiting).first) refs.push_back(t.fields.ref);
    CHECK(refs == std::vector<std::string>{"HD-D", "HD-C"});
    TicketQuery closed;  // none is closed here: an empty page, not an error
    closed.states = {"completed", "cancelled"};
    closed.sort = "updated_at";
    CHECK(db.find_tickets(closed).first.empty());
    CHECK(db.count_tickets(closed) == 0);
}

TEST_CASE("the next event writes a ticket's row as the log says, even where it was edited") {
    TempDir dir;
    const std::string path = dir.file("desk.db");
    Database db(path, Database::Mode::read_write);
    populate(db);
    const auto logged = db.ticket("HD-C");
    REQUIRE(logged);
    {
        SQLite::Database raw(path, SQLite::OPEN_READWRITE);
        raw.setBusyTimeout(5000);
        // An intake column (indexed for search) and a progress column, edited behind the desk.
        raw.exec(
            "UPDATE tickets SET phone = '+10000000000', state = 'completed' WHERE ref = 'HD-C'");
    }
    // It stays open, so the narrow update is tried first: its intake guard must send the edited
    // row to the full upsert, or the phone would stay as edited.
    event(db, "HD-C", cmd(EventKind::claim, "a1", 30));
    const auto c = db.ticket("HD-C");
    CHECK(c->fields == logged->fields);
    CHECK(c->state == "awaiting_requester");
    CHECK(c->assignee == "a1");
    TicketQuery by_phone;
    by_phone.phone_suffix = logged->fields.phone.substr(logged->fields.phone.size() - 6);
    bool found = false;
    for (const auto& t : db.find_tickets(by_phone).first) found |= t.fields.ref == "HD-C";
    CHECK(found);
}
