// The helpdesk connectors of SPEC §17: `serve --connectors FILE`, read and checked once when the
// server starts, and the webhook signatures (Zendesk's and Standard Webhooks'), each check one
// named function over the raw bytes, in constant time. No desk logic here.
//
// The file: {"sources": {SOURCE: {"kind": "zendesk"|"standard", "secret_file": PATH,
// "account": NAME, "fields": {FIELD: JSON-POINTER...}, "outbox": URL?}}}. A bad file is refused
// (Error(invalid_input), one line naming the file, the source and the key).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tfadesk::serve {

enum class ConnectorKind { zendesk, standard };

struct Connector {
    std::string source;  // the SOURCE of /intake/SOURCE: 1-64 of A-Z a-z 0-9 . _ -
    ConnectorKind kind = ConnectorKind::standard;
    std::string key;      // the HMAC key: zendesk the secret as shown, standard base64-decoded
    std::string account;  // the account it acts as (canonical spelling)
    std::vector<std::pair<std::string, nlohmann::json::json_pointer>>
        fields;                         // §2 field -> pointer
    std::optional<std::string> outbox;  // where state changes go (http:// or https:// URL)
};

using Connectors = std::map<std::string, Connector, std::less<>>;

// Reads and checks the connectors file at `path`. Throws Error(invalid_input) naming the file,
// the source and the key on the first problem; a secret file that cannot be read is named too.
Connectors load_connectors(const std::string& path);

// --- the webhook checks (SPEC §17), one function each --------------------------------------------

// HMAC-SHA256(key, message), 32 raw bytes (Nettle).
std::string hmac_sha256(std::string_view key, std::string_view message);
std::string base64(std::string_view bytes);
// Standard base64 to bytes; nothing when it is not base64.
std::optional<std::string> unbase64(std::string_view text);

// Zendesk: X-Zendesk-Webhook-Signature is base64(HMAC-SHA256(secret, timestamp ‖ body)).
// Compared in constant time (sodium_memcmp); nothing is parsed before.
bool zendesk_signature_ok(std::string_view key, std::string_view timestamp, std::string_view body,
                          std::string_view signature);
// Standard Webhooks: webhook-signature holds one or more space-separated "v1,BASE64", each over
// "id.timestamp.body"; any one matching (in constant time) is enough.
bool standard_signature_ok(std::string_view key, std::string_view id, std::string_view timestamp,
                           std::string_view body, std::string_view signatures);
// The "v1,BASE64" signature of a Standard Webhook (the outbox signs with it).
std::string standard_signature(std::string_view key, std::string_view id,
                               std::string_view timestamp, std::string_view body);
// The timestamp window: `timestamp` (Unix seconds, or ISO 8601 UTC as Zendesk sends it) is within
// 5 minutes of `now_seconds`. Unparseable is outside.
bool timestamp_fresh(std::string_view timestamp, std::int64_t now_seconds);

}  // namespace tfadesk::serve
