// Passkeys (SPEC §13): see webauthn.hpp for the rules and the errors. One function per rule, named
// after it; the registration and assertion ceremonies below only call them in the order of WebAuthn
// Level 2 §7.1 and §7.2. libcbor decodes the attestation object and COSE keys, Nettle (hogweed)
// verifies ES256, libsodium verifies EdDSA and does SHA-256 and base64url.
#include "tfadesk/desk/webauthn.hpp"

#include <cbor.h>
#include <gmp.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <sodium.h>

#include <memory>
#include <optional>
#include <set>

#include "tfadesk/engine/error.hpp"

namespace tfadesk::desk::webauthn {
namespace {

using engine::Error;
using engine::ErrorKind;
using nlohmann::json;

// Authenticator data flags (WebAuthn §6.1).
constexpr unsigned kUserPresent = 0x01;
constexpr unsigned kAttestedData = 0x40;
constexpr unsigned kExtensionData = 0x80;
constexpr std::size_t kAuthDataHeader = 37;  // rpIdHash[32] flags[1] signCount[4]
constexpr std::size_t kMaxCredentialId = 1023;
constexpr int kMaxCborDepth = 8;  // attestation object, attStmt, x5c array: 3 levels

// Something that cannot be decoded: HTTP 400, exit 2.
[[noreturn]] void malformed(const std::string& what) {
    throw Error(ErrorKind::invalid_input, "passkey: " + what);
}

// A well-formed credential that breaks `rule`: HTTP 403, exit 7.
[[noreturn]] void refuse(const std::string& rule, const std::string& what) {
    throw Error(ErrorKind::forbidden, "passkey: " + what, "passkey." + rule, "");
}

void require_sodium() {
    static const bool ready = sodium_init() >= 0;
    if (!ready) throw Error(ErrorKind::unexpected, "libsodium failed to initialise");
}

// A value from the client for a message: quoted, at most 80 bytes, anything but printable ASCII
// as \xNN, so a crafted origin cannot forge a line in a log or on a terminal.
std::string shown(std::string_view s) {
    static const char* hex = "0123456789abcdef";
    std::string out = "'";
    for (const char c : s.substr(0, 80)) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u >= 0x7F) {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 0xF];
        } else {
            out += c;
        }
    }
    return out + (s.size() > 80 ? "'..." : "'");
}

std::string sha256(std::string_view bytes) {
    std::string out(crypto_hash_sha256_BYTES, '\0');
    crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    return out;
}

const unsigned char* bytes_of(std::string_view s) {
    return reinterpret_cast<const unsigned char*>(s.data());
}

// ---- JSON ---------------------------------------------------------------------------------------

const json& member(const json& object, const char* name, const std::string& path) {
    const auto it = object.find(name);
    if (it == object.end()) malformed(path + "." + name + " is missing");
    return *it;
}

std::string string_member(const json& object, const char* name, const std::string& path) {
    const json& v = member(object, name, path);
    if (!v.is_string()) malformed(path + "." + name + " is not a string");
    return v.get<std::string>();
}

// The credential's own fields: type "public-key", its id (decoded) and response object.
struct CredentialJson {
    std::string id;
    const json* response = nullptr;
};

CredentialJson parse_credential_json(const json& credential) {
    if (!credential.is_object()) malformed("the credential is not a JSON object");
    if (string_member(credential, "type", "credential") != "public-key")
        malformed("credential.type is not 'public-key'");
    const std::string id = string_member(credential, "id", "credential");
    if (credential.contains("rawId") && string_member(credential, "rawId", "credential") != id)
        refuse("credential-id", "credential.rawId does not match credential.id");
    const json& response = member(credential, "response", "credential");
    if (!response.is_object()) malformed("credential.response is not a JSON object");
    return {base64url_decode(id, "credential.id"), &response};
}

// ---- client data (WebAuthn §5.8.1) --------------------------------------------------------------

