// The policy R1-R8 (SPEC §1) as pure functions: the outcome of each, and that every refusal names
// its rule.
#include "tfadesk/rules/policy.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

namespace {

using namespace tfadesk::rules;
using Checks = std::set<std::string, std::less<>>;

constexpr std::int64_t kHourMs = 3600000;

// A refusal carries its rule id, a reason without it, and a message that starts with it.
void check_refusal(const std::optional<Refusal>& r, const std::string& rule) {
    REQUIRE_MESSAGE(r.has_value(), "expected a refusal by " << rule);
    CHECK(r->rule == rule);
    CHECK_FALSE(r->reason.empty());
    CHECK(r->reason.find(rule) == std::string::npos);
    CHECK(r->message() == rule + ": " + r->reason);
}

const char* name(TriageOutcome o) {
    switch (o) {
        case TriageOutcome::partner_rejected:
            return "partner_rejected";
        case TriageOutcome::self_service_advised:
            return "self_service_advised";
        case TriageOutcome::identity_check:
            return "identity_check";
        case TriageOutcome::awaiting_requester:
            return "awaiting_requester";
    }
    return "?";
}

}  // namespace

TEST_CASE("triage: every role x access pair goes where SPEC §3 says") {
    struct Row {
        Role role;
        Access access;
        TriageOutcome expected;
    };
    // Typed in from SPEC §3's `triage` rows.
    const Row table[] = {
        {Role::client, Access::yes, TriageOutcome::self_service_advised},
        {Role::client, Access::no, TriageOutcome::identity_check},
        {Role::client, Access::unknown, TriageOutcome::awaiting_requester},
        {Role::portfolio_admin, Access::yes, TriageOutcome::self_service_advised},
        {Role::portfolio_admin, Access::no, TriageOutcome::identity_check},
        {Role::portfolio_admin, Access::unknown, TriageOutcome::awaiting_requester},
        {Role::partner, Access::yes, TriageOutcome::partner_rejected},
        {Role::partner, Access::no, TriageOutcome::partner_rejected},
        {Role::partner, Access::unknown, TriageOutcome::partner_rejected},
        {Role::unknown, Access::yes, TriageOutcome::awaiting_requester},
        {Role::unknown, Access::no, TriageOutcome::awaiting_requester},
        {Role::unknown, Access::unknown, TriageOutcome::awaiting_requester},
    };
    for (const Row& row : table) {
        CAPTURE(to_string(row.role));
        CAPTURE(to_string(row.access));
        CHECK(std::string(name(triage(row.role, row.access))) == name(row.expected));
    }
}

TEST_CASE("may_disable_for: only the client or a portfolio admin (R1, R3)") {
    CHECK_FALSE(may_disable_for(Role::client).has_value());
    CHECK_FALSE(may_disable_for(Role::portfolio_admin).has_value());
    check_refusal(may_disable_for(Role::partner), "R3");
    check_refusal(may_disable_for(Role::unknown), "R1");
}

TEST_CASE("has_reference: a submitted disable needs a non-blank reference (R4)") {
    check_refusal(has_reference(std::nullopt), "R4");
    check_refusal(has_reference(std::string()), "R4");
    check_refusal(has_reference(std::string("   ")), "R4");
    check_refusal(has_reference(std::string(" \t ")), "R4");
    CHECK_FALSE(has_reference(std::string("WA-2026-0042")).has_value());
    CHECK_FALSE(has_reference(std::string(" x ")).has_value());
}

TEST_CASE("all_checks_passed: the three identity checks of R5") {
    SUBCASE("the vocabulary") {
        CHECK(kChecks.size() == 3);
        for (const char* c : {"client_of_record", "number_ownership", "lost_access"})
            CHECK(is_check_name(c));
        CHECK_FALSE(is_check_name("identity"));
        CHECK_FALSE(is_check_name(""));
    }
    SUBCASE("none passed names all three") {
        const auto r = all_checks_passed({});
        check_refusal(r, "R5");
        CHECK(r->reason.find("client_of_record") != std::string::npos);
        CHECK(r->reason.find("number_ownership") != std::string::npos);
        CHECK(r->reason.find("lost_access") != std::string::npos);
    }
    SUBCASE("one passed names only the other two") {
        const auto r = all_checks_passed(Checks{"client_of_record"});
        check_refusal(r, "R5");
        CHECK(r->reason.find("client_of_record") == std::string::npos);
        CHECK(r->reason.find("number_ownership") != std::string::npos);
        CHECK(r->reason.find("lost_access") != std::string::npos);
    }
    SUBCASE("two passed names the last one") {
        const auto r = all_checks_passed(Checks{"client_of_record", "lost_access"});
        check_refusal(r, "R5");
        CHECK(r->reason.find("number_ownership") != std::string::npos);
        CHECK(r->reason.find("lost_access") == std::string::npos);
    }
    SUBCASE("an unknown name does not count as a check") {
        check_refusal(
            all_checks_passed(Checks{"client_of_record", "lost_access", "something_else"}), "R5");
    }
    SUBCASE("all three pass") {
        CHECK_FALSE(all_checks_passed(Checks{"client_of_record", "number_ownership", "lost_access"})
                        .has_value());
    }
}

