#include "api.hpp"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <set>
#include <streambuf>

#include "http.hpp"
#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/access_log.hpp"
#include "tfadesk/desk/accounts.hpp"
#include "tfadesk/desk/clock.hpp"
#include "tfadesk/desk/diagram.hpp"
#include "tfadesk/desk/export.hpp"
#include "tfadesk/desk/import.hpp"
#include "tfadesk/desk/reply.hpp"
#include "tfadesk/desk/signatures.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/desk/tickets.hpp"
#include "tfadesk/desk/verify.hpp"
#include "tfadesk/desk/views.hpp"
#include "tfadesk/desk/webauthn.hpp"
#include "tfadesk/desk/workspace.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/decision.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/engine/lookup.hpp"
#include "tfadesk/engine/machine.hpp"
#include "tfadesk/rules/fields.hpp"
#include "tfadesk/rules/mask.hpp"
#include "tfadesk/rules/policy.hpp"
#include "tfadesk/rules/time.hpp"
#include "tfadesk/storage/open.hpp"

namespace tfadesk::serve {

using engine::Error;
using engine::ErrorKind;
using httplib::Request;
using httplib::Response;
using nlohmann::json;

// Read-only stores kept between requests: enough for two cores' worth of concurrent reads; more
// concurrent requests open stores of their own, closed after the request.
constexpr std::size_t kKeptReaders = 8;

struct ReplyTexts {
    desk::Templates templates;  // loaded and checked once, when the server starts
};

Api::Api(const Options& o, Writer& w)
    : options(o),
      writer(w),
      sessions(Sessions::Limits{std::chrono::milliseconds(o.session_idle_ms),
                                std::chrono::milliseconds(o.session_lifetime_ms)}),
      readers([this] { return open_read_store(); }, kKeptReaders) {
    replies = std::make_unique<ReplyTexts>(ReplyTexts{desk::Templates::load(o.templates)});
    feed = std::make_unique<Feed>([this] { return open_read_store(); });
}
Api::~Api() = default;

std::unique_ptr<engine::Store> Api::open_read_store() const {
    return storage::open_store(options.db, engine::Store::Mode::read_only);
}

std::size_t body_limit(const Options& options, const std::string& path) {
    return path == "/api/v1/import" ? options.max_import_bytes : options.max_body_bytes;
}

std::size_t drain_limit(std::size_t limit) { return limit + (std::size_t{8} << 20); }

void close_after(const Request& req) {
    // httplib closes after an answer when the request said "Connection: close". The request object
    // is httplib's own (not const): marking it is how a handler asks for the close.
    const_cast<Request&>(req).set_header("Connection", "close");
}

namespace {

constexpr const char* kRef =
    R"(([A-Za-z0-9._-]{1,64}))";  // SPEC §2: a ref never holds ':', so no account key matches

std::string etag(const json& ticket) {
    return "\"" + std::to_string(ticket.at("version").get<std::int64_t>()) + "\"";
}

bool changes_anything(const Request& req) { return req.method != "GET" && req.method != "HEAD"; }

// A handler that turns every exception into its answer, so one failing request fails alone.
template <class F>
httplib::Server::Handler guarded(F f) {
    return [f](const Request& req, Response& res) {
        try {
            f(req, res);
        } catch (...) {
            send_current_exception(res, req);
        }
    };
}

template <class F>
httplib::Server::HandlerWithContentReader guarded_body(F f) {
    return [f](const Request& req, Response& res, const httplib::ContentReader& reader) {
        // SPEC §16: a body the handler never read (refused first: 401, 403, 500) must not stay on
        // the connection, where it would be parsed as the next request: it is read and dropped
        // (up to 1 MiB; past that, or if it cannot be read, the connection closes after the
        // answer).
        bool read = false;
        const httplib::ContentReader tracked(
            [&](httplib::ContentReceiver receiver) {
                read = true;
                return reader(std::move(receiver));
            },
            [&](httplib::MultipartContentHeader header, httplib::ContentReceiver receiver) {
                read = true;
                return reader(std::move(header), std::move(receiver));
            });
        try {
            f(req, res, tracked);
        } catch (...) {
            send_current_exception(res, req);
        }
        const bool has_body =
            req.has_header("Transfer-Encoding") ||
            (req.has_header("Content-Length") && req.get_header_value("Content-Length") != "0");
        if (!read && has_body) {
            std::size_t dropped = 0;
            const bool drained = reader([&](const char*, std::size_t n) {
                dropped += n;
                return dropped <= (std::size_t{1} << 20);
            });
            if (!drained) close_after(req);
        }
    };
}

// Feeds the body to `sink` and refuses it (413) past `limit` bytes, however it is framed (chunked
// too). Past the limit the rest is read and dropped, up to drain_limit(limit), so that a client
// still sending can read the answer; beyond that the connection is closed after the answer.
void read_limited(const Request& req, const httplib::ContentReader& reader, std::size_t limit,
                  const std::function<bool(const char*, std::size_t)>& sink) {
    std::size_t size = 0;
    bool over = false, sink_failed = false;
    const bool ok = reader([&](const char* data, std::size_t n) {
        size += n;
        if (size > limit) over = true;
        if (over) return size <= drain_limit(limit);
        return !(sink_failed = !sink(data, n));
    });
    if (over) {
        if (!ok) close_after(req);
        throw HttpError(413, "too_large",
                        "the body is larger than " + std::to_string(limit) + " bytes");
    }
    if (sink_failed) throw Error(ErrorKind::unexpected, "cannot keep the body");
    if (!ok) {
        close_after(req);
        throw HttpError(400, "invalid", "the body could not be read");
    }
}

}  // namespace

std::string read_body(const Request& req, const httplib::ContentReader& reader, std::size_t limit) {
    std::string body;
    read_limited(req, reader, limit, [&](const char* data, std::size_t n) {
        body.append(data, n);
        return true;
    });
    return body;
}

namespace {

std::optional<std::string> string_member(const std::string& key, const json& v) {
    if (v.is_null()) return std::nullopt;
    if (!v.is_string()) throw HttpError(400, "invalid", "\"" + key + "\": must be a string");
    return v.get<std::string>();
}

void refuse_agent_key(const json& body) {
    if (body.contains("agent"))
        throw HttpError(
            400, "invalid",
            "\"agent\": the acting agent is always the token's account; a body must not name one");
}

// A streambuf that sends what it is given as response chunks (64 KiB at a time).
class SinkBuf final : public std::streambuf {
public:
    explicit SinkBuf(httplib::DataSink& sink) : sink_(sink) { setp(buf_, buf_ + sizeof buf_); }
    bool flush_all() {
        const auto n = static_cast<std::size_t>(pptr() - pbase());
        if (n && !sink_.write(pbase(), n)) return false;
        setp(buf_, buf_ + sizeof buf_);
        return true;
    }

protected:
    int_type overflow(int_type ch) override {
        if (!flush_all()) return traits_type::eof();
        if (ch != traits_type::eof()) {
            *pptr() = static_cast<char>(ch);
            pbump(1);
        }
        return traits_type::not_eof(ch);
    }
    int sync() override { return flush_all() ? 0 : -1; }

private:
    httplib::DataSink& sink_;
    char buf_[65536];
};

// Streams what `write` prints as the chunked body, keeping `store` (its snapshot) alive until the
// last chunk. A failure part way (the client left) ends the connection: the status line is out.
void stream(Response& res, const char* content_type, std::shared_ptr<engine::Store> store,
            std::function<void(engine::Store&, std::ostream&)> write) {
    res.set_chunked_content_provider(
        content_type, [store, write](std::size_t, httplib::DataSink& sink) {
            try {
                SinkBuf buf(sink);
                std::ostream out(&buf);
                write(*store, out);
                out.flush();
                if (!out || !buf.flush_all()) return false;
                sink.done();
                return true;
            } catch (const std::exception& e) {
                spdlog::warn("streamed answer cut short: {}", rules::mask_pii(e.what()));
                return false;
            }
        });
}

std::shared_ptr<engine::Store> shared(ReadStores::Handle s) {
    return std::shared_ptr<engine::Store>(std::move(s));
}

// SPEC §12: puts on record, through the writer, that `account` read the personal fields of `refs`
// through `req` (its method, path and client address); a read that returned no ticket is not
// recorded. Returns once that is committed, so an answer is sent only after its read is on
// record; throws (and the answer fails) when it cannot.
void record_read(Api& api, const Request& req, const std::string& account,
                 const desk::ReturnedRefs& refs) {
    if (refs.count() == 0) return;  // no ticket, no personal field returned
    api.writer.record_access(
        desk::access_record(account, req.method + " " + req.path, refs, req.remote_addr));
}

// ---- reads -------------------------------------------------------------------------------------

void get_me(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    const auto a = caller(api, req, res, *api.read_store()).account;
    send_json(
        res, 200,
        {{"name", a.name}, {"roles", std::vector<std::string>(a.roles.begin(), a.roles.end())}});
}

// ---- the workspace (SPEC §14) ------------------------------------------------------------------

// The ticket object of the API: the view of `show --json` plus `allowed`, the events `who` may
// apply now.
json api_ticket(const Api& api, engine::Store& store, const engine::Ticket& t,
                const engine::Account& who) {
    const std::int64_t sla = api.options.sla_ms;
    json j = desk::ticket_view(store, t, sla);
    j["allowed"] = desk::allowed_events(store, t, who.roles, who.name, desk::now_utc(), sla);
    return j;
}

// Percent-encodes a query value for the Link header.
std::string url_encoded(const std::string& s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~')
            out += static_cast<char>(c);
        else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

void list_tickets(Api& api, const Request& req, Response& res) {
    static const std::set<std::string, std::less<>> known = {
        "q", "state", "open", "assignee", "overdue", "ready_for", "sort", "limit", "cursor"};
    for (const auto& [key, value] : req.params) {
        if (!known.count(key))
            throw HttpError(400, "invalid", "unknown query parameter '" + key + "'");
        if (key != "state" && req.params.count(key) > 1)
            throw HttpError(400, "invalid", "query parameter '" + key + "' given more than once");
    }
    desk::ListRequest r;
    r.q = query_value(req, "q");
    for (auto [it, end] = req.params.equal_range("state"); it != end; ++it)
        r.states.push_back(it->second);
    r.open = query_flag(req, "open");
    r.assignee = query_value(req, "assignee");
    r.overdue = query_flag(req, "overdue");
    r.ready_for = query_value(req, "ready_for");
    r.sort = query_value(req, "sort");
    r.limit = query_value(req, "limit");
    r.cursor = query_value(req, "cursor");
    r.sla_ms = api.options.sla_ms;
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store).account;
    auto query = desk::ticket_query(r, who.name, desk::now_utc());
    // R6's "may approve" needs the approver role first.
    const bool nothing = query.ready_for && store->has_accounts() && !who.roles.count("approver");
    auto [page, more] =
        nothing ? std::pair<std::vector<engine::Ticket>, bool>{} : store->find_tickets(query);
    const auto total = nothing ? 0 : store->count_tickets(query);
    desk::ReturnedRefs refs;
    std::string body = "[";
    for (const auto& t : page) {
        body += body.size() == 1 ? "\n" : ",\n";
        body += desk::ticket_view_text(t, api.options.sla_ms);
        refs.add(t.fields.ref);
    }
    body += page.empty() ? "]\n" : "\n]\n";
    if (more && !page.empty()) {
        std::string url = "/api/v1/tickets?";
        for (const auto& [key, value] : req.params)
            if (key != "cursor") url += key + "=" + url_encoded(value) + "&";
        url += "cursor=" + desk::next_cursor(query, page.back());
        res.set_header("Link", "<" + url + ">; rel=\"next\"");
    }
    res.set_header("X-Total-Count", std::to_string(total));
    record_read(api, req, who.name, refs);
    res.status = 200;
    res.set_content(body, kJson);
}

void get_counts(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store).account;
    auto counts =
        store->workspace_counts(who.name, desk::overdue_bound(desk::now_utc(), api.options.sla_ms));
    if (store->has_accounts() && !who.roles.count("approver")) counts.ready_for_me = 0;
    send_json(res, 200, desk::counts_view(counts));
}

void get_ticket(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store).account;
    const json t = api_ticket(api, *store, desk::get_ticket(*store, req.matches[1]), who);
    record_read(api, req, who.name, desk::ReturnedRefs(req.matches[1]));
    res.set_header("ETag", etag(t));
    send_json(res, 200, t);
}

