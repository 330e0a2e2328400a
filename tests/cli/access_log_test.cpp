// `tfadesk access-log` (SPEC §12) through the real program: the records in time order, the --ref,
// --agent and --since filters alone and together, the text lines and the --json document, the exit
// codes, and a desk from before the access log (read as having none, and left as it was). The
// records are appended through the store by cli_seed_access, as the server's writer appends them.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "../store/schema_undo.hpp"
#include "expect.hpp"

namespace {

using namespace clitest;
using nlohmann::json;

const std::string kT1 = "2026-03-01T10:00:01.000Z", kT2 = "2026-03-01T10:00:02.000Z",
                  kT3 = "2026-03-01T10:00:03.250Z";

void seed(const Desk& d, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {SEED_ACCESS_BIN, d.db};
    argv.insert(argv.end(), args.begin(), args.end());
    const Result r = run(argv);
    REQUIRE_MESSAGE(r.code == 0, r.describe());
}

// A desk with one ticket and three records, appended out of time order.
void build(const Desk& d) {
    const Result r = d.open("HD-1", "client", "no");
    REQUIRE_MESSAGE(r.code == 0, r.describe());
    seed(d, {kT2, "bob", "GET /api/v1/tickets", "127.0.0.1", "2", "HD-1", "HD-2"});
    seed(d, {kT1, "alice", "GET /api/v1/tickets/HD-1", "::1", "1", "HD-1"});
    seed(d, {kT3, "alice", "GET /api/v1/tickets/HD-2/history", "10.0.0.7", "1", "HD-2"});
}

// stdout of a run that must succeed, as lines.
std::vector<std::string> lines(const Desk& d, const std::vector<std::string>& args) {
    const Result r = d(args);
    INFO(r.describe());
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    return r.out_lines();
}

// The account of each text line (the second column), in order.
std::vector<std::string> accounts_of(const std::vector<std::string>& ls) {
    std::vector<std::string> out;
    for (const auto& l : ls) out.push_back(split(l, '\t').at(1));
    return out;
}

using Names = std::vector<std::string>;

}  // namespace

TEST_CASE("access-log: every record in time order, as tab-separated lines and as --json") {
    Desk d;
    build(d);
    const auto all = lines(d, {"access-log"});
    REQUIRE(all.size() == 3);
    CHECK(all[0] == kT1 + "\talice\tGET /api/v1/tickets/HD-1\t1\tHD-1\t::1");
    CHECK(all[1] == kT2 + "\tbob\tGET /api/v1/tickets\t2\tHD-1,HD-2\t127.0.0.1");
    CHECK(all[2] == kT3 + "\talice\tGET /api/v1/tickets/HD-2/history\t1\tHD-2\t10.0.0.7");

    const Result r = d({"access-log", "--json"});
    REQUIRE_MESSAGE(r.code == 0, r.describe());
    const json j = json::parse(r.out);
    REQUIRE(j.is_array());
    REQUIRE(j.size() == 3);
    CHECK(j[1] == json{{"at", kT2},
                       {"account", "bob"},
                       {"route", "GET /api/v1/tickets"},
                       {"refs", {"HD-1", "HD-2"}},
                       {"ref_count", 2},
                       {"client", "127.0.0.1"}});
    CHECK(j[0]["account"] == "alice");
    CHECK(j[2]["at"] == kT3);
}

TEST_CASE("access-log: --ref, --agent and --since filter, alone and together") {
    Desk d;
    build(d);
    CHECK(accounts_of(lines(d, {"access-log", "--ref", "HD-2"})) == Names{"bob", "alice"});
    CHECK(accounts_of(lines(d, {"access-log", "--ref", "HD-1"})) == Names{"alice", "bob"});
    CHECK(lines(d, {"access-log", "--ref", "HD-3"}).empty());
    CHECK(accounts_of(lines(d, {"access-log", "--agent", "alice"})) == Names{"alice", "alice"});
    CHECK(accounts_of(lines(d, {"access-log", "--agent", " Bob "})) ==
          Names{"bob"});  // the account's own spelling
    CHECK(lines(d, {"access-log", "--agent", "carol"}).empty());
    // At or after; the time may leave out the milliseconds.
    CHECK(lines(d, {"access-log", "--since", "2026-03-01T10:00:02Z"}).size() == 2);
    CHECK(lines(d, {"access-log", "--since", "2026-03-01T10:00:02.001Z"}).size() == 1);
    CHECK(lines(d, {"access-log", "--since", "2026-03-01T10:00:04Z"}).empty());
    CHECK(accounts_of(lines(d, {"access-log", "--ref", "HD-1", "--agent", "bob", "--since",
                                kT2})) == Names{"bob"});
    CHECK(lines(d, {"access-log", "--ref", "HD-1", "--agent", "alice", "--since", kT2}).empty());
    const Result none = d({"access-log", "--ref", "HD-3", "--json"});
    CHECK(none.code == 0);
    CHECK(none.out == "[]\n");
    const Result some = d({"access-log", "--agent", "alice", "--since", kT2, "--json"});
    REQUIRE(some.code == 0);
    const json j = json::parse(some.out);
    REQUIRE(j.size() == 1);
    CHECK(j[0]["route"] == "GET /api/v1/tickets/HD-2/history");
}

TEST_CASE(
    "access-log: exit codes - 2 for a bad flag, naming it; 1 without a database, creating none") {
    Desk d;
    build(d);
    for (const char* bad : {"yesterday", "2026-13-01T00:00:00Z", "2026-03-01"}) {
        const Result r = d({"access-log", "--since", bad});
        expect_error(r, 2);
        CHECK_MESSAGE(contains(r.err, "--since"), r.describe());
    }
    const Result agent = d({"access-log", "--agent", "not a name!"});
    expect_error(agent, 2);
    CHECK(contains(agent.err, "--agent"));
    CHECK(d({"access-log", "--colour", "blue"}).code == 2);
    CHECK(d({"access-log", "HD-1"}).code == 2);

    Desk empty;
    expect_error(empty({"access-log"}), 1);
    CHECK_FALSE(fs::exists(empty.db));
}

TEST_CASE(
    "access-log: a desk from before the access log has none, and reading it changes nothing") {
    Desk d;
    REQUIRE(d.open("HD-1", "client", "no").code == 0);
    REQUIRE_MESSAGE(
        sqlite(
            d.db,
            std::string(schema_undo::kSqliteWorkspace) +
                "DROP TABLE access_log; DROP TABLE access_log_refs; DROP INDEX tickets_by_phone; "
                "DROP INDEX tickets_by_email; PRAGMA user_version = 3;")
                .code == 0,
        "schema 3");
    const auto before = mtime_ns(d.db);
    CHECK(lines(d, {"access-log"}).empty());
    CHECK(d({"access-log", "--ref", "HD-1", "--json"}).out == "[]\n");
    CHECK(sqlite(d.db, "PRAGMA user_version").out == "3\n");
    CHECK(mtime_ns(d.db) == before);
    // The next write migrates it; records can be appended and read again.
    REQUIRE(d.event("HD-1", "triage", "alice").code == 0);
    CHECK(sqlite(d.db, "PRAGMA user_version").out ==
          "7\n");  // the current schema (7: the ready index, SPEC §14)
    seed(d, {kT1, "alice", "GET /api/v1/tickets/HD-1", "::1", "1", "HD-1"});
    CHECK(accounts_of(lines(d, {"access-log", "--ref", "HD-1"})) == Names{"alice"});
    CHECK(d({"verify"}).code == 0);
}
