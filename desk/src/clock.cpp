#include "tfadesk/desk/clock.hpp"

#include <chrono>
#include <cstdint>

#include "tfadesk/rules/time.hpp"

namespace tfadesk::desk {

std::string now_utc() {
    using namespace std::chrono;
    const auto ms = duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
    thread_local std::int64_t last_ms = -1;
    thread_local std::string last;
    if (ms != last_ms) {
        last_ms = ms;
        last = rules::format_utc_ms(ms);
    }
    return last;
}

}  // namespace tfadesk::desk
