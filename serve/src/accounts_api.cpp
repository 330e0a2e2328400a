// Accounts over HTTP (SPEC §7, §13, for the admins' screen of §15): the same use cases as
// `tfadesk agent`, each an entry of the log made by the caller, who must be an admin (403
// otherwise, nothing written). A new token is in the answer once and never again.
//
//   GET  /api/v1/accounts                         the accounts (any account may read them)
//   POST /api/v1/accounts                         {"name", "roles": [..]} -> 201 with "token"
//   POST /api/v1/accounts/NAME/roles              {"grant": ROLE} or {"revoke": ROLE}
//   POST /api/v1/accounts/NAME/enabled            {"enabled": true|false}
//   POST /api/v1/accounts/NAME/token              {} -> 200 with the new "token"
//   GET  /api/v1/accounts/NAME/history            the account's changes, as `agent history`
//   POST /api/v1/require-signatures               {"on": true|false}
// Bodies may carry "signature": {"key", "sig"} (a personal key's, over the decision text).
#include "api.hpp"
#include "http.hpp"
#include "tfadesk/desk/accounts.hpp"
#include "tfadesk/desk/views.hpp"

namespace tfadesk::serve {
namespace {

using httplib::Request;
using httplib::Response;
using nlohmann::json;

constexpr const char* kName = R"(([^/]{1,128}))";  // the desk judges the name

// The body's members, each checked for its type; "signature" becomes the change's signer.
struct ChangeBody {
    json body;
    desk::DecisionSigner signer;
};

ChangeBody change_body(Api& api, const Request& req, const httplib::ContentReader& reader,
                       std::initializer_list<std::string_view> keys, bool empty_ok = false) {
    ChangeBody c{body_object(read_body(req, reader, api.options.max_body_bytes), empty_ok), {}};
    for (const auto& [key, v] : c.body.items()) {
        if (key == "signature") {
            if (!v.is_object() || !v.contains("key") || !v.contains("sig") ||
                !v["key"].is_string() || !v["sig"].is_string())
                throw HttpError(400, "invalid",
                                "\"signature\": must be {\"key\": KEYID, \"sig\": BASE64}");
            c.signer.given = desk::parse_given_signature(v["key"], v["sig"], "\"signature\"");
            continue;
        }
        if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
            std::string names;
            for (auto k : keys) names += (names.empty() ? "" : ", ") + std::string(k);
            throw HttpError(400, "invalid",
                            "unknown key \"" + key + "\" (expected " + names + ", signature)");
        }
    }
    return c;
}

std::string string_of(const json& body, const char* key) {
    if (!body.contains(key) || !body[key].is_string())
        throw HttpError(400, "invalid", std::string("\"") + key + "\": required, a string");
    return body[key].get<std::string>();
}

// Runs one change as the caller, through the writer (each change is its own transaction).
template <class F>
json as_caller(Api& api, const Request& req, Response& res, F change) {
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store).actor;
    return api.writer.solo([who, change](engine::Store& s) { return change(s, who); });
}

json with_token(const desk::IssuedToken& t) {
    json j = desk::account_view(t.account);
    j["token"] = t.token;
    return j;
}

void get_accounts(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    caller(api, req, res, *store);
    send_json(res, 200, desk::list_accounts(*store));
}

void get_account_history(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    caller(api, req, res, *store);
    send_json(res, 200, desk::account_history(*store, std::string(req.matches[1])));
}

