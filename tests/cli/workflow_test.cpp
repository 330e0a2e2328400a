// The `tfadesk` program run as a process: the workflow of SPEC §3 end to end, every exit code of
// §4, the --json documents, the database and agent from the environment, the diagram and the help.
// Expected values are worked out from the SPEC by hand, never read from the code under test.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "expect.hpp"
#include "process.hpp"
#include "spec_words.hpp"

namespace {

using namespace clitest;
using nlohmann::json;

// `word` occurs in `text` delimited by characters that cannot be part of a state or event name.
bool has_token(const std::string& text, const std::string& word) {
    auto is_name_char = [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    };
    for (auto at = text.find(word); at != std::string::npos; at = text.find(word, at + 1)) {
        const bool left = at == 0 || !is_name_char(text[at - 1]);
        const bool right = at + word.size() >= text.size() || !is_name_char(text[at + word.size()]);
        if (left && right) return true;
    }
    return false;
}

bool names_a_rule(const std::string& text) {
    for (std::size_t i = 0; i + 1 < text.size(); ++i)
        if (text[i] == 'R' && text[i + 1] >= '1' && text[i + 1] <= '8' &&
            (i + 2 >= text.size() || !std::isdigit(static_cast<unsigned char>(text[i + 2]))))
            return true;
    return false;
}

// Accepted: exit 0, the new state alone on stdout, nothing on stderr.
void expect_state(const Result& r, const std::string& state) {
    INFO("expected the event to be accepted into ", state, "\n", r.describe());
    CHECK(r.code == 0);
    CHECK(r.out == state + "\n");
    CHECK(r.err.empty());
}

// Refused by the workflow: exit 3, one line on stderr naming the rule, the state and the event.
void expect_refused(const Result& r, const std::string& rule, const std::string& state,
                    const std::string& ev) {
    INFO("expected a refusal by ", rule, " in ", state, " of ", ev, "\n", r.describe());
    CHECK(r.code == 3);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("tfadesk: refused: ", 0) == 0);
    CHECK(r.err_lines().size() == 1);
    if (!rule.empty())
        CHECK(has_token(r.err, rule));
    else
        CHECK(names_a_rule(r.err));
    CHECK(contains(r.err, "(state " + state + ", event " + ev + ")"));
}

json show_json(const Desk& d, const std::string& ref) {
    const Result r = d({"show", ref, "--json"});
    INFO(r.describe());
    REQUIRE(r.code == 0);
    return json::parse(r.out);
}

std::int64_t version_of(const Desk& d, const std::string& ref) {
    return show_json(d, ref).at("version").get<std::int64_t>();
}
std::string state_of(const Desk& d, const std::string& ref) {
    return show_json(d, ref).at("state").get<std::string>();
}

// A ticket opened as client/no and taken through triage and the three checks by `checker`.
void to_identity_checked(const Desk& d, const std::string& ref,
                         const std::string& checker = "alice") {
    REQUIRE(d.open(ref, "client", "no").code == 0);
    REQUIRE(d.event(ref, "triage", checker).out == "identity_check\n");
    for (const auto& c : kChecks)
        REQUIRE(d.event(ref, "check-passed", checker, {"--check", c}).code == 0);
}

// ... and approved by a second agent.
void to_approved(const Desk& d, const std::string& ref) {
    to_identity_checked(d, ref);
    REQUIRE(d.event(ref, "approve", "bob").out == "approved\n");
}

}  // namespace

TEST_CASE(
    "on behalf: open, triage, three checks, four eyes (R6), reference (R4), retry, completed, then "
    "R8") {
    Desk d;
    Result r = d.open("HD-1042", "client", "no");
    CHECK(r.code == 0);
    CHECK(r.out == "HD-1042\n");
    CHECK(r.err.empty());
    CHECK(version_of(d, "HD-1042") == 1);
    CHECK(state_of(d, "HD-1042") == "received");

    expect_state(d.event("HD-1042", "triage", "alice"), "identity_check");
    expect_state(d.event("HD-1042", "check-passed", "alice", {"--check", "client_of_record"}),
                 "identity_check");
    expect_state(d.event("HD-1042", "check-passed", "alice", {"--check", "number_ownership"}),
                 "identity_check");

    // R5: not all three checks yet, whoever approves.
    expect_refused(d.event("HD-1042", "approve", "bob"), "R5", "identity_check", "approve");

    expect_state(d.event("HD-1042", "check-passed", "alice", {"--check", "lost_access"}),
                 "identity_check");
    CHECK(version_of(d, "HD-1042") == 5);

    // R6: alice recorded the checks and may not approve.
    expect_refused(d.event("HD-1042", "approve", "alice"), "R6", "identity_check", "approve");
    CHECK(version_of(d, "HD-1042") == 5);
    CHECK(state_of(d, "HD-1042") == "identity_check");

    // bob's refused approve above left no trace: he may approve now.
    expect_state(d.event("HD-1042", "approve", "bob"), "approved");

    // R4: the disable is recorded with a non-empty reference.
    expect_refused(d.event("HD-1042", "submit-disable", "bob"), "R4", "approved", "submit-disable");
    expect_refused(d.event("HD-1042", "submit-disable", "bob", {"--reference", ""}), "R4",
                   "approved", "submit-disable");
    CHECK(version_of(d, "HD-1042") == 6);
    expect_state(d.event("HD-1042", "submit-disable", "bob", {"--reference", "WA-REQ-1"}),
                 "disable_submitted");

    // disable-failed needs a note (exit 2), then goes back to approved.
    expect_error(d.event("HD-1042", "disable-failed", "bob"), 2);
    expect_state(d.event("HD-1042", "disable-failed", "bob", {"--note", "provider timed out"}),
                 "approved");
    expect_state(d.event("HD-1042", "submit-disable", "bob", {"--reference", "WA-REQ-2"}),
                 "disable_submitted");
    expect_state(d.event("HD-1042", "confirm-disabled", "carol"), "completed");

    const json t = show_json(d, "HD-1042");
    CHECK(t.at("state") == "completed");
    CHECK(t.at("version") ==
          10);  // open, triage, 3 checks, approve, submit, failed, submit, confirm
    CHECK(t.at("checks") == json({{"client_of_record", "alice"},
                                  {"number_ownership", "alice"},
                                  {"lost_access", "alice"}}));

    // R8: a terminal state accepts no event, whatever it is.
    for (const auto& ev : kEvents) {
        CAPTURE(ev);
        expect_refused(d.event("HD-1042", ev, "dave", valid_flags(ev)), "R8", "completed", ev);
    }
    CHECK(version_of(d, "HD-1042") == 10);

    // The log holds exactly the accepted events, in order.
    r = d({"history", "HD-1042", "--json"});
    REQUIRE(r.code == 0);
    std::vector<std::string> events;
    for (const auto& e : json::parse(r.out)) events.push_back(e.at("event").get<std::string>());
    CHECK(events == std::vector<std::string>{
                        "open", "triage", "check-passed", "check-passed", "check-passed", "approve",
                        "submit-disable", "disable-failed", "submit-disable", "confirm-disabled"});
}

