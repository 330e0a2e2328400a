#include "tfadesk/engine/decision.hpp"

#include <nlohmann/json.hpp>

#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/error.hpp"

namespace tfadesk::engine {

namespace {

nlohmann::json details_object(const LogEntry& e) {
    nlohmann::json d;
    try {
        d = nlohmann::json::parse(e.details);
    } catch (const nlohmann::json::exception&) {
    }
    if (!d.is_object())
        throw Error(ErrorKind::integrity,
                    "entry seq " + std::to_string(e.seq) + ": details are not a JSON object");
    return d;
}

}  // namespace

bool is_decision(std::string_view ref, std::string_view event) {
    if (is_account_key(ref)) return parse_account_change(event).has_value();
    if (is_desk_key(ref)) return false;
    return event == "check-passed" || event == "check-failed" || event == "approve" ||
           event == "submit-disable" || event == "confirm-disabled";
}

std::string decision_text(const LogEntry& e) {
    nlohmann::json details = details_object(e);
    details.erase(std::string(kSignatureKey));
    details.erase(std::string(kCountersignatureKey));
    const nlohmann::json text = {{"agent", e.agent},
                                 {"details", std::move(details)},
                                 {"event", e.event},
                                 {"ref", e.ref},
                                 {"version", e.tseq - 1}};
    return text.dump();
}

std::optional<RecordedSignature> recorded_signature(const LogEntry& e, std::string_view which) {
    if (e.details.find(which) == std::string::npos) return std::nullopt;
    const nlohmann::json d = details_object(e);
    const auto it = d.find(which);
    if (it == d.end()) return std::nullopt;
    const bool counter = which == kCountersignatureKey;
    auto text = [&](const char* key) {
        const auto m = it->find(key);
        return m != it->end() && m->is_string() ? m->get<std::string>() : std::string();
    };
    RecordedSignature s;
    if (!counter && it->is_object() && it->contains("passkey")) {
        s.passkey = text("passkey");
        s.authenticator_data = text("authenticator_data");
        s.client_data_json = text("client_data_json");
        s.sig = text("sig");
        if (it->size() != 4 || s.passkey.empty() || s.authenticator_data.empty() ||
            s.client_data_json.empty() || s.sig.empty())
            throw Error(ErrorKind::integrity,
                        "entry seq " + std::to_string(e.seq) +
                            ": its signature is not {\"passkey\", \"authenticator_data\", "
                            "\"client_data_json\", \"sig\"}");
        return s;
    }
    if (it->is_object())
        s = {text("key"), text("sig"), counter ? text("agent") : std::string(), {}, {}, {}};
    if (!it->is_object() || it->size() != (counter ? 3u : 2u) || !is_key_id(s.key) ||
        s.sig.empty() || (counter && s.agent.empty()))
        throw Error(ErrorKind::integrity, "entry seq " + std::to_string(e.seq) + ": its " +
                                              std::string(which) + " is not {" +
                                              (counter ? "\"agent\", " : "") +
                                              "\"key\": KEYID, \"sig\": BASE64}");
    return s;
}

}  // namespace tfadesk::engine