struct ClientData {
    std::string type, challenge, origin;
    bool cross_origin = false;
};

// A JSON object whose members each occur once: a second "challenge" or "origin" that another
// parser would read instead of ours is refused.
json parse_unique_object(std::string_view text, const std::string& what) {
    std::set<std::string> seen;
    const auto once = [&](int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::key && depth == 1 &&
            !seen.insert(parsed.get<std::string>()).second)
            malformed(what + " has the member " + shown(parsed.get<std::string>()) + " twice");
        return true;
    };
    json j;
    try {
        j = json::parse(text.begin(), text.end(), once);
    } catch (const json::exception& e) {
        malformed(what + " is not JSON: " + e.what());
    }
    if (!j.is_object()) malformed(what + " is not a JSON object");
    return j;
}

ClientData parse_client_data(std::string_view client_data_json) {
    const json j = parse_unique_object(client_data_json, "clientDataJSON");
    ClientData cd{string_member(j, "type", "clientDataJSON"),
                  string_member(j, "challenge", "clientDataJSON"),
                  string_member(j, "origin", "clientDataJSON")};
    if (const auto it = j.find("crossOrigin"); it != j.end()) {
        if (!it->is_boolean()) malformed("clientDataJSON.crossOrigin is not a boolean");
        cd.cross_origin = it->get<bool>();
    }
    return cd;
}

void check_type(const ClientData& cd, std::string_view expected) {
    if (cd.type != expected)
        refuse("type", "clientDataJSON.type is " + shown(cd.type) + ", not " + shown(expected));
}

void check_challenge(const ClientData& cd, std::string_view expected_challenge) {
    if (cd.challenge != base64url_encode(expected_challenge))
        refuse("challenge",
               "clientDataJSON.challenge does not match the challenge the desk issued");
}

void check_origin(const ClientData& cd, std::string_view expected) {
    if (cd.origin != expected)
        refuse("origin",
               "clientDataJSON.origin " + shown(cd.origin) + " is not " + shown(expected));
}

void check_cross_origin(const ClientData& cd) {
    if (cd.cross_origin)
        refuse("cross-origin",
               "clientDataJSON.crossOrigin is true (the page was in a foreign frame)");
}

void check_client_data(const ClientData& cd, std::string_view type,
                       std::string_view expected_challenge, std::string_view origin) {
    check_type(cd, type);
    check_challenge(cd, expected_challenge);
    check_origin(cd, origin);
    check_cross_origin(cd);
}

// ---- CBOR ---------------------------------------------------------------------------------------