TEST_CASE("four eyes (R6) counts every agent who recorded a check, even a check passed twice") {
    Desk d;
    REQUIRE(d.open("HD-2", "client", "no").code == 0);
    REQUIRE(d.event("HD-2", "triage", "alice").code == 0);
    expect_state(d.event("HD-2", "check-passed", "alice", {"--check", "client_of_record"}),
                 "identity_check");
    expect_state(d.event("HD-2", "check-passed", "bob", {"--check", "client_of_record"}),
                 "identity_check");
    expect_state(d.event("HD-2", "check-passed", "alice", {"--check", "number_ownership"}),
                 "identity_check");
    expect_state(d.event("HD-2", "check-passed", "alice", {"--check", "lost_access"}),
                 "identity_check");
    expect_refused(d.event("HD-2", "approve", "alice"), "R6", "identity_check", "approve");
    expect_refused(d.event("HD-2", "approve", "bob"), "R6", "identity_check", "approve");
    expect_state(d.event("HD-2", "approve", "carol"), "approved");
}

TEST_CASE("partner requests are rejected (R3): at triage and when detected later") {
    Desk d;
    SUBCASE("at triage, whatever the access") {
        for (const std::string access : {"no", "yes", "unknown"}) {
            CAPTURE(access);
            const std::string ref = "P-" + access;
            REQUIRE(d.open(ref, "partner", access).code == 0);
            expect_state(d.event(ref, "triage", "alice"), "partner_rejected");
            expect_refused(d.event(ref, "triage", "alice"), "R8", "partner_rejected", "triage");
            expect_refused(d.event(ref, "cancel", "alice", {"--note", "x"}), "R8",
                           "partner_rejected", "cancel");
        }
    }
    SUBCASE("from awaiting_requester") {
        REQUIRE(d.open("P-1", "unknown", "").code == 0);
        expect_state(d.event("P-1", "triage", "alice"), "awaiting_requester");
        expect_state(d.event("P-1", "partner-detected", "alice"), "partner_rejected");
    }
    SUBCASE("from identity_check") {
        REQUIRE(d.open("P-1", "client", "no").code == 0);
        expect_state(d.event("P-1", "triage", "alice"), "identity_check");
        expect_state(d.event("P-1", "check-passed", "alice", {"--check", "client_of_record"}),
                     "identity_check");
        expect_state(d.event("P-1", "partner-detected", "alice"), "partner_rejected");
    }
    SUBCASE("from approved") {
        to_approved(d, "P-1");
        expect_state(d.event("P-1", "partner-detected", "carol"), "partner_rejected");
        expect_refused(d.event("P-1", "submit-disable", "bob", {"--reference", "WA-1"}), "R8",
                       "partner_rejected", "submit-disable");
    }
    SUBCASE("not from received: it is triage's job there") {
        REQUIRE(d.open("P-1", "client", "no").code == 0);
        expect_refused(d.event("P-1", "partner-detected", "alice"), "", "received",
                       "partner-detected");
        CHECK(state_of(d, "P-1") == "received");
    }
}

TEST_CASE(
    "self-service (R2): a requester who still has access is advised and the ticket is closed") {
    Desk d;
    for (const std::string role : {"client", "portfolio_admin"}) {
        CAPTURE(role);
        REQUIRE(d.open("S-" + role, role, "yes").code == 0);
        expect_state(d.event("S-" + role, "triage", "alice"), "self_service_advised");
        expect_refused(d.event("S-" + role, "check-passed", "alice", {"--check", "lost_access"}),
                       "R8", "self_service_advised", "check-passed");
        const json t = show_json(d, "S-" + role);
        CHECK(t.at("next_events") == json::array());
        CHECK(t.at("version") == 2);
    }
}

TEST_CASE("awaiting_requester: the requester's answer comes with update, then triage goes on") {
    Desk d;
    REQUIRE(d.open("A-1", "unknown", "").code == 0);
    CHECK(show_json(d, "A-1").at("portfolio_access") == "unknown");  // §2 default
    expect_state(d.event("A-1", "triage", "alice"), "awaiting_requester");

    // Not in this state (only from identity_check).
    expect_refused(d.event("A-1", "approve", "bob"), "", "awaiting_requester", "approve");

    expect_state(d.event("A-1", "update", "alice", {"--access", "no", "--role", "client"}),
                 "awaiting_requester");
    json t = show_json(d, "A-1");
    CHECK(t.at("requester_role") == "client");
    CHECK(t.at("portfolio_access") == "no");
    CHECK(t.at("version") == 3);
    expect_state(d.event("A-1", "triage", "alice"), "identity_check");

    // update is only for received and awaiting_requester.
    expect_refused(d.event("A-1", "update", "alice", {"--access", "yes"}), "", "identity_check",
                   "update");
    CHECK(show_json(d, "A-1").at("portfolio_access") == "no");

    // A known role with unknown access waits too, and update works from received.
    REQUIRE(d.open("A-2", "client", "").code == 0);
    expect_state(d.event("A-2", "update", "alice", {"--requester-email", "it@acme.example"}),
                 "received");
    CHECK(show_json(d, "A-2").at("requester_email") == "it@acme.example");
    expect_state(d.event("A-2", "triage", "alice"), "awaiting_requester");
    expect_state(d.event("A-2", "update", "alice", {"--access", "yes"}), "awaiting_requester");
    expect_state(d.event("A-2", "triage", "alice"), "self_service_advised");
}

