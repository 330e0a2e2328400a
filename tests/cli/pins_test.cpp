// Pins the desk layer asks for (SPEC §3, §4), through the real `tfadesk` program: the rule each
// refusal names; what `show --json` says a ticket waits for in each state; the stats median over
// an odd and an even number of completed tickets, worked out from the log's own times; flags an
// event does not use; malformed --expect-version and --expect-head; and database paths that are
// not a file on disk refused for writes. Expected values are typed in by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <tuple>

#include "log_forge.hpp"
#include "spec_words.hpp"

namespace {

using namespace clitest;
using nlohmann::json;

json show_json(const Desk& d, const std::string& ref) {
    const Result r = d({"show", ref, "--json"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    return json::parse(r.out);
}

std::string head_of(const Desk& d) {
    const Result r = d({"verify"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    return r.out_lines().back();
}

void ok(const Result& r) {
    INFO(r.describe());
    REQUIRE(r.code == 0);
}

// Tickets brought to each state of §3 (bob approves: alice records every check).
void to_identity_check(const Desk& d, const std::string& ref) {
    ok(d.open(ref, "client", "no"));
    ok(d.event(ref, "triage", "alice"));
}
void to_checked(const Desk& d, const std::string& ref) {
    to_identity_check(d, ref);
    for (const auto& c : kChecks) ok(d.event(ref, "check-passed", "alice", {"--check", c}));
}
void to_approved(const Desk& d, const std::string& ref) {
    to_checked(d, ref);
    ok(d.event(ref, "approve", "bob"));
}
void to_submitted(const Desk& d, const std::string& ref) {
    to_approved(d, ref);
    ok(d.event(ref, "submit-disable", "bob", {"--reference", "WA-1"}));
}
void to_completed(const Desk& d, const std::string& ref) {
    to_submitted(d, ref);
    ok(d.event(ref, "confirm-disabled", "bob"));
}

// Refused: exit 3, one line on stderr naming `rule` and `state`, and nothing written.
void expect_refused(const Desk& d, const Result& r, const std::string& head,
                    const std::string& rule, const std::string& state) {
    INFO("expected a refusal by ", rule, " in ", state, "\n", r.describe());
    CHECK(r.code == 3);
    CHECK(r.out.empty());
    CHECK(r.err_lines().size() == 1);
    CHECK(has_word(r.err, rule));
    CHECK(has_word(r.err, state));
    CHECK(head_of(d) == head);
}

}  // namespace

TEST_CASE("pins: each refusal names its rule (R2 R3 R4 R5 R6 R8)") {
    Desk d;
    to_checked(d, "IC");                // identity_check, all three checks passed by alice
    to_submitted(d, "SUB");             // disable_submitted
    ok(d.open("REC", "client", "no"));  // received
    to_identity_check(d, "IC2");
    ok(d.event("IC2", "check-passed", "alice", {"--check", "client_of_record"}));
    ok(d.event("IC2", "check-passed", "alice", {"--check", "number_ownership"}));
    to_approved(d, "APP");
    const std::string head = head_of(d);

    SUBCASE("R2: triage and update only from received or awaiting_requester") {
        expect_refused(d, d.event("IC", "triage", "carol"), head, "R2", "identity_check");
        expect_refused(d, d.event("APP", "triage", "carol"), head, "R2", "approved");
        expect_refused(d, d.event("IC", "update", "carol", {"--role", "partner"}), head, "R2",
                       "identity_check");
        expect_refused(d, d.event("SUB", "update", "carol", {"--note", "x"}), head, "R2",
                       "disable_submitted");
    }
    SUBCASE("R3: partner-detected outside awaiting_requester, identity_check and approved") {
        expect_refused(d, d.event("REC", "partner-detected", "carol"), head, "R3", "received");
        expect_refused(d, d.event("SUB", "partner-detected", "carol"), head, "R3",
                       "disable_submitted");
    }
    SUBCASE("R4: submit-disable without a non-empty reference") {
        for (const auto& flags :
             std::vector<std::vector<std::string>>{{},
                                                   {"--reference", ""},
                                                   {"--reference", "\n"},
                                                   {"--reference", "   "},
                                                   {"--reference", "\xC2\xA0"},         // U+00A0
                                                   {"--reference", "\xE2\x80\x8B"}}) {  // U+200B
            CAPTURE(flags.size() > 1 ? flags[1] : "(none)");
            expect_refused(d, d.event("APP", "submit-disable", "bob", flags), head, "R4",
                           "approved");
        }
    }
    SUBCASE("R5: approve with a check missing") {
        expect_refused(d, d.event("IC2", "approve", "bob"), head, "R5", "identity_check");
        CHECK(has_word(d.event("IC2", "approve", "bob").err, "lost_access"));
    }
    SUBCASE("R6: the approver recorded a check") {
        expect_refused(d, d.event("IC", "approve", "alice"), head, "R6", "identity_check");
        expect_refused(d, d.event("IC", "approve", " ALICE"), head, "R6", "identity_check");
    }
}

TEST_CASE("pins: R8 - every event on every terminal ticket is refused") {
    Desk d;
    ok(d.open("SSA", "client", "yes"));
    ok(d.event("SSA", "triage", "alice"));  // self_service_advised
    to_completed(
        d,
        "DONE");  // before PR: a partner rejected on the same phone would need R9's acknowledgement
    ok(d.open("PR", "partner", "no"));
    ok(d.event("PR", "triage", "alice"));  // partner_rejected
    to_identity_check(d, "IR");
    ok(d.event("IR", "check-failed", "alice", {"--check", "lost_access", "--note", "no proof"}));
    ok(d.open("CAN", "client", "no"));
    ok(d.event("CAN", "cancel", "alice", {"--note", "withdrawn"}));
    ok(d.open("EXP", "unknown", "", "alice", {"--submitted-at", "2020-01-01T00:00:00Z"}));
    ok(d.event("EXP", "triage", "alice"));
    ok(d({"sweep", "--agent", "night"}, later("+8d")));
    const std::vector<std::pair<std::string, std::string>> terminal = {
        {"SSA", "self_service_advised"}, {"PR", "partner_rejected"}, {"IR", "identity_rejected"},
        {"DONE", "completed"},           {"CAN", "cancelled"},       {"EXP", "expired"}};
    const std::string head = head_of(d);
    for (const auto& [ref, state] : terminal) {
        REQUIRE(show_json(d, ref).at("state") == state);
        for (const auto& ev : kEvents) {
            CAPTURE(ref);
            CAPTURE(ev);
            expect_refused(d, d.event(ref, ev, "carol", valid_flags(ev)), head, "R8", state);
        }
    }
}

TEST_CASE("pins: show --json says what the ticket waits for, in each state") {
    Desk d;
    const std::string closed = "nothing: the ticket is closed";
    auto waits = [&](const std::string& ref) {
        return show_json(d, ref).at("waiting_for").get<std::string>();
    };
    ok(d.open("REC", "client", "no"));
    CHECK(waits("REC") == "triage");
    ok(d.open("AW", "unknown", "unknown"));
    ok(d.event("AW", "triage", "alice"));
    CHECK(waits("AW") == "the requester's answer (role or portfolio access unknown)");
    to_identity_check(d, "IC");
    CHECK(waits("IC") == "client_of_record, number_ownership, lost_access checks");
    ok(d.event("IC", "check-passed", "alice", {"--check", "number_ownership"}));
    CHECK(waits("IC") == "client_of_record, lost_access checks");
    ok(d.event("IC", "check-passed", "alice", {"--check", "client_of_record"}));
    CHECK(waits("IC") == "lost_access check");
    ok(d.event("IC", "check-passed", "alice", {"--check", "lost_access"}));
    CHECK(waits("IC") == "approval by an agent who recorded none of the checks");
    ok(d.event("IC", "approve", "bob"));
    CHECK(waits("IC") == "the disable to be submitted in WhatsApp Manager (with its reference)");
    ok(d.event("IC", "submit-disable", "bob", {"--reference", "WA-1"}));
    CHECK(waits("IC") == "confirmation that 2FA was disabled");
    ok(d.event("IC", "confirm-disabled", "bob"));
    CHECK(waits("IC") == closed);
    // The other terminal states.
    ok(d.open("SSA", "portfolio_admin", "yes"));
    ok(d.event("SSA", "triage", "alice"));
    CHECK(waits("SSA") == closed);
    ok(d.open("PR", "partner", "yes"));
    ok(d.event("PR", "triage", "alice"));
    CHECK(waits("PR") == closed);
    to_identity_check(d, "IR");
    ok(d.event("IR", "check-failed", "alice", {"--check", "number_ownership", "--note", "no SMS"}));
    CHECK(waits("IR") == closed);
    ok(d.event("REC", "cancel", "alice", {"--note", "withdrawn"}));
    CHECK(waits("REC") == closed);
    CHECK(d.event("AW", "expire", "alice").code == 3);  // not waited long enough (R7)
    CHECK(waits("AW") == "the requester's answer (role or portfolio access unknown)");
    ok(d.open("EXP", "unknown", "", "alice", {"--submitted-at", "2020-01-01T00:00:00Z"}));
    ok(d.event("EXP", "triage", "alice"));
    ok(d({"sweep", "--agent", "night"}, later("+8d")));
    REQUIRE(show_json(d, "EXP").at("state") == "expired");
    CHECK(waits("EXP") == closed);
}

TEST_CASE("pins: stats --json median open-to-completed over an odd and an even count") {
    Desk d;
    // Open -> completed times come from the log: the `at` of a ticket's first and last entries.
    auto duration = [&](const std::string& ref) {
        const Result r = d({"history", ref, "--json"});
        INFO(r.describe());
        REQUIRE(r.code == 0);
        const json h = json::parse(r.out);
        REQUIRE(h.back().at("state") == "completed");
        return *parse_utc_ms(h.back().at("at")) - *parse_utc_ms(h.front().at("at"));
    };
    auto stats = [&] {
        const Result r = d({"stats", "--json"});
        INFO(r.describe());
        REQUIRE(r.code == 0);
        return json::parse(r.out);
    };
    for (const char* ref : {"A", "B", "C", "D"}) {
        ok(d.open(ref, "client", "no"));
        sleep_ms(15);
    }
    ok(d.open("E", "client", "no"));
    ok(d.event("E", "cancel", "alice", {"--note", "not completed: not counted"}));
    CHECK(stats().at("median_open_to_completed_ms").is_null());  // none completed yet
    CHECK(stats().at("completed") == 0);

    std::vector<std::int64_t> done;
    for (const char* ref : {"A", "B", "C", "D"}) {
        CAPTURE(ref);
        ok(d.event(ref, "triage", "alice"));
        for (const auto& c : kChecks) ok(d.event(ref, "check-passed", "alice", {"--check", c}));
        ok(d.event(ref, "approve", "bob"));
        ok(d.event(ref, "submit-disable", "bob", {"--reference", "WA-1"}));
        sleep_ms(7 * static_cast<long>(done.size() + 1));  // durations that differ
        ok(d.event(ref, "confirm-disabled", "bob"));
        done.push_back(duration(ref));
        std::vector<std::int64_t> sorted = done;
        std::sort(sorted.begin(), sorted.end());
        const json s = stats();
        CHECK(s.at("completed") == done.size());
        REQUIRE(s.at("median_open_to_completed_ms").is_number_integer());
        const auto median = s.at("median_open_to_completed_ms").get<std::int64_t>();
        const std::size_t n = sorted.size();
        if (n % 2 == 1) {
            CHECK(median == sorted[n / 2]);  // the middle one
        } else {
            // The mean of the two middle ones (to the millisecond).
            const double mean =
                (static_cast<double>(sorted[n / 2 - 1]) + static_cast<double>(sorted[n / 2])) / 2;
            CHECK(std::fabs(static_cast<double>(median) - mean) <= 0.5);
            CHECK(sorted[n / 2 - 1] != sorted[n / 2]);  // the case is not trivial
        }
    }
    CHECK(done.size() == 4);
}

TEST_CASE("pins: a flag the event does not use is exit 2, and nothing is stored") {
    Desk d;
    ok(d.open("HD-1", "client", "no"));
    to_identity_check(d, "HD-2");
    const std::string head = head_of(d);
    for (const auto& [ref, ev, flags] :
         std::vector<std::tuple<std::string, std::string, std::vector<std::string>>>{
             {"HD-1", "triage", {"--reference", "X"}},
             {"HD-1", "triage", {"--check", "lost_access"}},
             {"HD-1", "triage", {"--role", "client"}},
             {"HD-2", "check-passed", {"--check", "lost_access", "--role", "client"}},
             {"HD-2", "check-passed", {"--check", "lost_access", "--access", "yes"}},
             {"HD-2",
              "check-passed",
              {"--check", "lost_access", "--requester-email", "a@b.example"}},
             {"HD-2", "check-passed", {"--check", "lost_access", "--reference", "X"}},
             {"HD-2", "cancel", {"--note", "x", "--check", "lost_access"}},
             {"HD-1", "update", {"--reference", "X"}}}) {
        CAPTURE(ev);
        CAPTURE(flags[0]);
        const Result r = d.event(ref, ev, "alice", flags);
        INFO(r.describe());
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        CHECK(head_of(d) == head);
    }
}

TEST_CASE("pins: --expect-version must be a decimal count that fits (exit 2)") {
    Desk d;
    ok(d.open("HD-1", "client", "no"));
    const std::string head = head_of(d);
    for (const std::string bad :
         {"-1", "abc", "99999999999999999999", "", "1.0", "+1", " 1", "0x1"}) {
        CAPTURE(bad);
        const Result r = d.event("HD-1", "triage", "alice", {"--expect-version", bad});
        INFO(r.describe());
        CHECK(r.code == 2);
        CHECK(head_of(d) == head);
    }
    CHECK(d.event("HD-1", "triage", "alice", {"--expect-version", "2"}).code == 5);
    CHECK(d.event("HD-1", "triage", "alice", {"--expect-version", "1"}).code == 0);
}

TEST_CASE("pins: --expect-head takes a decimal seq and 64 hex digits in either case") {
    Desk d;
    ok(d.open("HD-1", "client", "no"));
    ok(d.event("HD-1", "triage", "alice"));
    const auto log = read_log(d.db);
    REQUIRE(log.size() == 2);
    std::string upper = log[1].hash;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    REQUIRE(upper != log[1].hash);
    for (const std::string& ok_head : {"2:" + log[1].hash, "2:" + upper, "1:" + log[0].hash}) {
        CAPTURE(ok_head);
        const Result r = d({"verify", "--expect-head", ok_head});
        INFO(r.describe());
        CHECK(r.code == 0);
    }
    for (const std::string& bad :
         {"0x2:" + log[1].hash, "+2:" + log[1].hash, "-2:" + log[1].hash, "two:" + log[1].hash,
          ":" + log[1].hash, " 2:" + log[1].hash, "2.0:" + log[1].hash,
          "2:" + log[1].hash.substr(1), "2:" + log[1].hash + "0", "2:" + std::string(63, '0') + "g",
          "2" + log[1].hash, "\xEF\xBC\x92:" + log[1].hash}) {  // U+FF12
        CAPTURE(bad);
        const Result r = d({"verify", "--expect-head", bad});
        INFO(r.describe());
        CHECK(r.code == 2);
    }
    // A well-formed head that the log does not hold is an integrity failure, not bad input.
    CHECK(d({"verify", "--expect-head", "2:" + std::string(64, 'a')}).code == 6);
}

TEST_CASE("pins: a database that is not a file on disk is refused for writes (exit 2)") {
    TempDir dir;
    RunOptions in_dir;
    in_dir.cwd = dir.path();
    const std::vector<std::string> args = {"open",
                                           "--ref",
                                           "HD-1",
                                           "--phone",
                                           "+4915123456789",
                                           "--client-id",
                                           "acme",
                                           "--requester-email",
                                           "ops@acme.example",
                                           "--role",
                                           "client",
                                           "--agent",
                                           "alice"};
    for (const std::string db : {"", ":memory:", "file::memory:", "file:x?mode=memory",
                                 "file:desk.db?mode=memory&cache=shared"}) {
        CAPTURE(db);
        const Result r = tfadesk(db, args, in_dir);
        INFO(r.describe());
        CHECK(r.code == 2);
        CHECK(r.out.empty());
        RunOptions env = in_dir;
        env.env = {{"TFADESK_DB", db}};
        if (!db.empty()) {
            std::vector<std::string> bare = {TFADESK_BIN};
            bare.insert(bare.end(), args.begin(), args.end());
            const Result e = run(bare, env);
            INFO(e.describe());
            CHECK(e.code == 2);
        }
    }
    CHECK(fs::is_empty(dir.path()));  // nothing was created, anywhere
}

TEST_CASE("pins: diagram --ticket highlights exactly the path the ticket took") {
    Desk d;
    ok(d.open("D-1", "partner", "no"));
    ok(d.event("D-1", "triage", "alice"));
    const Result r = d({"diagram", "--ticket", "D-1"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    // SPEC §3: a partner's request goes from received straight to partner_rejected at triage.
    std::vector<std::string> highlighted;
    for (const auto& line : r.out_lines())
        if (line.find("->") != std::string::npos && line.find("penwidth=2.5") != std::string::npos)
            highlighted.push_back(line.substr(0, line.find(" [")));
    const std::vector<std::string> expected = {"    start -> received",
                                               "    received -> partner_rejected"};
    CHECK(highlighted == expected);
    CHECK(d({"diagram", "--ticket", "NOPE"}).code == 4);
}

TEST_CASE(
    "pins: the completion script offers the commands, events, checks and states of the spec") {
    const Result r = tfadesk_bare({"completion"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    for (const char* word :
         {"open", "event", "import", "verify", "agent", "checkpoint", "serve", "reply", "migrate"})
        CHECK_MESSAGE(has_word(r.out, word), word);
    CHECK(r.out.find("client_of_record number_ownership lost_access") != std::string::npos);
    CHECK(r.out.find(
              "triage update check-passed check-failed partner-detected approve submit-disable "
              "confirm-disabled disable-failed cancel expire claim release") != std::string::npos);
    for (const char* state : {"received", "awaiting_requester", "identity_check",
                              "self_service_advised", "partner_rejected", "identity_rejected",
                              "approved", "disable_submitted", "completed", "cancelled", "expired"})
        CHECK_MESSAGE(has_word(r.out, state), state);
}

TEST_CASE(
    "pins: output paths never replace the database, the input or a non-file, and --dry-run writes "
    "none (SPEC §4)") {
    Desk d;
    ok(d.open("P-1", "client", "no"));
    const std::string db_bytes = slurp(d.db);
    const fs::path folder = fs::path(d.db).parent_path();
    const std::string input = d.dir / "in.csv";
    spit(input,
         "ref,phone,client_id,requester_email,requester_role\nP-2,12,c,a@b.example,client\n");
    fs::create_symlink(d.db, d.dir / "link.jsonl");
    auto refused = [&](const Result& r) {
        INFO(r.describe());
        CHECK(r.code == 2);
        CHECK(r.err.find("refusing to write") != std::string::npos);
    };
    refused(d({"export", "--out", d.db}));
    refused(d({"export", "--out", d.db + "-wal"}));
    refused(d({"export", "--out", d.dir / "link.jsonl"}));
    refused(d({"export", "--out", "/dev/null"}));
    refused(d({"export", "--out", folder.string()}));
    refused(d({"import", input, "--agent", "ops", "--rejects", input}));
    CHECK(slurp(d.db) == db_bytes);
    CHECK(slurp(input).find("P-2,12") != std::string::npos);  // the input is untouched
    const Result dry =
        d({"import", input, "--agent", "ops", "--dry-run", "--rejects", d.dir / "r.csv"});
    CHECK(dry.code == 2);  // the row is bad: counted as rejected
    CHECK_FALSE(fs::exists(d.dir / "r.csv"));
    for (const auto& e : fs::directory_iterator(folder))
        CHECK_MESSAGE(e.path().string().find(".partial") == std::string::npos, e.path().string());
}
