#include "config/fields.h"

#include <algorithm>
#include <limits>

#include "config/units.h"

namespace portico::config {

namespace {

// "between 1 and 10000", "at least 1", "at most 16MiB".
std::string range_text(const std::string& min, const std::string& max, bool bounded_below, bool bounded_above) {
    if (bounded_below && bounded_above) return "between " + min + " and " + max;
    if (bounded_below) return "at least " + min;
    return "at most " + max;
}

const char kDurationForm[] = "a duration (a string like \"500ms\", \"10s\", \"5m\", \"1h\" or \"7d\")";
const char kSizeForm[] = "a size (an integer of bytes, or a string like \"512B\", \"16KiB\", \"1MiB\" or \"1GiB\")";

}  // namespace

TableReader::TableReader(const toml::table& table, std::string name, Problems& problems)
    : table_(table), name_(std::move(name)), problems_(problems) {}

const toml::node* TableReader::node(std::string_view key) {
    allow(key);
    return table_.get(key);
}

void TableReader::allow(std::string_view key) {
    if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
}

const toml::source_region& TableReader::where(std::string_view key) const {
    auto it = table_.find(key);
    // Asking for the place of an absent key is a caller bug; the table's own place is the best answer then.
    return it == table_.end() ? table_.source() : it->first.source();
}

std::string TableReader::name(std::string_view key) const {
    return name_.empty() ? std::string(key) : name_ + "." + std::string(key);
}

void TableReader::report(std::string_view key, std::string message) {
    problems_.add(where(key), std::move(message));
}

const toml::node* TableReader::typed(std::string_view key, toml::node_type type, std::string_view expected) {
    const toml::node* value = node(key);
    if (value == nullptr || value->type() == type) return value;
    report(key, "'" + name(key) + "' must be " + std::string(expected) + ", not " + type_name(value->type()));
    return nullptr;
}

bool TableReader::read_bool(std::string_view key, bool& out) {
    const toml::node* value = typed(key, toml::node_type::boolean, "a boolean (true or false)");
    if (value == nullptr) return false;
    out = value->as_boolean()->get();
    return true;
}

bool TableReader::read_string(std::string_view key, std::string& out) {
    const toml::node* value = typed(key, toml::node_type::string, "a string");
    if (value == nullptr) return false;
    out = value->as_string()->get();
    return true;
}

bool TableReader::read_integer(std::string_view key, int64_t min, int64_t max, int64_t& out) {
    const toml::node* value = typed(key, toml::node_type::integer, "an integer");
    if (value == nullptr) return false;
    int64_t number = value->as_integer()->get();
    if (number < min || number > max) {
        report(key, "'" + name(key) + "' must be " +
                        range_text(std::to_string(min), std::to_string(max), true, true) + ", not " +
                        std::to_string(number));
        return false;
    }
    out = number;
    return true;
}

bool TableReader::read_duration(std::string_view key, Duration& out) {
    return read_duration_from(key, false, out);
}

bool TableReader::read_duration_or_zero(std::string_view key, Duration& out) {
    return read_duration_from(key, true, out);
}

bool TableReader::read_duration_from(std::string_view key, bool allow_zero, Duration& out) {
    const toml::node* value = node(key);
    if (value == nullptr) return false;
    if (!value->is_string()) {
        report(key, "'" + name(key) + "' must be " + kDurationForm + ", not " + type_name(value->type()));
        return false;
    }
    const std::string& text = value->as_string()->get();
    std::optional<Duration> duration = parse_duration(text);
    if (!duration) {
        report(key, "'" + name(key) + "' must be " + kDurationForm + ", not " + in_quotes(text));
        return false;
    }
    if ((!allow_zero && duration->count() <= 0) || *duration > kMaxDuration) {
        std::string lower = allow_zero ? "" : "greater than 0 and ";
        report(key, "'" + name(key) + "' must be " + lower + "at most " + format_duration(kMaxDuration) + ", not " +
                        in_quotes(text));
        return false;
    }
    out = *duration;
    return true;
}

bool TableReader::read_size(std::string_view key, uint64_t min, uint64_t max, uint64_t& out) {
    const toml::node* value = node(key);
    if (value == nullptr) return false;
    std::optional<uint64_t> size;
    if (const auto* integer = value->as_integer()) {
        if (integer->get() >= 0) size = static_cast<uint64_t>(integer->get());
    } else if (const auto* string = value->as_string()) {
        size = parse_size(string->get());
    } else {
        report(key, "'" + name(key) + "' must be " + kSizeForm + ", not " + type_name(value->type()));
        return false;
    }
    if (!size) {
        std::string actual =
            value->is_string() ? in_quotes(value->as_string()->get()) : std::to_string(value->as_integer()->get());
        report(key, "'" + name(key) + "' must be " + kSizeForm + ", not " + actual);
        return false;
    }
    if (*size < min || *size > max) {
        bool bounded_above = max != std::numeric_limits<uint64_t>::max();
        report(key, "'" + name(key) + "' must be " +
                        range_text(format_size(min), format_size(max), min != 0, bounded_above) + ", not " +
                        format_size(*size));
        return false;
    }
    out = *size;
    return true;
}

const toml::table* TableReader::table(std::string_view key) {
    const toml::node* value = typed(key, toml::node_type::table, "a table");
    return value == nullptr ? nullptr : value->as_table();
}

void TableReader::report_unknown() {
    for (auto&& [key, value] : table_) {
        if (std::find(known_.begin(), known_.end(), key.str()) != known_.end()) continue;
        problems_.add(key.source(), "unknown key '" + name(key.str()) + "'" + did_you_mean(key.str(), known_));
    }
}

}  // namespace portico::config
