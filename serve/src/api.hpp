// The routes of SPEC §9 under /api/v1, each a thin handler: check the query or body, find the
// caller from the bearer token, call the desk's use case (reads on a read-only store of its
// own, writes through the Writer), serialise with the desk's views.
#pragma once

#include <httplib.h>

#include <memory>

#include "tfadesk/engine/store.hpp"
#include "tfadesk/serve/server.hpp"
#include "routes.hpp"
#include "stream.hpp"
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

    std::unique_ptr<engine::Store> read_store() const;
};

// The largest body `path` may carry (an import's limit for the import route, else the default).
std::size_t body_limit(const Options& options, const std::string& path);

// How much of a body over `limit` is still read (and dropped) so the client can read the 413;
// past it the server answers at once and closes the connection.
std::size_t drain_limit(std::size_t limit);

// Asks httplib to close the connection after this answer (the body was not read to its end).
void close_after(const httplib::Request& req);

void install_api(httplib::Server& svr, Api& api);

}  // namespace tfadesk::serve
