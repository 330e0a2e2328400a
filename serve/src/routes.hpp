// The server's routes as a table (SPEC §16): which methods a path takes, so that a method a
// route does not take is 405 with `Allow` (RFC 9110 §15.5.6) instead of 404, and the route a
// request matched, as a bounded label for the metrics. Filled as the routes are registered
// (install_api, the page), before the server listens; read-only afterwards (thread-safe then).
#pragma once

#include <regex>
#include <set>
#include <string>
#include <vector>

namespace tfadesk::serve {

class RouteBook {
public:
    // `pattern` is the httplib pattern (a regular expression matched against the whole path).
    void add(const std::string& method, const std::string& pattern) {
        for (auto& r : routes_)
            if (r.pattern == pattern) {
                r.methods.insert(method);
                if (method == "GET") r.methods.insert("HEAD");
                return;
            }
        Route r{pattern, std::regex(pattern), {method}};
        if (method == "GET") r.methods.insert("HEAD");
        routes_.push_back(std::move(r));
    }
    // "GET, HEAD" for the routes matching `path`; "" when none does.
    std::string allowed(const std::string& path) const {
        std::string out;
        for (const auto& m : methods_of(path)) out += (out.empty() ? "" : ", ") + m;
        return out;
    }
    // Whether some route matches `path` but none takes `method` (405).
    bool wrong_method(const std::string& method, const std::string& path) const {
        const auto methods = methods_of(path);
        return !methods.empty() && methods.count(method) == 0;
    }
    // The route's label: the path with the ticket ref replaced by {ref}; "other" when no route
    // matches (a scanner's paths must not each make a series).
    std::string label(const std::string& path) const {
        for (const auto& r : routes_)
            if (std::regex_match(path, r.re)) {
                for (const std::string prefix :
                     {"/api/v1/tickets/", "/tickets/"}) {  // the page's too
                    if (path.rfind(prefix, 0) != 0) continue;
                    const auto end = path.find('/', prefix.size());
                    return prefix + "{ref}" + (end == std::string::npos ? "" : path.substr(end));
                }
                return path;
            }
        return "other";
    }

private:
    std::set<std::string> methods_of(const std::string& path) const {
        std::set<std::string> out;
        for (const auto& r : routes_)
            if (std::regex_match(path, r.re)) out.insert(r.methods.begin(), r.methods.end());
        return out;
    }

    struct Route {
        std::string pattern;
        std::regex re;
        std::set<std::string> methods;
    };
    std::vector<Route> routes_;
};

}  // namespace tfadesk::serve