struct CborFree {
    void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using Cbor = std::unique_ptr<cbor_item_t, CborFree>;

// Where the CBOR item that starts at `at` ends, found without allocating: libcbor allocates what
// a header declares before it reads the items, so a 9-byte map header could ask for gigabytes.
// Refused: a length beyond the bytes left, an indefinite length (CTAP2 canonical CBOR has none),
// more than kMaxCborDepth levels. Nothing here is decoded; load_cbor decodes.
std::size_t cbor_item_end(std::string_view bytes, std::size_t at, int depth) {
    const unsigned char* b = bytes_of(bytes);
    if (depth > kMaxCborDepth || at >= bytes.size()) return std::string_view::npos;
    const unsigned major = b[at] >> 5, info = b[at] & 0x1F;
    ++at;
    std::uint64_t arg = info;
    if (info >= 24 && info <= 27) {
        const std::size_t n = std::size_t{1} << (info - 24);
        if (bytes.size() - at < n) return std::string_view::npos;
        arg = 0;
        for (std::size_t i = 0; i < n; ++i) arg = arg << 8 | b[at++];
    } else if (info > 27) {
        return std::string_view::npos;
    }
    const std::uint64_t left = bytes.size() - at;
    if (major == 2 || major == 3) return arg <= left ? at + arg : std::string_view::npos;
    if (major == 4 || major == 5) {
        if (arg > left) return std::string_view::npos;  // each item takes a byte at least
        for (std::uint64_t i = 0; i < (major == 5 ? 2 * arg : arg); ++i)
            if ((at = cbor_item_end(bytes, at, depth + 1)) == std::string_view::npos) return at;
        return at;
    }
    return major == 6 ? cbor_item_end(bytes, at, depth + 1) : at;  // a tag, or a number
}

// The one CBOR item `bytes` starts with, and how many bytes it took.
std::pair<Cbor, std::size_t> load_cbor(std::string_view bytes, const std::string& what) {
    const std::size_t size = cbor_item_end(bytes, 0, 0);
    if (size == std::string_view::npos)
        malformed(what + " is not valid CBOR (a length past its end, an indefinite length or " +
                  "nesting deeper than " + std::to_string(kMaxCborDepth) + ")");
    cbor_load_result result{};
    Cbor item(cbor_load(bytes_of(bytes), size, &result));
    if (!item || result.error.code != CBOR_ERR_NONE || result.read != size)
        malformed(what + " is not valid CBOR");
    return {std::move(item), size};
}

// The definite map `item` is, keys checked distinct by `same_key`.
template <typename SameKey>
const cbor_pair* map_pairs(const cbor_item_t* item, const std::string& what, SameKey same_key) {
    if (!cbor_isa_map(item) || !cbor_map_is_definite(item)) malformed(what + " is not a CBOR map");
    const cbor_pair* pairs = cbor_map_handle(item);
    const std::size_t n = cbor_map_size(item);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t k = i + 1; k < n; ++k)
            if (same_key(pairs[i].key, pairs[k].key)) malformed(what + " has a key twice");
    return pairs;
}

std::optional<std::string_view> tstr_of(const cbor_item_t* item) {
    if (!cbor_isa_string(item) || !cbor_string_is_definite(item)) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(cbor_string_handle(item)),
                            cbor_string_length(item));
}

std::optional<std::string_view> bstr_of(const cbor_item_t* item) {
    if (!cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item)) return std::nullopt;
    return std::string_view(reinterpret_cast<const char*>(cbor_bytestring_handle(item)),
                            cbor_bytestring_length(item));
}

// A CBOR integer as int64, or nothing (not an integer, or beyond int64).
std::optional<std::int64_t> int_of(const cbor_item_t* item) {
    if (!cbor_isa_uint(item) && !cbor_isa_negint(item)) return std::nullopt;
    const std::uint64_t n = cbor_get_int(item);
    if (n > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return cbor_isa_uint(item) ? static_cast<std::int64_t>(n) : -1 - static_cast<std::int64_t>(n);
}

// ---- P-256 (Nettle) -----------------------------------------------------------------------------

struct Mpz {
    mpz_t v;
    Mpz() { mpz_init(v); }
    explicit Mpz(std::string_view big_endian) : Mpz() {
        mpz_import(v, big_endian.size(), 1, 1, 1, 0, big_endian.data());
    }
    ~Mpz() { mpz_clear(v); }
    Mpz(const Mpz&) = delete;
    Mpz& operator=(const Mpz&) = delete;
};

struct P256Point {
    ecc_point p;
    P256Point() { ecc_point_init(&p, nettle_get_secp_256r1()); }
    ~P256Point() { ecc_point_clear(&p); }
    P256Point(const P256Point&) = delete;
    P256Point& operator=(const P256Point&) = delete;
    bool set(std::string_view x, std::string_view y) {
        const Mpz mx(x), my(y);
        return ecc_point_set(&p, mx.v, my.v) == 1;
    }
};

bool on_p256(std::string_view x, std::string_view y) { return P256Point().set(x, y); }

// ---- COSE keys (RFC 9053 §7) --------------------------------------------------------------------

struct CoseKey {
    int alg = 0;
    std::string x, y;  // y empty for OKP
};

// The labels of a COSE_Key this code reads; others are ignored. -1, -2 and -3 mean crv, x and y
// only for EC2 and OKP keys (an RSA key has n and e there), so they are taken as they come.
struct CoseFields {
    std::optional<std::int64_t> kty, alg, crv;
    std::optional<std::string_view> x, y;
};

CoseFields cose_fields(const cbor_item_t* map) {
    const auto same = [](const cbor_item_t* a, const cbor_item_t* b) {
        return int_of(a) && int_of(a) == int_of(b);
    };
    const cbor_pair* pairs = map_pairs(map, "the COSE key", same);
    CoseFields f;
    for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
        const auto label = int_of(pairs[i].key);
        const cbor_item_t* v = pairs[i].value;
        if (!label) malformed("the COSE key has a label that is not an integer");
        if (*label == 1) f.kty = int_of(v);
        if (*label == 3) f.alg = int_of(v);
        if (*label == -1) f.crv = int_of(v);
        if (*label == -2) f.x = bstr_of(v);
        if (*label == -3) f.y = bstr_of(v);
        if ((*label == 1 || *label == 3) && !int_of(v))
            malformed("the COSE key's label " + std::to_string(*label) + " is not an integer");
    }
    return f;
}

