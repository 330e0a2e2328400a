// HTTP plumbing of the desk server: the error bodies and status codes of SPEC §9, strict JSON
// bodies and query strings, bearer tokens. No desk logic here.
#pragma once

#include <httplib.h>

#include <exception>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "tfadesk/engine/error.hpp"

namespace tfadesk::serve {

// An answer that is not a success, thrown from anywhere inside a handler: the status, the code
// string of §9 and one line of text.
class HttpError : public std::runtime_error {
public:
    HttpError(int status, std::string code, const std::string& message)
        : std::runtime_error(message), status_(status), code_(std::move(code)) {}
    int status() const noexcept { return status_; }
    const std::string& code() const noexcept { return code_; }

private:
    int status_;
    std::string code_;
};

inline constexpr const char* kJson = "application/json";

void send_json(httplib::Response& res, int status, const nlohmann::json& body);

// {"error": one line, "code": code} plus "rule" and "state" when given (a refusal), and
// "field" when given (the JSON key or query parameter the error is about).
void send_error(httplib::Response& res, int status, std::string_view code,
                const std::string& message, const std::string& rule = {},
                const std::string& state = {}, const std::string& field = {});

// How the API words the core's errors (engine/error.hpp): a field as its JSON key, query
// parameter or header (`search` -> `q`, `expect_version` -> `If-Match`), an action in its own
// words; nothing where the core's plain words stand.
std::optional<std::string> api_word(engine::Words::Kind kind, std::string_view name);
// The error's message as the API answers it, and the field it is about ("" for none).
std::string api_message(const engine::Error& e);
std::string api_field(const engine::Error& e);

// Turns the exception being handled into its answer (SPEC §9's table): engine::Error by kind,
// StaleVersion 412, HttpError as it says, ingest::FileError 400, anything else 500 (logged).
void send_current_exception(httplib::Response& res, const httplib::Request& req);

// The status and code for an engine error kind (exit code).
std::pair<int, const char*> status_of(int exit_code);

// The body as one JSON object: HttpError 400 when it is not JSON or not an object. An empty
// body is an empty object when `empty_ok`.
nlohmann::json body_object(const std::string& body, bool empty_ok = false);

// Refuses (400) a query parameter that is not in `known` or that is given twice.
void check_query(const httplib::Request& req, std::initializer_list<std::string_view> known);
std::optional<std::string> query_value(const httplib::Request& req, const char* key);
// "true"/"false" (also 1/0); absent is false; anything else 400.
bool query_flag(const httplib::Request& req, const char* key);

// The bearer token of the Authorization header, or nothing.
std::optional<std::string> bearer_token(const httplib::Request& req);

// The value of the cookie `name` the request carries, or nothing.
std::optional<std::string> cookie_value(const httplib::Request& req, std::string_view name);

// If-Match: "N" -> N; `*` or absent -> nothing; anything else HttpError 400.
std::optional<std::int64_t> if_match_version(const httplib::Request& req);

// The message as one printable line (no control characters, at most 500 bytes).
std::string one_line(std::string_view message);

}  // namespace tfadesk::serve
