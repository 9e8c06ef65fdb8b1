// Durations ("500ms", "10s", "5m", "1h") and sizes (bytes, or "16KiB", "1MiB", "1GiB") as written in the config.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace portico::config {

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);
std::optional<uint64_t> parse_size(std::string_view text);

}  // namespace portico::config