// Only ES256 on P-256 (EC2) and EdDSA on Ed25519 (OKP), with a valid public point.
CoseKey check_algorithm(const CoseFields& f) {
    if (!f.alg) malformed("the COSE key has no alg (label 3)");
    if (*f.alg != kAlgES256 && *f.alg != kAlgEdDSA)
        refuse("algorithm", "COSE key algorithm " + std::to_string(*f.alg) +
                                " is not accepted (ES256 -7 or EdDSA -8)");
    const bool es256 = *f.alg == kAlgES256;
    const std::string name = es256 ? "ES256" : "EdDSA";
    if (f.kty != (es256 ? 2 : 1))
        refuse("algorithm", name + " key is not of key type " + (es256 ? "2 (EC2)" : "1 (OKP)"));
    if (f.crv != (es256 ? 1 : 6))
        refuse("algorithm", name + " key is not on curve " + (es256 ? "1 (P-256)" : "6 (Ed25519)"));
    if (!f.x || f.x->size() != 32 || (es256 && (!f.y || f.y->size() != 32)))
        malformed("the " + name + " key's coordinates are not 32-byte byte strings");
    CoseKey key{static_cast<int>(*f.alg), std::string(*f.x), es256 ? std::string(*f.y) : ""};
    if (es256 ? !on_p256(key.x, key.y) : crypto_core_ed25519_is_valid_point(bytes_of(key.x)) != 1)
        refuse("public-key", "the " + name + " public key is not a valid point of its curve");
    return key;
}

// The COSE_Key `bytes` holds, all of them.
CoseKey parse_cose_key(std::string_view bytes) {
    const auto [item, read] = load_cbor(bytes, "the COSE key");
    if (read != bytes.size()) malformed("the COSE key is followed by other bytes");
    return check_algorithm(cose_fields(item.get()));
}

// ---- authenticator data (WebAuthn §6.1) ---------------------------------------------------------

struct AuthenticatorData {
    std::string_view rp_id_hash;
    unsigned flags = 0;
    std::uint32_t sign_count = 0;
    std::string_view credential_id, cose_key;  // present when the AT flag is set
};

// The attested credential data at the start of `rest` (WebAuthn §6.5.1); `rest` moves past it.
void parse_attested_data(std::string_view& rest, AuthenticatorData& ad) {
    if (rest.size() < 18) malformed("authenticator data ends inside the attested credential data");
    const std::size_t id_length = std::size_t{bytes_of(rest)[16]} << 8 | bytes_of(rest)[17];
    if (id_length == 0 || id_length > kMaxCredentialId || rest.size() < 18 + id_length)
        malformed("authenticator data has a bad credential id length");
    ad.credential_id = rest.substr(18, id_length);
    rest.remove_prefix(18 + id_length);
    const auto [key, read] = load_cbor(rest, "the credential public key");
    ad.cose_key = rest.substr(0, read);
    rest.remove_prefix(read);
}

