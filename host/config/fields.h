// Reading one TOML table of the configuration: typed values with range checks, each problem reported at its key
// and naming it in full ('limits.max_headers'), then every key that was never asked for reported as unknown.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/diagnostics.h"

namespace portico::config {

class TableReader {
public:
    // `name` is the table's dotted name ("server", "listener.http"; "" for the root).
    TableReader(const toml::table& table, std::string name, Problems& problems);

    // Each read leaves `out` untouched when the key is absent, and also when its value is wrong (after reporting
    // it), so defaults survive and later checks see sane values. True when `out` was set.
    bool read_bool(std::string_view key, bool& out);
    bool read_string(std::string_view key, std::string& out);
    bool read_integer(std::string_view key, int64_t min, int64_t max, int64_t& out);
    bool read_duration(std::string_view key, Duration& out);  // a duration string, > 0 and <= kMaxDuration
    // A duration string, >= 0 and <= kMaxDuration: for settings where "0s" means off (slow_start).
    bool read_duration_or_zero(std::string_view key, Duration& out);
    bool read_size(std::string_view key, uint64_t min, uint64_t max, uint64_t& out);

    template <typename T>
    bool read_integer(std::string_view key, T min, T max, T& out) {
        int64_t value = 0;
        if (!read_integer(key, static_cast<int64_t>(min), static_cast<int64_t>(max), value)) return false;
        out = static_cast<T>(value);
        return true;
    }

    // The sub-table at `key`; nullptr when absent, or when of another type (reported).
    const toml::table* table(std::string_view key);

    // The value at `key` of any type, marking the key as known; nullptr when absent.
    const toml::node* node(std::string_view key);

    // Marks `key` as known without reading it (it was handled elsewhere), so it is not reported as unknown.
    void allow(std::string_view key);

    // Where `key` is written (the key itself, not its value: every problem points at its key).
    const toml::source_region& where(std::string_view key) const;
    // Dotted full name of `key`: "server.workers".
    std::string name(std::string_view key) const;
    void report(std::string_view key, std::string message);

    // A reader for the sub-table `table` found at `key` of this one (problems go to the same list).
    TableReader nested(std::string_view key, const toml::table& table) const {
        return TableReader(table, name(key), problems_);
    }
    Problems& problems() const { return problems_; }

    // Reports every key that was never asked for, with the closest known key as a suggestion. Call once, last.
    void report_unknown();

private:
    bool read_duration_from(std::string_view key, bool allow_zero, Duration& out);
    const toml::node* typed(std::string_view key, toml::node_type type, std::string_view expected);

    const toml::table& table_;
    std::string name_;
    Problems& problems_;
    std::vector<std::string> known_;
};

}  // namespace portico::config
