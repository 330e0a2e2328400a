// The auditors' commands only read (SPEC §4): show, list, history, replay, verify, export, reply
// and access-log open the database read-only and never write - not the file, not a
// -wal/-shm/-journal beside it. Checked two ways: on a copy in a writable folder (file bytes, mtime
// and the folder's listing unchanged), and on a read-only file in a read-only folder. Tests may run
// as root, who ignores permissions: then the read-only-folder case runs the program as an
// unprivileged user when that user can reach it, and otherwise skips only the assertion that a
// write is denied.
#include <doctest/doctest.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <set>

#include "process.hpp"

namespace {

using namespace clitest;
using nlohmann::json;

// The folder's file names, sorted, joined with spaces (so a failed check shows them).
std::string listing(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    std::string out;
    for (const auto& n : names) out += (out.empty() ? "" : " ") + n;
    return out;
}

// A small database built through the CLI: one ticket completed, one waiting, one rejected; and one
// access record.
void build(const Desk& d) {
    auto ok = [](const Result& r) { REQUIRE_MESSAGE(r.code == 0, r.describe()); };
    ok(d.open("RO-1", "client", "no"));
    ok(d.event("RO-1", "triage", "alice"));
    for (const char* c : {"client_of_record", "number_ownership", "lost_access"})
        ok(d.event("RO-1", "check-passed", "alice", {"--check", c}));
    ok(d.event("RO-1", "approve", "bob"));
    ok(d.event("RO-1", "submit-disable", "bob", {"--reference", "WA-1"}));
    ok(d.event("RO-1", "confirm-disabled", "bob"));
    ok(d.open("RO-2", "unknown", ""));
    ok(d.event("RO-2", "triage", "alice"));
    ok(d.open("RO-3", "partner", "no"));
    ok(d.event("RO-3", "triage", "alice"));
    // A read through the server, on the access log (SPEC §12).
    ok(run({SEED_ACCESS_BIN, d.db, "2026-03-01T10:00:00.000Z", "alice", "GET /api/v1/tickets/RO-1",
            "127.0.0.1", "1", "RO-1"}));
}

const std::vector<std::vector<std::string>> kReads = {
    {"show", "RO-1"},
    {"show", "RO-1", "--json"},
    {"list"},
    {"list", "--json"},
    {"list", "--state", "awaiting_requester"},
    {"history", "RO-1"},
    {"history", "RO-1", "--json"},
    {"replay", "RO-1"},
    {"replay", "RO-1", "--json"},
    {"replay", "RO-1", "--as-of", "2099-01-01T00:00:00Z"},
    {"verify"},
    {"verify", "RO-2"},
    {"export"},
    {"export", "--format", "csv"},
    {"reply", "RO-1"},
    {"reply", "RO-3", "--json"},
    {"access-log"},
    {"access-log", "--ref", "RO-1", "--json"},
};

// A copy of `source` as FOLDER/audit.db in a fresh temp folder; with `read_only`, the file made
// 0444 and FOLDER 0555. The temp folder above is made traversable for an unprivileged user.
struct AuditCopy {
    TempDir top;
    fs::path folder = top.path() / "audit";
    std::string db = (folder / "audit.db").string();

    AuditCopy(const std::string& source, bool read_only) {
        fs::create_directory(folder);
        fs::copy_file(source, db);
        fs::permissions(top.path(), fs::perms::group_exec | fs::perms::others_exec,
                        fs::perm_options::add);
        if (!read_only) return;
        fs::permissions(db, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
        fs::permissions(folder, fs::perms::owner_read | fs::perms::owner_exec |
                                    fs::perms::group_read | fs::perms::group_exec |
                                    fs::perms::others_read | fs::perms::others_exec);
    }
};

// Runs every read command, each on its own fresh copy of `source`, and checks that each works and
// that afterwards the file's bytes and mtime and the folder's listing are what they were.
void run_reads(const std::string& source, bool read_only, const RunOptions& opt = {}) {
    for (const auto& args : kReads) {
        std::string cmd;
        for (const auto& a : args) cmd += a + " ";
        CAPTURE(cmd);
        const AuditCopy c(source, read_only);
        const std::string bytes = slurp(c.db);
        const auto mtime = mtime_ns(c.db);
        REQUIRE(listing(c.folder) == "audit.db");
        const Result r = tfadesk(c.db, args, opt);
        INFO(r.describe());
        CHECK(r.code == 0);
        CHECK_FALSE(r.out.empty());
        CHECK(r.err.empty());
        CHECK(listing(c.folder) == "audit.db");  // no -wal, -shm or -journal left behind
        CHECK(mtime_ns(c.db) == mtime);
        CHECK(slurp(c.db) == bytes);
    }
    // What the reads said is right, not just that they ran.
    const AuditCopy c(source, read_only);
    const Result show = tfadesk(c.db, {"show", "RO-1", "--json"}, opt);
    REQUIRE(show.code == 0);
    CHECK(json::parse(show.out).at("state") == "completed");
    const Result list = tfadesk(c.db, {"list", "--state", "awaiting_requester"}, opt);
    CHECK(list.out_lines().size() == 1);
    CHECK(list.out.rfind("RO-2\t", 0) == 0);
    const Result exp = tfadesk(c.db, {"export"}, opt);
    CHECK(exp.out_lines().size() == 12);
    CHECK(tfadesk(c.db, {"verify"}, opt).code == 0);
}

// A write command on a database it may not write: refused with one line, file untouched.
void expect_write_denied(const std::string& source, const RunOptions& opt) {
    const AuditCopy c(source, true);
    const std::string& db = c.db;
    const std::string bytes = slurp(db);
    const auto mtime = mtime_ns(db);
    const auto names = listing(fs::path(db).parent_path());
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"event", "RO-2", "cancel", "--note", "withdrawn", "--agent", "alice"},
             {"open", "--ref", "RO-9", "--phone", "+4915123456789", "--client-id", "c",
              "--requester-email", "a@b.example", "--role", "client", "--agent", "alice"},
             {"sweep", "--agent", "ops"}}) {
        CAPTURE(args[0]);
        const Result r = tfadesk(db, args, opt);
        INFO(r.describe());
        CHECK(r.code != 0);
        CHECK(r.err_lines().size() == 1);
        CHECK(r.err.rfind("tfadesk: error: ", 0) == 0);
        CHECK(slurp(db) == bytes);
        CHECK(mtime_ns(db) == mtime);
        CHECK(listing(fs::path(db).parent_path()) == names);
    }
}

