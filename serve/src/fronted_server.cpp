#include "fronted_server.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <openssl/err.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <string>

namespace tfadesk::serve {

namespace {

using Clock = std::chrono::steady_clock;

// Waits until `sock` is ready for `events` (or hung up), until `deadline` at the latest.
bool wait_until(int sock, short events, Clock::time_point deadline) {
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{sock, events, 0};
        const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, INT_MAX)));
        if (r < 0 && errno == EINTR) continue;
        return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
    }
}

// One SSL_read or SSL_write (`op`) on a non-blocking socket, waiting for the socket as OpenSSL
// asks, for `timeout_ms` in all: bytes moved, 0 at the peer's close_notify, -1 otherwise.
template <class Op>
ssize_t tls_io(SSL* ssl, int sock, int timeout_ms, Op op) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
        ERR_clear_error();
        const int n = op();
        if (n > 0) return n;
        const int e = SSL_get_error(ssl, n);
        if (e == SSL_ERROR_ZERO_RETURN) return 0;
        if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) return -1;
        if (!wait_until(sock, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline)) return -1;
    }
}

int clamp(std::size_t size) { return static_cast<int>(std::min<std::size_t>(size, INT_MAX)); }

// A socket as httplib's Stream: reads buffered (httplib's line reader asks a byte at a time), with
// the server's read and write timeouts. Bytes buffered past a request belong to the next one
// (pipelining): has_buffered() says so, and the connection is then not parked. With `ssl`, the
// bytes go through its TLS session (on a non-blocking socket).
class FdStream final : public httplib::Stream {
public:
    FdStream(int sock, SSL* ssl, int read_timeout_ms, int write_timeout_ms)
        : sock_(sock),
          ssl_(ssl),
          read_timeout_ms_(read_timeout_ms),
          write_timeout_ms_(write_timeout_ms) {}

    bool is_readable() const override {
        return begin_ < buf_.size() || (ssl_ && SSL_pending(ssl_) > 0) ||
               wait(POLLIN, read_timeout_ms_);
    }
    bool is_writable() const override { return wait(POLLOUT, write_timeout_ms_); }

    ssize_t read(char* ptr, size_t size) override {
        if (begin_ == buf_.size()) {
            if (size >= kChunk) return recv_some(ptr, size);
            buf_.resize(kChunk);
            const ssize_t n = recv_some(buf_.data(), kChunk);
            buf_.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
            begin_ = 0;
            if (n <= 0) return n;
        }
        const std::size_t n = std::min(size, buf_.size() - begin_);
        std::memcpy(ptr, buf_.data() + begin_, n);
        begin_ += n;
        return static_cast<ssize_t>(n);
    }

    // Over TLS with a front: decrypts the records that have arrived whole, without waiting, until
    // the buffer holds a whole request (Front::request_whole). Only whole records are read
    // (`front.ready()`, or what OpenSSL holds already): reading part of one would leave the front
    // peeking at the middle of a record while the connection waits.
    enum class Ahead { whole, wait, closed };
    Ahead read_ahead(const Front& front) {
        for (;;) {
            const std::string_view seen(buf_.data() + begin_, buf_.size() - begin_);
            if (!seen.empty() && Front::request_whole(seen)) return Ahead::whole;
            if (!SSL_has_pending(ssl_) && !front.ready(sock_)) return Ahead::wait;
            buf_.erase(0, begin_);
            begin_ = 0;
            const std::size_t had = buf_.size();
            buf_.resize(had + kChunk);
            ERR_clear_error();
            const int n = SSL_read(ssl_, buf_.data() + had, static_cast<int>(kChunk));
            buf_.resize(had + (n > 0 ? static_cast<std::size_t>(n) : 0));
            if (n > 0) continue;
            const int e = SSL_get_error(ssl_, n);
            if (e == SSL_ERROR_WANT_READ) {
                // After a record that carried no data (an empty one, a key update, a warning),
                // OpenSSL goes on into the next, and may have taken part of it: the socket is then
                // no longer at a record's start, the front cannot tell when the rest has come, and
                // looking again here would spin. The thread reads it, with the read timeout, as
                // it did before read-ahead. Otherwise: look again.
                if (SSL_has_pending(ssl_)) return Ahead::whole;
                continue;
            }
            return e == SSL_ERROR_WANT_WRITE ? Ahead::whole : Ahead::closed;
        }
    }
    // The bytes read and not yet parsed (taken out of the stream), and bytes to parse first.
    std::string take_buffered() {
        std::string rest = buf_.substr(begin_);
        buf_.clear();
        begin_ = 0;
        return rest;
    }
    void preload(std::string bytes) {
        buf_ = std::move(bytes);
        begin_ = 0;
    }

