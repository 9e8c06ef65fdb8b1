#include "config/units.h"

#include <cstddef>
#include <limits>

namespace portico::config {

namespace {

struct Unit {
    std::string_view suffix;
    uint64_t factor;
};

// Longest suffix first where one is a suffix of another ("ms" before "s").
constexpr Unit kDurationUnits[] = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
constexpr Unit kSizeUnits[] = {{"GiB", 1ull << 30}, {"MiB", 1ull << 20}, {"KiB", 1ull << 10}, {"B", 1}};

bool ends_with(std::string_view text, std::string_view suffix) {
    return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Decimal digits only (no sign, no spaces); nullopt on anything else or on overflow of 64 bits.
std::optional<uint64_t> parse_digits(std::string_view digits) {
    if (digits.empty()) return std::nullopt;
    uint64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        uint64_t digit = static_cast<uint64_t>(c - '0');
        if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10) return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

// Splits "<digits><suffix>" for the first unit whose suffix matches, and scales it; nullopt on overflow.
template <size_t N>
std::optional<uint64_t> parse_with_units(std::string_view text, const Unit (&units)[N]) {
    for (const Unit& unit : units) {
        if (!ends_with(text, unit.suffix)) continue;
        std::optional<uint64_t> count = parse_digits(text.substr(0, text.size() - unit.suffix.size()));
        if (!count || *count > std::numeric_limits<uint64_t>::max() / unit.factor) return std::nullopt;
        return *count * unit.factor;
    }
    return std::nullopt;
}

// `units` must run from the largest to the smallest, and the smallest must have factor 1.
template <size_t N>
std::string format_with_units(uint64_t value, const Unit (&units)[N]) {
    for (const Unit& unit : units) {
        if (value % unit.factor == 0 && (value != 0 || unit.factor == 1)) {
            return std::to_string(value / unit.factor) + std::string(unit.suffix);
        }
    }
    return std::to_string(value) + std::string(units[N - 1].suffix);  // not reached: the last factor is 1
}

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
    std::optional<uint64_t> ms = parse_with_units(text, kDurationUnits);
    if (!ms || *ms > static_cast<uint64_t>(std::numeric_limits<Duration::rep>::max())) return std::nullopt;
    return Duration(static_cast<Duration::rep>(*ms));
}

std::optional<uint64_t> parse_size(std::string_view text) {
    return parse_with_units(text, kSizeUnits);
}

std::string format_size(uint64_t bytes) {
    return format_with_units(bytes, kSizeUnits);
}

std::string format_duration(Duration duration) {
    // Largest unit first for printing, unlike the parsing table.
    constexpr Unit kLargestFirst[] = {{"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1000}, {"ms", 1}};
    return format_with_units(static_cast<uint64_t>(duration.count()), kLargestFirst);
}

}  // namespace portico::config