TEST_CASE("check-failed rejects the ticket (R5) and needs a note") {
    Desk d;
    REQUIRE(d.open("F-1", "portfolio_admin", "no").code == 0);
    expect_state(d.event("F-1", "triage", "alice"), "identity_check");
    expect_state(d.event("F-1", "check-passed", "alice", {"--check", "client_of_record"}),
                 "identity_check");
    expect_error(d.event("F-1", "check-failed", "alice", {"--check", "number_ownership"}), 2);
    expect_error(
        d.event("F-1", "check-failed", "alice", {"--check", "number_ownership", "--note", "   "}),
        2);
    CHECK(version_of(d, "F-1") == 3);
    expect_state(d.event("F-1", "check-failed", "alice",
                         {"--check", "number_ownership", "--note", "SMS code wrong"}),
                 "identity_rejected");
    expect_refused(d.event("F-1", "approve", "bob"), "R8", "identity_rejected", "approve");
    CHECK(version_of(d, "F-1") == 4);
}

TEST_CASE("cancel needs a note and works from every non-terminal state") {
    Desk d;
    std::string ref, state;
    SUBCASE("received") {
        ref = "C-1";
        REQUIRE(d.open(ref, "client", "no").code == 0);
        state = "received";
    }
    SUBCASE("awaiting_requester") {
        ref = "C-2";
        REQUIRE(d.open(ref, "unknown", "").code == 0);
        REQUIRE(d.event(ref, "triage", "alice").code == 0);
        state = "awaiting_requester";
    }
    SUBCASE("identity_check") {
        ref = "C-3";
        to_identity_checked(d, ref);
        state = "identity_check";
    }
    SUBCASE("approved") {
        ref = "C-4";
        to_approved(d, ref);
        state = "approved";
    }
    SUBCASE("disable_submitted") {
        ref = "C-5";
        to_approved(d, ref);
        REQUIRE(d.event(ref, "submit-disable", "bob", {"--reference", "WA-5"}).code == 0);
        state = "disable_submitted";
    }
    CAPTURE(state);
    REQUIRE(state_of(d, ref) == state);
    const auto before = version_of(d, ref);
    expect_error(d.event(ref, "cancel", "alice"), 2);
    CHECK(state_of(d, ref) == state);
    CHECK(version_of(d, ref) == before);
    expect_state(d.event(ref, "cancel", "alice", {"--note", "withdrawn by the client"}),
                 "cancelled");
    CHECK(version_of(d, ref) == before + 1);
    expect_refused(d.event(ref, "cancel", "alice", {"--note", "again"}), "R8", "cancelled",
                   "cancel");
}

TEST_CASE("sweep expires only tickets waiting on the requester past the SLA (R7)") {
    Desk d;
    REQUIRE(d.open("W-1", "unknown", "").code == 0);
    REQUIRE(d.event("W-1", "triage", "alice").out == "awaiting_requester\n");
    REQUIRE(d.open("W-2", "client", "unknown").code == 0);
    REQUIRE(d.event("W-2", "triage", "alice").out == "awaiting_requester\n");
    REQUIRE(d.open("R-1", "client", "no").code == 0);  // received: not waiting on the requester
    REQUIRE(d.open("I-1", "client", "no").code == 0);
    REQUIRE(d.event("I-1", "triage", "alice").out == "identity_check\n");

    auto states = [&] {
        std::vector<std::string> v;
        for (const char* ref : {"W-1", "W-2", "R-1", "I-1"}) v.push_back(state_of(d, ref));
        return v;
    };
    const std::vector<std::string> fresh = {"awaiting_requester", "awaiting_requester", "received",
                                            "identity_check"};

    // Now, nothing is past the SLA.
    Result r = d({"sweep", "--agent", "ops-bot"});
    INFO(r.describe());
    CHECK(r.code == 0);
    CHECK_FALSE(has_token(r.out, "W-1"));
    CHECK(states() == fresh);

    // Asking for it directly is refused by R7 as well.
    expect_refused(d.event("W-1", "expire", "ops-bot"), "R7", "awaiting_requester", "expire");

    // The SLA is judged at the time of the write: a --now later than that is invalid (SPEC §12).
    r = d({"sweep", "--agent", "ops-bot", "--now", "2099-01-01T00:00:00Z"});
    CHECK(r.code == 2);
    CHECK(contains(r.err, "--now"));
    CHECK(states() == fresh);

    // Six days on: still within the default 7-day SLA.
    r = d({"sweep", "--agent", "ops-bot"}, later("+6d"));
    CHECK(r.code == 0);
    CHECK(states() == fresh);
    // ... and a --now before the write's own time judges by that earlier time.
    r = d({"sweep", "--agent", "ops-bot", "--now", format_utc_ms(now_ms() + 3LL * 3600 * 1000)},
          later("+9d"));
    CHECK(r.code == 0);
    CHECK(states() == fresh);

    // Nine days on: exactly the two waiting tickets expire.
    r = d({"sweep", "--agent", "ops-bot"}, later("+9d"));
    CHECK(r.code == 0);
    CHECK(has_token(r.out, "W-1"));
    CHECK(has_token(r.out, "W-2"));
    CHECK_FALSE(has_token(r.out, "R-1"));
    CHECK_FALSE(has_token(r.out, "I-1"));
    CHECK(states() == std::vector<std::string>{"expired", "expired", "received", "identity_check"});

    r = d({"history", "W-1", "--json"});
    REQUIRE(r.code == 0);
    const json h = json::parse(r.out);
    REQUIRE(h.size() == 3);
    CHECK(h[2].at("event") == "expire");
    CHECK(h[2].at("agent") == "ops-bot");
    CHECK(h[2].at("state") == "expired");

    // Sweeping again finds nothing more to do.
    r = d({"sweep", "--agent", "ops-bot"}, later("+10d"));
    CHECK(r.code == 0);
    CHECK(version_of(d, "W-1") == 3);
    CHECK(version_of(d, "R-1") == 1);

    // --sla-hours sets the SLA: two hours on, a one-hour SLA has run out, a three-hour one has not.
    REQUIRE(d.open("W-3", "unknown", "").code == 0);
    REQUIRE(d.event("W-3", "triage", "alice").out == "awaiting_requester\n");
    CHECK(d({"sweep", "--agent", "ops-bot", "--sla-hours", "3"}, later("+2h")).code == 0);
    CHECK(state_of(d, "W-3") == "awaiting_requester");
    CHECK(d({"sweep", "--agent", "ops-bot", "--sla-hours", "1"}, later("+2h")).code == 0);
    CHECK(state_of(d, "W-3") == "expired");
}

