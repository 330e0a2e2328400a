#include "stream.hpp"

#include <spdlog/spdlog.h>
#include <zlib.h>

#include <chrono>
#include <nlohmann/json.hpp>

#include "api.hpp"
#include "http.hpp"
#include "tfadesk/desk/access.hpp"
#include "tfadesk/desk/accounts.hpp"
#include "tfadesk/desk/text.hpp"
#include "tfadesk/engine/error.hpp"
#include "tfadesk/rules/mask.hpp"

namespace tfadesk::serve {

using namespace std::chrono_literals;

namespace {
constexpr auto kPoll = 200ms;         // how often the head is asked while anyone streams
constexpr auto kKeepAlive = 15s;      // a comment line at least this often
constexpr std::int64_t kBurst = 500;  // entries read per wake-up, at most
constexpr const char* kStashedEncoding = "X-Tfadesk-Accept-Encoding";
constexpr std::size_t kCompressAbove = 64 * 1024;
}  // namespace

Feed::Feed(Opener open) : open_(std::move(open)) {}

Feed::~Feed() {
    stop();
    if (thread_.joinable()) thread_.join();
}

void Feed::stop() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stopped_ = true;
    }
    changed_.notify_all();
}

void Feed::follow() {
    std::unique_lock<std::mutex> lock(mutex_);
    while (!stopped_) {
        if (waiting_ == 0) {
            changed_.wait(lock, [&] { return stopped_ || waiting_ > 0; });
            continue;
        }
        lock.unlock();
        std::int64_t head = -1;
        try {
            head = open_()->head().seq;
        } catch (const std::exception& e) {
            spdlog::warn("stream: cannot read the log's head: {}", rules::mask_pii(e.what()));
        }
        lock.lock();
        if (head > head_) {
            head_ = head;
            changed_.notify_all();
        }
        changed_.wait_for(lock, kPoll, [&] { return stopped_.load(); });
    }
}

std::int64_t Feed::wait_past(std::int64_t seq, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!thread_.joinable() && !stopped_) thread_ = std::thread([this] { follow(); });
    ++waiting_;
    changed_.notify_all();
    changed_.wait_for(lock, timeout, [&] { return stopped_ || head_ > seq; });
    --waiting_;
    return head_;
}

namespace {

std::string event_text(const engine::LogEntry& e) {
    // No personal data: what happened to which ticket, when and by whom (SPEC §14).
    const nlohmann::json data = {{"seq", e.seq},     {"ref", e.ref},      {"event", e.event},
                                 {"state", e.state}, {"version", e.tseq}, {"agent", e.agent},
                                 {"at", e.at}};
    return "id: " + std::to_string(e.seq) + "\nevent: entry\ndata: " + data.dump() + "\n\n";
}

struct StreamState {
    Api* api;
    std::int64_t last = 0;  // the last seq sent (or skipped)
    bool started = false;
    std::chrono::steady_clock::time_point last_comment = std::chrono::steady_clock::now();
};

}  // namespace

