// Replies to the requester (SPEC §11): the built-in text of every state, the masking of the
// phone, the partner reply that says nothing about the client, a desk's templates and how they
// are checked. Expected sentences are typed in by hand from the policy page
// (seeds/2fa-policy.md) and SPEC §11, never read from the code under test.
#include "tfadesk/desk/reply.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "../support/temp_dir.hpp"
#include "tfadesk/engine/error.hpp"

namespace {

using tfadesk::desk::facts_from_log;
using tfadesk::desk::ReplyFacts;
using tfadesk::desk::Templates;
using tfadesk::engine::Error;
using tfadesk::engine::ErrorKind;
using tfadesk::engine::Ticket;
namespace rules = tfadesk::rules;

const std::vector<std::string> kStates = {
    "received",         "awaiting_requester", "identity_check", "self_service_advised",
    "partner_rejected", "identity_rejected",  "approved",       "disable_submitted",
    "completed",        "cancelled",          "expired"};

const std::string kPhone = "+4915123456789";
const std::string kClient = "acme-gmbh-77";
const std::string kEmail = "ops@acme.example";

Ticket ticket(const std::string& state, rules::Role role = rules::Role::client,
              rules::Access access = rules::Access::no) {
    Ticket t;
    t.fields.ref = "HD-1042";
    t.fields.phone = kPhone;
    t.fields.client_id = kClient;
    t.fields.requester_email = kEmail;
    t.fields.requester_role = role;
    t.fields.portfolio_access = access;
    t.fields.submitted_at = "2026-11-20T09:15:00Z";
    t.state = state;
    t.version = 2;
    return t;
}

bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

tfadesk::desk::Reply builtin(const Ticket& t, const ReplyFacts& facts = {}) {
    return Templates::load(std::nullopt).render(t, "en", facts);
}

// A desk folder with the given files (name -> content).
using Files = std::vector<std::pair<std::string, std::string>>;
struct Folder {
    tfadesk_test::TempDir dir;
    explicit Folder(const Files& files) {
        for (const auto& [name, text] : files) std::ofstream(dir / name, std::ios::binary) << text;
    }
    std::string path() const { return dir.path().string(); }
};

// The message of the Error(invalid_input) that loading `folder` throws ("" if none is thrown).
std::string load_error(const Folder& folder) {
    try {
        Templates::load(folder.path());
    } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::invalid_input);
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("every state of SPEC §3 has a built-in English reply, filled in completely") {
    CHECK(tfadesk::desk::reply_states() == kStates);
    for (const auto& state : kStates) {
        CAPTURE(state);
        const auto r = builtin(ticket(state));
        CHECK(r.ref == "HD-1042");
        CHECK(r.state == state);
        CHECK(r.lang == "en");
        CHECK(has(r.subject, "[HD-1042]"));
        CHECK_FALSE(has(r.subject, "\n"));
        CHECK(r.body.rfind("Hello,\n\n", 0) == 0);
        for (const auto& text : {r.subject, r.body}) {
            CHECK_FALSE(has(text, "{"));
            CHECK_FALSE(has(text, "}"));
        }
    }
}

TEST_CASE("the phone is masked but for its last 4 digits, and the email never appears") {
    CHECK(tfadesk::desk::mask_phone_last4("+4915123456789") == "**** 6789");
    CHECK(tfadesk::desk::mask_phone_last4("+12025550123") == "**** 0123");
    CHECK(tfadesk::desk::mask_phone_last4("+1234") == "****");
    for (const auto& state : kStates) {
        CAPTURE(state);
        const auto r = builtin(ticket(state, rules::Role::unknown, rules::Access::unknown));
        for (const auto& text : {r.subject, r.body}) {
            CHECK_FALSE(has(text, "56789"));  // a fifth digit would be one too many
            CHECK_FALSE(has(text, "+49"));
            CHECK_FALSE(has(text, kEmail));
            CHECK_FALSE(has(text, "@"));
        }
        if (state != "partner_rejected") CHECK(has(r.body, "**** 6789"));
    }
}

TEST_CASE("received and awaiting_requester ask only what is still unknown") {
    const std::string role_q =
        "Are you our client for this number, or an administrator of the "
        "client's Meta business portfolio?";
    const std::string access_q = "Do you still have access to the Meta business portfolio";
    for (const std::string state : {"received", "awaiting_requester"}) {
        CAPTURE(state);
        SUBCASE("both unknown: both questions, one '- ' line each") {
            const auto r = builtin(ticket(state, rules::Role::unknown, rules::Access::unknown));
            CHECK(has(r.body, "- " + role_q));
            CHECK(has(r.body, "\n- " + access_q));
        }
        SUBCASE("role known: only the access question") {
            const auto r =
                builtin(ticket(state, rules::Role::portfolio_admin, rules::Access::unknown));
            CHECK_FALSE(has(r.body, role_q));
            CHECK(has(r.body, "- " + access_q));
        }
        SUBCASE("access known: only the role question") {
            const auto r = builtin(ticket(state, rules::Role::unknown, rules::Access::yes));
            CHECK(has(r.body, "- " + role_q));
            CHECK_FALSE(has(r.body, access_q));
        }
        SUBCASE("nothing unknown: no question") {
            const auto r = builtin(ticket(state, rules::Role::client, rules::Access::no));
            CHECK_FALSE(has(r.body, role_q));
            CHECK_FALSE(has(r.body, access_q));
            CHECK(has(r.body, "Nothing more for now"));
        }
    }
    CHECK(builtin(ticket("received")).subject ==
          "[HD-1042] Your request to turn off two-step verification: a few questions");
    CHECK(has(builtin(ticket("received")).body, "(received 2026-11-20T09:15:00Z)"));
}

TEST_CASE("self_service_advised gives the policy page's steps word for word") {
    const auto r = builtin(ticket("self_service_advised", rules::Role::client, rules::Access::yes));
    CHECK(r.subject == "[HD-1042] How to turn off two-step verification yourself");
    CHECK(has(r.body,
              "Meta Business Manager > WhatsApp Manager > Phone Numbers > Settings > "
              "Two-Step Verification > Turn off two-step verification"));
    CHECK(has(r.body, "Go to Meta Business Manager > WhatsApp Manager > Phone Numbers > Settings"));
    CHECK(has(r.body,
              "Select Two-Step Verification from the navigation panel, then click the "
              "Turn off two-step verification button"));
    CHECK(has(r.body,
              "An email with a link will be sent to the email address associated with "
              "the business portfolio."));
    CHECK(has(r.body, "Click the link to disable two-step verification."));
    CHECK(has(r.body, "Only our client or an administrator of the Meta business portfolio"));
}

TEST_CASE("partner_rejected cites R3 and says nothing about the client's account") {
    Ticket t = ticket("partner_rejected", rules::Role::partner, rules::Access::unknown);
    t.checks = {{"client_of_record", "bob"}};  // a partner detected late, after a check
    t.fields.waba_id = "102938475610293";
    t.fields.portfolio_id = "564738291056473";
    const auto r = builtin(t);
    CHECK(r.subject == "[HD-1042] We cannot act on this request");
    CHECK(has(r.body,
              "only at the request of our client or of an administrator of the client's "
              "Meta business portfolio"));
    CHECK(has(r.body, "this includes a partner acting for the client"));
    CHECK(has(r.body, "the client should contact our support team directly"));
    for (const auto& text : {r.subject, r.body}) {
        for (const std::string& secret : std::vector<std::string>{
                 "6789", "****", kClient, "acme", kEmail, "102938475610293", "564738291056473",
                 "client_of_record", "number_ownership", "lost_access", "check"})
            CHECK_MESSAGE(!has(text, secret), "the partner reply reveals '", secret, "'");
    }
}

TEST_CASE("identity_check asks for the proof of each check that has not passed") {
    const std::string invoice =
        "Proof that you are our client for this number: reply from the "
        "email address registered on the client account acme-gmbh-77";
    const std::string carrier =
        "Proof that you own the number **** 6789: a recent bill or "
        "contract from your telephone carrier";
    const std::string lost = "Proof that you have lost access to the Meta business portfolio";
    Ticket t = ticket("identity_check");
    SUBCASE("none passed: all three") {
        const auto r = builtin(t);
        CHECK(r.subject == "[HD-1042] Confirming your identity: what we still need");
        CHECK(has(r.body, "- " + invoice));
        CHECK(has(r.body, "\n- " + carrier));
        CHECK(has(r.body, "\n- " + lost));
    }
    SUBCASE("number_ownership passed: the other two") {
        t.checks = {{"number_ownership", "alice"}};
        const auto r = builtin(t);
        CHECK(has(r.body, invoice));
        CHECK_FALSE(has(r.body, "telephone carrier"));
        CHECK(has(r.body, lost));
    }
    SUBCASE("all passed: nothing more, a second agent reviews") {
        t.checks = {
            {"client_of_record", "alice"}, {"number_ownership", "alice"}, {"lost_access", "alice"}};
        const auto r = builtin(t);
        CHECK_FALSE(has(r.body, "Proof that"));
        CHECK(has(r.body, "Nothing more: every check has passed."));
    }
}

TEST_CASE("identity_rejected names the check recorded as failed in the log") {
    using tfadesk::engine::LogEntry;
    std::vector<LogEntry> log(3);
    log[0].event = "open";
    log[0].details = R"({"check":"lost_access"})";  // not a check-failed entry: ignored
    log[1].event = "triage";
    log[1].details = "{}";
    log[2].event = "check-failed";
    log[2].details =
        R"({"check":"number_ownership","note":"the carrier bill names another company"})";
    const ReplyFacts facts = facts_from_log(log);
    REQUIRE(facts.failed_check);
    CHECK(*facts.failed_check == "number_ownership");

    const auto r = builtin(ticket("identity_rejected"), facts);
    CHECK(r.subject == "[HD-1042] We could not confirm your identity");
    CHECK(has(r.body,
              "The check that did not pass: number ownership (that you own the phone number)."));
    CHECK_FALSE(
        has(r.body, "the carrier bill names another company"));  // the agent's note stays inside

    SUBCASE("a log without a readable check-failed entry: the reply still reads") {
        log[2].details = "not json";
        CHECK_FALSE(facts_from_log(log).failed_check);
        log[2].details = R"({"check":"shoe_size"})";
        CHECK_FALSE(facts_from_log(log).failed_check);
        CHECK(has(builtin(ticket("identity_rejected")).body,
                  "The check that did not pass: one of our identity checks."));
    }
}

TEST_CASE("the later states: being carried out, done, closed") {
    for (const std::string state : {"approved", "disable_submitted"}) {
        CAPTURE(state);
        const auto r = builtin(ticket(state));
        CHECK(r.subject == "[HD-1042] Your request is being carried out");
        CHECK(has(r.body, "being carried out"));
    }
    const auto done = builtin(ticket("completed"));
    CHECK(done.subject == "[HD-1042] Two-step verification is now off");
    CHECK(has(done.body, "Two-step verification (2FA) is now turned off for the number **** 6789"));
    CHECK(has(done.body,
              "You can now migrate the number to another WhatsApp Business Account or "
              "Meta business portfolio"));
    CHECK(has(done.body, "set a new six-digit PIN"));
    for (const std::string state : {"cancelled", "expired"}) {
        CAPTURE(state);
        const auto r = builtin(ticket(state));
        CHECK(r.subject == "[HD-1042] Your request has been closed");
        CHECK(has(r.body, "closed"));
        CHECK(has(r.body, "please send us a new request"));
    }
    CHECK(has(builtin(ticket("expired")).body, "We did not hear back from you"));
    CHECK(has(builtin(ticket("cancelled")).body, "has been withdrawn"));
}

TEST_CASE("reply JSON has exactly the keys of SPEC §11") {
    const auto j = tfadesk::desk::to_json(builtin(ticket("completed")));
    std::set<std::string> keys;
    for (const auto& [key, value] : j.items()) {
        keys.insert(key);
        CHECK(value.is_string());
    }
    CHECK(keys == std::set<std::string>{"ref", "state", "lang", "subject", "body"});
    CHECK(j["state"] == "completed");
    CHECK(j["lang"] == "en");
}

TEST_CASE("a desk folder overrides the built-in texts per state and language") {
    const Folder f(
        Files{{"completed.de.txt",
               "[{ref}] Die Zwei-Schritt-Verifizierung ist aus\n\n"
               "Die Nummer {phone_masked} ist frei.\n"},
              {"completed.en.txt", "Done: {ref}\r\nThe number {phone_masked} is free.\r\n"},
              {"README.md", "not a template: ignored {nonsense}"}});
    const auto desk = Templates::load(f.path());
    const Ticket t = ticket("completed");
    SUBCASE("the folder's German text for --lang de") {
        const auto r = desk.render(t, "de");
        CHECK(r.lang == "de");
        CHECK(r.subject == "[HD-1042] Die Zwei-Schritt-Verifizierung ist aus");
        CHECK(r.body == "Die Nummer **** 6789 ist frei.");
    }
    SUBCASE("the folder's English text beats the built-in one (CRLF read as LF)") {
        const auto r = desk.render(t, "");
        CHECK(r.lang == "en");
        CHECK(r.subject == "Done: HD-1042");
        CHECK(r.body == "The number **** 6789 is free.");
    }
    SUBCASE("a state the folder lacks: the built-in English text, reported as en") {
        const auto r = desk.render(ticket("approved"), "de");
        CHECK(r.lang == "en");
        CHECK(r.subject == "[HD-1042] Your request is being carried out");
    }
    SUBCASE("a language the folder lacks: English") {
        CHECK(desk.render(t, "fr").lang == "en");
        CHECK(desk.render(t, "fr").subject == "Done: HD-1042");
    }
    SUBCASE("a --lang that is not a language code is invalid input") {
        for (const std::string lang : {"DE", "d", "de_DE", "../x", "german"}) {
            CAPTURE(lang);
            try {
                desk.render(t, lang);
                FAIL("accepted");
            } catch (const Error& e) {
                CHECK(e.kind() == ErrorKind::invalid_input);
                CHECK(has(e.what(), lang));
            }
        }
        CHECK(desk.render(t, "pt-BR").lang == "en");
    }
}

TEST_CASE("a literal brace is {{ or }}") {
    const Folder f(
        Files{{"completed.en.txt", "Ticket {{ref}} is {ref}\nSet {{{{ and }}}} as you like."}});
    const auto r = Templates::load(f.path()).render(ticket("completed"), "en");
    CHECK(r.subject == "Ticket {ref} is HD-1042");
    CHECK(r.body == "Set {{ and }} as you like.");
}

TEST_CASE("a bad template is invalid input naming the file and what is wrong") {
    SUBCASE("an unknown placeholder: the file, its line and the placeholder") {
        const Folder f(
            Files{{"completed.de.txt", "Betreff {ref}\n\nText\nNummer {phone} ist frei.\n"}});
        const std::string msg = load_error(f);
        CHECK(has(msg, f.path() + "/completed.de.txt:4"));
        CHECK(has(msg, "unknown placeholder {phone}"));
        CHECK(has(msg, "phone_masked"));  // the list of the known ones helps to fix it
    }
    SUBCASE("an unknown state in the file name") {
        const Folder f(Files{{"resolved.de.txt", "Betreff\nText\n"}});
        const std::string msg = load_error(f);
        CHECK(has(msg, "resolved.de.txt"));
        CHECK(has(msg, "unknown state or snippet 'resolved'"));
    }
    SUBCASE("a name without a language") {
        const Folder f(Files{{"completed.txt", "Subject\nBody\n"}});
        CHECK(has(load_error(f), "completed.txt: is not named STATE.LANG.txt"));
    }
    SUBCASE("a language that is not a code") {
        const Folder f(Files{{"completed.German.txt", "Subject\nBody\n"}});
        CHECK(has(load_error(f), "'German' is not a language code"));
    }
    SUBCASE("an empty file, a blank subject line, no body") {
        CHECK(has(load_error(Folder(Files{{"completed.de.txt", ""}})),
                  "completed.de.txt: has no subject line"));
        CHECK(has(load_error(Folder(Files{{"completed.de.txt", "  \nBody"}})),
                  "has no subject line"));
        CHECK(has(load_error(Folder(Files{{"completed.de.txt", "Subject\n\n\n"}})), "has no body"));
        CHECK(has(load_error(Folder(Files{{"check.unknown.de.txt", " \n"}})),
                  "check.unknown.de.txt: is empty"));
    }
    SUBCASE("a positional placeholder") {
        CHECK(has(load_error(Folder(Files{{"completed.de.txt", "S\nDie Nummer {} ist frei"}})),
                  "positional placeholder {}"));
        CHECK(has(load_error(Folder(Files{{"completed.de.txt", "S\nDie Nummer {0} ist frei"}})),
                  "positional placeholder {0}"));
    }
    SUBCASE("what fmt refuses: an unmatched brace, a bad format spec") {
        const std::string msg =
            load_error(Folder(Files{{"completed.de.txt", "S\nNummer {ref ist frei"}}));
        CHECK(has(msg, "completed.de.txt"));
        CHECK(has(msg, "does not format"));
        CHECK(has(load_error(Folder(Files{{"completed.de.txt", "S\nNur } eine"}})),
                  "does not format"));
        CHECK(
            has(load_error(Folder(Files{{"completed.de.txt", "S\n{ref:d}"}})), "does not format"));
    }
    SUBCASE("a placeholder nested in a format spec is checked too") {
        CHECK(has(load_error(Folder(Files{{"completed.de.txt", "S\n{ref:>{width}}"}})),
                  "unknown placeholder {width}"));
    }
    SUBCASE("a list on the subject line") {
        const std::string msg =
            load_error(Folder(Files{{"identity_check.en.txt", "Still: {missing_checks}\nBody"}}));
        CHECK(has(msg, "identity_check.en.txt:1"));
        CHECK(has(msg, "{missing_checks}"));
        CHECK(has(msg, "subject line"));
    }
    SUBCASE("the partner reply may not name the client's account") {
        for (const std::string p :
             {"client_id", "phone_masked", "missing_checks", "failed_check", "questions"}) {
            CAPTURE(p);
            const std::string msg = load_error(
                Folder(Files{{"partner_rejected.de.txt", "Betreff {ref}\nKunde {" + p + "}"}}));
            CHECK(has(msg, "partner_rejected.de.txt:2"));
            CHECK(has(msg, "{" + p + "}"));
            CHECK(has(msg, "R3"));
        }
        CHECK(load_error(Folder(Files{
                             {"partner_rejected.de.txt", "Betreff {ref}\n{state} {submitted_at}"}}))
                  .empty());
    }
    SUBCASE("a list inside a snippet") {
        CHECK(has(load_error(Folder(Files{{"proof.lost_access.en.txt", "see {missing_checks}"}})),
                  "cannot be used inside a snippet"));
    }
    SUBCASE("a control character, bad UTF-8") {
        const std::string msg =
            load_error(Folder(Files{{"completed.de.txt", "S\nok\nbad \x1b[2J here"}}));
        CHECK(has(msg, "completed.de.txt:3"));
        CHECK(has(msg, "control character"));
        CHECK(has(load_error(Folder(Files{{"completed.de.txt", "S\nbad \xff here"}})), "UTF-8"));
    }
    SUBCASE("a German list whose snippets are not all German") {
        const Folder f(
            Files{{"identity_check.de.txt", "Betreff {ref}\n\nEs fehlt:\n{missing_checks}\n"},
                  {"proof.lost_access.de.txt", "Nachweis des Zugangsverlusts"}});
        const std::string msg = load_error(f);
        CHECK(has(msg, "identity_check.de.txt:4"));
        CHECK(has(msg, "{missing_checks} needs proof.client_of_record.de.txt"));
    }
    SUBCASE("a folder that is not there") {
        try {
            Templates::load("/nonexistent/templates");
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK(e.kind() == ErrorKind::invalid_input);
            CHECK(has(e.what(), "/nonexistent/templates"));
        }
    }
    SUBCASE("one bad file fails the whole folder, even when the state is never rendered") {
        const Folder f(Files{{"completed.de.txt", "S\nBody"}, {"expired.de.txt", "S\n{oops}"}});
        CHECK(has(load_error(f), "expired.de.txt:2: unknown placeholder {oops}"));
    }
}

TEST_CASE("a translated list is in the reply's language") {
    const Folder f(
        Files{{"identity_check.de.txt", "[{ref}] Was noch fehlt\nEs fehlt:\n{missing_checks}"},
              {"proof.client_of_record.de.txt", "Rechnung für Konto {client_id}"},
              {"proof.number_ownership.de.txt", "Rechnung des Netzbetreibers\nfür {phone_masked}"},
              {"proof.lost_access.de.txt", "Bildschirmfoto"},
              {"proofs.none.de.txt", "Nichts mehr."}});
    Ticket t = ticket("identity_check");
    t.checks = {{"lost_access", "alice"}};
    const auto r = Templates::load(f.path()).render(t, "de");
    CHECK(r.lang == "de");
    CHECK(r.body ==
          "Es fehlt:\n- Rechnung für Konto acme-gmbh-77\n"
          "- Rechnung des Netzbetreibers\n  für **** 6789");
}

TEST_CASE("the sample German folder loads and is used") {
    const auto desk = Templates::load(std::string(TFADESK_SOURCE_DIR) + "/samples/templates");
    for (const std::string state :
         {"self_service_advised", "partner_rejected", "completed", "identity_check"}) {
        CAPTURE(state);
        const auto r = desk.render(ticket(state), "de");
        CHECK(r.lang == "de");
        CHECK(r.body.find("Hallo") == 0);
    }
    CHECK(has(desk.render(ticket("self_service_advised"), "de").body,
              "Meta Business Manager > WhatsApp Manager > Phone Numbers > Settings"));
    CHECK_FALSE(has(desk.render(ticket("partner_rejected"), "de").body, "6789"));
}

TEST_CASE("docs/replies.md lists every placeholder and snippet and shows every built-in text") {
    std::ifstream in(std::string(TFADESK_SOURCE_DIR) + "/docs/replies.md");
    const std::string doc((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    REQUIRE_FALSE(doc.empty());
    for (const auto& p : tfadesk::desk::placeholders()) {
        CAPTURE(p.name);
        CHECK(has(doc, "| `{" + std::string(p.name) + "}` |"));
    }
    for (const auto& s : tfadesk::desk::snippets()) {
        CAPTURE(s.name);
        CHECK(has(doc, "| `" + std::string(s.name) + "` |"));
    }
    for (const auto& state : kStates) {
        CAPTURE(state);
        Ticket t = ticket(state);
        t.fields.ref = "{ref}";  // so the subject comes out as the template has it
        CHECK(has(doc, "### `" + state + "`"));
        CHECK(has(doc, "```text\n" + builtin(t).subject + "\n"));
    }
}
