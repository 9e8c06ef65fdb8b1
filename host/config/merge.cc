#include "config/merge.h"

namespace portico::config {

namespace {

// Tables under these keys each define one thing, which must be defined in one file.
bool is_unit_table_parent(std::string_view dotted) {
    return dotted == "listener" || dotted == "upstream";
}

std::string join(const std::string& parent, std::string_view key) {
    return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

void merge_tables(toml::table& into, toml::table& from, const std::string& dotted, Problems& problems) {
    for (auto&& [key, value] : from) {
        std::string name = join(dotted, key.str());
        auto existing = into.find(key.str());
        if (existing == into.end()) {
            into.insert(key, std::move(value));  // a moved node keeps its source region, the copied key its own
            continue;
        }
        toml::node& first = existing->second;
        if (dotted.empty() && key.str() == "route" && first.is_array() && value.is_array()) {
            for (toml::node& route : *value.as_array()) first.as_array()->push_back(std::move(route));
            continue;
        }
        if (first.is_table() && value.is_table() && !is_unit_table_parent(dotted)) {
            merge_tables(*first.as_table(), *value.as_table(), name, problems);
            continue;
        }
        std::string note = is_unit_table_parent(dotted) ? "; each " + dotted + " is defined in one file" : "";
        problems.add(key.source(), "duplicate key '" + name + "' (first set at " +
                                       describe(existing->first.source()) + note + ")");
    }
}

}  // namespace

void merge_fragment(toml::table& merged, toml::table&& fragment, Problems& problems) {
    merge_tables(merged, fragment, "", problems);
}

}  // namespace portico::config
