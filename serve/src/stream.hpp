// SPEC §14 live updates: GET /api/v1/stream (Server-Sent Events) and the compression of large
// answers. The feed follows the log's head (whoever wrote it: this server's writer, the command
// line, or another server on the same PostgreSQL desk) and wakes the streams when it moves.
#pragma once

#include <httplib.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "tfadesk/engine/store.hpp"

namespace tfadesk::serve {

struct Api;

class Feed {
public:
    using Opener = std::function<std::unique_ptr<engine::Store>()>;
    explicit Feed(Opener open);
    ~Feed();
    Feed(const Feed&) = delete;
    Feed& operator=(const Feed&) = delete;

    // Waits until the head passes `seq`, `timeout` passes, or the feed stops; returns the head
    // as last seen. Starts following the log on first use.
    std::int64_t wait_past(std::int64_t seq, std::chrono::milliseconds timeout);
    // Ends every stream (the server is stopping).
    void stop();
    bool stopped() const { return stopped_; }
    // Streams open now, and the most there may be (each holds one of the pool's threads).
    std::atomic<int> streams{0};

private:
    void follow();
    Opener open_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::int64_t head_ = -1;
    int waiting_ = 0;
    std::atomic<bool> stopped_{false};
    std::thread thread_;
};

void get_stream(Api& api, const httplib::Request& req, httplib::Response& res);

// Compression of SPEC §14: a pre-routing step that keeps httplib from compressing anything by
// itself (it would prefer Brotli, at a cost far above sending the bytes), and a post-routing step
// that gzips a body over 64 KiB when the request accepts gzip.
void hide_accept_encoding(const httplib::Request& req);
void compress_large_body(const httplib::Request& req, httplib::Response& res);

}  // namespace tfadesk::serve
