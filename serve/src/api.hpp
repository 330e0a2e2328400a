// The routes of SPEC §9 under /api/v1, each a thin handler: check the query or body, find the
// caller from the bearer token, call the desk's use case (reads on a read-only store of its
// own, writes through the Writer), serialise with the desk's views.
#pragma once

#include <httplib.h>

#include <memory>

#include "read_stores.hpp"
#include "routes.hpp"
#include "sessions.hpp"
#include "stream.hpp"
#include "tfadesk/desk/access.hpp"
#include "tfadesk/engine/account.hpp"
#include "tfadesk/engine/store.hpp"
#include "tfadesk/serve/server.hpp"
#include "writer.hpp"

namespace tfadesk::serve {

struct ReplyTexts;  // the desk's reply templates, when this build has replies (SPEC §11)

struct Api {
    Api(const Options& o, Writer& w);
    ~Api();
    const Options& options;
    Writer& writer;
    std::unique_ptr<ReplyTexts> replies;
    RouteBook routes;  // SPEC §16: every route and its methods (405 with Allow, metrics labels)
    std::unique_ptr<Feed> feed;  // SPEC §14: follows the log for the streams
    Sessions sessions;           // SPEC §13: the page's sign-ins
    ReadStores readers;          // kept between requests

    // A read-only store for one request, on a fresh snapshot.
    ReadStores::Handle read_store() { return readers.take(); }
    // A read-only store of its own, for work that outlives a request (the stream, the SLA timer).
    std::unique_ptr<engine::Store> open_read_store() const;
};

// Who sends a request: its account as the log says it is now, and the Actor its writes are
// recorded as (the name and the id of the token of record, SPEC §12).
struct Caller {
    engine::Account account;
    desk::Actor actor;
};

// The caller of `req`: by its bearer token, else by its session cookie (SPEC §13). 401 for
// neither, an unknown token, or a session that has ended (signed out, expired, account disabled
// or its token replaced: the cookie is then cleared); 403 for a request that uses the cookie to
// change anything without "X-Requested-With: tfadesk".
Caller caller(Api& api, const httplib::Request& req, httplib::Response& res, engine::Store& store);

// The largest body `path` may carry (an import's limit for the import route, else the default).
std::size_t body_limit(const Options& options, const std::string& path);

// How much of a body over `limit` is still read (and dropped) so the client can read the 413;
// past it the server answers at once and closes the connection.
std::size_t drain_limit(std::size_t limit);

// Asks httplib to close the connection after this answer (the body was not read to its end).
void close_after(const httplib::Request& req);

// A route's handler; HttpError and engine::Error become their answers (SPEC §9's table).
using Handler = void (*)(Api&, const httplib::Request&, httplib::Response&);
using BodyHandler = void (*)(Api&, const httplib::Request&, httplib::Response&,
                             const httplib::ContentReader&);
// Registers a GET or DELETE route, and a POST route that reads its own body (kept in api.routes).
void add_route(httplib::Server& svr, Api& api, const std::string& method,
               const std::string& pattern, Handler fn);
void add_body_route(httplib::Server& svr, Api& api, const std::string& pattern, BodyHandler fn);

// The whole body (413 past `limit` bytes, however it is framed).
std::string read_body(const httplib::Request& req, const httplib::ContentReader& reader,
                      std::size_t limit);

// The passkeys' relying party id (SPEC §13): serve --rp-id, else the host the page is served
// from (the Host header without its port), lowercased; HttpError 400 without either.
std::string rp_id_of(const Api& api, const httplib::Request& req);

void install_api(httplib::Server& svr, Api& api);
// SPEC §13: the page's sign-in (sessions) and passkeys (signin.cpp).
void install_signin(httplib::Server& svr, Api& api);
// Accounts, roles, tokens and the require-signatures switch, for admins (accounts_api.cpp).
void install_accounts(httplib::Server& svr, Api& api);

}  // namespace tfadesk::serve
