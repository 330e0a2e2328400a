// UTC timestamps as the log stores them: ISO 8601, "YYYY-MM-DDTHH:MM:SS.mmmZ".
// Pure arithmetic on milliseconds since the Unix epoch; no time zones, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tfadesk::rules {

// Parses "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+00:00)" (also accepts a space for the 'T').
// Returns milliseconds since the epoch, or nothing for anything else (including other offsets
// and impossible dates such as 2026-02-30).
std::optional<std::int64_t> parse_utc(std::string_view text);

// Formats milliseconds since the epoch as "YYYY-MM-DDTHH:MM:SS.mmmZ".
std::string format_utc_ms(std::int64_t ms);

// Formats as "YYYY-MM-DDTHH:MM:SSZ" when the milliseconds are zero, else with milliseconds.
std::string format_utc(std::int64_t ms);

}  // namespace tfadesk::rules
