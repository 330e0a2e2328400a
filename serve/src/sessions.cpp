#include "sessions.hpp"

#include <sodium.h>

#include <algorithm>

#include "http.hpp"
#include "tfadesk/engine/chain.hpp"

namespace tfadesk::serve {
namespace {

constexpr auto kChallengeLifetime = std::chrono::minutes(5);

std::string random_bytes(std::size_t n) {
    std::string raw(n, '\0');
    randombytes_buf(raw.data(), raw.size());
    return raw;
}

std::string base64url(std::string_view raw) {
    std::string out(sodium_base64_encoded_len(raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                    '\0');
    sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(raw.data()),
                      raw.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.size() - 1);  // the terminating NUL
    return out;
}

// Drops the entries `expired` says are over; true when the map then has room below `cap`.
template <class Map, class Expired>
bool make_room(Map& map, std::size_t cap, Expired expired) {
    if (map.size() < cap) return true;
    for (auto it = map.begin(); it != map.end();)
        it = expired(it->second) ? map.erase(it) : std::next(it);
    return map.size() < cap;
}

}  // namespace

bool Sessions::live(const Entry& e, Clock::time_point now) const {
    return now < e.session.expires && now - e.last_used < limits_.idle;
}

std::string Sessions::start(Session& s) {
    const auto now = Clock::now();
    s.started = now;
    s.expires = now + limits_.lifetime;
    const std::string cookie = base64url(random_bytes(32));
    std::lock_guard<std::mutex> lock(mutex_);
    if (!make_room(sessions_, kMaxSessions, [&](const Entry& e) { return !live(e, now); }))
        throw HttpError(503, "unavailable",
                        "too many open sessions on this server; try again later");
    sessions_[engine::sha256_hex(cookie)] = Entry{s, now};
    return cookie;
}

std::optional<Sessions::Session> Sessions::use(std::string_view cookie) {
    const auto now = Clock::now();
    const std::string key = engine::sha256_hex(cookie);
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = sessions_.find(key);
    if (it == sessions_.end()) return std::nullopt;
    if (!live(it->second, now)) {
        sessions_.erase(it);
        return std::nullopt;
    }
    it->second.last_used = now;
    return it->second.session;
}

void Sessions::end(std::string_view cookie) {
    const std::string key = engine::sha256_hex(cookie);
    std::lock_guard<std::mutex> lock(mutex_);
    sessions_.erase(key);
}

std::string Sessions::challenge(std::string purpose) {
    const auto now = Clock::now();
    std::string raw = random_bytes(32);
    std::lock_guard<std::mutex> lock(mutex_);
    if (!make_room(challenges_, kMaxChallenges,
                   [&](const Challenge& c) { return c.expires <= now; })) {
        // Full of live challenges (someone asks for options in a loop): the oldest go first.
        const auto oldest = std::min_element(
            challenges_.begin(), challenges_.end(),
            [](const auto& a, const auto& b) { return a.second.expires < b.second.expires; });
        challenges_.erase(oldest);
    }
    challenges_[raw] = Challenge{std::move(purpose), now + kChallengeLifetime};
    return raw;
}

bool Sessions::take_challenge(std::string_view raw, std::string_view purpose) {
    const auto now = Clock::now();
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = challenges_.find(std::string(raw));
    if (it == challenges_.end()) return false;
    const bool ok = it->second.purpose == purpose && now < it->second.expires;
    challenges_.erase(it);
    return ok;
}

std::uint32_t Sessions::sign_count(const std::string& credential_id) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto it = sign_counts_.find(credential_id);
    return it == sign_counts_.end() ? 0 : it->second;
}

void Sessions::saw_sign_count(const std::string& credential_id, std::uint32_t count) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (count != 0 && sign_counts_.size() < kMaxSessions) sign_counts_[credential_id] = count;
}

std::string Sessions::set_cookie(std::string_view value, bool tls) const {
    return std::string(kSessionCookie) + "=" + std::string(value) +
           "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
           std::to_string(
               std::chrono::duration_cast<std::chrono::seconds>(limits_.lifetime).count()) +
           (tls ? "; Secure" : "");
}

std::string Sessions::clear_cookie(bool tls) {
    return std::string(kSessionCookie) + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
           (tls ? "; Secure" : "");
}

}  // namespace tfadesk::serve
