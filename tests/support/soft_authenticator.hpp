// A software passkey for tests (SPEC §13): an authenticator that registers and signs like a
// browser's, P-256 by Nettle, Ed25519 by libsodium, CBOR by libcbor, and the client in front of
// it, which answers as PublicKeyCredential.toJSON() does. Used by tests/desk (each WebAuthn rule),
// tests/serve (passkeys through the server) and bench/signed_load.cpp; no test framework in it.
#pragma once

#include <cbor.h>
#include <gmp.h>
#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace softauth {

using nlohmann::json;

// base64url without padding (its own, libsodium's: the desk's is what the tests check).
inline std::string base64url_encode(std::string_view bytes) {
    std::string out(
        sodium_base64_ENCODED_LEN(bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                      bytes.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.size() - 1);
    return out;
}
inline std::string base64url_decode(std::string_view text) {
    std::string out(text.size(), '\0');
    std::size_t n = 0;
    if (sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(),
                          text.size(), nullptr, &n, nullptr,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0)
        throw std::runtime_error("not base64url: " + std::string(text));
    out.resize(n);
    return out;
}

// The relying party and the page every Ceremony is for unless it says otherwise.
inline std::string kRpId = "desk.example";
inline std::string kOrigin = "https://desk.example";

inline constexpr unsigned char kUP = 0x01, kUV = 0x04, kAT = 0x40;

inline std::string sha256(std::string_view bytes) {
    std::string out(crypto_hash_sha256_BYTES, '\0');
    crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()),
                       reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
    return out;
}

inline std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    randombytes_buf(out.data(), n);
    return out;
}

inline void nettle_random(void*, std::size_t length, std::uint8_t* dst) {
    randombytes_buf(dst, length);
}

// ---- CBOR ---------------------------------------------------------------------------------------

inline cbor_item_t* cbor_int(int v) {
    if (v >= 0)
        return v < 256 ? cbor_build_uint8(static_cast<std::uint8_t>(v))
                       : cbor_build_uint16(static_cast<std::uint16_t>(v));
    const int n = -1 - v;
    return n < 256 ? cbor_build_negint8(static_cast<std::uint8_t>(n))
                   : cbor_build_negint16(static_cast<std::uint16_t>(n));
}

inline cbor_item_t* cbor_bstr(std::string_view b) {
    return cbor_build_bytestring(reinterpret_cast<const unsigned char*>(b.data()), b.size());
}

inline void add(cbor_item_t* map, cbor_item_t* key, cbor_item_t* value) {
    if (!cbor_map_add(map, cbor_pair{cbor_move(key), cbor_move(value)}))
        throw std::runtime_error("cbor_map_add failed");
}

inline std::string serialize(cbor_item_t* item) {
    unsigned char* buffer = nullptr;
    std::size_t capacity = 0;
    const std::size_t n = cbor_serialize_alloc(item, &buffer, &capacity);
    std::string out(reinterpret_cast<const char*>(buffer), n);
    std::free(buffer);
    cbor_decref(&item);
    if (n == 0) throw std::runtime_error("cbor_serialize_alloc failed");
    return out;
}

// ---- keys ---------------------------------------------------------------------------------------

// The unsigned big-endian bytes of `v`, no leading zeros (empty for 0).
inline std::string magnitude(const mpz_t v) {
    std::string out((mpz_sizeinbase(v, 2) + 7) / 8, '\0');
    std::size_t n = 0;
    mpz_export(out.data(), &n, 1, 1, 1, 0, v);
    out.resize(n);
    return out;
}

inline std::string big_endian_32(const mpz_t v) {
    const std::string m = magnitude(v);
    return std::string(32 - m.size(), '\0') + m;
}

// A DER INTEGER of the unsigned value `v` (a leading zero when the top bit is set).
inline std::string der_integer(const mpz_t v) {
    std::string mag = magnitude(v);
    if (mag.empty() || (static_cast<unsigned char>(mag[0]) & 0x80)) mag.insert(0, 1, '\0');
    return std::string{0x02, static_cast<char>(mag.size())} + mag;
}

struct Es256Key {
    ecc_point pub;
    ecc_scalar priv;
    Es256Key() {
        ecc_point_init(&pub, nettle_get_secp_256r1());
        ecc_scalar_init(&priv, nettle_get_secp_256r1());
        ecdsa_generate_keypair(&pub, &priv, nullptr, nettle_random);
    }
    ~Es256Key() {
        ecc_point_clear(&pub);
        ecc_scalar_clear(&priv);
    }
    Es256Key(const Es256Key&) = delete;
    Es256Key& operator=(const Es256Key&) = delete;

