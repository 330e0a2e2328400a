// Decisions and their texts (SPEC §13). A decision is an entry a person answers for: the events
// check-passed, check-failed, approve, submit-disable and confirm-disabled, and every account
// change. Its decision text is what that person signs with a personal key; verify recomputes it
// from the entry alone. docs/formats.md gives the canonical form with an example.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "tfadesk/engine/journal.hpp"

namespace tfadesk::engine {

// The members of an entry's details that hold signatures over its decision text: they are never
// part of the text they sign.
inline constexpr std::string_view kSignatureKey = "signature";
inline constexpr std::string_view kCountersignatureKey = "countersignature";

// Whether entries with this event (and key) are decisions.
bool is_decision(std::string_view ref, std::string_view event);
inline bool is_decision(const LogEntry& e) { return is_decision(e.ref, e.event); }

// The decision text of `e`: canonical JSON (keys sorted, no spaces, UTF-8 as is; the form of
// nlohmann::json::dump()) of {"agent", "details", "event", "ref", "version"}, where details is
// the entry's details object without "signature" and "countersignature", and version is the
// number of entries its ticket (or account) held before it: e.tseq - 1. Throws Error(integrity)
// naming the seq when the details are not a JSON object.
std::string decision_text(const LogEntry& e);

// A signature an entry records: {"key": KEYID, "sig": BASE64} (signature), plus "agent" for a
// countersignature (the admin who countersigned); or a passkey's WebAuthn assertion (SPEC §13):
// {"passkey": CREDENTIAL_ID, "authenticator_data", "client_data_json", "sig"}, each base64url,
// where sig is the assertion's signature over authenticator data || SHA-256(client data JSON).
struct RecordedSignature {
    std::string key, sig, agent;
    std::string passkey, authenticator_data, client_data_json;  // a passkey's (key is then "")
    bool by_passkey() const { return !passkey.empty(); }
};
// The signature (`which`: kSignatureKey or kCountersignatureKey) `e` records, nothing when it
// records none. Throws Error(integrity) naming the seq when the member is there but is not an
// object of strings of that shape.
std::optional<RecordedSignature> recorded_signature(const LogEntry& e, std::string_view which);

}  // namespace tfadesk::engine
