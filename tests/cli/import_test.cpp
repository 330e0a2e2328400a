// `tfadesk import` through the real binary (SPEC §5): counts and physical line numbers of
// rejected rows, the --rejects round trip, --dry-run, --strict, an unknown column, re-import,
// JSON Lines, and --triage through the same machine. Expected values are worked out by hand from
// the files written here.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "process.hpp"

using namespace clitest;

namespace {

const std::string kHeader =
    "ref,phone,client_id,requester_email,requester_role,portfolio_access,note\n";

// Line 1 header; line 2 ok; lines 3-4 one record with an embedded newline (ok); line 5 bad
// phone; line 6 ok; line 7 bad role; line 8 duplicate of line 2's ref.
const std::string kFile =
    kHeader +
    "IM-1,+49 151 2345 6789,c1,a@x.example,client,no,plain\n"
    "IM-2,+4915123456780,c2,b@x.example,partner,yes,\"two\nlines, \"\"quoted\"\"\"\n"
    "IM-3,0151 2345,c3,c@x.example,client,no,\n"
    "IM-4,+33612345678,c4,d@x.example,portfolio_admin,yes,\n"
    "IM-5,+33612345679,c5,e@x.example,reseller,no,\n"
    "IM-1,+49 151 2345 6789,c1,a@x.example,client,no,again\n";

std::string count_tickets(const std::string& db) {
    return sqlite(db, "SELECT count(*) FROM tickets").out;
}

}  // namespace

TEST_CASE("import reports each bad row at the line where its record starts and imports the rest") {
    TempDir dir;
    const std::string db = dir / "desk.db", csv = dir / "in.csv", rejects = dir / "rejects.csv";
    spit(csv, kFile);
    const Result r = tfadesk(db, {"import", csv, "--agent", "ops", "--rejects", rejects});
    CHECK_MESSAGE(r.code == 2, r.describe());
    CHECK(r.out == "imported 3, duplicates 1, rejected 2\n");
    CHECK(contains(r.err, csv + ":5: phone"));
    CHECK(contains(r.err, csv + ":7: requester_role"));
    CHECK(count_tickets(db) == "3\n");
    const Result show = tfadesk(db, {"show", "IM-2", "--json"});
    REQUIRE(show.code == 0);
    CHECK(nlohmann::json::parse(show.out)["note"] == "two\nlines, \"quoted\"");

    SUBCASE("the rejects file holds the rows unchanged plus an error column; fixed, it imports") {
        const std::string text = slurp(rejects);
        CHECK(contains(text, "IM-3,0151 2345,c3,c@x.example,client,no,"));
        CHECK(contains(text, "IM-5,+33612345679,c5,e@x.example,reseller,no,"));
        CHECK(lines_of(text).front() ==
              "ref,phone,client_id,requester_email,requester_role,portfolio_access,note,error");
        // The operator fixes both rows and drops the error column.
        spit(dir / "fixed.csv", kHeader +
                                    "IM-3,+49 151 2345 0000,c3,c@x.example,client,no,\n"
                                    "IM-5,+33612345679,c5,e@x.example,client,no,\n");
        const Result again = tfadesk(db, {"import", dir / "fixed.csv", "--agent", "ops"});
        CHECK_MESSAGE(again.code == 0, again.describe());
        CHECK(again.out == "imported 2, duplicates 0, rejected 0\n");
        CHECK(count_tickets(db) == "5\n");
    }
    SUBCASE("importing the same file again imports nothing") {
        const Result again = tfadesk(db, {"import", csv, "--agent", "ops"});
        CHECK(again.code == 2);
        CHECK(again.out == "imported 0, duplicates 4, rejected 2\n");
        CHECK(count_tickets(db) == "3\n");
    }
    CHECK(tfadesk(db, {"verify"}).code == 0);
}

TEST_CASE("--dry-run counts exactly as an import would and writes nothing") {
    TempDir dir;
    const std::string db = dir / "desk.db", csv = dir / "in.csv";
    spit(csv, kFile);
    const Result dry = tfadesk(db, {"import", csv, "--agent", "ops", "--dry-run"});
    CHECK(dry.code == 2);
    CHECK(dry.out == "imported 3, duplicates 1, rejected 2\n");
    CHECK_FALSE(fs::exists(db));
}

TEST_CASE("--strict: one bad row rejects the whole file") {
    TempDir dir;
    const std::string db = dir / "desk.db", csv = dir / "in.csv";
    spit(csv, kFile);
    const Result r = tfadesk(db, {"import", csv, "--agent", "ops", "--strict"});
    CHECK(r.code == 2);
    CHECK(r.out == "imported 0, duplicates 1, rejected 2\n");
    CHECK(tfadesk(db, {"list"}).out.empty());
}

TEST_CASE("an unknown column rejects the whole file before anything is written") {
    TempDir dir;
    const std::string db = dir / "desk.db", csv = dir / "in.csv";
    spit(csv,
         "ref,phone,client_id,requester_email,requester_role,colour\nIM-1,+4915123456789,c,a@x."
         "example,client,red\n");
    const Result r = tfadesk(db, {"import", csv, "--agent", "ops"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "colour"));
    CHECK((!fs::exists(db) || tfadesk(db, {"list"}).out.empty()));
}

TEST_CASE(
    "JSON Lines with --triage: each ticket goes through the machine, agent and submitted_at kept") {
    TempDir dir;
    const std::string db = dir / "desk.db", file = dir / "in.jsonl";
    spit(file,
         "{\"ref\":\"J-1\",\"phone\":\"+4915123456789\",\"client_id\":\"c\",\"requester_email\":"
         "\"a@x.example\","
         "\"requester_role\":\"client\",\"portfolio_access\":\"no\",\"submitted_at\":\"2026-11-"
         "20T09:15:00Z\"}\n"
         "\n"
         "{\"ref\":\"J-2\",\"phone\":\"+4915123456788\",\"client_id\":\"c\",\"requester_email\":"
         "\"b@x.example\","
         "\"requester_role\":\"partner\"}\n"
         "{\"ref\":\"J-3\",\"phone\":12,\"client_id\":\"c\"}\n");
    const Result r = tfadesk(db, {"import", file, "--agent", "ops", "--triage"});
    CHECK(r.code == 2);
    CHECK(r.out == "imported 2, duplicates 0, rejected 1\n");
    CHECK(contains(r.err, file + ":4:"));
    const auto j1 = nlohmann::json::parse(tfadesk(db, {"show", "J-1", "--json"}).out);
    CHECK(j1["state"] == "identity_check");
    CHECK(j1["version"] == 2);
    CHECK(j1["submitted_at"] == "2026-11-20T09:15:00Z");
    CHECK(nlohmann::json::parse(tfadesk(db, {"show", "J-2", "--json"}).out)["state"] ==
          "partner_rejected");
    const auto history = nlohmann::json::parse(tfadesk(db, {"history", "J-1", "--json"}).out);
    REQUIRE(history.size() == 2);
    CHECK(history[0]["agent"] == "ops");
    CHECK(history[1]["event"] == "triage");
    CHECK(history[1]["agent"] == "ops");
}
