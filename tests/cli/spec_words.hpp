// The spec's words the process-level suites use: the checks of R5, the states and events of §3,
// and the flags that make each event's input well-formed (so that only the workflow can refuse it).
#pragma once

#include <string>
#include <vector>

namespace clitest {

inline const std::vector<std::string> kChecks = {"client_of_record", "number_ownership",
                                                 "lost_access"};

inline const std::vector<std::string> kStates = {
    "received",         "awaiting_requester", "identity_check", "self_service_advised",
    "partner_rejected", "identity_rejected",  "approved",       "disable_submitted",
    "completed",        "cancelled",          "expired"};

inline const std::vector<std::string> kEvents = {
    "triage",  "update",         "check-passed",     "check-failed",   "partner-detected",
    "approve", "submit-disable", "confirm-disabled", "disable-failed", "cancel",
    "expire",  "claim",          "release"};  // claim and release: SPEC §14

inline std::vector<std::string> valid_flags(const std::string& ev) {
    if (ev == "update") return {"--note", "the requester called back"};
    if (ev == "check-passed") return {"--check", "lost_access"};
    if (ev == "check-failed") return {"--check", "lost_access", "--note", "could not prove it"};
    if (ev == "submit-disable") return {"--reference", "WA-REQ-9"};
    if (ev == "disable-failed" || ev == "cancel") return {"--note", "why"};
    return {};
}

}  // namespace clitest
