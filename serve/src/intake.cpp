// The intake of SPEC §17, in the order the specification gives it: the source; the signature
// over the raw bytes (constant time, before anything is parsed); the timestamp window; then the
// body, its fields by JSON pointer and §2; then, in one write transaction through the writer,
// the delivery id (a repeat is answered {"duplicate":true} and applied once), open (triaged) or
// update as the connector's account, and the delivery id stored with the entries it caused.
#include "intake.hpp"

#include <spdlog/spdlog.h>

#include <chrono>

#include "http.hpp"
#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/accounts.hpp"
#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/fields.hpp"

namespace tfadesk::serve {

using engine::Error;
using engine::ErrorKind;
using httplib::Request;
using httplib::Response;
using nlohmann::json;

namespace {

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string read_raw_body(const Request& req, const httplib::ContentReader& reader,
                          std::size_t limit) {
    std::string body;
    bool over = false;
    const bool ok = reader([&](const char* data, std::size_t n) {
        if (body.size() + n > limit) {
            over = true;
            return false;
        }
        body.append(data, n);
        return true;
    });
    if (over) {
        close_after(req);
        throw HttpError(413, "too_large",
                        "the body is larger than " + std::to_string(limit) + " bytes");
    }
    if (!ok) {
        close_after(req);
        throw HttpError(400, "invalid", "the body could not be read");
    }
    return body;
}

HttpError unauthorized(const std::string& why) { return HttpError(401, "unauthorized", why); }

// What the headers say, checked: the delivery id. Throws 401 for a missing or bad signature or a
// stale timestamp.
std::string check_delivery(const Connector& c, const Request& req, const std::string& body) {
    if (c.kind == ConnectorKind::zendesk) {
        const auto signature = req.get_header_value("X-Zendesk-Webhook-Signature");
        const auto timestamp = req.get_header_value("X-Zendesk-Webhook-Signature-Timestamp");
        if (signature.empty() || timestamp.empty())
            throw unauthorized(
                "X-Zendesk-Webhook-Signature and X-Zendesk-Webhook-Signature-Timestamp are "
                "required");
        if (!zendesk_signature_ok(c.key, timestamp, body, signature))
            throw unauthorized("X-Zendesk-Webhook-Signature: does not match the body");
        if (!timestamp_fresh(timestamp, now_seconds()))
            throw unauthorized(
                "X-Zendesk-Webhook-Signature-Timestamp: more than 5 minutes from now");
        const auto id = req.get_header_value("X-Zendesk-Webhook-Invocation-Id");
        if (id.empty() || id.size() > 256)
            throw HttpError(400, "invalid",
                            "X-Zendesk-Webhook-Invocation-Id: required (at most 256 chars)");
        return id;
    }
    const auto id = req.get_header_value("webhook-id");
    const auto timestamp = req.get_header_value("webhook-timestamp");
    const auto signature = req.get_header_value("webhook-signature");
    if (id.empty() || timestamp.empty() || signature.empty())
        throw unauthorized("webhook-id, webhook-timestamp and webhook-signature are required");
    if (!standard_signature_ok(c.key, id, timestamp, body, signature))
        throw unauthorized("webhook-signature: does not match the body");
    if (!timestamp_fresh(timestamp, now_seconds()))
        throw unauthorized("webhook-timestamp: more than 5 minutes from now");
    if (id.size() > 256) throw HttpError(400, "invalid", "webhook-id: at most 256 chars");
    return id;
}

// A row that fails §2 (SPEC §17: 422 naming the field).
struct FieldRefusal {
    std::string field, message;
};

// The §2 fields the mapping finds in `body`: a string as it is, an integer as its decimal text,
// null or absent as absent; anything else 422 naming the field.
rules::RawFields mapped_fields(const Connector& c, const json& body) {
    rules::RawFields raw;
    for (const auto& [field, pointer] : c.fields) {
        if (!body.contains(pointer)) continue;
        const json& v = body.at(pointer);
        if (v.is_null()) continue;
        if (v.is_string())
            raw[field] = v.get<std::string>();
        else if (v.is_number_integer() || v.is_number_unsigned())
            raw[field] = v.dump();
        else
            throw FieldRefusal{field,
                               field + ": must be a string (at " + pointer.to_string() + ")"};
    }
    return raw;
}

bool updatable(const std::string& state) {
    return state == "received" || state == "awaiting_requester";
}

// What the requester answered, as an `update` (SPEC §3): the fields update may change that the
// delivery carries.
desk::EventRequest update_request(const rules::RawFields& raw, const rules::Fields& f,
                                  const desk::Actor& who) {
    desk::EventRequest r;
    r.event = "update";
    r.agent = who.name;
    r.token_id = who.token_id;
    r.via = who.via;
    if (raw.count("requester_role")) r.role = std::string(rules::to_string(f.requester_role));
    if (raw.count("portfolio_access")) r.access = std::string(rules::to_string(f.portfolio_access));
    if (raw.count("requester_email")) r.requester_email = f.requester_email;
    if (raw.count("note") && f.note) r.note = *f.note;
    return r;
}

json apply_delivery(engine::Store& s, const Connector& c, const std::string& id,
                    const rules::RawFields& raw, const rules::Fields& fields) {
    if (s.intake_seen(c.source, id)) return json{{"duplicate", true}};
    const auto who = desk::connector_actor(s, c.account, c.source);
    json out;
    if (s.exists(fields.ref)) {
        const auto t = desk::get_ticket(s, fields.ref);
        if (!updatable(t.state))
            throw Error(ErrorKind::refused,
                        "ticket '" + fields.ref + "' is " + t.state +
                            ": a delivery updates only received or awaiting_requester tickets",
                        "", t.state);
        const auto after = desk::apply_event_in(s, fields.ref, update_request(raw, fields, who));
        out = {{"ref", after.fields.ref},
               {"state", after.state},
               {"version", after.version},
               {"action", "updated"}};
    } else {
        if (c.outbox) s.link_outbox(fields.ref, c.source);
        const auto after = desk::open_ticket_in(s, raw, who, true);
        out = {{"ref", after.fields.ref},
               {"state", after.state},
               {"version", after.version},
               {"action", "opened"}};
    }
    s.record_intake(c.source, id, desk::now_utc());
    return out;
}

void post_intake(Api& api, const Connectors& connectors, const Request& req, Response& res,
                 const httplib::ContentReader& reader) {
    const std::string source = req.matches[1];
    const auto it = connectors.find(source);
    if (it == connectors.end()) {
        close_after(req);
        throw HttpError(404, "not_found", "no such intake source: '" + one_line(source) + "'");
    }
    const Connector& c = it->second;
    const std::string body = read_raw_body(req, reader, api.options.max_body_bytes);
    const std::string id = check_delivery(c, req, body);  // nothing is parsed before this
    json doc;
    try {
        doc = json::parse(body);
    } catch (const json::exception&) {
        throw HttpError(400, "invalid", "the body is not JSON");
    }
    if (!doc.is_object()) throw HttpError(400, "invalid", "the body must be a JSON object");
    auto refuse = [&](const std::string& field, const std::string& message) {
        spdlog::info("intake {}: delivery {} refused: {}", source, one_line(id), field);
        send_json(res, 422, {{"error", one_line(message)}, {"code", "invalid"}, {"field", field}});
    };
    rules::RawFields raw;
    try {
        raw = mapped_fields(c, doc);
    } catch (const FieldRefusal& r) {
        return refuse(r.field, r.message);
    }
    auto checked = rules::validate_fields(raw, desk::now_utc());
    if (auto* bad = std::get_if<rules::FieldError>(&checked))
        return refuse(bad->field, bad->message());
    const auto fields = std::get<rules::Fields>(std::move(checked));
    json out;
    try {
        out = api.writer.batched([&c, id, raw, fields](engine::Store& s) {
            return apply_delivery(s, c, id, raw, fields);
        });
    } catch (const Error& e) {
        if (e.kind() != ErrorKind::invalid_input) throw;
        const std::string message = api_message(e);
        const std::string field = api_field(e);
        return refuse(field.empty() ? message.substr(0, message.find(':')) : field, message);
    }
    spdlog::info("intake {}: delivery {} {}", source, one_line(id),
                 out.contains("duplicate") ? "seen before" : out.at("action").get<std::string>());
    send_json(res, 200, out);
}

void get_outbox(Api& api, const Request& req, Response& res) {
    check_query(req, {"dead"});
    const bool dead = query_flag(req, "dead");
    auto store = api.read_store();
    const auto token = bearer_token(req);
    if (!token)
        throw HttpError(401, "unauthorized",
                        "this route needs 'Authorization: Bearer TOKEN' (an account's API token)");
    const auto who = desk::authenticate_actor(*store, *token);
    if (!who)
        throw HttpError(401, "unauthorized",
                        "the token is unknown, replaced, or its account is disabled");
    desk::authorize(*store, *who, "operator", "read the outbox");
    json all = json::array();
    for (const auto& d : store->outbox(dead)) all.push_back(desk::outbox_view(d));
    send_json(res, 200, all);
}

}  // namespace

void check_connector_accounts(engine::Store& store, const Connectors& connectors,
                              const std::string& file) {
    for (const auto& [source, c] : connectors) {
        try {
            desk::connector_actor(store, c.account, source);
        } catch (const Error& e) {
            throw Error(ErrorKind::invalid_input,
                        "--connectors " + file + ": source '" + source + "': account: " + e.what());
        }
    }
}

void install_intake(httplib::Server& svr, Api& api, const Connectors& connectors) {
    Api* a = &api;
    const Connectors* c = &connectors;
    api.routes.add("POST", "/intake/([^/]+)");  // SPEC §16: 405 with Allow, a metrics label
    svr.Post("/intake/([^/]+)",
             [a, c](const Request& req, Response& res, const httplib::ContentReader& reader) {
                 try {
                     post_intake(*a, *c, req, res, reader);
                 } catch (...) {
                     send_current_exception(res, req);
                 }
             });
    svr.Get("/api/v1/outbox", [a](const Request& req, Response& res) {
        try {
            get_outbox(*a, req, res);
        } catch (...) {
            send_current_exception(res, req);
        }
    });
}

}  // namespace tfadesk::serve
