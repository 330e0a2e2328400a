// The server behind the front (front.hpp; SPEC §16): cpp-httplib's Server, whose accept loop and
// request parser we keep, with the life of a connection taken over: a connection goes to a pool
// thread only once its request has arrived whole, and goes back to the front between keep-alive
// requests instead of holding the thread while the client thinks. A request is parsed and
// answered by httplib's own Server::process_request, on a stream of ours (FdStream).
//
// HTTPS (use_tls()) is served the same way, with the TLS done here rather than by httplib's
// SSLServer (whose connection loop is private): the front hands a connection over once a whole
// TLS record has arrived (the ClientHello, a later handshake record, the first record of the
// next request), and takes it back, with its TLS session kept here, whenever it would wait for
// the client (mid-handshake, between keep-alive requests, and mid-request: a request is decrypted
// record by record as its records arrive, and the part decrypted so far is kept with the session
// while the connection waits on the front, so a client that sends its request slowly, in many
// records, holds no thread either).
#pragma once

#include <httplib.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "front.hpp"

namespace tfadesk::serve {

class FrontedServer final : public httplib::Server {
public:
    FrontedServer() = default;
    ~FrontedServer() override;
    FrontedServer(const FrontedServer&) = delete;
    FrontedServer& operator=(const FrontedServer&) = delete;

    // Set before listening. The front hands ready connections to serve_connection() (on the pool)
    // and closes the ones it gives up on with drop_connection(). Over TLS it must frame TLS
    // records (Front::Framing::tls).
    Front* front = nullptr;

    // Serves HTTPS with this certificate chain and key (PEM files; TLS 1.2 and up). False, with
    // nothing changed, when they cannot be loaded or do not belong together. Before listening.
    bool use_tls(const std::string& cert_path, const std::string& key_path);

    // Answers the requests of `sock` one after another (keep-alive), parking it on the front
    // while it waits for the next one (or, over TLS, for the rest of the handshake); closes it
    // when done. Takes the socket.
    void serve_connection(int sock);
    // Closes a parked connection, and frees its TLS session if it has one. Takes the socket.
    void drop_connection(int sock);

    // httplib 0.11 listens with a backlog of 5 (compiled into the library): listening again on
    // the bound socket widens the queue (Linux allows it on a listening socket).
    void widen_backlog() const;

private:
    bool process_and_close_socket(socket_t sock) override;
    // A parked connection's TLS session, and the start of a request decrypted before it waited.
    struct Session {
        SSL* ssl = nullptr;
        std::string request;                                         // decrypted, not yet parsed
        std::optional<std::chrono::steady_clock::time_point> began;  // when `request` began
    };
    SSL* handshake(int sock, SSL* ssl);
    void keep_session(int sock, Session session);
    Session take_session(int sock);

    SSL_CTX* tls_ = nullptr;
    std::mutex sessions_mutex_;
    std::unordered_map<int, Session> sessions_;  // the TLS sessions of parked connections
};

}  // namespace tfadesk::serve