void get_history(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store).account.name;
    const std::string ref = req.matches[1];
    const auto entries = engine::entries_of(*store, ref);
    json all = json::array();
    for (const auto& e : entries) all.push_back(desk::history_view(e));
    record_read(api, req, who, desk::ReturnedRefs(ref));
    send_json(res, 200, all);
}

void get_replay(Api& api, const Request& req, Response& res) {
    check_query(req, {"as_of"});
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store).account.name;
    const json t = desk::ticket_view(
        desk::replay_ticket(*store, req.matches[1], query_value(req, "as_of")), api.options.sla_ms);
    record_read(api, req, who, desk::ReturnedRefs(req.matches[1]));
    send_json(res, 200, t);
}

void get_reply(Api& api, const Request& req, Response& res) {
    check_query(req, {"lang"});
    auto store = api.read_store();
    const auto who = caller(api, req, res, *store).actor;
    desk::authorize(*store, who, "agent", "read replies");
    const auto reply = desk::reply_for(
        *store, req.matches[1], query_value(req, "lang").value_or("en"), api.replies->templates);
    record_read(api, req, who.name, desk::ReturnedRefs(req.matches[1]));
    send_json(res, 200, desk::to_json(reply));
}

void get_verify(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    caller(api, req, res, *store);
    send_json(res, 200, desk::verify_view(desk::verify(*store, {}), true));
}

