// The plain-HTTP server behind the front (front.hpp; SPEC §16): cpp-httplib's Server, whose
// accept loop and request parser we keep, with the life of a connection taken over: a connection
// goes to a pool thread only once its request has arrived whole, and goes back to the front
// between keep-alive requests instead of holding the thread while the client thinks. A request is
// parsed and answered by httplib's own Server::process_request, on a stream of ours (FdStream).
// HTTPS keeps httplib's SSLServer as it is (its TLS state is its own): there, idle connections
// still hold a thread (docs/service.md).
#pragma once

#include <httplib.h>
#include <sys/socket.h>

#include "front.hpp"

namespace tfadesk::serve {

class FrontedServer final : public httplib::Server {
public:
    // Set before listening. The front hands ready connections to serve_connection() (on the pool).
    Front* front = nullptr;

    // Answers the requests of `sock` one after another (keep-alive), parking it on the front
    // while it waits for the next one; closes it when done. Takes the socket.
    void serve_connection(int sock);

    // httplib 0.11 listens with a backlog of 5 (compiled into the library): listening again on
    // the bound socket widens the queue (Linux allows it on a listening socket).
    void widen_backlog() const;

private:
    bool process_and_close_socket(socket_t sock) override;
};

}  // namespace tfadesk::serve
