#include "fronted_server.hpp"

#include <netdb.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

namespace tfadesk::serve {

namespace {

// A socket as httplib's Stream: reads buffered (httplib's line reader asks a byte at a time), with
// the server's read and write timeouts. Bytes buffered past a request belong to the next one
// (pipelining): has_buffered() says so, and the connection is then not parked.
class FdStream final : public httplib::Stream {
public:
    FdStream(int sock, int read_timeout_ms, int write_timeout_ms)
        : sock_(sock), read_timeout_ms_(read_timeout_ms), write_timeout_ms_(write_timeout_ms) {}

    bool is_readable() const override { return begin_ < end_ || wait(POLLIN, read_timeout_ms_); }
    bool is_writable() const override { return wait(POLLOUT, write_timeout_ms_); }

    ssize_t read(char* ptr, size_t size) override {
        if (begin_ == end_) {
            if (!wait(POLLIN, read_timeout_ms_)) return -1;
            if (size >= sizeof buf_) return recv_some(ptr, size);
            const ssize_t n = recv_some(buf_, sizeof buf_);
            if (n <= 0) return n;
            begin_ = 0;
            end_ = static_cast<std::size_t>(n);
        }
        const std::size_t n = std::min(size, end_ - begin_);
        std::memcpy(ptr, buf_ + begin_, n);
        begin_ += n;
        return static_cast<ssize_t>(n);
    }

    ssize_t write(const char* ptr, size_t size) override {
        // The first bytes of each answer, to see whether it said "Connection: close".
        if (written_.size() < kWatch)
            written_.append(ptr, std::min(size, kWatch - written_.size()));
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

    bool has_buffered() const { return begin_ < end_; }
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
    int sock_;
    int read_timeout_ms_, write_timeout_ms_;
    std::string written_;
    char buf_[4096];
    std::size_t begin_ = 0, end_ = 0;
};

}  // namespace

bool FrontedServer::process_and_close_socket(socket_t sock) {
    if (front && !front->ready(sock)) {
        front->park(sock);
        return true;
    }
    serve_connection(sock);
    return true;
}

void FrontedServer::serve_connection(int sock) {
    const int read_ms = static_cast<int>(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000);
    const int write_ms = static_cast<int>(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000);
    FdStream strm(sock, read_ms, write_ms);
    for (std::size_t count = keep_alive_max_count_; count > 0 && svr_sock_ != INVALID_SOCKET;
         --count) {
        bool connection_closed = false;
        const bool ok = process_request(strm, count == 1, connection_closed, nullptr);
        if (!ok || connection_closed || strm.answer_closes()) break;
        if (strm.has_buffered()) continue;  // a pipelined request is already here
        // Between requests the client may take its time: wait on the front, not on this thread.
        if (front && svr_sock_ != INVALID_SOCKET && !front->ready(sock)) {
            front->park(sock, true);
            return;
        }
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
}

void FrontedServer::widen_backlog() const {
    const int fd = svr_sock_;
    if (fd >= 0 && ::listen(fd, SOMAXCONN) != 0) spdlog::warn("cannot widen the listen backlog");
}

}  // namespace tfadesk::serve