void get_export(Api& api, const Request& req, Response& res) {
    check_query(req, {"format"});
    const std::string format = query_value(req, "format").value_or("jsonl");
    if (format != "jsonl" && format != "csv")
        throw Error(ErrorKind::invalid_input, "format: must be jsonl or csv");
    auto store = shared(api.read_store());
    const auto who = caller(api, req, res, *store).actor;
    desk::authorize(*store, who, "auditor", "export");
    spdlog::info("export ({}) by {} from {}", format, who.name, req.remote_addr);
    // httplib calls the provider while `req` lives. The read is on record before the last line.
    stream(res, format == "csv" ? "text/csv; charset=utf-8" : "application/x-ndjson", store,
           [format, &api, &req, who](engine::Store& s, std::ostream& out) {
               desk::ReturnedRefs refs;  // every ticket the log holds, once (its `open` entry)
               desk::export_log(s, format, out, [&](const engine::LogEntry& e) {
                   if (e.tseq == 1 && !engine::is_account_key(e.ref)) refs.add(e.ref);
               });
               record_read(api, req, who.name, refs);
           });
}

// Not itself a read of personal data (SPEC §12): not recorded.
void get_access_log(Api& api, const Request& req, Response& res) {
    check_query(req, {"ref", "agent", "since"});
    const auto query = desk::access_query(query_value(req, "ref"), query_value(req, "agent"),
                                          query_value(req, "since"));
    auto store = shared(api.read_store());
    desk::authorize(*store, caller(api, req, res, *store).actor, "auditor", "read the access log");
    stream(res, kJson, store, [query](engine::Store& s, std::ostream& out) {
        desk::write_access_json(s, query, out);
    });
}

