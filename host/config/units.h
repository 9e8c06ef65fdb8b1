// Parsing and printing of the two unit-bearing value kinds of the configuration: durations ("500ms", "10s") and
// sizes ("16KiB"). Pure string functions, so they are easy to test and reuse in messages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"

namespace portico::config {

// Longest accepted duration (8760h, a year): far beyond any sensible timeout, and far from overflowing a
// steady_clock time point (nanoseconds in 64 bits) when added to now().
inline constexpr Duration kMaxDuration{365LL * 24 * 3600 * 1000};

// "<digits><unit>" with unit ms, s, m or h; no sign, no fraction, no spaces. nullopt if malformed or too large to
// represent. Range checks (zero, kMaxDuration) are the caller's, so it can say which bound was crossed.
std::optional<Duration> parse_duration(std::string_view text);

// "<digits><unit>" with unit B, KiB, MiB or GiB (case-sensitive: "KB" would be ambiguous). nullopt if malformed
// or if it does not fit 64 bits.
std::optional<uint64_t> parse_size(std::string_view text);

// The largest unit that divides the value exactly: 16384 -> "16KiB", 1000 -> "1000B".
std::string format_size(uint64_t bytes);

// The largest unit that divides the value exactly: 300000ms -> "5m", 1500ms -> "1500ms".
std::string format_duration(Duration duration);

}  // namespace portico::config