AuthenticatorData parse_authenticator_data(std::string_view data) {
    if (data.size() < kAuthDataHeader) malformed("authenticator data is shorter than 37 bytes");
    const unsigned char* b = bytes_of(data);
    AuthenticatorData ad;
    ad.rp_id_hash = data.substr(0, 32);
    ad.flags = b[32];
    ad.sign_count = std::uint32_t{b[33]} << 24 | std::uint32_t{b[34]} << 16 |
                    std::uint32_t{b[35]} << 8 | std::uint32_t{b[36]};
    std::string_view rest = data.substr(kAuthDataHeader);
    if (ad.flags & kAttestedData) parse_attested_data(rest, ad);
    if (ad.flags & kExtensionData) {
        const auto [extensions, read] = load_cbor(rest, "the authenticator extensions");
        if (!cbor_isa_map(extensions.get()))
            malformed("the authenticator extensions are not a map");
        rest.remove_prefix(read);
    }
    if (!rest.empty())
        malformed("authenticator data has " + std::to_string(rest.size()) + " bytes too many");
    return ad;
}

void check_rp_id_hash(const AuthenticatorData& ad, std::string_view rp_id) {
    if (ad.rp_id_hash != sha256(rp_id))
        refuse("rp-id-hash", "authenticator data rpIdHash is not SHA-256 of rp id " + shown(rp_id));
}

void check_user_present(const AuthenticatorData& ad) {
    if (!(ad.flags & kUserPresent)) refuse("user-present", "user-present flag not set");
}

void check_attested_data(const AuthenticatorData& ad, bool registration) {
    if (registration && !(ad.flags & kAttestedData))
        refuse("attested-data", "attested-credential-data flag not set on a registration");
    if (!registration && (ad.flags & kAttestedData))
        refuse("attested-data", "attested-credential-data flag set on an assertion");
}

void check_credential_id(std::string_view given, std::string_view expected,
                         const std::string& what) {
    if (given != expected) refuse("credential-id", what);
}

void check_sign_count(std::uint32_t stored, std::uint32_t now) {
    if ((stored != 0 || now != 0) && now <= stored)
        refuse("sign-count", "sign count " + std::to_string(now) + " is not above " +
                                 std::to_string(stored) + " (a cloned authenticator?)");
}

// ---- attestation object (WebAuthn §6.5.4) -------------------------------------------------------

struct AttestationObject {
    std::string fmt, auth_data;
    bool empty_statement = false;
};

AttestationObject parse_attestation_object(std::string_view bytes) {
    const auto [item, read] = load_cbor(bytes, "the attestation object");
    if (read != bytes.size()) malformed("the attestation object is followed by other bytes");
    const auto same = [](const cbor_item_t* a, const cbor_item_t* b) {
        return tstr_of(a) && tstr_of(a) == tstr_of(b);
    };
    const cbor_pair* pairs = map_pairs(item.get(), "the attestation object", same);
    std::optional<std::string_view> fmt, auth_data;
    const cbor_item_t* statement = nullptr;
    for (std::size_t i = 0; i < cbor_map_size(item.get()); ++i) {
        const auto key = tstr_of(pairs[i].key);
        if (key == "fmt") fmt = tstr_of(pairs[i].value);
        if (key == "authData") auth_data = bstr_of(pairs[i].value);
        if (key == "attStmt") statement = pairs[i].value;
    }
    if (cbor_map_size(item.get()) != 3 || !fmt || !auth_data || !statement ||
        !cbor_isa_map(statement))
        malformed("the attestation object is not a map of fmt, attStmt and authData");
    return {std::string(*fmt), std::string(*auth_data), cbor_map_size(statement) == 0};
}