TEST_CASE("exit 1: a read-only command on a missing database names it and does not create it") {
    TempDir dir;
    const std::string missing = dir / "nothing-here.db";
    const std::vector<std::vector<std::string>> commands = {
        {"show", "X-1"}, {"list"}, {"history", "X-1"}, {"replay", "X-1"}, {"verify"}, {"export"}};
    for (const auto& args : commands) {
        CAPTURE(args[0]);
        const Result r = tfadesk(missing, args);
        expect_error(r, 1);
        CHECK(contains(r.err, missing));
        CHECK_FALSE(fs::exists(missing));
        CHECK_FALSE(fs::exists(missing + "-wal"));
        CHECK_FALSE(fs::exists(missing + "-shm"));
    }
    CHECK(fs::is_empty(dir.path()));
}

TEST_CASE(
    "exit 1: a file that is not a tfadesk database is refused, read or write, and left as it was") {
    TempDir dir;
    const std::string junk = dir / "notes.db";
    const std::string text = "these are my notes, not a database\n";
    spit(junk, text);
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"show", "X-1"},
             {"list"},
             {"verify"},
             {"open", "--ref", "X-1", "--phone", "+4915123456789", "--client-id", "c",
              "--requester-email", "a@b.example", "--role", "client", "--agent", "alice"}}) {
        CAPTURE(args[0]);
        const Result r = tfadesk(junk, args);
        expect_error(r, 1);
        CHECK(contains(r.err, junk));
        CHECK(slurp(junk) == text);
    }
}

TEST_CASE("exit 2: invalid input is refused before the workflow is asked") {
    Desk d;
    REQUIRE(d.open("HD-1", "client", "no").code == 0);
    REQUIRE(d.event("HD-1", "triage", "alice").code == 0);
    const Result history_before = d({"history", "HD-1"});
    REQUIRE(history_before.code == 0);

    auto open_with = [&](const std::string& flag, const std::string& value) {
        std::vector<std::string> a = {
            "open",           "--ref",       "NEW-1",  "--phone",
            "+4915123456789", "--client-id", "c-1",    "--requester-email",
            "a@b.example",    "--role",      "client", "--agent",
            "alice"};
        bool replaced = false;
        for (std::size_t i = 0; i + 1 < a.size(); ++i)
            if (a[i] == flag) {
                a[i + 1] = value;
                replaced = true;
            }
        if (!replaced) {
            a.push_back(flag);
            a.push_back(value);
        }
        return d(a);
    };

    SUBCASE("unknown command") { expect_error(d({"frobnicate"}), 2); }
    SUBCASE("unknown flag") {
        expect_error(d({"list", "--bogus"}), 2);
        expect_error(
            d.event("HD-1", "check-passed", "alice", {"--check", "lost_access", "--force"}), 2);
    }
    SUBCASE("bad --role value") {
        expect_error(open_with("--role", "boss"), 2);
        expect_error(d.event("HD-1", "update", "alice", {"--role", "boss"}), 2);
    }
    SUBCASE("bad --access and --requester-email values") {
        expect_error(open_with("--access", "maybe"), 2);
        expect_error(open_with("--requester-email", "not-an-email"), 2);
        expect_error(d.event("HD-1", "update", "alice", {"--access", "maybe"}), 2);
        expect_error(d.event("HD-1", "update", "alice", {"--requester-email", "nobody"}), 2);
    }
    SUBCASE("bad phone on open") {
        for (const std::string phone : {"12345", "4915123456789", "+0151234567", "+1234567",
                                        "+1234567890123456", "+49 151 abc 6789"}) {
            CAPTURE(phone);
            expect_error(open_with("--phone", phone), 2);
        }
        // The bounds themselves are fine: 8 and 15 digits, separators dropped.
        CHECK(d({"open", "--ref", "NEW-2", "--phone", "+12345678", "--client-id", "c",
                 "--requester-email", "a@b.example", "--role", "client", "--agent", "alice"})
                  .code == 0);
        CHECK(d({"open", "--ref", "NEW-3", "--phone", "+1 (234) 567-890.12345", "--client-id", "c",
                 "--requester-email", "a@b.example", "--role", "client", "--agent", "alice"})
                  .code == 0);
        CHECK(show_json(d, "NEW-2").at("phone") == "+12345678");
        CHECK(show_json(d, "NEW-3").at("phone") == "+123456789012345");
    }
    SUBCASE("note and client_id lengths count characters (§2)") {
        std::string note2000, note2001;
        for (int i = 0; i < 2000; ++i) note2000 += "\xC3\xA9";  // é: 2 bytes, 1 character
        note2001 = note2000 + "e";
        CHECK(d({"open", "--ref", "NEW-4", "--phone", "+4915123456789", "--client-id",
                 std::string(64, 'c'), "--requester-email", "a@b.example", "--role", "client",
                 "--note", note2000, "--agent", "alice"})
                  .code == 0);
        expect_error(open_with("--note", note2001), 2);
        expect_error(open_with("--client-id", std::string(65, 'c')), 2);
        expect_error(open_with("--client-id", "acme\tgmbh"), 2);
    }
    SUBCASE("bad ref and other §2 fields on open") {
        expect_error(open_with("--ref", "HD 1/2"), 2);
        expect_error(open_with("--ref", std::string(65, 'x')), 2);
        expect_error(open_with("--reason", "bored"), 2);
        expect_error(open_with("--waba-id", "12ab"), 2);
        expect_error(open_with("--submitted-at", "yesterday"), 2);
    }
    SUBCASE("unknown event") { expect_error(d.event("HD-1", "approve-all", "alice"), 2); }
    SUBCASE("unknown check") {
        expect_error(d.event("HD-1", "check-passed", "alice", {"--check", "shoe_size"}), 2);
    }
    SUBCASE("missing --check") {
        expect_error(d.event("HD-1", "check-passed", "alice"), 2);
        expect_error(d.event("HD-1", "check-failed", "alice", {"--note", "no"}), 2);
    }
    SUBCASE("missing --agent") {
        expect_error(d({"event", "HD-1", "check-passed", "--check", "lost_access"}), 2);
        expect_error(d({"open", "--ref", "NEW-1", "--phone", "+4915123456789", "--client-id", "c-1",
                        "--requester-email", "a@b.example", "--role", "client"}),
                     2);
        expect_error(d({"sweep"}), 2);
        expect_error(d.event("HD-1", "check-passed", "", {"--check", "lost_access"}), 2);
    }
    SUBCASE("missing --note") {
        expect_error(d.event("HD-1", "check-failed", "alice", {"--check", "lost_access"}), 2);
        expect_error(d.event("HD-1", "cancel", "alice"), 2);
    }
    // Nothing above reached the log.
    const Result history_after = d({"history", "HD-1"});
    CHECK(history_after.out == history_before.out);
    CHECK(d({"show", "NEW-1"}).code == 4);
}