void get_checkpoint(Api& api, const Request& req, Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    caller(api, req, res, *store);
    const auto seal = store->last_seal();
    if (!seal)
        throw Error(ErrorKind::not_found,
                    "the log has no seal yet (run the server or write commands with --key)");
    res.status = 200;
    res.set_content(seal->note, "text/plain; charset=utf-8");
}

void get_stats(Api& api, const Request& req, Response& res) {
    check_query(req, {"since"});
    auto since = query_value(req, "since");
    if (since) {
        const auto ms = rules::parse_utc(*since);
        if (!ms)
            throw Error(ErrorKind::invalid_input,
                        "since: must be an ISO 8601 UTC time like 2026-11-20T09:15:00Z");
        since = rules::format_utc_ms(*ms);
    }
    auto store = api.read_store();
    caller(api, req, res, *store);
    send_json(res, 200, desk::stats_view(*store, since));
}

void get_diagram(Api& api, const Request& req, Response& res) {
    check_query(req, {"format", "ticket"});
    const std::string format = query_value(req, "format").value_or("dot");
    if (!desk::is_diagram_format(format))
        throw Error(ErrorKind::invalid_input, "format: must be svg, dot or mermaid");
    const auto ref = query_value(req, "ticket");
    auto store = api.read_store();
    caller(api, req, res, *store);
    std::vector<engine::LogEntry> entries;
    if (ref) entries = engine::entries_of(*store, *ref);
    const char* type = format == "svg"   ? "image/svg+xml"
                       : format == "dot" ? "text/vnd.graphviz; charset=utf-8"
                                         : "text/plain; charset=utf-8";
    res.status = 200;
    res.set_content(desk::render_diagram(format, ref.value_or(""), entries), type);
}