    std::pair<std::string, std::string> xy() const {
        mpz_t x, y;
        mpz_init(x);
        mpz_init(y);
        ecc_point_get(&pub, x, y);
        auto out = std::make_pair(big_endian_32(x), big_endian_32(y));
        mpz_clear(x);
        mpz_clear(y);
        return out;
    }
    std::string sign(std::string_view message) const {
        const std::string digest = sha256(message);
        dsa_signature sig;
        dsa_signature_init(&sig);
        ecdsa_sign(&priv, nullptr, nettle_random, digest.size(),
                   reinterpret_cast<const std::uint8_t*>(digest.data()), &sig);
        const std::string body = der_integer(sig.r) + der_integer(sig.s);
        dsa_signature_clear(&sig);
        return std::string{0x30, static_cast<char>(body.size())} + body;
    }
};

struct Ed25519Key {
    unsigned char pk[crypto_sign_PUBLICKEYBYTES];
    unsigned char sk[crypto_sign_SECRETKEYBYTES];
    Ed25519Key() { crypto_sign_keypair(pk, sk); }
    std::string sign(std::string_view message) const {
        std::string sig(crypto_sign_BYTES, '\0');
        crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                             reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                             sk);
        return sig;
    }
};

// ---- the software authenticator and the client in front of it -----------------------------------

// What one ceremony says; the defaults are a valid one for the authenticator's registration.
struct Ceremony {
    std::string type;
    std::string challenge = random_bytes(32);
    std::string origin = kOrigin;
    std::string rp_id = kRpId;  // whose SHA-256 goes into the authenticator data
    unsigned char flags = kUP;
    std::optional<bool> cross_origin = false;
    std::string fmt = "none";
    std::optional<std::string> cose_key;  // instead of the authenticator's own
};

struct Authenticator {
    int alg;
    Es256Key ec;
    Ed25519Key ed;
    std::string credential_id = random_bytes(32);
    std::uint32_t counter = 0;
    std::string user = "alice";  // the user handle it answers with

    explicit Authenticator(int a) : alg(a) {}

    std::string cose_key() const {
        cbor_item_t* map = cbor_new_definite_map(alg == -7 ? 5 : 4);
        add(map, cbor_int(1), cbor_int(alg == -7 ? 2 : 1));
        add(map, cbor_int(3), cbor_int(alg));
        add(map, cbor_int(-1), cbor_int(alg == -7 ? 1 : 6));
        if (alg == -7) {
            const auto [x, y] = ec.xy();
            add(map, cbor_int(-2), cbor_bstr(x));
            add(map, cbor_int(-3), cbor_bstr(y));
        } else {
            add(map, cbor_int(-2), cbor_bstr({reinterpret_cast<const char*>(ed.pk), 32}));
        }
        return serialize(map);
    }
    std::string sign(std::string_view message) const {
        return alg == -7 ? ec.sign(message) : ed.sign(message);
    }
    std::string auth_data(const Ceremony& c) {
        ++counter;
        std::string out = sha256(c.rp_id);
        out += static_cast<char>(c.flags);
        for (int shift = 24; shift >= 0; shift -= 8)
            out += static_cast<char>(counter >> shift & 0xFF);
        if (c.flags & kAT) {
            out += std::string(16, '\0');  // aaguid
            out += static_cast<char>(credential_id.size() >> 8);
            out += static_cast<char>(credential_id.size() & 0xFF);
            out += credential_id + c.cose_key.value_or(cose_key());
        }
        return out;
    }
};

inline Ceremony with_type(Ceremony c, const std::string& type) {
    c.type = type;
    return c;
}

inline std::string client_data(const Ceremony& c) {
    json j = {{"type", c.type}, {"challenge", base64url_encode(c.challenge)}, {"origin", c.origin}};
    if (c.cross_origin) j["crossOrigin"] = *c.cross_origin;
    return j.dump();
}

inline json credential_json(std::string_view id, json response) {
    return {{"id", base64url_encode(id)},
            {"rawId", base64url_encode(id)},
            {"type", "public-key"},
            {"response", std::move(response)},
            {"clientExtensionResults", json::object()}};
}

// navigator.credentials.create(), as PublicKeyCredential.toJSON().
inline json create(Authenticator& a, Ceremony c) {
    if (c.type.empty()) c.type = "webauthn.create";
    cbor_item_t* att = cbor_new_definite_map(3);
    add(att, cbor_build_string("fmt"), cbor_build_string(c.fmt.c_str()));
    add(att, cbor_build_string("attStmt"), cbor_new_definite_map(0));
    add(att, cbor_build_string("authData"), cbor_bstr(a.auth_data(c)));
    return credential_json(a.credential_id,
                           {{"clientDataJSON", base64url_encode(client_data(c))},
                            {"attestationObject", base64url_encode(serialize(att))}});
}

// navigator.credentials.get(), as PublicKeyCredential.toJSON().
inline json get(Authenticator& a, Ceremony c) {
    if (c.type.empty()) c.type = "webauthn.get";
    const std::string data = a.auth_data(c);
    const std::string cdj = client_data(c);
    return credential_json(a.credential_id,
                           {{"clientDataJSON", base64url_encode(cdj)},
                            {"authenticatorData", base64url_encode(data)},
                            {"signature", base64url_encode(a.sign(data + sha256(cdj)))},
                            {"userHandle", base64url_encode(a.user)}});
}

}  // namespace softauth