void get_stream(Api& api, const httplib::Request& req, httplib::Response& res) {
    check_query(req, {});
    auto store = api.read_store();
    caller(api, req, res, *store);  // a bearer token, or the page's session (SPEC §13)
    auto state = std::make_shared<StreamState>();
    state->api = &api;
    state->last = store->head().seq;  // from now on, unless the client says where it stopped
    if (req.has_header("Last-Event-ID")) {
        const std::string id = req.get_header_value("Last-Event-ID");
        if (id.empty() || id.size() > 18 || id.find_first_not_of("0123456789") != std::string::npos)
            throw HttpError(400, "invalid",
                            "Last-Event-ID: must be the seq of an entry this stream sent");
        state->last = std::min<std::int64_t>(std::stoll(id), state->last);
    }
    // Each stream holds one of the pool's threads: leave at least half of them for everything else.
    if (api.feed->streams.load() >= std::max<int>(1, static_cast<int>(api.options.threads) / 2))
        throw HttpError(503, "unavailable",
                        "too many open streams on this server; try again later");
    res.set_header("X-Accel-Buffering", "no");
    ++api.feed->streams;
    res.set_chunked_content_provider(
        "text/event-stream",
        [state](std::size_t, httplib::DataSink& sink) {
            auto& s = *state;
            Feed& feed = *s.api->feed;
            try {
                if (!s.started) {
                    s.started = true;
                    const std::string hello = "retry: 1000\n: tfadesk log entries\n\n";
                    return sink.write(hello.data(), hello.size());
                }
                if (feed.stopped()) {
                    sink.done();
                    return true;
                }
                const auto waited_for =
                    kKeepAlive - (std::chrono::steady_clock::now() - s.last_comment);
                const auto head = feed.wait_past(
                    s.last,
                    std::max(std::chrono::milliseconds(1),
                             std::chrono::duration_cast<std::chrono::milliseconds>(waited_for)));
                std::string out;
                if (head > s.last) {
                    auto reader = s.api->read_store();
                    const std::int64_t until = std::min(head, s.last + kBurst);
                    for (std::int64_t seq = s.last + 1; seq <= until; ++seq) {
                        if (const auto e = reader->entry_at(seq)) out += event_text(*e);
                        s.last = seq;
                    }
                }
                if (std::chrono::steady_clock::now() - s.last_comment >= kKeepAlive) {
                    out += ": keep-alive\n\n";
                    s.last_comment = std::chrono::steady_clock::now();
                }
                return out.empty() || sink.write(out.data(), out.size());
            } catch (const std::exception& e) {
                spdlog::warn("stream cut short: {}", rules::mask_pii(e.what()));
                return false;
            }
        },
        [state](bool) { --state->api->feed->streams; });
}

void hide_accept_encoding(const httplib::Request& req) {
    if (!req.has_header("Accept-Encoding")) return;
    auto& r = const_cast<httplib::Request&>(req);  // httplib's own object; see close_after
    const std::string accepted = r.get_header_value("Accept-Encoding");
    r.headers.erase("Accept-Encoding");
    r.set_header(kStashedEncoding, accepted);
}

namespace {

// Whether `accepted` (an Accept-Encoding value) allows gzip: listed (or *) without q=0.
bool accepts_gzip(const std::string& accepted) {
    std::size_t start = 0;
    bool star = false, gzip = false, gzip_refused = false;
    while (start <= accepted.size()) {
        auto end = accepted.find(',', start);
        if (end == std::string::npos) end = accepted.size();
        std::string item = accepted.substr(start, end - start);
        start = end + 1;
        std::string coding = item.substr(0, item.find(';'));
        coding.erase(0, coding.find_first_not_of(" \t"));
        coding.erase(coding.find_last_not_of(" \t") + 1);
        for (auto& c : coding) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string params = item.find(';') == std::string::npos ? "" : item.substr(item.find(';'));
        params.erase(std::remove(params.begin(), params.end(), ' '), params.end());
        const bool zero =
            params.rfind(";q=0", 0) == 0 && params.find_first_of("123456789") == std::string::npos;
        if (coding == "gzip") (zero ? gzip_refused : gzip) = true;
        if (coding == "*" && !zero) star = true;
    }
    return !gzip_refused && (gzip || star);
}

}  // namespace

void compress_large_body(const httplib::Request& req, httplib::Response& res) {
    if (res.body.size() <= kCompressAbove || res.has_header("Content-Encoding")) return;
    res.set_header("Vary", "Accept-Encoding");
    if (!accepts_gzip(req.get_header_value(kStashedEncoding))) return;
    z_stream z{};
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return;
    std::string out(deflateBound(&z, res.body.size()), '\0');
    z.next_in = reinterpret_cast<Bytef*>(res.body.data());
    z.avail_in = static_cast<uInt>(res.body.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, Z_FINISH);
    deflateEnd(&z);
    if (rc != Z_STREAM_END) return;
    out.resize(z.total_out);
    res.body = std::move(out);
    res.set_header("Content-Encoding", "gzip");
    // httplib has set Content-Length from the body it was given before this step runs.
    if (res.has_header("Content-Length")) {
        res.headers.erase("Content-Length");
        res.set_header("Content-Length", std::to_string(res.body.size()));
    }
}

}  // namespace tfadesk::serve