// "none" with its empty statement, or "packed", whose statement is not checked (see the header).
void check_attestation_format(const AttestationObject& att) {
    if (att.fmt == "none" && !att.empty_statement)
        malformed("attestation format 'none' with a non-empty attStmt");
    if (att.fmt != "none" && att.fmt != "packed")
        refuse("attestation-format",
               "attestation format " + shown(att.fmt) + " is not accepted (none or packed)");
}

// ---- signatures ---------------------------------------------------------------------------------

// One DER INTEGER at the start of `der` (X.690 §8.3, §10): short length, no superfluous leading
// zero, not negative; its magnitude, at most 32 bytes. `der` moves past it.
std::string_view der_integer(std::string_view& der) {
    const auto bad = [](const std::string& why) {
        malformed("the ES256 signature is not strict DER: " + why);
    };
    if (der.size() < 2 || der[0] != 0x02) bad("an INTEGER is missing");
    const std::size_t n = bytes_of(der)[1];
    if (n == 0 || n > 33 || der.size() < 2 + n) bad("an INTEGER has a bad length");
    std::string_view v = der.substr(2, n);
    if (bytes_of(v)[0] & 0x80) bad("an INTEGER is negative");
    if (n > 1 && v[0] == 0 && !(bytes_of(v)[1] & 0x80)) bad("an INTEGER has a superfluous zero");
    if (v[0] == 0 && n > 1) v.remove_prefix(1);
    if (v.size() > 32) bad("an INTEGER is longer than 32 bytes");
    der.remove_prefix(2 + n);
    return v;
}

// r and s of an ES256 signature: a DER SEQUENCE of two INTEGERs and nothing else.
std::pair<std::string_view, std::string_view> parse_der_signature(std::string_view der) {
    if (der.size() < 2 || der[0] != 0x30 || (bytes_of(der)[1] & 0x80))
        malformed("the ES256 signature is not strict DER: no short-form SEQUENCE");
    const std::size_t n = bytes_of(der)[1];
    if (der.size() < 2 + n) malformed("the ES256 signature is not strict DER: it is truncated");
    if (der.size() > 2 + n)
        malformed("the ES256 signature is not strict DER: trailing bytes after the SEQUENCE");
    std::string_view body = der.substr(2);
    const auto r = der_integer(body);
    const auto s = der_integer(body);
    if (!body.empty())
        malformed("the ES256 signature is not strict DER: trailing bytes inside the SEQUENCE");
    return {r, s};
}

bool es256_verifies(const CoseKey& key, std::string_view digest, std::string_view der) {
    const auto [r, s] = parse_der_signature(der);
    P256Point pub;
    if (!pub.set(key.x, key.y)) return false;
    dsa_signature sig;
    dsa_signature_init(&sig);
    mpz_import(sig.r, r.size(), 1, 1, 1, 0, r.data());
    mpz_import(sig.s, s.size(), 1, 1, 1, 0, s.data());
    const int ok = ecdsa_verify(&pub.p, digest.size(), bytes_of(digest), &sig);
    dsa_signature_clear(&sig);
    return ok == 1;
}

// The signature over authenticatorData || SHA-256(clientDataJSON) (WebAuthn §7.2 step 20).
void check_signature(const CoseKey& key, std::string_view authenticator_data,
                     std::string_view client_data_json, std::string_view signature) {
    const std::string signed_bytes = std::string(authenticator_data) + sha256(client_data_json);
    bool ok = false;
    if (key.alg == kAlgES256) {
        ok = es256_verifies(key, sha256(signed_bytes), signature);
    } else {
        if (signature.size() != crypto_sign_BYTES) malformed("the EdDSA signature is not 64 bytes");
        ok = crypto_sign_verify_detached(bytes_of(signature), bytes_of(signed_bytes),
                                         signed_bytes.size(), bytes_of(key.x)) == 0;
    }
    if (!ok) refuse("signature", "signature does not verify");
}

}  // namespace

