#include "connectors.hpp"

#include <nettle/hmac.h>
#include <sodium.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "tfadesk/desk/access.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::serve {

using engine::Error;
using engine::ErrorKind;
using nlohmann::json;

namespace {

constexpr std::int64_t kWindowSeconds = 5 * 60;  // SPEC §17: 5 minutes either way

bool valid_source(std::string_view s) {
    return !s.empty() && s.size() <= 64 &&
           s.find_first_not_of(
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
               std::string_view::npos;
}

// Everything of the file but a trailing line break (and spaces): the secret as the helpdesk shows
// it.
std::string read_secret(const std::string& path, const std::string& where) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(ErrorKind::invalid_input, where + "secret_file: cannot read '" + path + "'");
    std::ostringstream text;
    text << in.rdbuf();
    std::string s = text.str();
    while (!s.empty() &&
           (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
        s.pop_back();
    if (s.empty())
        throw Error(ErrorKind::invalid_input, where + "secret_file: '" + path + "' is empty");
    return s;
}

bool valid_url(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos) return false;
    const std::string s = url.substr(0, scheme);
    if (s != "http" && s != "https") return false;
    const std::string rest = url.substr(scheme + 3);
    return !rest.empty() && rest.front() != '/' &&
           rest.find_first_of(" \t\r\n") == std::string::npos;
}

Connector parse_source(const std::string& file, const std::string& source, const json& v) {
    const std::string where = "--connectors " + file + ": source '" + source + "': ";
    auto bad = [&](const std::string& what) {
        return Error(ErrorKind::invalid_input, where + what);
    };
    if (!valid_source(source)) throw bad("the name must be 1-64 of A-Z a-z 0-9 . _ -");
    if (!v.is_object()) throw bad("must be an object");
    Connector c;
    c.source = source;
    for (const auto& [key, value] : v.items()) {
        if (key != "kind" && key != "secret_file" && key != "account" && key != "fields" &&
            key != "outbox")
            throw bad("unknown key '" + key +
                      "' (expected kind, secret_file, account, fields, outbox)");
    }
    auto text = [&](const char* key, bool required) -> std::optional<std::string> {
        const auto it = v.find(key);
        if (it == v.end() || it->is_null()) {
            if (required) throw bad(std::string(key) + ": required");
            return std::nullopt;
        }
        if (!it->is_string() || it->get<std::string>().empty())
            throw bad(std::string(key) + ": must be a non-empty string");
        return it->get<std::string>();
    };
    const std::string kind = *text("kind", true);
    if (kind == "zendesk")
        c.kind = ConnectorKind::zendesk;
    else if (kind == "standard")
        c.kind = ConnectorKind::standard;
    else
        throw bad("kind: must be zendesk or standard (got '" + kind + "')");
    const std::string secret = read_secret(*text("secret_file", true), where);
    if (c.kind == ConnectorKind::standard) {
        if (secret.rfind("whsec_", 0) != 0)
            throw bad("secret_file: a standard secret starts with whsec_");
        const auto key = unbase64(secret.substr(6));
        if (!key || key->empty()) throw bad("secret_file: the part after whsec_ is not base64");
        c.key = *key;
    } else {
        c.key = secret;
    }
    try {
        c.account = desk::canonical_agent(*text("account", true), "account");
    } catch (const Error& e) {
        throw bad(e.what());
    }
    c.outbox = text("outbox", false);
    if (c.outbox && !valid_url(*c.outbox)) throw bad("outbox: must be an http:// or https:// URL");
    const auto fields = v.find("fields");
    if (fields == v.end() || !fields->is_object())
        throw bad("fields: required, an object of §2 field -> JSON pointer");
    for (const auto& [field, pointer] : fields->items()) {
        if (!rules::is_field_name(field)) throw bad("fields: '" + field + "' is not a §2 field");
        if (!pointer.is_string()) throw bad("fields." + field + ": must be a JSON pointer string");
        try {
            c.fields.emplace_back(field, json::json_pointer(pointer.get<std::string>()));
        } catch (const json::exception&) {
            throw bad("fields." + field + ": '" + pointer.get<std::string>() +
                      "' is not a JSON pointer (RFC 6901)");
        }
    }
    for (const auto& info : rules::field_table()) {
        if (!info.required) continue;
        const bool mapped = std::any_of(c.fields.begin(), c.fields.end(),
                                        [&](const auto& f) { return f.first == info.name; });
        if (!mapped)
            throw bad("fields." + std::string(info.name) +
                      ": required (ref and the required §2 fields must be mapped)");
    }
    return c;
}

}  // namespace

Connectors load_connectors(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(ErrorKind::invalid_input, "--connectors " + path + ": cannot read the file");
    json doc;
    try {
        doc = json::parse(in);
    } catch (const json::exception& e) {
        throw Error(ErrorKind::invalid_input,
                    "--connectors " + path + ": not JSON (" + std::string(e.what()) + ")");
    }
    if (!doc.is_object())
        throw Error(ErrorKind::invalid_input, "--connectors " + path + ": must be a JSON object");
    for (const auto& [key, value] : doc.items())
        if (key != "sources")
            throw Error(ErrorKind::invalid_input,
                        "--connectors " + path + ": unknown key '" + key + "' (expected sources)");
    const auto sources = doc.find("sources");
    if (sources == doc.end() || !sources->is_object() || sources->empty())
        throw Error(
            ErrorKind::invalid_input,
            "--connectors " + path + ": sources: required, an object with at least one source");
    Connectors out;
    for (const auto& [source, value] : sources->items())
        out.emplace(source, parse_source(path, source, value));
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
    hmac_sha256_ctx ctx;
    hmac_sha256_set_key(&ctx, key.size(), reinterpret_cast<const std::uint8_t*>(key.data()));
    hmac_sha256_update(&ctx, message.size(), reinterpret_cast<const std::uint8_t*>(message.data()));
    std::string out(SHA256_DIGEST_SIZE, '\0');
    hmac_sha256_digest(&ctx, SHA256_DIGEST_SIZE, reinterpret_cast<std::uint8_t*>(out.data()));
    return out;
}

std::string base64(std::string_view bytes) {
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      bytes.size(), sodium_base64_VARIANT_ORIGINAL);
    out.resize(std::strlen(out.c_str()));
    return out;
}

