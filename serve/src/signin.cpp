// SPEC §13: how the page signs in. POST /api/v1/session starts a browser session (a cookie) from
// an account's token (the first sign-in) or a passkey assertion; GET tells who is signed in;
// DELETE ends it. Bearer tokens stay for API clients and the command line.
#include <spdlog/spdlog.h>

#include <cctype>

#include "api.hpp"
#include "http.hpp"
#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/accounts.hpp"
#include "tfadesk/desk/signatures.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/desk/webauthn.hpp"
#include "tfadesk/engine/decision.hpp"
#include "tfadesk/rules/time.hpp"

namespace tfadesk::serve {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

bool over_tls(const Api& api) { return api.options.tls_cert.has_value(); }

std::string utc(Sessions::Clock::time_point t) {
    return rules::format_utc_ms(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

json session_view(const engine::Account& a, const Sessions::Session& s, const Sessions& sessions) {
    return {{"name", a.name},
            {"roles", std::vector<std::string>(a.roles.begin(), a.roles.end())},
            {"signed_in_with", s.how},
            {"started_at", utc(s.started)},
            {"expires_at", utc(s.expires)},
            {"idle_timeout_seconds",
             std::chrono::duration_cast<std::chrono::seconds>(sessions.limits().idle).count()}};
}

// Starts the session of `account` and answers 201 with it and its cookie.
void start_session(Api& api, const Request& req, Response& res, const engine::Account& account,
                   const std::string& how) {
    Sessions::Session s{account.name, account.token_id, how, {}, {}};
    const std::string cookie = api.sessions.start(s);
    spdlog::info("signed in: account {} with {} from {}", account.name, how, req.remote_addr);
    res.set_header("Set-Cookie", api.sessions.set_cookie(cookie, over_tls(api)));
    send_json(res, 201, session_view(account, s, api.sessions));
}

// ---- passkeys (WebAuthn) --------------------------------------------------------------------

namespace webauthn = desk::webauthn;
constexpr int kCeremonyTimeoutMs = 120000;

}  // namespace

std::string rp_id_of(const Api& api, const Request& req) {
    if (api.options.rp_id) return *api.options.rp_id;
    std::string host = req.get_header_value("Host");
    if (!host.empty() && host.front() == '[')
        host = host.substr(0, host.find(']') + 1);
    else
        host = host.substr(0, host.find(':'));
    for (auto& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (host.empty())
        throw HttpError(
            400, "invalid",
            "Host: needed to know the passkeys' relying party (or start the server with --rp-id)");
    return host;
}

namespace {

// The page's origin (the Origin header a browser sends with every POST), which must be the relying
// party's: https://RP_ID or a subdomain of it (any port); http only on localhost.
std::string origin_of(const Request& req, const std::string& rp_id) {
    const std::string origin = req.get_header_value("Origin");
    const auto scheme_end = origin.find("://");
    std::string host =
        scheme_end == std::string::npos ? std::string() : origin.substr(scheme_end + 3);
    host = host.substr(0, host.rfind(':') == std::string::npos || host.front() == '['
                              ? host.size()
                              : host.rfind(':'));
    const std::string scheme =
        scheme_end == std::string::npos ? std::string() : origin.substr(0, scheme_end);
    const bool same_site = host == rp_id || (host.size() > rp_id.size() + 1 &&
                                             host.compare(host.size() - rp_id.size() - 1,
                                                          std::string::npos, "." + rp_id) == 0);
    const bool secure =
        scheme == "https" || (scheme == "http" && (host == "localhost" || rp_id == "localhost"));
    if (origin.empty() || !same_site || !secure)
        throw HttpError(
            403, "forbidden",
            "Origin: '" + one_line(origin) + "' is not a page of the relying party '" + rp_id +
                "' (https, or http on localhost): passkeys are scoped to the desk's host");
    return origin;
}

json b64(std::string_view raw) { return webauthn::base64url_encode(raw); }

json credential_list(const engine::Account& a) {
    json list = json::array();
    for (const auto& [id, p] : a.passkeys) list.push_back({{"type", "public-key"}, {"id", id}});
    return list;
}

// POST /api/v1/me/passkeys/options: PublicKeyCredentialCreationOptions for the caller's account.
void post_passkey_options(Api& api, const Request& req, Response& res,
                          const httplib::ContentReader& reader) {
    check_query(req, {});
    body_object(read_body(req, reader, api.options.max_body_bytes), true);
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store);
    const std::string rp_id = rp_id_of(api, req);
    const std::string challenge = api.sessions.challenge("register:" + who.account.name);
    send_json(res, 200,
              {{"rp", {{"id", rp_id}, {"name", "tfadesk"}}},
               {"user",
                {{"id", b64(who.account.name)},
                 {"name", who.account.name},
                 {"displayName", who.account.name}}},
               {"challenge", b64(challenge)},
               {"pubKeyCredParams",
                {{{"type", "public-key"}, {"alg", webauthn::kAlgES256}},
                 {{"type", "public-key"}, {"alg", webauthn::kAlgEdDSA}}}},
               {"timeout", kCeremonyTimeoutMs},
               {"attestation", "none"},
               {"excludeCredentials", credential_list(who.account)},
               {"authenticatorSelection",
                {{"residentKey", "preferred"}, {"userVerification", "preferred"}}}});
}

// The raw challenge a credential's clientDataJSON names (to find which ceremony it answers).
std::string challenge_named(const json& credential) {
    const auto& r = credential.contains("response") ? credential["response"] : json();
    if (!r.is_object() || !r.contains("clientDataJSON") || !r["clientDataJSON"].is_string())
        throw HttpError(400, "invalid",
                        "response.clientDataJSON: required (PublicKeyCredential.toJSON())");
    json client;
    try {
        client = json::parse(webauthn::base64url_decode(r["clientDataJSON"].get<std::string>(),
                                                        "response.clientDataJSON"));
    } catch (const json::exception&) {
        throw HttpError(400, "invalid", "response.clientDataJSON: not JSON");
    }
    if (!client.is_object() || !client.contains("challenge") || !client["challenge"].is_string())
        throw HttpError(400, "invalid", "response.clientDataJSON: has no challenge");
    return webauthn::base64url_decode(client["challenge"].get<std::string>(),
                                      "clientDataJSON.challenge");
}

// POST /api/v1/me/passkeys: the credential navigator.credentials.create() made, as toJSON() gives
// it.
void post_passkey(Api& api, const Request& req, Response& res,
                  const httplib::ContentReader& reader) {
    check_query(req, {});
    const json credential = body_object(read_body(req, reader, api.options.max_body_bytes));
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store);
    const std::string rp_id = rp_id_of(api, req);
    const std::string origin = origin_of(req, rp_id);
    const std::string challenge = challenge_named(credential);
    if (!api.sessions.take_challenge(challenge, "register:" + who.account.name))
        throw HttpError(
            403, "forbidden",
            "clientDataJSON.challenge: not a live registration challenge of this account "
            "(ask POST /api/v1/me/passkeys/options again; each is used once, for 5 minutes)");
    const auto passkey = webauthn::verify_registration(credential, challenge, rp_id, origin);
    const auto actor = who.actor;
    const json out = api.writer.solo([passkey, actor](engine::Store& s) {  // its own transaction
        desk::add_passkey(s, passkey, actor);
        return json{{"id", passkey.id_b64url}, {"alg", passkey.alg}, {"rp_id", passkey.rp_id}};
    });
    spdlog::info("passkey registered: account {} from {}", who.account.name, req.remote_addr);
    send_json(res, 201, out);
}

void get_passkeys(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store);
    json list = json::array();
    for (const auto& [id, p] : who.account.passkeys)
        list.push_back({{"id", id}, {"alg", p.alg}, {"rp_id", p.rp_id}});
    send_json(res, 200, list);
}

// POST /api/v1/session/options: PublicKeyCredentialRequestOptions to sign in with any passkey
// registered on this desk (discoverable credentials: allowCredentials is empty).
void post_session_options(Api& api, const Request& req, Response& res,
                          const httplib::ContentReader& reader) {
    check_query(req, {});
    body_object(read_body(req, reader, api.options.max_body_bytes), true);
    const std::string rp_id = rp_id_of(api, req);
    send_json(res, 200,
              {{"challenge", b64(api.sessions.challenge("sign-in"))},
               {"rpId", rp_id},
               {"timeout", kCeremonyTimeoutMs},
               {"userVerification", "preferred"},
               {"allowCredentials", json::array()}});
}

// A passkey sign-in: the assertion answers a live sign-in challenge, by a passkey an enabled
// account holds; its sign count must grow past the last one this server saw.
void passkey_sign_in(Api& api, const Request& req, Response& res, engine::Store& store,
                     const json& assertion) {
    if (!assertion.is_object() || !assertion.contains("id") || !assertion["id"].is_string())
        throw HttpError(400, "invalid",
                        "\"assertion\": must be PublicKeyCredential.toJSON() with its id");
    const std::string challenge = challenge_named(assertion);
    if (!api.sessions.take_challenge(challenge, "sign-in"))
        throw HttpError(401, "unauthorized",
                        "clientDataJSON.challenge: not a live sign-in challenge (ask POST "
                        "/api/v1/session/options again)");
    const std::string id = assertion["id"].get<std::string>();
    auto account = desk::passkey_owner(store, id);
    if (!account || !account->enabled)
        throw HttpError(401, "unauthorized",
                        "this passkey is not registered to an enabled account of this desk");
    const auto& p = account->passkeys.at(id);
    webauthn::Credential registered{id,       p.alg,   p.public_key,
                                    p.origin, p.rp_id, api.sessions.sign_count(id)};
    const auto& r = assertion["response"];
    if (r.contains("userHandle") && r["userHandle"].is_string() &&
        !r["userHandle"].get<std::string>().empty() &&
        r["userHandle"].get<std::string>() != webauthn::base64url_encode(account->name))
        throw HttpError(401, "unauthorized",
                        "response.userHandle: the passkey names another account");
    try {
        api.sessions.saw_sign_count(id,
                                    webauthn::verify_assertion(assertion, registered, challenge));
    } catch (const engine::Error& e) {
        if (e.kind() == engine::ErrorKind::forbidden)
            throw HttpError(401, "unauthorized", e.what());
        throw;
    }
    start_session(api, req, res, *account, "passkey");
}

void post_session(Api& api, const Request& req, Response& res,
                  const httplib::ContentReader& reader) {
    check_query(req, {});
    const json body = body_object(read_body(req, reader, api.options.max_body_bytes));
    auto store = api.read_store();
    // The assertion itself (PublicKeyCredential.toJSON()) is taken as {"assertion": it} is.
    if (body.contains("response") && body.contains("id") && !body.contains("token"))
        return passkey_sign_in(api, req, res, *store, body);
    if (body.size() != 1 || !(body.contains("token") || body.contains("assertion")))
        throw HttpError(400, "invalid",
                        "the body must be {\"token\": TOKEN}, {\"assertion\": "
                        "PublicKeyCredential.toJSON()} or the assertion itself");
    if (body.contains("token")) {
        if (!body["token"].is_string())
            throw HttpError(400, "invalid", "\"token\": must be a string");
        const auto token = body["token"].get<std::string>();
        auto account = desk::authenticate(*store, token);
        if (!account)
            throw HttpError(401, "unauthorized",
                            "the token is unknown, replaced, or its account is disabled");
        // The session records the token it was started with: a new token ends it.
        account->token_id = desk::token_id(token);
        start_session(api, req, res, *account, "token");
        return;
    }
    passkey_sign_in(api, req, res, *store, body["assertion"]);
}

void get_session(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store);
    const auto cookie = bearer_token(req) ? std::nullopt : cookie_value(req, kSessionCookie);
    const auto s = cookie ? api.sessions.use(*cookie) : std::nullopt;
    if (!s)
        throw HttpError(404, "not_found",
                        "this request carries no session (it is signed in by its bearer token)");
    send_json(res, 200, session_view(who.account, *s, api.sessions));
}