// The core raises errors about fields (issue 22); the command line names its flags, word for
// word as before.
TEST_CASE("error messages name the command line's flags") {
    Desk d;
    REQUIRE(d.open("HD-1", "client", "no").code == 0);
    auto err_line = [](const Result& r) { return r.err.substr(r.err.rfind("tfadesk: ")); };
    const Result no_note = d.event("HD-1", "cancel", "alice");
    expect_error(no_note, 2);
    CHECK(err_line(no_note) == "tfadesk: error: --note: cancel needs a --note saying why\n");
    const Result no_check = d.event("HD-1", "check-passed", "alice");
    expect_error(no_check, 2);
    CHECK(err_line(no_check) ==
          "tfadesk: error: --check: check-passed needs --check "
          "client_of_record|number_ownership|lost_access\n");
    const Result unused = d.event("HD-1", "triage", "alice", {"--reference", "WA-1"});
    expect_error(unused, 2);
    CHECK(err_line(unused) ==
          "tfadesk: error: --reference: not used by triage (only by submit-disable)\n");
    const Result late = d.event("HD-1", "triage", "alice", {"--expect-version", "7"});
    expect_error(late, 5);
    CHECK(err_line(late) ==
          "tfadesk: error: ticket 'HD-1' is at version 1, not 7 "
          "(--expect-version): it changed since you looked\n");
    const Result as_of = d({"replay", "HD-1", "--as-of", "yesterday"});
    expect_error(as_of, 2);
    CHECK(err_line(as_of) ==
          "tfadesk: error: --as-of: must be an ISO 8601 UTC time like "
          "2026-11-20T09:15:00Z\n");
    REQUIRE(d.event("HD-1", "claim", "bob").code == 0);
    const Result take_over = d.event("HD-1", "claim", "alice");
    expect_error(take_over, 2);
    CHECK(err_line(take_over) ==
          "tfadesk: error: --note: ticket 'HD-1' is held by bob; taking it "
          "over needs a --note saying why\n");
}

TEST_CASE("update cannot give the ticket a note longer than §2 allows (2,000 characters)") {
    Desk d;
    REQUIRE(d.open("N-1", "unknown", "").code == 0);
    const Result r = d.event("N-1", "update", "alice", {"--note", std::string(2001, 'n')});
    INFO(r.describe());
    CHECK(r.code == 2);
    const json t = show_json(d, "N-1");
    CHECK_FALSE(t.contains("note"));
    CHECK(t.at("version") == 1);
    // 2,000 is fine.
    expect_state(d.event("N-1", "update", "alice", {"--note", std::string(2000, 'n')}), "received");
}

TEST_CASE("exit 4: no such ticket") {
    Desk d;
    REQUIRE(d.open("HD-1", "client", "no").code == 0);
    for (const auto& args :
         std::vector<std::vector<std::string>>{{"event", "NOPE-1", "triage", "--agent", "alice"},
                                               {"show", "NOPE-1"},
                                               {"history", "NOPE-1"},
                                               {"replay", "NOPE-1"},
                                               {"verify", "NOPE-1"}}) {
        CAPTURE(args[0]);
        const Result r = d(args);
        expect_error(r, 4);
        CHECK(contains(r.err, "NOPE-1"));
    }
    // The failed event created nothing.
    CHECK(d({"show", "NOPE-1"}).code == 4);
    const Result r = d({"list"});
    CHECK(r.out_lines().size() == 1);
}

TEST_CASE("exit 5: duplicate ref, and a ticket that changed since --expect-version") {
    Desk d;
    REQUIRE(d.open("HD-1", "client", "no").code == 0);

    SUBCASE("duplicate ref on open") {
        const Result r =
            d({"open", "--ref", "HD-1", "--phone", "+4917000000000", "--client-id", "other",
               "--requester-email", "x@y.example", "--role", "partner", "--agent", "mallory"});
        expect_error(r, 5);
        CHECK(contains(r.err, "HD-1"));
        const json t = show_json(d, "HD-1");
        CHECK(t.at("phone") == "+4915123456789");
        CHECK(t.at("requester_role") == "client");
        CHECK(t.at("version") == 1);
    }
    SUBCASE("--expect-version") {
        expect_state(d.event("HD-1", "triage", "alice", {"--expect-version", "1"}),
                     "identity_check");
        const Result r = d.event("HD-1", "check-passed", "alice",
                                 {"--check", "lost_access", "--expect-version", "1"});
        expect_error(r, 5);
        CHECK(contains(r.err, "version 2"));  // names the version it found
        CHECK(version_of(d, "HD-1") == 2);
        expect_state(d.event("HD-1", "check-passed", "alice",
                             {"--check", "lost_access", "--expect-version", "2"}),
                     "identity_check");
        CHECK(version_of(d, "HD-1") == 3);
    }
}

TEST_CASE("exit 6: verify finds an edited entry") {
    Desk d;
    to_approved(d, "HD-1");
    Result r = d({"verify"});
    INFO(r.describe());
    CHECK(r.code == 0);
    REQUIRE(
        sqlite(
            d.db,
            "DROP TRIGGER events_no_update; UPDATE events SET agent = 'mallory' WHERE tseq = 3 AND "
            "ref = 'HD-1';")
            .code == 0);
    r = d({"verify"});
    CHECK(r.code == 6);
    CHECK(contains(r.out, "HD-1"));
}

