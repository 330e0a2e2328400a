#include "tfadesk/rules/policy.hpp"

#include <algorithm>
#include <string>

namespace tfadesk::rules {

bool knows_policy_version(int version) { return version == 1 || version == 2; }

bool is_check_name(std::string_view name) {
    return std::find(kChecks.begin(), kChecks.end(), name) != kChecks.end();
}

TriageOutcome triage(Role role, Access access) {
    if (role == Role::partner) return TriageOutcome::partner_rejected;  // R3
    if (role == Role::unknown || access == Access::unknown)             // ask first
        return TriageOutcome::awaiting_requester;
    if (access == Access::yes) return TriageOutcome::self_service_advised;  // R2
    return TriageOutcome::identity_check;                                   // R2 on behalf
}

std::optional<Refusal> may_disable_for(Role role) {
    switch (role) {
        case Role::client:
        case Role::portfolio_admin:
            return std::nullopt;
        case Role::partner:
            return partner_request();
        case Role::unknown:
            break;
    }
    return Refusal{"R1",
                   "only the client or an administrator of the client's Meta business "
                   "portfolio may have 2FA disabled; the requester's role is unknown"};
}

std::optional<Refusal> has_reference(const std::optional<std::string>& reference) {
    if (reference && reference->find_first_not_of(" \t") != std::string::npos) return std::nullopt;
    return Refusal{"R4",
                   "2FA is not reachable through the API: record the disable as submitted "
                   "with the non-empty --reference of the request made in WhatsApp Manager"};
}

std::optional<Refusal> all_checks_passed(const std::set<std::string, std::less<>>& passed) {
    std::string missing;
    for (auto check : kChecks) {
        if (passed.count(check) != 0) continue;
        if (!missing.empty()) missing += ", ";
        missing += check;
    }
    if (missing.empty()) return std::nullopt;
    return Refusal{
        "R5", "all three identity checks must pass before approval; not yet passed: " + missing};
}

std::optional<Refusal> approver_is_independent(
    std::string_view approver, const std::set<std::string, std::less<>>& check_agents) {
    if (check_agents.count(approver) == 0) return std::nullopt;
    return Refusal{"R6", "four eyes: agent '" + std::string(approver) +
                             "' recorded an identity check on this ticket and may not approve it"};
}

std::optional<Refusal> sla_elapsed(std::int64_t last_activity_ms, std::int64_t now_ms,
                                   std::int64_t sla_hours) {
    // Compared in hours and milliseconds apart, so no product can overflow.
    const std::int64_t waited = now_ms - last_activity_ms;
    if (waited / 3600000 > sla_hours || (waited / 3600000 == sla_hours && waited % 3600000 > 0))
        return std::nullopt;
    return Refusal{"R7", "the ticket has not waited on the requester longer than the SLA of " +
                             std::to_string(sla_hours) + " hours"};
}

std::optional<Refusal> sla_elapsed_ms(std::int64_t last_activity_ms, std::int64_t now_ms,
                                      std::int64_t sla_ms) {
    if (now_ms - last_activity_ms > sla_ms) return std::nullopt;
    return Refusal{"R7", "the ticket has not waited on the requester longer than the SLA of " +
                             std::to_string(sla_ms) + " ms"};
}

Refusal terminal_state(std::string_view state) {
    return Refusal{"R8", "the ticket is closed in state '" + std::string(state) +
                             "' and accepts no further event"};
}

std::optional<Refusal> role_change_allowed(Role current, const std::optional<Role>& answered) {
    if (current != Role::partner || !answered || *answered == Role::partner) return std::nullopt;
    return Refusal{"R3",
                   "the request was made by a partner and stays a partner's request; the "
                   "client must make their own request"};
}

Refusal partner_request() {
    return Refusal{"R3",
                   "requests made by a partner are always rejected, whoever the partner says "
                   "it is for"};
}

std::optional<Refusal> partner_memory(const std::vector<std::string>& rejected,
                                      const std::set<std::string, std::less<>>& acknowledged) {
    std::string missing;
    for (const auto& ref : rejected)
        if (!acknowledged.count(ref)) missing += (missing.empty() ? "" : ", ") + ref;
    if (missing.empty()) return std::nullopt;
    return Refusal{
        "R9",
        "the same phone number or requester email was rejected as a partner's request on " +
            missing +
            "; the approver must name every such ticket (ack_related) after checking that this "
            "request really comes from the client"};
}

std::optional<Refusal> privilege_four_eyes(std::string_view by, std::string_view name,
                                           bool self_raising) {
    if (!self_raising || by != name) return std::nullopt;
    return Refusal{"R10",
                   "no account grants a role to itself or enables itself: another admin must make "
                   "this change"};
}

}  // namespace tfadesk::rules