// The unprivileged user to run as when we are root, if it can reach the program.
std::optional<std::pair<uid_t, gid_t>> unprivileged_user() {
    const passwd* pw = getpwnam("nobody");
    if (!pw) return std::nullopt;
    RunOptions o;
    o.uid = pw->pw_uid;
    o.gid = pw->pw_gid;
    if (run({TFADESK_BIN, "--version"}, o).code != 0) return std::nullopt;
    return std::make_pair(pw->pw_uid, pw->pw_gid);
}

}  // namespace

TEST_CASE(
    "read-only commands never write: a copy in a writable folder keeps its bytes and mtime, and "
    "gains no files") {
    Desk d;
    build(d);
    run_reads(d.db, false);
}

TEST_CASE(
    "read-only commands work on a read-only file in a read-only folder; a write there fails with "
    "one line") {
    Desk d;
    build(d);
    RunOptions as;
    bool can_deny = geteuid() != 0;
    if (!can_deny) {
        // Root writes anyway: run as an unprivileged user when it can reach the program.
        fs::permissions(d.dir.path(), fs::perms::group_exec | fs::perms::others_exec,
                        fs::perm_options::add);
        if (const auto user = unprivileged_user()) {
            as.uid = user->first;
            as.gid = user->second;
            can_deny = true;
            MESSAGE("running as root: the read-only folder is also tried as user 'nobody' (uid ",
                    user->first, ")");
        }
    }
    SUBCASE("reads as whoever we are (root included)") { run_reads(d.db, true); }
    SUBCASE("reads as an unprivileged user") {
        if (as.uid || geteuid() != 0) run_reads(d.db, true, as);
    }
    SUBCASE("a write is denied") {
        if (can_deny)
            expect_write_denied(d.db, as);
        else
            MESSAGE(
                "running as root without an unprivileged user: the permission-denied check is "
                "skipped");
    }
}

namespace {

// Leaves a WAL behind as a crashed writer would: a child process commits `sql` in WAL mode with
// automatic checkpoints off and dies before it closes the database.
void crash_after(const std::string& db, const std::string& sql) {
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        sqlite3* h = nullptr;
        if (sqlite3_open(db.c_str(), &h) != SQLITE_OK) _exit(2);
        sqlite3_exec(h, "PRAGMA wal_autocheckpoint=0", nullptr, nullptr, nullptr);
        if (sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) _exit(3);
        _exit(0);  // no close: the WAL stays, as after a power cut
    }
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
}

}  // namespace

TEST_CASE("reads see a crashed writer's WAL and never checkpoint it into the main file (SPEC §6)") {
    Desk d;
    build(d);
    crash_after(d.db, "UPDATE tickets SET note = 'only in the wal' WHERE ref = 'RO-2'");
    REQUIRE(fs::exists(d.db + "-wal"));
    REQUIRE(fs::file_size(d.db + "-wal") > 0);
    const std::string main_bytes = slurp(d.db), wal_bytes = slurp(d.db + "-wal");
    const auto mtime = mtime_ns(d.db);
    const Result show = tfadesk(d.db, {"show", "RO-2", "--json"});
    REQUIRE_MESSAGE(show.code == 0, show.describe());
    CHECK(json::parse(show.out).at("note") == "only in the wal");  // read with its WAL
    const Result verify = tfadesk(d.db, {"verify"});
    CHECK(verify.code == 6);  // the WAL's edit of the cache row is seen and named
    CHECK(verify.out.find("ticket RO-2: the ticket row's note disagrees") != std::string::npos);
    CHECK(slurp(d.db) == main_bytes);
    CHECK(mtime_ns(d.db) == mtime);
    CHECK(slurp(d.db + "-wal") == wal_bytes);
}