// Signing out works on an ended session too (the cookie is cleared either way), but like every
// request that changes something with the cookie it needs X-Requested-With.
void delete_session(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    const auto cookie = cookie_value(req, kSessionCookie);
    if (!cookie) throw HttpError(404, "not_found", "this request carries no session cookie");
    if (req.get_header_value("X-Requested-With") != "tfadesk")
        throw HttpError(403, "forbidden",
                        "X-Requested-With: signing out with the session cookie must carry "
                        "'X-Requested-With: tfadesk'");
    api.sessions.end(*cookie);
    res.set_header("Set-Cookie", Sessions::clear_cookie(over_tls(api)));
    res.status = 204;
}

}  // namespace

void install_signin(httplib::Server& svr, Api& api) {
    add_body_route(svr, api, "/api/v1/session/options", post_session_options);
    add_body_route(svr, api, "/api/v1/session", post_session);
    add_body_route(svr, api, "/api/v1/me/passkeys/options", post_passkey_options);
    add_body_route(svr, api, "/api/v1/me/passkeys", post_passkey);
    add_route(svr, api, "GET", "/api/v1/me/passkeys", get_passkeys);
    add_route(svr, api, "GET", "/api/v1/session", get_session);
    add_route(svr, api, "DELETE", "/api/v1/session", delete_session);
}

}  // namespace tfadesk::serve
