// The agent page's files, embedded at build time from serve/page/ (serve/embed.cmake).
#pragma once

#include <cstddef>
#include <string_view>

namespace tfadesk::serve {

struct PageFile {
    const char* path;  // "/", "/app.js", ...
    const char* content_type;
    std::string_view body;
};

// Every embedded file, ending with {nullptr, nullptr, {}}.
extern const PageFile kPageFiles[];

}  // namespace tfadesk::serve