// ---- writes ------------------------------------------------------------------------------------

rules::RawFields ticket_fields(const json& body, bool& triage) {
    refuse_agent_key(body);
    rules::RawFields raw;
    for (const auto& [key, v] : body.items()) {
        if (key == "triage") {
            if (!v.is_boolean())
                throw HttpError(400, "invalid", "\"triage\": must be true or false");
            triage = v.get<bool>();
        } else if (!rules::is_field_name(key)) {
            std::string names;
            for (auto f : rules::field_names())
                names += (names.empty() ? "" : ", ") + std::string(f);
            throw HttpError(
                400, "invalid",
                "unknown key \"" + key + "\" (expected the §2 fields: " + names + ", or triage)");
        } else if (v.is_number_unsigned() || v.is_number_integer()) {
            raw[key] = v.dump();  // as import reads JSON Lines: an integer is its decimal text
        } else if (auto s = string_member(key, v)) {
            raw[key] = *s;
        }
    }
    return raw;
}

void post_ticket(Api& api, const Request& req, Response& res,
                 const httplib::ContentReader& reader) {
    check_query(req, {});
    const auto c = caller(api, req, res, *api.read_store());
    const auto who = c.actor;
    const auto account = c.account;
    bool triage = false;
    const auto raw =
        ticket_fields(body_object(read_body(req, reader, api.options.max_body_bytes)), triage);
    const json t = api.writer.batched([&api, raw, who, triage, account](engine::Store& s) {
        return api_ticket(api, s, desk::open_ticket_in(s, raw, who, triage), account);
    });
    res.set_header("Location", "/api/v1/tickets/" + t.at("ref").get<std::string>());
    res.set_header("ETag", etag(t));
    send_json(res, 201, t);
}

desk::EventRequest event_request(const json& body, const desk::Actor& who) {
    refuse_agent_key(body);
    desk::EventRequest r;
    r.agent = who.name;
    r.token_id = who.token_id;
    bool has_event = false;
    for (const auto& [key, v] : body.items()) {
        std::optional<std::string>* slot = key == "check"             ? &r.check
                                           : key == "note"            ? &r.note
                                           : key == "reference"       ? &r.reference
                                           : key == "role"            ? &r.role
                                           : key == "access"          ? &r.access
                                           : key == "requester_email" ? &r.requester_email
                                                                      : nullptr;
        if (key == "event") {
            if (!v.is_string())
                throw HttpError(400, "invalid", "\"event\": must be a string naming the event");
            r.event = v.get<std::string>();
            has_event = true;
        } else if (slot) {
            *slot = string_member(key, v);
        } else if (key == "ack_related") {
            if (!v.is_array())
                throw HttpError(400, "invalid", "\"ack_related\": must be an array of ticket refs");
            for (const auto& ref : v) {
                if (!ref.is_string())
                    throw HttpError(400, "invalid",
                                    "\"ack_related\": must be an array of ticket refs");
                r.ack_related.push_back(ref.get<std::string>());
            }
        } else if (key == "assertion") {
            // SPEC §13: the page's passkey, over the challenge SHA-256(decision text).
            try {
                auto signer = std::make_shared<desk::DecisionSigner>();
                signer->given = desk::parse_given_assertion(v, "\"assertion\"");
                r.signer = std::move(signer);
            } catch (const Error& e) {
                throw HttpError(400, "invalid", api_message(e));
            }
        } else if (key == "signature") {
            // SPEC §13: the client's own signature over the decision text.
            if (!v.is_object() || v.size() != 2 || !v.contains("key") || !v.contains("sig") ||
                !v["key"].is_string() || !v["sig"].is_string())
                throw HttpError(400, "invalid",
                                "\"signature\": must be {\"key\": KEYID, \"sig\": BASE64}");
            try {
                auto signer = std::make_shared<desk::DecisionSigner>();
                signer->given = desk::parse_given_signature(v["key"], v["sig"], "\"signature\"");
                r.signer = std::move(signer);
            } catch (const Error& e) {
                throw HttpError(400, "invalid", api_message(e));
            }
        } else {
            throw HttpError(
                400, "invalid",
                "unknown key \"" + key +
                    "\" (expected event, check, note, reference, role, access, requester_email, "
                    "ack_related, signature, assertion)");
        }
    }
    if (!has_event) throw HttpError(400, "invalid", "\"event\": required");
    if (body.contains("signature") && body.contains("assertion"))
        throw HttpError(400, "invalid",
                        "\"signature\" and \"assertion\": a decision is signed once");
    return r;
}

