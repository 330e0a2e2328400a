#include "front.hpp"

#include <spdlog/spdlog.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace tfadesk::serve {

namespace {

constexpr std::size_t kPeek = 16384;  // a header larger than this goes to httplib (431/400)
constexpr std::size_t kMaxRecord = 16384 + 2048;  // a TLS record's largest fragment (RFC 5246)

// The Content-Length of a complete header (the last one: httplib refuses two anyway), or -1.
long long content_length(std::string_view header) {
    std::size_t pos = 0;
    while ((pos = header.find("\r\n", pos)) != std::string_view::npos) {
        pos += 2;
        constexpr std::string_view name = "content-length:";
        if (header.size() - pos > name.size() &&
            strncasecmp(header.data() + pos, name.data(), name.size()) == 0) {
            std::size_t i = pos + name.size();
            while (i < header.size() && (header[i] == ' ' || header[i] == '\t')) ++i;
            long long n = 0;
            std::size_t digits = 0;
            while (i < header.size() && header[i] >= '0' && header[i] <= '9' && digits < 18) {
                n = n * 10 + (header[i++] - '0');
                ++digits;
            }
            return digits ? n : -1;
        }
    }
    return -1;
}

// Whether a whole TLS record has arrived (RFC 8446 §5.1: a content type, 20 to 24; a version; a
// 16-bit length; the fragment). Bytes that cannot begin a record (plain HTTP, SSLv2) count as
// whole: OpenSSL refuses them at once.
bool tls_record_whole(int fd) {
    unsigned char buf[5 + kMaxRecord];
    const ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK);  // an error: let it be closed
    if (n == 0 || buf[0] < 20 || buf[0] > 24) return true;
    if (n < 5) return false;
    const std::size_t length = (std::size_t{buf[3]} << 8) | buf[4];
    return length > kMaxRecord || static_cast<std::size_t>(n) >= 5 + length;
}

void raise_open_file_limit() {
    rlimit l{};
    if (getrlimit(RLIMIT_NOFILE, &l) != 0 || l.rlim_cur >= l.rlim_max) return;
    const rlim_t before = l.rlim_cur;
    l.rlim_cur = l.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &l) == 0)
        spdlog::debug("front: open files limit raised from {} to {}", before, l.rlim_cur);
}

// Whether any byte of a request has arrived (peeked, not consumed).
bool has_bytes(int fd) {
    char c;
    return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

}  // namespace

Front::Front(Dispatch dispatch, std::chrono::milliseconds header_deadline,
             std::chrono::milliseconds idle_deadline, Framing framing, Dispatch drop)
    : dispatch_(std::move(dispatch)),
      drop_(std::move(drop)),
      header_deadline_(header_deadline),
      idle_deadline_(idle_deadline),
      framing_(framing) {
    raise_open_file_limit();
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (epoll_ < 0 || wake_ < 0) throw std::runtime_error("front: cannot create epoll/eventfd");
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_;
    epoll_ctl(epoll_, EPOLL_CTL_ADD, wake_, &ev);
    thread_ = std::thread([this] { loop(); });
}

Front::~Front() {
    stop();
    if (epoll_ >= 0) close(epoll_);
    if (wake_ >= 0) close(wake_);
}

void Front::drop(int fd) const {
    if (drop_)
        drop_(fd);
    else
        close(fd);
}

bool Front::ready(int fd) const {
    if (framing_ == Framing::tls) return tls_record_whole(fd);
    char buf[kPeek];
    const ssize_t n = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0) return !(errno == EAGAIN || errno == EWOULDBLOCK);  // an error: let httplib close it
    if (n == 0) return true;                                       // closed: httplib closes it
    return request_whole(std::string_view(buf, static_cast<std::size_t>(n)));
}

bool Front::request_whole(std::string_view seen) {
    const auto end = seen.find("\r\n\r\n");
    if (end == std::string_view::npos) return seen.size() >= kPeek;
    const std::string_view header = seen.substr(0, end + 2);
    // Only a method that carries a body waits for it (any other is refused with its body unread).
    const bool carries_body = header.rfind("POST ", 0) == 0 || header.rfind("PUT ", 0) == 0 ||
                              header.rfind("PATCH ", 0) == 0;
    if (!carries_body) return true;
    // A client that waits for "100 Continue", or a chunked body: the header is all there is yet.
    const long long length = content_length(header);
    if (length <= 0) return true;
    const auto whole = end + 4 + static_cast<std::size_t>(length);
    return whole > kPeek || seen.size() >= whole ||
           strcasestr(std::string(header).c_str(), "\r\nexpect:");
}

void Front::park(int fd, bool kept_alive,
                 std::optional<std::chrono::steady_clock::time_point> began) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_) {
            drop(fd);
            return;
        }
        const auto now = std::chrono::steady_clock::now();
        // A connection that has sent nothing yet is idle (as a kept-alive one): it goes after the
        // idle deadline; one that has begun its request has until the header deadline.
        if (began)  // a request under way (decrypted, kept by the caller): its header deadline
            parked_[fd] = Deadlines{*began + header_deadline_, *began + header_deadline_};
        else
            parked_[fd] = Deadlines{now + idle_deadline_,
                                    kept_alive ? now + idle_deadline_ : now + header_deadline_};
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.fd = fd;
        if (epoll_ctl(epoll_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            parked_.erase(fd);
            drop(fd);
            return;
        }
        // Bytes that came between the caller's ready() and EPOLL_CTL_ADD raise no edge: look again.
        if (!ready(fd)) return;
        epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
        parked_.erase(fd);
    }
    dispatch_(fd);
}

std::size_t Front::parked() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return parked_.size();
}

void Front::close_parked(int fd) {
    epoll_ctl(epoll_, EPOLL_CTL_DEL, fd, nullptr);
    drop(fd);
}

void Front::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_) return;
        stopped_ = true;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] const auto w = write(wake_, &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [fd, d] : parked_) close_parked(fd);
    parked_.clear();
}

void Front::loop() {
    std::vector<epoll_event> events(256);
    auto last_sweep = std::chrono::steady_clock::now();
    for (;;) {
        const int n = epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 100);
        std::vector<int> go;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (stopped_) return;
            for (int i = 0; i < n; ++i) {
                const int fd = events[static_cast<std::size_t>(i)].data.fd;
                if (fd == wake_) continue;  // stop(): seen above
                if (parked_.count(fd) && ready(fd)) go.push_back(fd);
            }
            const auto now = std::chrono::steady_clock::now();
            if (now - last_sweep > std::chrono::milliseconds(250)) {
                for (const auto& [fd, d] : parked_) {
                    if (now <= d.idle || std::find(go.begin(), go.end(), fd) != go.end()) continue;
                    if (now > d.header || !has_bytes(fd))
                        go.push_back(-fd - 1);  // too slow: closed
                }
                last_sweep = now;
            }
            for (int fd : go) {
                const int real = fd < 0 ? -fd - 1 : fd;
                epoll_ctl(epoll_, EPOLL_CTL_DEL, real, nullptr);
                parked_.erase(real);
            }
        }
        for (int fd : go) {
            if (fd < 0) {
                spdlog::debug("front: closing a connection whose request did not arrive in time");
                drop(-fd - 1);
            } else {
                dispatch_(fd);
            }
        }
    }
}

}  // namespace tfadesk::serve