void post_account(Api& api, const Request& req, Response& res,
                  const httplib::ContentReader& reader) {
    check_query(req, {});
    auto c = change_body(api, req, reader, {"name", "roles"});
    const std::string name = string_of(c.body, "name");
    if (!c.body.contains("roles") || !c.body["roles"].is_array() || c.body["roles"].empty())
        throw HttpError(400, "invalid", "\"roles\": required, a non-empty array of roles");
    std::string list;
    for (const auto& r : c.body["roles"]) {
        if (!r.is_string()) throw HttpError(400, "invalid", "\"roles\": must hold role names");
        list += (list.empty() ? "" : ",") + r.get<std::string>();
    }
    const auto roles = desk::parse_roles(list);
    const auto signer = c.signer;
    const json out =
        as_caller(api, req, res, [name, roles, signer](engine::Store& s, const desk::Actor& by) {
            return with_token(desk::add_account(s, name, roles, by, signer));
        });
    res.set_header("Cache-Control", "no-store");
    send_json(res, 201, out);
}

void post_roles(Api& api, const Request& req, Response& res, const httplib::ContentReader& reader) {
    check_query(req, {});
    auto c = change_body(api, req, reader, {"grant", "revoke"});
    if (c.body.contains("grant") == c.body.contains("revoke"))
        throw HttpError(400, "invalid", "the body must be {\"grant\": ROLE} or {\"revoke\": ROLE}");
    const bool grant = c.body.contains("grant");
    const std::string role = string_of(c.body, grant ? "grant" : "revoke");
    const std::string name = req.matches[1];
    const auto signer = c.signer;
    send_json(res, 200, as_caller(api, req, res, [=](engine::Store& s, const desk::Actor& by) {
                  return desk::account_view(grant ? desk::grant_role(s, name, role, by, signer)
                                                  : desk::revoke_role(s, name, role, by, signer));
              }));
}

void post_enabled(Api& api, const Request& req, Response& res,
                  const httplib::ContentReader& reader) {
    check_query(req, {});
    auto c = change_body(api, req, reader, {"enabled"});
    if (!c.body.contains("enabled") || !c.body["enabled"].is_boolean())
        throw HttpError(400, "invalid", "\"enabled\": required, true or false");
    const bool enabled = c.body["enabled"].get<bool>();
    const std::string name = req.matches[1];
    const auto signer = c.signer;
    send_json(res, 200, as_caller(api, req, res, [=](engine::Store& s, const desk::Actor& by) {
                  return desk::account_view(desk::set_enabled(s, name, enabled, by, signer));
              }));
}

void post_token(Api& api, const Request& req, Response& res, const httplib::ContentReader& reader) {
    check_query(req, {});
    auto c = change_body(api, req, reader, {}, true);
    const std::string name = req.matches[1];
    const auto signer = c.signer;
    const json out = as_caller(api, req, res, [=](engine::Store& s, const desk::Actor& by) {
        return with_token(desk::issue_token(s, name, by, signer));
    });
    res.set_header("Cache-Control", "no-store");
    send_json(res, 200, out);
}

void post_require_signatures(Api& api, const Request& req, Response& res,
                             const httplib::ContentReader& reader) {
    check_query(req, {});
    auto c = change_body(api, req, reader, {"on"});
    if (!c.body.contains("on") || !c.body["on"].is_boolean())
        throw HttpError(400, "invalid", "\"on\": required, true or false");
    const bool on = c.body["on"].get<bool>();
    const auto signer = c.signer;
    send_json(res, 200, as_caller(api, req, res, [=](engine::Store& s, const desk::Actor& by) {
                  return json{{"require_signatures", desk::require_signatures(s, on, by, signer)}};
              }));
}

}  // namespace

void install_accounts(httplib::Server& svr, Api& api) {
    const std::string account = std::string("/api/v1/accounts/") + kName;
    add_route(svr, api, "GET", "/api/v1/accounts", get_accounts);
    add_body_route(svr, api, "/api/v1/accounts", post_account);
    add_body_route(svr, api, account + "/roles", post_roles);
    add_body_route(svr, api, account + "/enabled", post_enabled);
    add_body_route(svr, api, account + "/token", post_token);
    add_route(svr, api, "GET", account + "/history", get_account_history);
    add_body_route(svr, api, "/api/v1/require-signatures", post_require_signatures);
}

}  // namespace tfadesk::serve