// ---- the API ------------------------------------------------------------------------------------

std::string base64url_encode(std::string_view bytes) {
    constexpr int variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
    std::string out(sodium_base64_ENCODED_LEN(bytes.size(), variant), '\0');
    sodium_bin2base64(out.data(), out.size(), bytes_of(bytes), bytes.size(), variant);
    out.pop_back();  // the terminating NUL
    return out;
}

std::string base64url_decode(std::string_view text, std::string_view what) {
    std::string out(text.size() / 4 * 3 + 3, '\0');
    std::size_t size = 0;
    // No characters to ignore and no end pointer: libsodium refuses anything but the whole text
    // in the URL-safe alphabet, and non-zero unused bits (a second spelling of the same bytes).
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &size, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        malformed(std::string(what) + " is not base64url without padding");
    out.resize(size);
    return out;
}

Credential verify_registration(const json& credential, std::string_view expected_challenge,
                               std::string_view rp_id, std::string_view origin) {
    require_sodium();
    const CredentialJson c = parse_credential_json(credential);
    const std::string client_data_json =
        base64url_decode(string_member(*c.response, "clientDataJSON", "credential.response"),
                         "credential.response.clientDataJSON");
    const std::string attestation =
        base64url_decode(string_member(*c.response, "attestationObject", "credential.response"),
                         "credential.response.attestationObject");
    check_client_data(parse_client_data(client_data_json), "webauthn.create", expected_challenge,
                      origin);
    const AttestationObject att = parse_attestation_object(attestation);
    check_attestation_format(att);
    const AuthenticatorData ad = parse_authenticator_data(att.auth_data);
    check_rp_id_hash(ad, rp_id);
    check_user_present(ad);
    check_attested_data(ad, true);
    check_credential_id(ad.credential_id, c.id,
                        "credential id in authenticator data does not match credential.id");
    const CoseKey key = parse_cose_key(ad.cose_key);
    return {base64url_encode(ad.credential_id),
            key.alg,
            base64url_encode(ad.cose_key),
            std::string(origin),
            std::string(rp_id),
            ad.sign_count};
}

std::uint32_t verify_assertion(const json& credential, const Credential& registered,
                               std::string_view expected_challenge) {
    const CredentialJson c = parse_credential_json(credential);
    check_credential_id(base64url_encode(c.id), registered.id_b64url,
                        "credential id " + shown(base64url_encode(c.id)) +
                            " is not the registered " + shown(registered.id_b64url));
    const auto field = [&](const char* name) {
        return base64url_decode(string_member(*c.response, name, "credential.response"),
                                std::string("credential.response.") + name);
    };
    return check_recorded_assertion(field("authenticatorData"), field("clientDataJSON"),
                                    field("signature"), registered, expected_challenge);
}

std::uint32_t check_recorded_assertion(std::string_view authenticator_data,
                                       std::string_view client_data_json,
                                       std::string_view signature, const Credential& registered,
                                       std::string_view expected_challenge) {
    require_sodium();
    const CoseKey key =
        parse_cose_key(base64url_decode(registered.cose_key_b64url, "the registered COSE key"));
    if (key.alg != registered.alg) malformed("the registered alg is not its COSE key's alg");
    check_client_data(parse_client_data(client_data_json), "webauthn.get", expected_challenge,
                      registered.origin);
    const AuthenticatorData ad = parse_authenticator_data(authenticator_data);
    check_rp_id_hash(ad, registered.rp_id);
    check_user_present(ad);
    check_attested_data(ad, false);
    check_signature(key, authenticator_data, client_data_json, signature);
    check_sign_count(registered.sign_count, ad.sign_count);
    return ad.sign_count;
}

}  // namespace tfadesk::desk::webauthn