TEST_CASE("approver_is_independent: four eyes (R6)") {
    CHECK_FALSE(approver_is_independent("bob", {}).has_value());
    CHECK_FALSE(approver_is_independent("bob", Checks{"alice", "carol"}).has_value());
    const auto r = approver_is_independent("alice", Checks{"alice", "carol"});
    check_refusal(r, "R6");
    CHECK(r->reason.find("alice") != std::string::npos);
    check_refusal(approver_is_independent("carol", Checks{"alice", "carol"}), "R6");
}

TEST_CASE("partner_memory: every related partner-rejected ticket must be acknowledged (R9)") {
    CHECK_FALSE(partner_memory({}, {}).has_value());
    CHECK_FALSE(partner_memory({"P-1", "P-2"}, Checks{"P-1", "P-2"}).has_value());
    CHECK_FALSE(partner_memory({"P-1"}, Checks{"P-1", "OTHER"}).has_value());
    const auto r = partner_memory({"P-1", "P-2"}, Checks{"P-2"});
    check_refusal(r, "R9");
    CHECK(r->reason.find("P-1") != std::string::npos);
    CHECK(r->reason.find("P-2") == std::string::npos);  // only what is still missing
    check_refusal(partner_memory({"P-1"}, {}), "R9");
}

TEST_CASE("privilege_four_eyes: no account raises its own privilege (R10)") {
    check_refusal(privilege_four_eyes("dana", "dana", true), "R10");
    CHECK_FALSE(privilege_four_eyes("dana", "erin", true).has_value());   // another admin may
    CHECK_FALSE(privilege_four_eyes("dana", "dana", false).has_value());  // lowering is allowed
}

TEST_CASE("sla_elapsed: strictly longer than the SLA (R7)") {
    const std::int64_t last = 1'700'000'000'000;
    SUBCASE("exactly 168 hours is not elapsed") {
        const auto r = sla_elapsed(last, last + 168 * kHourMs, kDefaultSlaHours);
        check_refusal(r, "R7");
        CHECK(r->reason.find("168") != std::string::npos);
    }
    SUBCASE("168 hours and 1 ms is elapsed") {
        CHECK_FALSE(sla_elapsed(last, last + 168 * kHourMs + 1, kDefaultSlaHours).has_value());
    }
    SUBCASE("default SLA is 7 days") { CHECK(kDefaultSlaHours == 168); }
    SUBCASE("a custom SLA is honoured") {
        check_refusal(sla_elapsed(last, last + kHourMs, 1), "R7");
        CHECK_FALSE(sla_elapsed(last, last + kHourMs + 1, 1).has_value());
        check_refusal(sla_elapsed(last, last + 100 * kHourMs, 168), "R7");
    }
    SUBCASE("a clock before the last activity is not elapsed") {
        check_refusal(sla_elapsed(last, last - 1000 * kHourMs, kDefaultSlaHours), "R7");
    }
}

TEST_CASE("terminal_state: a closed ticket accepts nothing (R8)") {
    for (const char* state : {"completed", "cancelled", "expired", "partner_rejected"}) {
        CAPTURE(state);
        const Refusal r = terminal_state(state);
        check_refusal(r, "R8");
        CHECK(r.reason.find(state) != std::string::npos);
    }
}

TEST_CASE("partner_request: always R3") {
    const Refusal r = partner_request();
    check_refusal(r, "R3");
    CHECK(r.reason.find("partner") != std::string::npos);
}

TEST_CASE("policy version") {
    CHECK(knows_policy_version(kPolicyVersion));
    CHECK_FALSE(knows_policy_version(kPolicyVersion + 1));
    CHECK_FALSE(knows_policy_version(0));
}