TEST_CASE("--json documents: show, list, history and replay") {
    Desk d;
    Result r = d({"open",
                  "--ref",
                  "J-1",
                  "--phone",
                  "+49 (151) 2345-6789",
                  "--client-id",
                  "acme-gmbh",
                  "--requester-email",
                  "ops@acme.example",
                  "--role",
                  "client",
                  "--access",
                  "no",
                  "--reason",
                  "lost_access",
                  "--waba-id",
                  "123456",
                  "--portfolio-id",
                  "987654",
                  "--submitted-at",
                  "2026-11-20T09:15:00Z",
                  "--note",
                  "Called twice",
                  "--agent",
                  "alice"});
    REQUIRE(r.code == 0);
    REQUIRE(d.open("J-2", "unknown", "").code == 0);

    json t = show_json(d, "J-1");
    REQUIRE(t.is_object());
    CHECK(t.at("ref") == "J-1");
    CHECK(t.at("phone") == "+4915123456789");
    CHECK(t.at("client_id") == "acme-gmbh");
    CHECK(t.at("requester_email") == "ops@acme.example");
    CHECK(t.at("requester_role") == "client");
    CHECK(t.at("portfolio_access") == "no");
    CHECK(t.at("reason") == "lost_access");
    CHECK(t.at("waba_id") == "123456");
    CHECK(t.at("portfolio_id") == "987654");
    CHECK(parse_utc_ms(t.at("submitted_at").get<std::string>()) ==
          parse_utc_ms("2026-11-20T09:15:00Z"));
    CHECK(t.at("note") == "Called twice");
    CHECK(t.at("state") == "received");
    CHECK(t.at("version") == 1);
    CHECK(t.at("checks") == json::object());
    CHECK(parse_utc_ms(t.at("updated_at").get<std::string>()).has_value());

    // J-2's defaults (§2): access unknown, reason other.
    const json t2 = show_json(d, "J-2");
    CHECK(t2.at("portfolio_access") == "unknown");
    CHECK(t2.at("reason") == "other");
    CHECK_FALSE(t2.contains("waba_id"));

    REQUIRE(d.event("J-1", "triage", "alice").code == 0);
    REQUIRE(d.event("J-1", "check-passed", "alice", {"--check", "client_of_record"}).code == 0);
    REQUIRE(d.event("J-1", "check-passed", "bob", {"--check", "number_ownership"}).code == 0);

    t = show_json(d, "J-1");
    CHECK(t.at("state") == "identity_check");
    CHECK(t.at("version") == 4);
    CHECK(t.at("checks") == json({{"client_of_record", "alice"}, {"number_ownership", "bob"}}));
    REQUIRE(t.contains("next_events"));
    std::set<std::string> next;
    for (const auto& e : t.at("next_events")) next.insert(e.get<std::string>());
    CHECK(next == std::set<std::string>{"check-passed", "check-failed", "partner-detected",
                                        "approve", "cancel", "claim", "release"});  // + SPEC §14
    CHECK(t.contains("waiting_for"));

    SUBCASE("history --json") {
        r = d({"history", "J-1", "--json"});
        REQUIRE(r.code == 0);
        const json h = json::parse(r.out);
        REQUIRE(h.is_array());
        REQUIRE(h.size() == 4);
        std::int64_t last_at = 0, last_global = 0;
        for (std::size_t i = 0; i < h.size(); ++i) {
            CAPTURE(i);
            for (const char* key :
                 {"seq", "global_seq", "at", "agent", "event", "details", "state"})
                CHECK(h[i].contains(key));
            CHECK(h[i].at("seq") == i + 1);
            CHECK(h[i].at("details").is_object());
            CHECK(h[i].at("global_seq").get<std::int64_t>() > last_global);
            last_global = h[i].at("global_seq").get<std::int64_t>();
            const auto at = parse_utc_ms(h[i].at("at").get<std::string>());
            REQUIRE(at.has_value());
            CHECK(*at >= last_at);
            last_at = *at;
        }
        CHECK(h[0].at("event") == "open");
        CHECK(h[0].at("agent") == "alice");
        CHECK(h[0].at("state") == "received");
        CHECK(h[0].at("global_seq") == 1);
        // The open entry's details hold the §2 fields as opened.
        const json& opened = h[0].at("details");
        CHECK(opened.at("ref") == "J-1");
        CHECK(opened.at("phone") == "+4915123456789");
        CHECK(opened.at("client_id") == "acme-gmbh");
        CHECK(opened.at("requester_role") == "client");
        CHECK(opened.at("portfolio_access") == "no");
        CHECK(opened.at("waba_id") == "123456");
        CHECK(opened.at("note") == "Called twice");
        CHECK(h[1].at("event") == "triage");
        CHECK(h[1].at("state") == "identity_check");
        CHECK(h[2].at("event") == "check-passed");
        CHECK(h[2].at("details").at("check") == "client_of_record");
        CHECK(h[3].at("agent") == "bob");
        CHECK(h[3].at("details").at("check") == "number_ownership");
        CHECK(h[3].at("state") == "identity_check");
        CHECK(h[3].at("at") == t.at("updated_at"));
    }
    SUBCASE("list --json") {
        r = d({"list", "--json"});
        REQUIRE(r.code == 0);
        const json l = json::parse(r.out);
        REQUIRE(l.is_array());
        REQUIRE(l.size() == 2);
        std::map<std::string, json> by_ref;
        for (const auto& x : l) by_ref[x.at("ref").get<std::string>()] = x;
        REQUIRE(by_ref.count("J-1") == 1);
        REQUIRE(by_ref.count("J-2") == 1);
        CHECK(by_ref["J-1"].at("state") == "identity_check");
        CHECK(by_ref["J-1"].at("version") == 4);
        CHECK(by_ref["J-1"].at("checks") == t.at("checks"));
        CHECK(by_ref["J-2"].at("state") == "received");
        CHECK(by_ref["J-2"].at("version") == 1);

        r = d({"list", "--state", "identity_check", "--json"});
        REQUIRE(r.code == 0);
        const json only = json::parse(r.out);
        REQUIRE(only.size() == 1);
        CHECK(only[0].at("ref") == "J-1");

        r = d({"list", "--state", "completed", "--json"});
        REQUIRE(r.code == 0);
        CHECK(json::parse(r.out) == json::array());
    }
    SUBCASE("replay --json agrees with show --json") {
        r = d({"replay", "J-1", "--json"});
        REQUIRE(r.code == 0);
        const json p = json::parse(r.out);
        for (const char* key :
             {"ref", "phone", "client_id", "requester_email", "requester_role", "portfolio_access",
              "reason", "waba_id", "portfolio_id", "submitted_at", "note", "state", "version",
              "checks", "updated_at"}) {
            CAPTURE(key);
            CHECK(p.at(key) == t.at(key));
        }
    }
    SUBCASE("replay --as-of between two events gives the earlier state") {
        r = d({"history", "J-1", "--json"});
        const json h = json::parse(r.out);
        sleep_ms(15);
        REQUIRE(d.event("J-1", "check-passed", "bob", {"--check", "lost_access"}).code == 0);
        // Strictly after the third check's entry and before the one just written.
        const auto third = *parse_utc_ms(h[3].at("at").get<std::string>());
        r = d({"replay", "J-1", "--as-of", format_utc_ms(third + 1), "--json"});
        INFO(r.describe());
        REQUIRE(r.code == 0);
        const json p = json::parse(r.out);
        CHECK(p.at("version") == 4);
        CHECK(p.at("checks") == json({{"client_of_record", "alice"}, {"number_ownership", "bob"}}));
        r = d({"replay", "J-1", "--json"});
        CHECK(json::parse(r.out).at("version") == 5);
    }
}

