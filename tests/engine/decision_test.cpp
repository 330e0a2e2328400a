// Decision texts (SPEC §13) from log entries: which entries are decisions, the canonical text
// (typed in here from the SPEC's words, never produced by the code under test), and the
// signature members left out of it.
#include "tfadesk/engine/decision.hpp"

#include <doctest/doctest.h>

#include "tfadesk/engine/error.hpp"

namespace {

using namespace tfadesk::engine;

LogEntry entry(std::string ref, std::int64_t tseq, std::string event, std::string details,
               std::string agent) {
    LogEntry e;
    e.seq = 40;
    e.ref = std::move(ref);
    e.tseq = tseq;
    e.event = std::move(event);
    e.details = std::move(details);
    e.agent = std::move(agent);
    e.at = "2026-12-06T10:00:00.000Z";
    e.state = "approved";
    e.policy_version = 2;
    return e;
}

}  // namespace

TEST_CASE(
    "decision: the five decision events and every account change are decisions, nothing else") {
    for (const char* ev :
         {"check-passed", "check-failed", "approve", "submit-disable", "confirm-disabled"})
        CHECK(is_decision("HD-1", ev));
    for (const char* ev :
         {"open", "triage", "update", "partner-detected", "disable-failed", "cancel", "expire"})
        CHECK_FALSE(is_decision("HD-1", ev));
    for (const char* ev :
         {"account-add", "account-grant", "account-revoke", "account-disable", "account-enable",
          "account-token", "account-key-add", "account-key-remove", "account-require-signatures"})
        CHECK(is_decision("account:bob", ev));
    CHECK_FALSE(is_decision("desk:adopt", "seal-adopt"));
}

TEST_CASE(
    "decision: the text is canonical JSON of agent, details without signatures, event, ref, "
    "version") {
    const auto approve =
        entry("HD-1042", 6, "approve",
              R"({"by_token":"4f1c0a9d2b3e6f70","signature":{"key":"1a2b3c4d","sig":"x"}})", "bob");
    CHECK(
        decision_text(approve) ==
        R"({"agent":"bob","details":{"by_token":"4f1c0a9d2b3e6f70"},"event":"approve","ref":"HD-1042","version":5})");
    // Unicode stays as it is; quotes and control characters are escaped; keys sorted by bytes.
    const auto check = entry("HD-1", 3, "check-failed",
                             R"({"note":"Grüße \"x\"\n","check":"lost_access"})", "ana");
    CHECK(decision_text(check) ==
          "{\"agent\":\"ana\",\"details\":{\"check\":\"lost_access\",\"note\":\"Grüße "
          "\\\"x\\\"\\n\"},"
          "\"event\":\"check-failed\",\"ref\":\"HD-1\",\"version\":2}");
    const auto key_add = entry(
        "account:erin", 2, "account-key-add",
        R"({"countersignature":{"agent":"root","key":"00000000","sig":"y"},"public_key":"erin+1"})",
        "erin");
    CHECK(
        decision_text(key_add) ==
        R"({"agent":"erin","details":{"public_key":"erin+1"},"event":"account-key-add","ref":"account:erin","version":1})");
    CHECK_THROWS_AS(decision_text(entry("HD-1", 2, "approve", "[1]", "bob")), Error);
}

TEST_CASE("decision: recorded signatures are read with their shape checked") {
    const auto e =
        entry("HD-1", 6, "approve", R"({"signature":{"key":"1a2b3c4d","sig":"c2ln"}})", "bob");
    const auto s = recorded_signature(e, kSignatureKey);
    REQUIRE(s);
    CHECK(s->key == "1a2b3c4d");
    CHECK(s->sig == "c2ln");
    CHECK_FALSE(recorded_signature(e, kCountersignatureKey));
    CHECK_FALSE(recorded_signature(entry("HD-1", 6, "approve", "{}", "bob"), kSignatureKey));
    for (const char* bad :
         {R"({"signature":"x"})", R"({"signature":{"key":"1A2B3C4D","sig":"c2ln"}})",
          R"({"signature":{"key":"1a2b3c4d"}})",
          R"({"signature":{"key":"1a2b3c4d","sig":"c2ln","x":1}})"})
        CHECK_THROWS_AS(recorded_signature(entry("HD-1", 6, "approve", bad, "bob"), kSignatureKey),
                        Error);
}
