// The server's front door (SPEC §16: "2,000 idle or trickling connections do not keep GET
// /healthz from a well-behaved client above 200 ms, nor the server from exiting within 15 s of
// SIGTERM").
//
// cpp-httplib 0.11 gives each connection a pool thread from accept to close, so a few dozen
// clients that connect and say nothing (or trickle a header a byte a second) hold every thread.
// The front keeps such connections off the pool: a connection whose request has not fully
// arrived yet is parked on one epoll thread, which peeks (MSG_PEEK: nothing is consumed, so
// httplib later reads the bytes as they came) at what has arrived each time more comes, and hands
// the connection to the pool only once its header is complete (and its body too, when it is
// small), and takes it back between keep-alive requests. A connection that has sent nothing is
// closed after the idle (keep-alive) timeout, one whose request is still incomplete after the
// header deadline; at stop() every parked connection is closed.
//
// Over TLS the front cannot read the request (it is encrypted): there it waits for a whole TLS
// record instead (a 5-byte header, then as many bytes as it announces) - the ClientHello of a new
// connection, the next handshake record, the first record of the next request - so that the pool
// thread it goes to has something to decrypt (fronted_server.hpp). A connection whose record
// stays incomplete, or that sends nothing, is closed at the same deadlines.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <unordered_map>

namespace tfadesk::serve {

class Front {
public:
    using Dispatch = std::function<void(int fd)>;
    enum class Framing { http, tls };  // what "arrived whole" means: a request, or a TLS record
    // `dispatch` runs a ready connection (on the pool); it owns the socket from then on.
    // `header_deadline`: how long a new connection may take to send its request whole;
    // `idle_deadline`: how long a kept-alive connection may wait for its next request.
    // `drop` closes a connection the front gives up on (default: close(2)); it must not block.
    // Raises the process's soft limit on open files to its hard limit: each parked connection
    // holds a descriptor, and thousands of them are the point.
    Front(Dispatch dispatch, std::chrono::milliseconds header_deadline,
          std::chrono::milliseconds idle_deadline, Framing framing = Framing::http,
          Dispatch drop = nullptr);
    ~Front();
    Front(const Front&) = delete;
    Front& operator=(const Front&) = delete;

    // Whether the connection's request (over TLS: a TLS record) has arrived whole, or cannot be
    // waited for (closed, too large to peek at, not TLS). Non-blocking.
    bool ready(int fd) const;
    // Whether `seen`, the first bytes of a connection, hold a whole HTTP request: its header, and
    // its body when it is small and the client does not wait for "100 Continue"; or more than
    // can be waited for (16 KiB), which httplib then refuses. ready() over plain HTTP asks it of
    // the bytes it peeks at; over TLS the server asks it of what it has decrypted.
    static bool request_whole(std::string_view seen);
    // Takes the socket: it is dispatched once ready, or closed at its deadline (`kept_alive`: the
    // idle one) or at stop(). `began`: when the request the caller has begun to read (over TLS,
    // decrypted and kept) started; the connection is closed at that time plus the header
    // deadline, however its records trickle in.
    void park(int fd, bool kept_alive = false,
              std::optional<std::chrono::steady_clock::time_point> began = std::nullopt);
    // Closes every parked connection and stops the thread; later park() calls close at once.
    void stop();
    std::size_t parked() const;

private:
    void loop();
    void close_parked(int fd);
    void drop(int fd) const;

    Dispatch dispatch_, drop_;
    std::chrono::milliseconds header_deadline_, idle_deadline_;
    Framing framing_;
    int epoll_ = -1;
    int wake_ = -1;  // an eventfd: stop() wakes the loop
    mutable std::mutex mutex_;
    struct Deadlines {
        std::chrono::steady_clock::time_point idle;    // closed then if nothing has arrived
        std::chrono::steady_clock::time_point header;  // closed then whatever has arrived
    };
    std::unordered_map<int, Deadlines> parked_;
    bool stopped_ = false;
    std::thread thread_;
};

}  // namespace tfadesk::serve
