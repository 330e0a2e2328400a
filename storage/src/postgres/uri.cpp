// URIs and messages: a PostgreSQL URI's passwords masked in everything shown, and libpq's
// messages on one line.
#include "impl.hpp"

namespace tfadesk::storage {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 &&
            hex_value(s[i + 2]) >= 0) {
            out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            out += s[i];
        }
    }
    return out;
}

// The parts of a URI that hold a password: [begin, end) ranges of the password in the user info
// and of every password= value in the query.
std::vector<std::pair<std::size_t, std::size_t>> password_ranges(const std::string& uri) {
    std::vector<std::pair<std::size_t, std::size_t>> out;
    const auto scheme = uri.find("://");
    if (scheme == std::string::npos) return out;
    const std::size_t start = scheme + 3;
    const std::size_t authority_end = std::min(uri.find_first_of("/?", start), uri.size());
    const auto at = uri.rfind('@', authority_end == 0 ? 0 : authority_end - 1);
    if (at != std::string::npos && at >= start) {
        const auto colon = uri.find(':', start);
        if (colon != std::string::npos && colon < at) out.emplace_back(colon + 1, at);
    }
    const auto query = uri.find('?', start);
    if (query == std::string::npos) return out;
    for (std::size_t p = query + 1; p < uri.size();) {
        std::size_t end = uri.find('&', p);
        if (end == std::string::npos) end = uri.size();
        const auto eq = uri.find('=', p);
        if (eq != std::string::npos && eq < end &&
            percent_decode(uri.substr(p, eq - p)) == "password")
            out.emplace_back(eq + 1, end);
        p = end + 1;
    }
    return out;
}

}  // namespace

// A message as one line: runs of white space (libpq's messages span lines) become one space.
std::string one_line(const std::string& s) {
    std::string out;
    for (char c : s) {
        const bool space = c == '\n' || c == '\r' || c == '\t' || c == ' ';
        if (space) {
            if (!out.empty() && out.back() != ' ') out += ' ';
        } else {
            out += c;
        }
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    return out;
}

// The server's message without its severity prefix and the LINE/caret context lines.
std::string server_message(const std::string& what) {
    std::string first = what.substr(0, what.find('\n'));
    for (const char* prefix : {"ERROR:  ", "FATAL:  "})
        if (first.rfind(prefix, 0) == 0)
            first = first.substr(std::char_traits<char>::length(prefix));
    return one_line(first);
}

// The string libpq is given: the URI, with a connect timeout unless it names one (a server that
// does not answer must not hang a command for ever).
std::string connect_string(const std::string& uri) {
    if (uri.find("connect_timeout=") != std::string::npos) return uri;
    return uri + (uri.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=10";
}

// `s` with every secret replaced by ***.
std::string scrub(std::string s, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets) {
        if (secret.empty()) continue;
        for (auto p = s.find(secret); p != std::string::npos; p = s.find(secret, p + 3))
            s.replace(p, secret.size(), "***");
    }
    return s;
}

std::string mask_uri(const std::string& uri) {
    std::string out = uri;
    const auto ranges = password_ranges(uri);
    for (auto it = ranges.rbegin(); it != ranges.rend(); ++it)
        out.replace(it->first, it->second - it->first, "***");
    return out;
}

std::vector<std::string> uri_secrets(const std::string& uri) {
    std::vector<std::string> out;
    for (const auto& [begin, end] : password_ranges(uri)) {
        if (end <= begin) continue;
        out.push_back(uri.substr(begin, end - begin));
        out.push_back(percent_decode(out.back()));
    }
    return out;
}

}  // namespace tfadesk::storage
