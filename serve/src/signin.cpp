// SPEC §13: how the page signs in. POST /api/v1/session starts a browser session (a cookie) from
// an account's token (the first sign-in) or a passkey assertion; GET tells who is signed in;
// DELETE ends it. Bearer tokens stay for API clients and the command line.
#include <spdlog/spdlog.h>

#include "api.hpp"
#include "http.hpp"
#include "tfadesk/desk/accounts.hpp"
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
            {"idle_timeout_seconds", std::chrono::duration_cast<std::chrono::seconds>(sessions.limits().idle).count()}};
}

// Starts the session of `account` and answers 201 with it and its cookie.
void start_session(Api& api, const Request& req, Response& res, const engine::Account& account,
                   const std::string& how) {
    Sessions::Session s{account.name, account.token_id, how, {}, {}};
    const std::string cookie = api.sessions.start(s);
    const auto started = api.sessions.use(cookie);  // with its times
    spdlog::info("signed in: account {} with {} from {}", account.name, how, req.remote_addr);
    res.set_header("Set-Cookie", api.sessions.set_cookie(cookie, over_tls(api)));
    send_json(res, 201, session_view(account, *started, api.sessions));
}

void post_session(Api& api, const Request& req, Response& res, const httplib::ContentReader& reader) {
    check_query(req, {});
    const json body = body_object(read_body(req, reader, api.options.max_body_bytes));
    if (body.size() != 1 || !(body.contains("token") || body.contains("assertion")))
        throw HttpError(400, "invalid",
                        "the body must be {\"token\": TOKEN} or {\"assertion\": "
                        "PublicKeyCredential.toJSON()}");
    auto store = api.read_store();
    if (body.contains("token")) {
        if (!body["token"].is_string()) throw HttpError(400, "invalid", "\"token\": must be a string");
        const auto token = body["token"].get<std::string>();
        auto account = desk::authenticate(*store, token);
        if (!account) throw HttpError(401, "unauthorized", "the token is unknown, replaced, or its account is disabled");
        // The session records the token it was started with: a new token ends it.
        account->token_id = desk::token_id(token);
        start_session(api, req, res, *account, "token");
        return;
    }
    throw HttpError(400, "invalid", "\"assertion\": passkey sign-in is not available on this server");
}

void get_session(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store);
    const auto cookie = bearer_token(req) ? std::nullopt : cookie_value(req, kSessionCookie);
    const auto s = cookie ? api.sessions.use(*cookie) : std::nullopt;
    if (!s)
        throw HttpError(404, "not_found", "this request carries no session (it is signed in by its bearer token)");
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
    add_body_route(svr, api, "/api/v1/session", post_session);
    add_route(svr, api, "GET", "/api/v1/session", get_session);
    add_route(svr, api, "DELETE", "/api/v1/session", delete_session);
}

}  // namespace tfadesk::serve
