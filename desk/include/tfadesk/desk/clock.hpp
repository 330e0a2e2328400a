// The desk's clock: the current time as the log stores it (UTC, milliseconds).
#pragma once

#include <string>

namespace tfadesk::desk {

// Thread-safe; an import asks many times within one millisecond, so each thread keeps the last
// formatted value.
std::string now_utc();

}  // namespace tfadesk::desk
