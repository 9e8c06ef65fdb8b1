#include "config/units.h"

#include <charconv>

namespace portico::config {

namespace {

// Splits "123unit" into its number and unit; nullopt if there is no leading number or it overflows.
std::optional<std::pair<uint64_t, std::string_view>> number_and_unit(std::string_view text) {
    uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end == text.data()) return std::nullopt;
    return std::make_pair(value, text.substr(static_cast<size_t>(end - text.data())));
}

std::optional<uint64_t> scaled(uint64_t value, uint64_t factor) {
    if (value > UINT64_MAX / factor) return std::nullopt;
    return value * factor;
}

}  // namespace

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    auto parsed = number_and_unit(text);
    if (!parsed) return std::nullopt;
    auto [value, unit] = *parsed;
    std::optional<uint64_t> ms;
    if (unit == "ms") {
        ms = value;
    } else if (unit == "s") {
        ms = scaled(value, 1000);
    } else if (unit == "m") {
        ms = scaled(value, 60'000);
    } else if (unit == "h") {
        ms = scaled(value, 3'600'000);
    }
    if (!ms || *ms > static_cast<uint64_t>(INT32_MAX)) return std::nullopt;  // about 24 days at most
    return std::chrono::milliseconds(static_cast<int64_t>(*ms));
}

std::optional<uint64_t> parse_size(std::string_view text) {
    auto parsed = number_and_unit(text);
    if (!parsed) return std::nullopt;
    auto [value, unit] = *parsed;
    if (unit.empty() || unit == "B") return value;
    if (unit == "KiB") return scaled(value, 1ull << 10);
    if (unit == "MiB") return scaled(value, 1ull << 20);
    if (unit == "GiB") return scaled(value, 1ull << 30);
    return std::nullopt;
}

}  // namespace portico::config