// POST /api/v1/tickets/REF/events/options (SPEC §13): what the caller's passkey must sign to post
// this event (the same body, the same If-Match): PublicKeyCredentialRequestOptions whose challenge
// is SHA-256 of the decision text. The event is run as far as its signature on a read-only
// snapshot, so the text is the one the write will check, and a refusal answers here already.
void post_event_options(Api& api, const Request& req, Response& res,
                        const httplib::ContentReader& reader) {
    check_query(req, {});
    const auto expect = if_match_version(req);
    auto store = api.read_store();
    const auto c = caller(api, req, res, *store);
    json body = body_object(read_body(req, reader, api.options.max_body_bytes));
    body.erase("assertion");
    body.erase("signature");
    auto request = event_request(body, c.actor);
    desk::validate_event(request);
    request.expect_version = expect;
    const std::string ref = req.matches[1];
    if (!engine::is_decision(ref, request.event))
        throw HttpError(400, "invalid",
                        "\"event\": " + request.event +
                            " is not a decision (SPEC §13): it is posted without a signature");
    auto signer = std::make_shared<desk::DecisionSigner>();
    signer->text_only = true;
    request.signer = signer;
    std::string text;
    try {
        desk::apply_event_in(*store, ref, request);
        throw Error(ErrorKind::unexpected, "the event reached no decision text");
    } catch (const desk::DecisionTextOnly& only) {
        text = only.text;
    }
    const std::string rp_id = rp_id_of(api, req);
    json allowed = json::array();
    for (const auto& [id, p] : c.account.passkeys)
        if (p.rp_id == rp_id) allowed.push_back({{"type", "public-key"}, {"id", id}});
    if (allowed.empty())
        throw HttpError(
            409, "refused",
            "account '" + c.account.name + "' holds no passkey for '" + rp_id + "': add one first");
    send_json(res, 200,
              {{"challenge", desk::webauthn::base64url_encode(desk::decision_challenge(text))},
               {"rpId", rp_id},
               {"timeout", 120000},
               {"userVerification", "preferred"},
               {"allowCredentials", allowed}});
}

void post_event(Api& api, const Request& req, Response& res, const httplib::ContentReader& reader) {
    check_query(req, {});
    const auto expect = if_match_version(req);
    const auto c = caller(api, req, res, *api.read_store());
    const auto who = c.actor;
    const auto account = c.account;
    auto request =
        event_request(body_object(read_body(req, reader, api.options.max_body_bytes)), who);
    desk::validate_event(request);  // invalid input answers at once, without waiting for the writer
    request.expect_version = expect;
    const std::string ref = req.matches[1];
    const json t = api.writer.batched([&api, ref, request, account](engine::Store& s) {
        try {
            return api_ticket(api, s, desk::apply_event_in(s, ref, request), account);
        } catch (const Error& e) {
            // The desk's conflict about the expected version is the stale If-Match (412).
            if (e.kind() == ErrorKind::conflict && e.field() == "expect_version")
                throw StaleVersion(api_message(e));
            throw;
        }
    });
    res.set_header("ETag", etag(t));
    send_json(res, 200, t);
}

