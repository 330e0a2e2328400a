// `tfadesk reply` run as a process (SPEC §11): the plain and --json forms, exit 4 for an unknown
// ticket, a desk's --templates folder (also from $TFADESK_TEMPLATES) and exit 2 naming the file
// and the placeholder when one of its templates is bad. The texts themselves are tested in
// tests/desk/reply_test.cpp; here only what the command adds.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "expect.hpp"
#include "process.hpp"

namespace {

using namespace clitest;
using nlohmann::json;

void ok(const Result& r) { REQUIRE_MESSAGE(r.code == 0, r.describe()); }

}  // namespace

TEST_CASE("reply prints the subject, a blank line and the body; --json the five keys") {
    Desk d;
    ok(d.open("HD-7", "client", "yes"));
    ok(d.event("HD-7", "triage", "alice"));

    const Result r = d({"reply", "HD-7"});
    INFO(r.describe());
    CHECK(r.code == 0);
    CHECK(r.err.empty());
    const auto lines = r.out_lines();
    REQUIRE(lines.size() > 3);
    CHECK(lines[0] == "Subject: [HD-7] How to turn off two-step verification yourself");
    CHECK(lines[1].empty());
    CHECK(lines[2] == "Hello,");
    CHECK(contains(r.out,
                   "Meta Business Manager > WhatsApp Manager > Phone Numbers > Settings > "
                   "Two-Step Verification > Turn off two-step verification"));
    CHECK(contains(r.out, "**** 6789"));  // Desk::open uses +49 151 2345 6789
    CHECK_FALSE(contains(r.out, "2345"));
    CHECK_FALSE(contains(r.out, "ops@acme.example"));

    const Result j = d({"reply", "HD-7", "--json"});
    INFO(j.describe());
    REQUIRE(j.code == 0);
    const json doc = json::parse(j.out);
    std::set<std::string> keys;
    for (const auto& [key, value] : doc.items()) keys.insert(key);
    CHECK(keys == std::set<std::string>{"ref", "state", "lang", "subject", "body"});
    CHECK(doc["ref"] == "HD-7");
    CHECK(doc["state"] == "self_service_advised");
    CHECK(doc["lang"] == "en");
    CHECK(doc["subject"] == "[HD-7] How to turn off two-step verification yourself");
    CHECK(lines[2] + "\n" == doc["body"].get<std::string>().substr(0, 7));
}

TEST_CASE("reply for an unknown ticket is exit 4; a bad --lang exit 2; no database exit 1") {
    Desk d;
    ok(d.open("HD-7", "client", "yes"));
    expect_error(d({"reply", "HD-404"}), 4);
    expect_error(d({"reply", "HD-404", "--json"}), 4);
    const Result lang = d({"reply", "HD-7", "--lang", "Deutsch"});
    expect_error(lang, 2);
    CHECK(contains(lang.err, "'Deutsch'"));
    const Result none = tfadesk(d.dir / "missing.db", {"reply", "HD-7"});
    expect_error(none, 1);
    CHECK_FALSE(fs::exists(d.dir / "missing.db"));
}

TEST_CASE("identity_rejected names the check that check-failed recorded") {
    Desk d;
    ok(d.open("HD-9", "client", "no"));
    ok(d.event("HD-9", "triage", "alice"));
    ok(d.event("HD-9", "check-passed", "alice", {"--check", "client_of_record"}));
    ok(d.event("HD-9", "check-failed", "alice",
               {"--check", "lost_access", "--note", "still an admin of the portfolio"}));
    const Result r = d({"reply", "HD-9"});
    INFO(r.describe());
    CHECK(r.code == 0);
    CHECK(contains(r.out,
                   "The check that did not pass: lost access (that you have lost access to "
                   "the Meta business portfolio)."));
    CHECK_FALSE(contains(r.out, "still an admin"));
}

TEST_CASE("reply --templates: the desk's German text, English where it has none") {
    Desk d;
    ok(d.open("HD-7", "client", "yes"));
    ok(d.event("HD-7", "triage", "alice"));
    ok(d.open("HD-8", "client", "no"));
    ok(d.event("HD-8", "triage", "alice"));
    const fs::path dir = d.dir.path() / "templates";
    fs::create_directory(dir);
    spit(dir / "self_service_advised.de.txt",
         "[{ref}] Selbst ausschalten\n\nHallo,\nNummer {phone_masked}.\n");

    json doc = json::parse(
        d({"reply", "HD-7", "--lang", "de", "--templates", dir.string(), "--json"}).out);
    CHECK(doc["lang"] == "de");
    CHECK(doc["subject"] == "[HD-7] Selbst ausschalten");
    CHECK(doc["body"] == "Hallo,\nNummer **** 6789.");

    // The folder from the environment; HD-8 (identity_check) has no German text.
    RunOptions env;
    env.env = {{"TFADESK_TEMPLATES", dir.string()}};
    doc = json::parse(d({"reply", "HD-7", "--lang", "de", "--json"}, env).out);
    CHECK(doc["subject"] == "[HD-7] Selbst ausschalten");
    doc = json::parse(d({"reply", "HD-8", "--lang", "de", "--json"}, env).out);
    CHECK(doc["lang"] == "en");
    CHECK(doc["state"] == "identity_check");
    CHECK(doc["subject"] == "[HD-8] Confirming your identity: what we still need");

    // The repository's sample folder works as documented.
    const std::string samples = std::string(TFADESK_SOURCE_DIR) + "/samples/templates";
    doc = json::parse(d({"reply", "HD-8", "--lang", "de", "--templates", samples, "--json"}).out);
    CHECK(doc["lang"] == "de");
    CHECK(contains(doc["body"].get<std::string>(),
                   "- Nachweis, dass Ihnen die Nummer **** 6789 gehört"));
}

TEST_CASE(
    "reply --templates with a bad placeholder is exit 2 naming the file and the placeholder") {
    Desk d;
    ok(d.open("HD-7", "client", "yes"));
    const fs::path dir = d.dir.path() / "templates";
    fs::create_directory(dir);
    spit(dir / "completed.de.txt", "Betreff {ref}\n\nDie Nummer {phone} ist frei.\n");

    // Every template is checked up front, whatever the ticket's state and the language asked.
    const Result r = d({"reply", "HD-7", "--templates", dir.string()});
    expect_error(r, 2);
    CHECK(contains(r.err, (dir / "completed.de.txt").string() + ":3"));
    CHECK(contains(r.err, "{phone}"));
    RunOptions with_templates;
    with_templates.env = {{"TFADESK_TEMPLATES", dir.string()}};
    const Result env = d({"reply", "HD-7"}, with_templates);
    expect_error(env, 2);
    CHECK(contains(env.err, "{phone}"));

    // The partner reply may not name the client's account.
    fs::remove(dir / "completed.de.txt");
    spit(dir / "partner_rejected.en.txt", "About {client_id}\nNo.\n");
    const Result partner = d({"reply", "HD-7", "--templates", dir.string()});
    expect_error(partner, 2);
    CHECK(contains(partner.err, "partner_rejected.en.txt:1"));
    CHECK(contains(partner.err, "{client_id}"));

    expect_error(d({"reply", "HD-7", "--templates", (d.dir.path() / "nope").string()}), 2);
}