std::optional<std::string> unbase64(std::string_view text) {
    std::string out(text.size(), '\0');
    std::size_t len = 0;
    const char* end = nullptr;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != text.data() + text.size())
        return std::nullopt;
    out.resize(len);
    return out;
}

namespace {

// The signature a header carries against the one computed, in constant time.
bool same_signature(std::string_view header_b64, const std::string& expected) {
    const auto given = unbase64(header_b64);
    if (!given || given->size() != expected.size()) return false;
    return sodium_memcmp(given->data(), expected.data(), expected.size()) == 0;
}

}  // namespace

bool zendesk_signature_ok(std::string_view key, std::string_view timestamp, std::string_view body,
                          std::string_view signature) {
    std::string message;
    message.reserve(timestamp.size() + body.size());
    message.append(timestamp).append(body);
    return same_signature(signature, hmac_sha256(key, message));
}

std::string standard_signature(std::string_view key, std::string_view id,
                               std::string_view timestamp, std::string_view body) {
    std::string message;
    message.reserve(id.size() + timestamp.size() + body.size() + 2);
    message.append(id).append(".").append(timestamp).append(".").append(body);
    return "v1," + base64(hmac_sha256(key, message));
}

bool standard_signature_ok(std::string_view key, std::string_view id, std::string_view timestamp,
                           std::string_view body, std::string_view signatures) {
    std::string message;
    message.reserve(id.size() + timestamp.size() + body.size() + 2);
    message.append(id).append(".").append(timestamp).append(".").append(body);
    const std::string expected = hmac_sha256(key, message);
    bool ok = false;
    std::size_t start = 0;
    while (start < signatures.size()) {
        auto end = signatures.find(' ', start);
        if (end == std::string_view::npos) end = signatures.size();
        const auto one = signatures.substr(start, end - start);
        if (one.substr(0, 3) == "v1,")
            ok = same_signature(one.substr(3), expected) || ok;  // no early exit
        start = end + 1;
    }
    return ok;
}

bool timestamp_fresh(std::string_view timestamp, std::int64_t now_seconds) {
    std::int64_t seconds = 0;
    if (!timestamp.empty() && timestamp.size() <= 12 &&
        timestamp.find_first_not_of("0123456789") == std::string_view::npos) {
        seconds = std::stoll(std::string(timestamp));
    } else if (const auto ms = rules::parse_utc(timestamp)) {
        seconds = *ms / 1000;
    } else {
        return false;
    }
    const auto diff = seconds > now_seconds ? seconds - now_seconds : now_seconds - seconds;
    return diff <= kWindowSeconds;
}

}  // namespace tfadesk::serve