// An unlinked temporary file: an import's body lands here first, so a slow upload never holds
// the write lock, and memory stays flat however large the file.
struct Spool {
    std::FILE* f = std::tmpfile();
    ~Spool() {
        if (f) std::fclose(f);
    }
};

void post_import(Api& api, const Request& req, Response& res,
                 const httplib::ContentReader& reader) {
    check_query(req, {"triage", "strict", "dry_run"});
    desk::ImportOptions options;
    options.triage = query_flag(req, "triage");
    options.strict = query_flag(req, "strict");
    options.dry_run = query_flag(req, "dry_run");
    std::string type = req.get_header_value("Content-Type");
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    ingest::Format format;
    if (type == "text/csv")
        format = ingest::Format::csv;
    else if (type == "application/x-ndjson" || type == "application/jsonl")
        format = ingest::Format::jsonl;
    else
        throw HttpError(
            400, "invalid",
            "Content-Type: must be text/csv or application/x-ndjson (got '" + type + "')");
    {
        auto store = api.read_store();
        const auto who = caller(api, req, res, *store).actor;
        options.agent = who.name;
        options.token_id = who.token_id;
        desk::authorize(*store, who, "operator", "import");  // before a large body is read
    }
    Spool spool;
    if (!spool.f)
        throw Error(ErrorKind::unexpected, "cannot create a temporary file for the import");
    read_limited(req, reader, api.options.max_import_bytes, [&](const char* data, std::size_t n) {
        return std::fwrite(data, 1, n, spool.f) == n;
    });
    if (std::fflush(spool.f) != 0)
        throw Error(ErrorKind::unexpected, "cannot spool the import to a temporary file");
    const std::string path = "/proc/self/fd/" + std::to_string(fileno(spool.f));

    auto run = [path, format, options](engine::Store* s) {
        std::ifstream in(path, std::ios::binary);
        if (!in) throw Error(ErrorKind::unexpected, "cannot read the spooled import");
        ingest::RecordReader records(in, format, desk::import_columns());
        constexpr std::size_t kMaxErrors = 10000;
        json errors = json::array();
        std::size_t omitted = 0;
        desk::ImportHooks hooks;
        hooks.on_reject = [&](const ingest::Record& rec, const std::string& reason) {
            if (errors.size() < kMaxErrors)
                errors.push_back({{"line", rec.line}, {"error", reason}});
            else
                ++omitted;
        };
        const auto n = desk::import_records(s, records, options, hooks);
        json out = {{"imported", n.imported},
                    {"duplicates", n.duplicates},
                    {"rejected", n.rejected},
                    {"errors", errors}};
        if (omitted) out["errors_omitted"] = omitted;
        if (!n.kept) out["kept"] = false;
        if (options.dry_run) out["dry_run"] = true;
        return out;
    };
    // A dry run writes nothing: it reads a snapshot of its own, beside the writer.
    const json out = options.dry_run ? run(api.read_store().get())
                                     : api.writer.solo([run](engine::Store& s) { return run(&s); });
    send_json(res, 200, out);
}

void post_sweep(Api& api, const Request& req, Response& res, const httplib::ContentReader& reader) {
    check_query(req, {});
    const auto who = caller(api, req, res, *api.read_store()).actor;
    const json body = body_object(read_body(req, reader, api.options.max_body_bytes), true);
    refuse_agent_key(body);
    std::optional<std::string> now;
    std::int64_t sla_hours = rules::kDefaultSlaHours;
    for (const auto& [key, v] : body.items()) {
        if (key == "now")
            now = string_member(key, v);
        else if (key == "sla_hours") {
            if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
                throw HttpError(400, "invalid",
                                "\"sla_hours\": must be a whole number of hours, 0 or more");
            sla_hours = v.get<std::int64_t>();
        } else
            throw HttpError(400, "invalid",
                            "unknown key \"" + key + "\" (expected now, sla_hours)");
    }
    const json out = api.writer.solo([who, now, sla_hours](engine::Store& s) {
        return json{{"expired", desk::sweep(s, who, now, sla_hours).expired}};
    });
    send_json(res, 200, out);
}

}  // namespace

