// The workflow service against an in-memory Journal (a test double of the engine's storage
// interface): opening, applying events, replaying the log and detecting a log that does not replay.
#include "tfadesk/engine/workflow.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/journal.hpp"

namespace {

using namespace tfadesk::engine;
using tfadesk::rules::Access;
using tfadesk::rules::Fields;
using tfadesk::rules::Role;

// The Journal contract with a vector and a map: seq from 1, prev_hash chained, a fake hash.
class MemoryJournal final : public Journal {
public:
    std::vector<LogEntry> log;
    std::map<std::string, Ticket, std::less<>> tickets;

    std::vector<LogEntry> entries(std::string_view ref) override {
        std::vector<LogEntry> out;
        for (const auto& e : log)
            if (e.ref == ref) out.push_back(e);
        std::sort(out.begin(), out.end(),
                  [](const LogEntry& a, const LogEntry& b) { return a.tseq < b.tseq; });
        return out;
    }
    bool exists(std::string_view ref) override { return tickets.find(ref) != tickets.end(); }
    void append(LogEntry& entry, const Ticket& after) override {
        entry.seq = static_cast<std::int64_t>(log.size()) + 1;
        entry.prev_hash = log.empty() ? std::string(64, '0') : log.back().hash;
        entry.hash = "hash-" + std::to_string(entry.seq);
        log.push_back(entry);
        tickets[after.fields.ref] = after;
    }
};

Fields fields(const std::string& ref, Role role = Role::client, Access access = Access::no) {
    Fields f;
    f.ref = ref;
    f.phone = "+491512345678";
    f.client_id = "acct-1";
    f.requester_email = "owner@example.com";
    f.requester_role = role;
    f.portfolio_access = access;
    f.submitted_at = "2026-03-01T09:00:00Z";
    f.note = "from the helpdesk";
    return f;
}

constexpr const char* kOpenedAt = "2026-03-01T10:00:00.000Z";

std::string at_minute(int minute) {
    return "2026-03-01T11:" + std::string(minute < 10 ? "0" : "") + std::to_string(minute) +
           ":00.000Z";
}

Command cmd(EventKind kind, const std::string& agent, int minute) {
    Command c;
    c.kind = kind;
    c.agent = agent;
    c.at = at_minute(minute);
    return c;
}

Command check(EventKind kind, const std::string& agent, const std::string& name, int minute) {
    Command c = cmd(kind, agent, minute);
    c.check = name;
    if (kind == EventKind::check_failed) c.note = "does not match";
    return c;
}

// A full path from open to completed, through every kind of detail.
std::vector<Command> full_path() {
    std::vector<Command> v;
    Command answer = cmd(EventKind::update, "a1", 1);
    answer.access = Access::no;
    answer.role = Role::portfolio_admin;
    answer.requester_email = "admin@example.org";
    answer.note = "answered by phone";
    v.push_back(answer);
    v.push_back(cmd(EventKind::triage, "a1", 2));
    v.push_back(check(EventKind::check_passed, "a1", "client_of_record", 3));
    v.push_back(check(EventKind::check_passed, "a3", "number_ownership", 4));
    v.push_back(check(EventKind::check_passed, "a1", "lost_access", 5));
    v.push_back(cmd(EventKind::approve, "a2", 6));
    Command submit = cmd(EventKind::submit_disable, "a2", 7);
    submit.reference = "WAM-1";
    v.push_back(submit);
    Command failed = cmd(EventKind::disable_failed, "a2", 8);
    failed.note = "bounced";
    v.push_back(failed);
    submit.at = at_minute(9);
    submit.reference = "WAM-2";
    v.push_back(submit);
    v.push_back(cmd(EventKind::confirm_disabled, "a2", 10));
    return v;
}

// Opens `ref` and applies the full path; every event must be accepted.
void run_full_path(MemoryJournal& j, const std::string& ref) {
    open_ticket(j, fields(ref, Role::unknown, Access::unknown), "a1", kOpenedAt);
    for (const Command& c : full_path()) {
        const EventResult r = apply_event(j, ref, c);
        REQUIRE_MESSAGE(r.outcome.accepted, r.outcome.message(to_string(c.kind)));
    }
}

void check_same_ticket(const Ticket& a, const Ticket& b) {
    CHECK(differences(a, b).empty());
    CHECK(a.fields == b.fields);
    CHECK(a.state == b.state);
    CHECK(a.version == b.version);
    CHECK(a.checks == b.checks);
    CHECK(a.check_agents == b.check_agents);
    CHECK(a.updated_at == b.updated_at);
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

}  // namespace

TEST_CASE("open_ticket appends the open entry") {
    MemoryJournal j;
    const Fields f = fields("HD-1");
    const Ticket t = open_ticket(j, f, "a1", kOpenedAt);
    CHECK(t.state == "received");
    CHECK(t.version == 1);
    CHECK(t.fields == f);
    CHECK(t.updated_at == kOpenedAt);
    REQUIRE(j.log.size() == 1);
    const LogEntry& e = j.log[0];
    CHECK(e.seq == 1);
    CHECK(e.ref == "HD-1");
    CHECK(e.tseq == 1);
    CHECK(e.event == "open");
    CHECK(e.state == "received");
    CHECK(e.agent == "a1");
    CHECK(e.at == kOpenedAt);
    CHECK(e.policy_version == tfadesk::rules::kPolicyVersion);
    CHECK(e.details == fields_to_json(f).dump());
    CHECK(fields_from_json(nlohmann::json::parse(e.details)) == f);
    CHECK(j.tickets.at("HD-1").version == 1);
}

TEST_CASE("the open entry's details are the canonical JSON of the fields") {
    MemoryJournal j;
    Fields f = fields("HD-7");
    f.waba_id = "102938";
    f.portfolio_id = "564738";
    f.reason = "lost_access";
    f.note =
        "quote \" backslash \\ slash / nl \n cr \r tab \t bs \b ff \f ctl \x01\x1f del \x7f "
        "caf\xc3\xa9 \xf0\x9f\x98\x80";
    open_ticket(j, f, "a1", kOpenedAt);
    REQUIRE(j.log.size() == 1);
    CHECK(j.log[0].details == fields_to_json(f).dump());
    CHECK(fields_from_json(nlohmann::json::parse(j.log[0].details)) == f);
    CHECK(replay(j.entries("HD-7")).ticket().fields == f);
}

TEST_CASE("open_ticket refuses a duplicate ref with a conflict") {
    MemoryJournal j;
    open_ticket(j, fields("HD-1"), "a1", kOpenedAt);
    const Error e =
        error_of([&] { open_ticket(j, fields("HD-1", Role::partner), "a2", at_minute(1)); });
    CHECK(e.kind() == ErrorKind::conflict);
    CHECK(e.exit_code() == 5);
    CHECK(std::string(e.what()).find("HD-1") != std::string::npos);
    CHECK(j.log.size() == 1);
    CHECK(j.tickets.at("HD-1").fields.requester_role == Role::client);
}

TEST_CASE("apply_event on an unknown ref is not_found") {
    MemoryJournal j;
    open_ticket(j, fields("HD-1"), "a1", kOpenedAt);
    const Error e = error_of([&] { apply_event(j, "HD-404", cmd(EventKind::triage, "a1", 1)); });
    CHECK(e.kind() == ErrorKind::not_found);
    CHECK(e.exit_code() == 4);
    CHECK(std::string(e.what()).find("HD-404") != std::string::npos);
    CHECK(j.log.size() == 1);
}

TEST_CASE("an accepted event appends one entry and refreshes the ticket") {
    MemoryJournal j;
    open_ticket(j, fields("HD-1"), "a1", kOpenedAt);
    const EventResult r = apply_event(j, "HD-1", cmd(EventKind::triage, "a1", 1));
    CHECK(r.outcome.accepted);
    CHECK(r.outcome.state == "identity_check");
    CHECK(r.ticket.state == "identity_check");
    CHECK(r.ticket.version == 2);
    REQUIRE(j.log.size() == 2);
    const LogEntry& e = j.log[1];
    CHECK(e.seq == 2);
    CHECK(e.tseq == 2);
    CHECK(e.event == "triage");
    CHECK(e.details == "{}");
    CHECK(e.state == "identity_check");
    CHECK(e.agent == "a1");
    CHECK(e.at == at_minute(1));
    CHECK(e.prev_hash == j.log[0].hash);
    check_same_ticket(j.tickets.at("HD-1"), r.ticket);

    apply_event(j, "HD-1", check(EventKind::check_passed, "a1", "lost_access", 2));
    REQUIRE(j.log.size() == 3);
    CHECK(j.log[2].details == R"({"check":"lost_access"})");
    CHECK(j.tickets.at("HD-1").checks.at("lost_access") == "a1");
}

TEST_CASE("a refused event appends nothing and returns the ticket unchanged") {
    MemoryJournal j;
    open_ticket(j, fields("HD-1"), "a1", kOpenedAt);
    apply_event(j, "HD-1", cmd(EventKind::triage, "a1", 1));
    const Ticket before = j.tickets.at("HD-1");
    const EventResult r = apply_event(j, "HD-1", cmd(EventKind::approve, "a2", 2));
    CHECK_FALSE(r.outcome.accepted);
    REQUIRE(r.outcome.refusal.has_value());
    CHECK(r.outcome.refusal->rule == "R5");
    CHECK(j.log.size() == 2);
    check_same_ticket(r.ticket, before);
    check_same_ticket(j.tickets.at("HD-1"), before);
}

TEST_CASE("expect_version: a conflict names the version found") {
    MemoryJournal j;
    open_ticket(j, fields("HD-1"), "a1", kOpenedAt);
    apply_event(j, "HD-1", cmd(EventKind::triage, "a1", 1));
    SUBCASE("stale") {
        const Error e = error_of([&] {
            apply_event(j, "HD-1", check(EventKind::check_passed, "a1", "lost_access", 2), 1);
        });
        CHECK(e.kind() == ErrorKind::conflict);
        CHECK(std::string(e.what()).find("version 2") != std::string::npos);
        CHECK(j.log.size() == 2);
    }
    SUBCASE("ahead") {
        const Error e = error_of([&] {
            apply_event(j, "HD-1", check(EventKind::check_passed, "a1", "lost_access", 2), 3);
        });
        CHECK(e.kind() == ErrorKind::conflict);
        CHECK(j.log.size() == 2);
    }
    SUBCASE("current") {
        const EventResult r =
            apply_event(j, "HD-1", check(EventKind::check_passed, "a1", "lost_access", 2), 2);
        CHECK(r.outcome.accepted);
        CHECK(r.ticket.version == 3);
        CHECK(j.log.size() == 3);
    }
}

TEST_CASE("replay rebuilds the same ticket as the live machine") {
    MemoryJournal j;
    open_ticket(j, fields("HD-0", Role::partner, Access::yes), "a9",
                kOpenedAt);  // another ticket in between
    run_full_path(j, "HD-1");
    apply_event(j, "HD-0", cmd(EventKind::triage, "a9", 11));

    Machine live(fields("HD-1", Role::unknown, Access::unknown), kOpenedAt);
    for (const Command& c : full_path()) REQUIRE(live.fire(c).accepted);

    const Machine replayed = replay(j.entries("HD-1"));
    check_same_ticket(replayed.ticket(), live.ticket());
    check_same_ticket(replayed.ticket(), j.tickets.at("HD-1"));
    CHECK(replayed.ticket().state == "completed");
    CHECK(replayed.ticket().version == 11);
    CHECK(replayed.ticket().fields.requester_role == Role::portfolio_admin);
    CHECK(replayed.ticket().fields.requester_email == "admin@example.org");
    CHECK(replayed.ticket().checks.at("number_ownership") == "a3");
    CHECK(replayed.ticket().check_agents == std::set<std::string, std::less<>>{"a1", "a3"});

    check_same_ticket(replay(j.entries("HD-0")).ticket(), j.tickets.at("HD-0"));
}

TEST_CASE("replay refuses a log that does not replay") {
    MemoryJournal j;
    run_full_path(j, "HD-1");
    std::vector<LogEntry> entries = j.entries("HD-1");
    REQUIRE(entries.size() == 11);
    auto find = [&](const std::string& event) {
        return std::find_if(entries.begin(), entries.end(),
                            [&](const LogEntry& e) { return e.event == event; });
    };

    SUBCASE("an approve by an agent who recorded a check (R6)") {
        auto approve = find("approve");
        approve->agent = "a3";
        const Error e = error_of([&] { replay(entries); });
        CHECK(e.kind() == ErrorKind::integrity);
        CHECK(e.exit_code() == 6);
        const std::string what = e.what();
        CHECK(what.find("R6") != std::string::npos);
        CHECK(what.find("seq " + std::to_string(approve->seq)) != std::string::npos);
    }
    SUBCASE("a stored state that differs from the workflow's") {
        auto triage = find("triage");
        triage->state = "awaiting_requester";
        const Error e = error_of([&] { replay(entries); });
        CHECK(e.kind() == ErrorKind::integrity);
        CHECK(std::string(e.what()).find("awaiting_requester") != std::string::npos);
        CHECK(std::string(e.what()).find("identity_check") != std::string::npos);
    }
    SUBCASE("an entry missing its predecessor") {
        entries.erase(entries.begin() + 2);
        const Error e = error_of([&] { replay(entries); });
        CHECK(e.kind() == ErrorKind::integrity);
        CHECK(std::string(e.what()).find("#3") != std::string::npos);
    }
    SUBCASE("the same entry twice") {
        entries.insert(entries.begin() + 3, entries[2]);
        CHECK(error_of([&] { replay(entries); }).kind() == ErrorKind::integrity);
    }
    SUBCASE("a log that does not start with open") {
        entries.erase(entries.begin());
        CHECK(error_of([&] { replay(entries); }).kind() == ErrorKind::integrity);
    }
    SUBCASE("an edited open entry") {
        entries[0].details = R"({"ref":"HD-1"})";
        CHECK(error_of([&] { replay(entries); }).kind() == ErrorKind::integrity);
    }
    SUBCASE("details that are not JSON") {
        find("approve")->details = "{not json";
        CHECK(error_of([&] { replay(entries); }).kind() == ErrorKind::integrity);
    }
    SUBCASE("a check name outside R5") {
        find("check-passed")->details = R"({"check":"vibes"})";
        CHECK(error_of([&] { replay(entries); }).kind() == ErrorKind::integrity);
    }
    SUBCASE("an unknown event name") {
        find("triage")->event = "teleport";
        CHECK(error_of([&] { replay(entries); }).kind() == ErrorKind::integrity);
    }
    SUBCASE("a removed reference turns submit-disable into an R4 refusal") {
        find("submit-disable")->details = "{}";
        const Error e = error_of([&] { replay(entries); });
        CHECK(e.kind() == ErrorKind::integrity);
        CHECK(std::string(e.what()).find("R4") != std::string::npos);
    }
    SUBCASE("an open entry whose stored state is not received") {
        entries[0].state = "completed";
        const Error e = error_of([&] { replay(entries); });
        CHECK(e.kind() == ErrorKind::integrity);
        CHECK(std::string(e.what()).find("completed") != std::string::npos);
    }
    SUBCASE("no entries at all") {
        CHECK(error_of([&] { replay({}); }).kind() == ErrorKind::not_found);
    }
    SUBCASE("the untouched log replays") { CHECK(replay(entries).ticket().state == "completed"); }
}

TEST_CASE("replay as of a time stops at the last entry not after it") {
    MemoryJournal j;
    run_full_path(j, "HD-1");
    const auto entries = j.entries("HD-1");
    // Entry #k (k >= 2) is at 11:(k-1):00; the open is at 10:00.
    SUBCASE("exactly at an entry includes it") {
        const Machine m = replay(entries, at_minute(6));  // the approve, #7
        CHECK(m.ticket().version == 7);
        CHECK(m.ticket().state == "approved");
        CHECK(m.ticket().updated_at == at_minute(6));
    }
    SUBCASE("between two entries") {
        const Machine m = replay(entries, "2026-03-01T11:07:30.000Z");  // after the first submit
        CHECK(m.ticket().version == 8);
        CHECK(m.ticket().state == "disable_submitted");
    }
    SUBCASE("one millisecond before an entry excludes it") {
        const Machine m = replay(entries, "2026-03-01T11:02:59.999Z");
        CHECK(m.ticket().version == 3);
        CHECK(m.ticket().state == "identity_check");
        CHECK(m.ticket().checks.empty());
    }
    SUBCASE("before the first event: the ticket as opened") {
        const Machine m = replay(entries, "2026-03-01T10:30:00Z");
        CHECK(m.ticket().version == 1);
        CHECK(m.ticket().state == "received");
        CHECK(m.ticket().fields.requester_role == Role::unknown);
    }
    SUBCASE("after the last: everything") {
        CHECK(replay(entries, "2030-01-01T00:00:00Z").ticket().version == 11);
    }
}

TEST_CASE("command_from_entry rebuilds exactly what details_of stored") {
    Command c = cmd(EventKind::update, "a1", 1);
    c.role = Role::portfolio_admin;
    c.access = Access::yes;
    c.requester_email = "admin@example.org";
    c.note = "answered";
    const nlohmann::json d = details_of(c);
    CHECK(
        d.dump() ==
        R"({"note":"answered","portfolio_access":"yes","requester_email":"admin@example.org","requester_role":"portfolio_admin"})");
    const Command back = command_from_entry("update", d, "a1", c.at);
    CHECK(back.kind == EventKind::update);
    CHECK(back.agent == "a1");
    CHECK(back.at == c.at);
    CHECK(back.role == c.role);
    CHECK(back.access == c.access);
    CHECK(back.requester_email == c.requester_email);
    CHECK(back.note == c.note);
    CHECK(details_of(back) == d);

    Command expire = cmd(EventKind::expire, "sweeper", 2);
    expire.now = "2026-03-09T00:00:00Z";
    expire.sla_hours = 24;
    const Command e2 = command_from_entry("expire", details_of(expire), "sweeper", expire.at);
    CHECK(e2.now == expire.now);
    CHECK(e2.sla_hours == expire.sla_hours);
}

TEST_CASE("command_from_entry refuses details that are not a valid command") {
    const auto kind = [](const char* event, const nlohmann::json& d) {
        return error_of([&] { command_from_entry(event, d, "a1", at_minute(1)); });
    };
    SUBCASE("an unknown details key") {
        const Error e = kind("triage", nlohmann::json{{"force", "yes"}});
        CHECK(e.kind() == ErrorKind::integrity);
        CHECK(std::string(e.what()).find("force") != std::string::npos);
    }
    SUBCASE("an unknown key next to valid ones") {
        CHECK(kind("check-passed", nlohmann::json{{"check", "lost_access"}, {"approved", "yes"}})
                  .kind() == ErrorKind::integrity);
    }
    SUBCASE("a value that is not text") {
        CHECK(kind("check-passed", nlohmann::json{{"check", 3}}).kind() == ErrorKind::integrity);
    }
    SUBCASE("details that are not an object") {
        CHECK(kind("triage", nlohmann::json::array()).kind() == ErrorKind::integrity);
    }
    SUBCASE("a bad role") {
        CHECK(kind("update", nlohmann::json{{"requester_role", "boss"}}).kind() ==
              ErrorKind::integrity);
    }
    SUBCASE("a missing required flag") {
        CHECK(kind("cancel", nlohmann::json::object()).kind() == ErrorKind::integrity);
        CHECK(kind("check-failed", nlohmann::json{{"check", "lost_access"}}).kind() ==
              ErrorKind::integrity);
    }
    SUBCASE("an unknown event") {
        CHECK(kind("open", nlohmann::json::object()).kind() == ErrorKind::integrity);
    }
}

TEST_CASE("validate refuses malformed commands as invalid input (SPEC §3)") {
    auto kind_of = [](const Command& c) { return error_of([&] { validate(c); }).kind(); };
    CHECK(kind_of(cmd(EventKind::triage, "", 1)) == ErrorKind::invalid_input);
    CHECK(kind_of(cmd(EventKind::triage, "  ", 1)) == ErrorKind::invalid_input);
    CHECK(kind_of(cmd(EventKind::check_passed, "a1", 1)) == ErrorKind::invalid_input);
    CHECK(kind_of(check(EventKind::check_passed, "a1", "vibes", 1)) == ErrorKind::invalid_input);
    CHECK(kind_of(cmd(EventKind::cancel, "a1", 1)) == ErrorKind::invalid_input);
    CHECK(kind_of(cmd(EventKind::disable_failed, "a1", 1)) == ErrorKind::invalid_input);
    Command failed = check(EventKind::check_failed, "a1", "lost_access", 1);
    failed.note.reset();
    CHECK(kind_of(failed) == ErrorKind::invalid_input);
    CHECK(kind_of(cmd(EventKind::update, "a1", 1)) == ErrorKind::invalid_input);
    Command email = cmd(EventKind::update, "a1", 1);
    email.requester_email = "not-an-email";
    CHECK(kind_of(email) == ErrorKind::invalid_input);

    CHECK_NOTHROW(validate(cmd(EventKind::triage, "a1", 1)));
    CHECK_NOTHROW(validate(check(EventKind::check_failed, "a1", "lost_access", 1)));
    // A missing --reference is R4's refusal (exit 3), not invalid input.
    CHECK_NOTHROW(validate(cmd(EventKind::submit_disable, "a1", 1)));
}

TEST_CASE("errors are data: the field, the ticket, and words a front end spells") {
    const Error held = error_of([] {
        throw Error::about(ErrorKind::invalid_input, "note",
                           "taking it over needs a " + tfadesk::engine::field("note") +
                               " saying why" + tfadesk::engine::action("hint", " (plain)"))
            .of("HD-1");
    });
    CHECK(held.field() == "note");
    CHECK(held.ref() == "HD-1");
    CHECK(std::string(held.what()) == "note: taking it over needs a note saying why (plain)");
    auto flags = [](tfadesk::engine::Words::Kind kind,
                    std::string_view name) -> std::optional<std::string> {
        if (kind == tfadesk::engine::Words::Kind::action) return std::nullopt;
        return "--" + std::string(name);
    };
    CHECK(held.spelled(flags) == "--note: taking it over needs a --note saying why (plain)");
    auto actions = [](tfadesk::engine::Words::Kind kind,
                      std::string_view) -> std::optional<std::string> {
        if (kind == tfadesk::engine::Words::Kind::field) return std::nullopt;
        return std::string(" (or ask)");
    };
    CHECK(held.spelled(actions) == "note: taking it over needs a note saying why (or ask)");
    // A message that names no field is what it says, however spelled.
    const Error plain(ErrorKind::not_found, "no such ticket: 'HD-2'");
    CHECK(plain.field().empty());
    CHECK(plain.spelled(flags) == "no such ticket: 'HD-2'");
}

TEST_CASE("validate: a --note is limited to 2,000 characters, like the note of SPEC §2") {
    const std::string e_acute = "\xc3\xa9";
    auto note_of = [](const std::string& text) {
        Command c = cmd(EventKind::update, "a1", 1);
        c.note = text;
        return c;
    };
    auto repeat = [](const std::string& unit, int n) {
        std::string s;
        for (int i = 0; i < n; ++i) s += unit;
        return s;
    };
    CHECK_NOTHROW(validate(note_of(std::string(2000, 'n'))));
    CHECK_NOTHROW(validate(note_of(repeat(e_acute, 2000))));
    SUBCASE("2001 ASCII characters are refused") {
        const Error e = error_of([&] { validate(note_of(std::string(2001, 'n'))); });
        CHECK(e.kind() == ErrorKind::invalid_input);
        // The error is about the field, named plainly; a front end spells it (issue 22).
        CHECK(e.field() == "note");
        CHECK(std::string(e.what()).rfind("note: ", 0) == 0);
        CHECK(std::string(e.what()).find("--") == std::string::npos);
    }
    SUBCASE("2001 two-byte characters are refused") {
        const Error e = error_of([&] { validate(note_of(repeat(e_acute, 2001))); });
        CHECK(e.kind() == ErrorKind::invalid_input);
    }
}