    ssize_t write(const char* ptr, size_t size) override {
        // The first bytes of each answer, to see whether it said "Connection: close".
        if (written_.size() < kWatch)
            written_.append(ptr, std::min(size, kWatch - written_.size()));
        if (ssl_)
            return tls_io(ssl_, sock_, write_timeout_ms_,
                          [&] { return SSL_write(ssl_, ptr, clamp(size)); });
        if (!is_writable()) return -1;
        ssize_t n;
        do n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n;
    }

    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        name_of(true, ip, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        name_of(false, ip, port);
    }
    socket_t socket() const override { return sock_; }

    bool has_buffered() const { return begin_ < buf_.size(); }
    // Whether the answer(s) written since the last call told the client the connection closes.
    // httplib 0.11 decides to keep a connection before routing: a handler (or the body guards)
    // asking to close after refusing a body it did not read is honoured here, or the body would
    // be read as the next request (SPEC §16).
    bool answer_closes() {
        const bool closes = written_.find("\r\nConnection: close\r\n") != std::string::npos;
        written_.clear();
        return closes;
    }

private:
    bool wait(short events, int timeout_ms) const {
        pollfd p{sock_, events, 0};
        int r;
        do r = ::poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
    }
    ssize_t recv_some(char* ptr, std::size_t size) {
        if (ssl_)
            return tls_io(ssl_, sock_, read_timeout_ms_,
                          [&] { return SSL_read(ssl_, ptr, clamp(size)); });
        if (!wait(POLLIN, read_timeout_ms_)) return -1;
        ssize_t n;
        do n = ::recv(sock_, ptr, size, 0);
        while (n < 0 && errno == EINTR);
        return n;
    }
    void name_of(bool peer, std::string& ip, int& port) const {
        sockaddr_storage a{};
        socklen_t len = sizeof a;
        const int r = peer ? getpeername(sock_, reinterpret_cast<sockaddr*>(&a), &len)
                           : getsockname(sock_, reinterpret_cast<sockaddr*>(&a), &len);
        if (r != 0) return;
        char host[NI_MAXHOST], serv[NI_MAXSERV];
        if (getnameinfo(reinterpret_cast<sockaddr*>(&a), len, host, sizeof host, serv, sizeof serv,
                        NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
            ip = host;
            port = std::atoi(serv);
        }
    }

    static constexpr std::size_t kWatch = 8192;
    static constexpr std::size_t kChunk = 4096;
    int sock_;
    SSL* ssl_;
    int read_timeout_ms_, write_timeout_ms_;
    std::string written_;
    std::string buf_;  // read, not yet parsed from begin_
    std::size_t begin_ = 0;
};

}  // namespace

FrontedServer::~FrontedServer() {
    for (const auto& [sock, session] : sessions_) {
        SSL_free(session.ssl);
        ::close(sock);
    }
    if (tls_) SSL_CTX_free(tls_);
}

bool FrontedServer::use_tls(const std::string& cert_path, const std::string& key_path) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) return false;
    // httplib's SSLServer's options, and TLS 1.2 at least (OpenSSL 3 refuses older ones anyway).
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_path.c_str()) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_path.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        ERR_clear_error();
        SSL_CTX_free(ctx);
        return false;
    }
    if (tls_) SSL_CTX_free(tls_);
    tls_ = ctx;
    return true;
}

void FrontedServer::keep_session(int sock, Session session) {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    sessions_[sock] = std::move(session);
}

FrontedServer::Session FrontedServer::take_session(int sock) {
    std::lock_guard<std::mutex> lock(sessions_mutex_);
    const auto it = sessions_.find(sock);
    if (it == sessions_.end()) return {};
    Session session = std::move(it->second);
    sessions_.erase(it);
    return session;
}