Caller caller(Api& api, const Request& req, Response& res, engine::Store& store) {
    if (const auto token = bearer_token(req)) {
        auto account = desk::authenticate(store, *token);
        if (!account)
            throw HttpError(401, "unauthorized",
                            "the token is unknown, replaced, or its account is disabled");
        return {*account, desk::Actor{account->name, desk::token_id(*token)}};
    }
    const auto cookie = cookie_value(req, kSessionCookie);
    if (!cookie)
        throw HttpError(
            401, "unauthorized",
            "this route needs 'Authorization: Bearer TOKEN' (an account's API token) or a "
            "session: sign in first (POST /api/v1/session)");
    const bool tls = api.options.tls_cert.has_value();
    const auto session = api.sessions.use(*cookie);
    auto account = session ? desk::account_from_log(store, session->account) : std::nullopt;
    if (!account || !account->enabled ||
        (!account->token_id.empty() && account->token_id != session->token_id)) {
        // SPEC §13: disabling an account (or replacing its token) ends its sessions at once.
        if (session) api.sessions.end(*cookie);
        res.set_header("Set-Cookie", Sessions::clear_cookie(tls));
        throw HttpError(
            401, "unauthorized",
            "the session has ended (signed out, timed out, or its account was disabled or "
            "given a new token): sign in again");
    }
    if (changes_anything(req) && req.get_header_value("X-Requested-With") != "tfadesk")
        throw HttpError(403, "forbidden",
                        "X-Requested-With: a request signed in by the session cookie that changes "
                        "anything must carry 'X-Requested-With: tfadesk'");
    return {*account, desk::Actor{account->name, session->token_id}};
}

void add_route(httplib::Server& svr, Api& api, const std::string& method,
               const std::string& pattern, Handler fn) {
    Api* a = &api;
    api.routes.add(method, pattern);
    if (method == "GET") {
        svr.Get(pattern, guarded([a, fn](const Request& req, Response& res) { fn(*a, req, res); }));
    } else if (method == "DELETE") {
        // httplib tries the body-reading handlers of DELETE first (server.cpp's catch-all is one):
        // this route is one too, and a body sent with it is read and dropped (guarded_body).
        svr.Delete(pattern,
                   guarded_body([a, fn](const Request& req, Response& res,
                                        const httplib::ContentReader&) { fn(*a, req, res); }));
    } else {
        throw std::logic_error("add_route: " + method + " takes add_body_route");
    }
}

void add_body_route(httplib::Server& svr, Api& api, const std::string& pattern, BodyHandler fn) {
    Api* a = &api;
    api.routes.add("POST", pattern);
    svr.Post(pattern,
             guarded_body([a, fn](const Request& req, Response& res,
                                  const httplib::ContentReader& r) { fn(*a, req, res, r); }));
}

void install_api(httplib::Server& svr, Api& api) {
    auto get = [&](const std::string& pattern, Handler fn) {
        add_route(svr, api, "GET", pattern, fn);
    };
    auto post = [&](const std::string& pattern, BodyHandler fn) {
        add_body_route(svr, api, pattern, fn);
    };
    const std::string tickets = "/api/v1/tickets", ticket = tickets + "/" + kRef;
    get("/api/v1/me", get_me);
    get(tickets, list_tickets);
    post(tickets, post_ticket);
    get(ticket, get_ticket);
    post(ticket + "/events", post_event);
    post(ticket + "/events/options", post_event_options);  // SPEC §13: a passkey's challenge
    get(ticket + "/history", get_history);
    get(ticket + "/replay", get_replay);
    get(ticket + "/reply", get_reply);
    post("/api/v1/import", post_import);
    post("/api/v1/sweep", post_sweep);
    get("/api/v1/verify", get_verify);
    get("/api/v1/export", get_export);
    get("/api/v1/access-log", get_access_log);
    get("/api/v1/checkpoint", get_checkpoint);
    get("/api/v1/stats", get_stats);
    get("/api/v1/diagram", get_diagram);
    get("/api/v1/counts", get_counts);  // SPEC §14
    get("/api/v1/stream", get_stream);
}

}  // namespace tfadesk::serve