TEST_CASE("piped list and history are tab-separated") {
    Desk d;
    REQUIRE(d.open("T-1", "client", "no").code == 0);
    REQUIRE(d.event("T-1", "triage", "alice").code == 0);
    REQUIRE(d.open("T-2", "unknown", "", "bob").code == 0);
    const json t1 = show_json(d, "T-1");

    Result r = d({"list"});
    REQUIRE(r.code == 0);
    const auto rows = r.out_lines();
    REQUIRE(rows.size() == 2);
    std::map<std::string, std::vector<std::string>> by_ref;
    for (const auto& row : rows) by_ref[split(row, '\t')[0]] = split(row, '\t');
    CHECK(by_ref["T-1"] == std::vector<std::string>{"T-1", "identity_check", "2", "client", "no",
                                                    t1.at("updated_at").get<std::string>()});
    REQUIRE(by_ref["T-2"].size() == 6);
    CHECK(by_ref["T-2"][1] == "received");
    CHECK(by_ref["T-2"][2] == "1");
    CHECK(by_ref["T-2"][3] == "unknown");
    CHECK(by_ref["T-2"][4] == "unknown");

    r = d({"list", "--state", "received"});
    REQUIRE(r.out_lines().size() == 1);
    CHECK(split(r.out_lines()[0], '\t')[0] == "T-2");

    r = d({"history", "T-1"});
    REQUIRE(r.code == 0);
    const auto lines = r.out_lines();
    REQUIRE(lines.size() == 2);
    const auto first = split(lines[0], '\t');
    const auto second = split(lines[1], '\t');
    REQUIRE(first.size() == 6);
    REQUIRE(second.size() == 6);
    CHECK(first[0] == "1");
    CHECK(parse_utc_ms(first[1]).has_value());
    CHECK(first[2] == "alice");
    CHECK(first[3] == "open");
    CHECK(json::parse(first[4]).at("ref") == "T-1");
    CHECK(first[5] == "received");
    CHECK(second[0] == "2");
    CHECK(second[3] == "triage");
    CHECK(second[5] == "identity_check");
    CHECK(second[1] == t1.at("updated_at"));
}

TEST_CASE(
    "the database comes from --db, else $TFADESK_DB, else ./tfadesk.db; the agent from "
    "$TFADESK_AGENT") {
    TempDir dir;
    const std::vector<std::string> open_args = {"open",
                                                "--ref",
                                                "E-1",
                                                "--phone",
                                                "+4915123456789",
                                                "--client-id",
                                                "c-1",
                                                "--requester-email",
                                                "a@b.example",
                                                "--role",
                                                "client",
                                                "--access",
                                                "no"};

    SUBCASE("$TFADESK_DB and $TFADESK_AGENT") {
        const std::string env_db = dir / "from-env.db";
        RunOptions o;
        o.env = {{"TFADESK_DB", env_db}, {"TFADESK_AGENT", "erin"}};
        Result r = tfadesk_bare(open_args, o);
        INFO(r.describe());
        REQUIRE(r.code == 0);
        CHECK(fs::exists(env_db));
        CHECK_FALSE(fs::exists(dir / "tfadesk.db"));
        r = tfadesk_bare({"event", "E-1", "triage"}, o);
        CHECK(r.out == "identity_check\n");
        // --agent wins over $TFADESK_AGENT.
        r = tfadesk_bare(
            {"event", "E-1", "check-passed", "--check", "lost_access", "--agent", "frank"}, o);
        CHECK(r.code == 0);
        r = tfadesk_bare({"history", "E-1", "--json"}, o);
        REQUIRE(r.code == 0);
        const json h = json::parse(r.out);
        REQUIRE(h.size() == 3);
        CHECK(h[0].at("agent") == "erin");
        CHECK(h[1].at("agent") == "erin");
        CHECK(h[2].at("agent") == "frank");

        // --db wins over $TFADESK_DB.
        const std::string flag_db = dir / "from-flag.db";
        r = tfadesk(flag_db,
                    {"open", "--ref", "E-2", "--phone", "+4915123456789", "--client-id", "c-1",
                     "--requester-email", "a@b.example", "--role", "client"},
                    o);
        CHECK(r.code == 0);
        CHECK(fs::exists(flag_db));
        CHECK(tfadesk_bare({"show", "E-2"}, o).code == 4);
        CHECK(tfadesk(flag_db, {"show", "E-2"}, o).code == 0);
    }
    SUBCASE("./tfadesk.db in the working directory") {
        RunOptions o;
        o.cwd = dir.path();
        std::vector<std::string> args = open_args;
        args.insert(args.end(), {"--agent", "alice"});
        Result r = tfadesk_bare(args, o);
        INFO(r.describe());
        REQUIRE(r.code == 0);
        CHECK(fs::exists(dir.path() / "tfadesk.db"));
        r = tfadesk_bare({"show", "E-1", "--json"}, o);
        REQUIRE(r.code == 0);
        CHECK(json::parse(r.out).at("ref") == "E-1");
    }
}