void FrontedServer::drop_connection(int sock) {
    if (SSL* ssl = take_session(sock).ssl) SSL_free(ssl);
    ::close(sock);
}

// Runs, or goes on with, the TLS handshake of `sock` (`ssl`: its session when it was parked
// mid-handshake). The session once the handshake is done; nullptr when it failed or timed out
// (the socket is closed) or when the connection went back to the front to wait for the client's
// next record (it comes back to serve_connection()).
SSL* FrontedServer::handshake(int sock, SSL* ssl) {
    if (!ssl) {
        ssl = SSL_new(tls_);
        if (!ssl || SSL_set_fd(ssl, sock) != 1 ||
            fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK) != 0) {
            if (ssl) SSL_free(ssl);
            ::close(sock);
            return nullptr;
        }
    }
    const auto deadline = Clock::now() + std::chrono::seconds(read_timeout_sec_);
    for (int step = 0; step < 64; ++step) {  // a handshake is a few records
        ERR_clear_error();
        const int r = SSL_accept(ssl);
        if (r == 1) return ssl;
        const int e = SSL_get_error(ssl, r);
        if (e == SSL_ERROR_WANT_READ && front && !front->ready(sock)) {
            // Kept before park(): it may be dispatched (or dropped) at once.
            keep_session(sock, {ssl, {}, {}});
            front->park(sock);
            return nullptr;
        }
        const bool waits = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE;
        if (!waits || !wait_until(sock, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline))
            break;
    }
    spdlog::debug("front: a TLS handshake failed or timed out");
    SSL_free(ssl);
    ::close(sock);
    return nullptr;
}

bool FrontedServer::process_and_close_socket(socket_t sock) {
    if (front && !front->ready(sock)) {
        front->park(sock);
        return true;
    }
    serve_connection(sock);
    return true;
}

void FrontedServer::serve_connection(int sock) {
    Session session;
    if (tls_) {
        session = take_session(sock);
        if (!session.ssl || !SSL_is_init_finished(session.ssl))
            session.ssl = handshake(sock, session.ssl);
        if (!session.ssl) return;  // closed, or parked until the client goes on
    }
    SSL* ssl = session.ssl;
    const int read_ms = static_cast<int>(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000);
    const int write_ms = static_cast<int>(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000);
    FdStream strm(sock, ssl, read_ms, write_ms);
    strm.preload(std::move(session.request));
    bool ok = true;
    for (std::size_t count = keep_alive_max_count_; count > 0 && svr_sock_ != INVALID_SOCKET;
         --count) {
        if (ssl && front) {
            // Over TLS, the request is decrypted as its records arrive; until it is whole, the
            // connection waits on the front with what has been decrypted so far.
            const auto ahead = strm.read_ahead(*front);
            if (ahead == FdStream::Ahead::closed) {
                ok = false;
                break;
            }
            if (ahead == FdStream::Ahead::wait) {
                std::string request = strm.take_buffered();
                std::optional<Clock::time_point> began;
                if (!request.empty()) began = session.began ? session.began : Clock::now();
                const bool idle = request.empty();
                keep_session(sock, {ssl, std::move(request), began});  // before park()
                front->park(sock, idle, began);
                return;
            }
            session.began.reset();
        }
        bool connection_closed = false;
        ok = process_request(strm, count == 1, connection_closed, nullptr);
        if (!ok || connection_closed || strm.answer_closes()) break;
        // A pipelined request is already here (in our buffer, or decrypted by OpenSSL).
        if (strm.has_buffered() || (ssl && SSL_has_pending(ssl))) continue;
        // Between requests the client may take its time: wait on the front, not on this thread.
        if (front && svr_sock_ != INVALID_SOCKET && !front->ready(sock)) {
            if (ssl) keep_session(sock, {ssl, {}, {}});  // before park(): it may go on at once
            front->park(sock, true);
            return;
        }
    }
    if (ssl) {
        if (ok) SSL_shutdown(ssl);  // close_notify, without waiting for the client's
        SSL_free(ssl);
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
}

void FrontedServer::widen_backlog() const {
    const int fd = svr_sock_;
    if (fd >= 0 && ::listen(fd, SOMAXCONN) != 0) spdlog::warn("cannot widen the listen backlog");
}

}  // namespace tfadesk::serve
