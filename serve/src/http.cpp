#include "http.hpp"

#include <spdlog/spdlog.h>

#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/ingest/records.hpp"
#include "tfadesk/rules/mask.hpp"
#include "tfadesk/rules/text.hpp"
#include "writer.hpp"

namespace tfadesk::serve {

using nlohmann::json;

void send_json(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n", kJson);
}

std::string one_line(std::string_view message) {
    std::string s = rules::escape_control(message);
    if (s.size() > 500) s = s.substr(0, 497) + "...";
    return s;
}

void send_error(httplib::Response& res, int status, std::string_view code,
                const std::string& message, const std::string& rule, const std::string& state,
                const std::string& field) {
    json body = {{"error", one_line(message)}, {"code", code}};
    if (!rule.empty()) body["rule"] = rule;
    if (!state.empty()) body["state"] = state;
    if (!field.empty()) body["field"] = field;
    if (status == 401) res.set_header("WWW-Authenticate", "Bearer realm=\"tfadesk\"");
    send_json(res, status, body);
}

std::optional<std::string> api_word(engine::Words::Kind kind, std::string_view name) {
    using Kind = engine::Words::Kind;
    static constexpr std::pair<std::string_view, std::string_view> kWords[] = {
        {"search", "q"},                 // GET /api/v1/tickets?q=
        {"expect_version", "If-Match"},  // the header a write's version is expected in
    };
    static constexpr std::pair<std::string_view, std::string_view> kActions[] = {
        {"sign_with_key", "(\"signature\", or the page's passkey as \"assertion\")"},
    };
    if (kind == Kind::field) {
        for (const auto& [from, to] : kWords)
            if (from == name) return std::string(to);
    } else {
        for (const auto& [from, to] : kActions)
            if (from == name) return std::string(to);
    }
    return std::nullopt;
}

std::string api_message(const engine::Error& e) { return e.spelled(&api_word); }

std::string api_field(const engine::Error& e) {
    if (e.field().empty()) return {};
    return api_word(engine::Words::Kind::field, e.field()).value_or(e.field());
}

std::pair<int, const char*> status_of(int exit_code) {
    switch (static_cast<engine::ErrorKind>(exit_code)) {
        case engine::ErrorKind::invalid_input:
            return {400, "invalid"};
        case engine::ErrorKind::refused:
            return {409, "refused"};
        case engine::ErrorKind::not_found:
            return {404, "not_found"};
        case engine::ErrorKind::conflict:
            return {409, "conflict"};
        case engine::ErrorKind::forbidden:
            return {403, "forbidden"};
        case engine::ErrorKind::integrity:
            return {500, "integrity"};
        case engine::ErrorKind::unexpected:
            break;
    }
    return {500, "internal"};
}

void send_current_exception(httplib::Response& res, const httplib::Request& req) {
    try {
        throw;
    } catch (const HttpError& e) {
        // SPEC §12: a failed sign-in is logged, never with the token; no account is known here.
        if (e.status() == 401)
            spdlog::info("sign-in failed: {} {} from {}, account unknown", req.method, req.path,
                         req.remote_addr);
        send_error(res, e.status(), e.code(), e.what());
    } catch (const StaleVersion& e) {
        send_error(res, 412, "stale", e.what());
    } catch (const engine::Error& e) {
        const auto [status, code] = status_of(e.exit_code());
        if (status >= 500)
            spdlog::error("{} {}: {}", req.method, req.path, rules::mask_pii(e.what()));
        send_error(res, status, code, api_message(e), e.rule(), e.state(), api_field(e));
    } catch (const ingest::FileError& e) {
        send_error(res, 400, "invalid",
                   (e.line() ? "line " + std::to_string(e.line()) + ": " : std::string()) +
                       e.what() + "; nothing imported");
    } catch (const std::exception& e) {
        spdlog::error("{} {}: unexpected: {}", req.method, req.path, rules::mask_pii(e.what()));
        send_error(res, 500, "internal", "unexpected error; the server log has the details");
    } catch (...) {
        spdlog::error("{} {}: unexpected non-standard exception", req.method, req.path);
        send_error(res, 500, "internal", "unexpected error");
    }
}

json body_object(const std::string& body, bool empty_ok) {
    if (body.empty() && empty_ok) return json::object();
    json j;
    try {
        j = json::parse(body);
    } catch (const json::parse_error& e) {
        throw HttpError(400, "invalid", std::string("the body is not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw HttpError(400, "invalid", "the body must be one JSON object");
    return j;
}

void check_query(const httplib::Request& req, std::initializer_list<std::string_view> known) {
    for (auto it = req.params.begin(); it != req.params.end(); ++it) {
        bool ok = false;
        for (auto k : known) ok = ok || it->first == k;
        if (!ok) throw HttpError(400, "invalid", "unknown query parameter '" + it->first + "'");
        if (req.params.count(it->first) > 1)
            throw HttpError(400, "invalid",
                            "query parameter '" + it->first + "' given more than once");
    }
}

std::optional<std::string> query_value(const httplib::Request& req, const char* key) {
    if (!req.has_param(key)) return std::nullopt;
    return req.get_param_value(key);
}

bool query_flag(const httplib::Request& req, const char* key) {
    const auto v = query_value(req, key);
    if (!v) return false;
    if (*v == "true" || *v == "1") return true;
    if (*v == "false" || *v == "0") return false;
    throw HttpError(400, "invalid",
                    std::string(key) + ": must be true or false (got '" + *v + "')");
}

std::optional<std::string> bearer_token(const httplib::Request& req) {
    const std::string h = req.get_header_value("Authorization");
    if (h.size() < 7 || !(h.compare(0, 7, "Bearer ") == 0 || h.compare(0, 7, "bearer ") == 0))
        return std::nullopt;
    std::string_view token = std::string_view(h).substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
    if (token.empty()) return std::nullopt;
    return std::string(token);
}

std::optional<std::string> cookie_value(const httplib::Request& req, std::string_view name) {
    // RFC 6265 §5.4: one Cookie header, "a=b; c=d" (several headers are joined the same way).
    for (auto [it, end] = req.headers.equal_range("Cookie"); it != end; ++it) {
        std::string_view rest = it->second;
        while (!rest.empty()) {
            const auto semi = rest.find(';');
            std::string_view pair = rest.substr(0, semi);
            rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
            while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
            const auto eq = pair.find('=');
            if (eq != std::string_view::npos && pair.substr(0, eq) == name && eq + 1 < pair.size())
                return std::string(pair.substr(eq + 1));
        }
    }
    return std::nullopt;
}

std::optional<std::int64_t> if_match_version(const httplib::Request& req) {
    if (!req.has_header("If-Match")) return std::nullopt;
    const std::string header =
        req.get_header_value("If-Match");  // a copy: get_header_value returns by value
    std::string_view v = header;
    while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
    while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
    if (v == "*") return std::nullopt;
    const HttpError bad(
        400, "invalid",
        "If-Match: must be one entity tag \"N\", the ticket's version as its ETag gives it");
    if (v.size() < 3 || v.size() > 20 || v.front() != '"' || v.back() != '"') throw bad;
    std::int64_t n = 0;
    for (char c : v.substr(1, v.size() - 2)) {
        if (c < '0' || c > '9') throw bad;
        n = n * 10 + (c - '0');
    }
    return n;
}

}  // namespace tfadesk::serve
