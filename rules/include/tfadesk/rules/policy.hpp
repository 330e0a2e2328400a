// The policy R1-R10 of SPEC §1 as pure functions. Every refusal carries the id of the rule that
// refused and one sentence a support agent understands. Nothing here knows about Boost.MSM,
// SQLite or the command line: the engine's guards call these functions.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tfadesk/rules/fields.hpp"

namespace tfadesk::rules {

// Goes up whenever a rule below changes meaning; stored with every log entry.
// 2 (version 3 of the product): R9 and R10, and every entry written by an account records the
// token that authenticated it (SPEC §12).
inline constexpr int kPolicyVersion = 2;
// Policy versions this build can judge events under (verify names any other).
bool knows_policy_version(int version);

inline constexpr std::int64_t kDefaultSlaHours = 168;  // R7: 7 days
inline constexpr std::int64_t kMaxSlaHours = 1000000;  // ~114 years: keeps the arithmetic exact

struct Refusal {
    std::string rule;    // "R1".."R10"
    std::string reason;  // one sentence, without the rule id
    std::string message() const { return rule + ": " + reason; }
};

// R5's three identity checks.
inline constexpr std::array<std::string_view, 3> kChecks = {"client_of_record", "number_ownership",
                                                            "lost_access"};
bool is_check_name(std::string_view name);

// R1-R3: where triage sends a request.
enum class TriageOutcome {
    partner_rejected,
    self_service_advised,
    identity_check,
    awaiting_requester
};
TriageOutcome triage(Role role, Access access);

// R1/R3: may 2FA be disabled on behalf of a requester in this role? (client, portfolio_admin)
std::optional<Refusal> may_disable_for(Role role);

// R4: a submitted disable must carry the provider's reference.
std::optional<Refusal> has_reference(const std::optional<std::string>& reference);

// R5: all three checks passed. `passed` holds the names of the checks recorded as passed.
std::optional<Refusal> all_checks_passed(const std::set<std::string, std::less<>>& passed);

// R6: the approver recorded none of the identity checks.
std::optional<Refusal> approver_is_independent(
    std::string_view approver, const std::set<std::string, std::less<>>& check_agents);

// R7: the ticket has waited on the requester longer than the SLA.
std::optional<Refusal> sla_elapsed(std::int64_t last_activity_ms, std::int64_t now_ms,
                                   std::int64_t sla_hours);
// R7 for an SLA that is not whole hours (the server's --sla-hours 0.5): waited more than sla_ms.
std::optional<Refusal> sla_elapsed_ms(std::int64_t last_activity_ms, std::int64_t now_ms,
                                      std::int64_t sla_ms);

// R8: a ticket in a terminal state accepts no event.
Refusal terminal_state(std::string_view state);

// R3: a partner's request is always rejected (used when a partner is detected late).
Refusal partner_request();

// R3: once a request is known to come from a partner, an answer cannot make it someone else's:
// the role may not change away from partner (the client must make their own request).
std::optional<Refusal> role_change_allowed(Role current, const std::optional<Role>& answered);

// R9: an approval names every related ticket that was rejected under R3 (same phone, or same
// requester email). `rejected` are those tickets' refs, `acknowledged` the refs the approver named.
std::optional<Refusal> partner_memory(const std::vector<std::string>& rejected,
                                      const std::set<std::string, std::less<>>& acknowledged);

// R10: no account grants a role to itself or enables itself. `self_raising` is whether the
// change grants a role or enables; `by` made it, on account `name`.
std::optional<Refusal> privilege_four_eyes(std::string_view by, std::string_view name,
                                           bool self_raising);

}  // namespace tfadesk::rules