TEST_CASE("logs go to stderr, results to stdout, whatever the log level") {
    Desk d;
    const Result r = d({"--log-level", "trace", "open", "--ref", "L-1", "--phone", "+4915123456789",
                        "--client-id", "c", "--requester-email", "a@b.example", "--role", "client",
                        "--access", "no", "--agent", "alice"});
    INFO(r.describe());
    CHECK(r.code == 0);
    CHECK(r.out == "L-1\n");
    const Result e = d({"--log-level", "trace", "event", "L-1", "triage", "--agent", "alice"});
    CHECK(e.code == 0);
    CHECK(e.out == "identity_check\n");
    const Result j = d({"--log-level", "debug", "show", "L-1", "--json"});
    CHECK(j.code == 0);
    CHECK(json::parse(j.out).at("state") == "identity_check");  // stdout is the JSON document alone
    CHECK(d({"--log-level", "loud", "list"}).code == 2);
}

TEST_CASE("diagram: every state, every event and every transition of §3") {
    // §3's table typed in by hand: (from, event, to).
    std::vector<std::tuple<std::string, std::string, std::string>> rows;
    for (const std::string from : {"received", "awaiting_requester"}) {
        for (const std::string to :
             {"partner_rejected", "self_service_advised", "identity_check", "awaiting_requester"})
            rows.emplace_back(from, "triage", to);
        rows.emplace_back(from, "update", from);
    }
    rows.emplace_back("identity_check", "check-passed", "identity_check");
    rows.emplace_back("identity_check", "check-failed", "identity_rejected");
    for (const std::string from : {"awaiting_requester", "identity_check", "approved"})
        rows.emplace_back(from, "partner-detected", "partner_rejected");
    rows.emplace_back("identity_check", "approve", "approved");
    rows.emplace_back("approved", "submit-disable", "disable_submitted");
    rows.emplace_back("disable_submitted", "confirm-disabled", "completed");
    rows.emplace_back("disable_submitted", "disable-failed", "approved");
    for (const std::string from :
         {"received", "awaiting_requester", "identity_check", "approved", "disable_submitted"})
        rows.emplace_back(from, "cancel", "cancelled");
    rows.emplace_back("awaiting_requester", "expire", "expired");
    for (const std::string from :  // SPEC §14: self-loops
         {"received", "awaiting_requester", "identity_check", "approved", "disable_submitted"})
        for (const char* ev : {"claim", "release"}) rows.emplace_back(from, ev, from);

    for (const std::string format : {"dot", "mermaid"}) {
        CAPTURE(format);
        const Result r = tfadesk_bare({"diagram", "--format", format});
        INFO(r.describe());
        REQUIRE(r.code == 0);
        for (const auto& s : kStates) {
            CAPTURE(s);
            CHECK(has_token(r.out, s));
        }
        for (const auto& e : kEvents) {
            CAPTURE(e);
            CHECK(has_token(r.out, e));
        }
        const std::string arrow = format == "dot" ? " -> " : " --> ";
        for (const auto& [from, ev, to] : rows) {
            CAPTURE(from + " " + ev + " " + to);
            bool found = false;
            for (const auto& line : r.out_lines())
                if (contains(line, from + arrow + to) && has_token(line, ev)) found = true;
            CHECK(found);
        }
    }
    // dot is the default.
    CHECK(tfadesk_bare({"diagram"}).out == tfadesk_bare({"diagram", "--format", "dot"}).out);
    CHECK(tfadesk_bare({"diagram", "--format", "no-such-format"}).code == 2);
}

TEST_CASE("diagram --format svg: dot runs in a private folder, and one that floods is stopped") {
    TempDir t;
    const fs::path bin = t.path() / "bin", tmp = t.path() / "tmp";
    fs::create_directories(bin);
    fs::create_directories(tmp);
    // A `dot` that records the folder of the file it is given, then prints without end.
    spit(bin / "dot", "#!/bin/sh\nstat -c %a \"$(dirname \"$2\")\" > \"" +
                          (t.path() / "mode").string() + "\"\nexec yes '<svg/>'\n");
    fs::permissions(bin / "dot", fs::perms::owner_all);
    RunOptions o;
    o.env = {{"PATH", bin.string() + ":/usr/bin:/bin"}, {"TMPDIR", tmp.string()}};
    const Result r = tfadesk_bare({"diagram", "--format", "svg"}, o);
    INFO(r.describe());
    CHECK(r.code == 1);
    CHECK(contains(r.err, "'dot' took longer than 10 s or printed too much"));
    CHECK(r.out.empty());
    CHECK(slurp(t.path() / "mode") == "700\n");  // the DOT file's folder: ours alone
    CHECK(fs::is_empty(tmp));                    // and it is gone afterwards
}

TEST_CASE("a refused event leaves the history and the log unchanged") {
    Desk d;
    to_identity_checked(d, "HD-1");
    REQUIRE(d.open("HD-2", "client", "no").code == 0);
    const Result history_before = d({"history", "HD-1", "--json"});
    const Result export_before = d({"export"});
    REQUIRE(history_before.code == 0);
    REQUIRE(export_before.code == 0);

    expect_refused(d.event("HD-1", "approve", "alice"), "R6", "identity_check", "approve");
    expect_refused(d.event("HD-1", "submit-disable", "bob", {"--reference", "WA-1"}), "",
                   "identity_check", "submit-disable");
    expect_refused(d.event("HD-1", "triage", "bob"), "", "identity_check", "triage");
    expect_refused(d.event("HD-2", "expire", "bob"), "", "received", "expire");

    CHECK(d({"history", "HD-1", "--json"}).out == history_before.out);
    CHECK(d({"export"}).out == export_before.out);
    CHECK(d({"verify"}).code == 0);
}

TEST_CASE("--help for each command exits 0 and shows an example") {
    const Result top = tfadesk_bare({"--help"});
    CHECK(top.code == 0);
    for (const std::string cmd : {"open", "event", "import", "show", "list", "history", "replay",
                                  "verify", "export", "sweep", "diagram"}) {
        CAPTURE(cmd);
        CHECK(has_token(top.out, cmd));
        const Result r = tfadesk_bare({cmd, "--help"});
        INFO(r.describe());
        CHECK(r.code == 0);
        CHECK(contains(r.out, "Example"));
        CHECK(contains(r.out, "tfadesk " + cmd));
    }
}
