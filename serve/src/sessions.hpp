// Browser sessions (SPEC §13): the page signs in once (a passkey assertion, or an account's
// token the first time) and the server answers with a cookie; the page keeps no token after that.
//
// Invariants:
//  - The cookie's value is 32 random bytes (base64url); the server keeps only its SHA-256, so a
//    dump of the server's memory names no live cookie.
//  - A session ends 8 hours after it started or 30 minutes after its last request (both set by
//    Limits), at sign-out, and whenever its account is disabled or its token of record changes:
//    every request that uses it checks the account as the log has it (caller() in api.cpp).
//  - The WebAuthn challenges the server hands out (sign-in, passkey registration) are random,
//    used at most once, for one purpose, and forgotten after five minutes.
//  - Sessions live in this server's memory only: a restart signs everyone out, and two servers on
//    one PostgreSQL desk each keep their own.
//  - Bounded: at most kMaxSessions sessions and kMaxChallenges challenges (expired ones are
//    dropped first; a full table refuses new sign-ins with 503 rather than grow).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tfadesk::serve {

inline constexpr const char* kSessionCookie = "tfadesk_session";

class Sessions {
public:
    using Clock = std::chrono::system_clock;
    struct Limits {
        std::chrono::milliseconds idle{30 * 60000};
        std::chrono::milliseconds lifetime{8 * 3600000};
    };
    struct Session {
        std::string account;   // the account's name
        std::string token_id;  // its token of record when the session started (SPEC §12)
        std::string how;       // "token" or "passkey"
        Clock::time_point started{}, expires{};  // expires: the lifetime's end
    };
    static constexpr std::size_t kMaxSessions = 100000, kMaxChallenges = 10000;

    explicit Sessions(Limits limits) : limits_(limits) {}

    // A new session for `s` (its started and expires are set here): the cookie's value.
    // HttpError 503 when the table is full of live sessions.
    std::string start(Session& s);
    // The session of this cookie value, its idle time started again; nothing when there is none
    // or it ran out (then it is forgotten).
    std::optional<Session> use(std::string_view cookie);
    void end(std::string_view cookie);

    // A new WebAuthn challenge (32 random bytes) for `purpose` ("sign-in", "register:NAME").
    std::string challenge(std::string purpose);
    // Whether `raw` is a live challenge handed out for `purpose`; it is used up either way.
    bool take_challenge(std::string_view raw, std::string_view purpose);

    // The last sign count this server saw from a passkey at sign-in (0: none yet), and a new one.
    std::uint32_t sign_count(const std::string& credential_id);
    void saw_sign_count(const std::string& credential_id, std::uint32_t count);

    // The Set-Cookie values that start and end a session (Secure over TLS).
    std::string set_cookie(std::string_view value, bool tls) const;
    static std::string clear_cookie(bool tls);
    const Limits& limits() const { return limits_; }

private:
    struct Entry {
        Session session;
        Clock::time_point last_used;
    };
    struct Challenge {
        std::string purpose;
        Clock::time_point expires;
    };
    bool live(const Entry& e, Clock::time_point now) const;

    Limits limits_;
    std::mutex mutex_;
    std::unordered_map<std::string, Entry> sessions_;        // by SHA-256 (hex) of the cookie value
    std::unordered_map<std::string, Challenge> challenges_;  // by the raw challenge
    std::unordered_map<std::string, std::uint32_t> sign_counts_;  // by credential id
};

}  // namespace tfadesk::serve
