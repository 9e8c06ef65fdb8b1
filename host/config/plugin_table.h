// A plugin's own TOML table (one entry of a route's `filters`), kept after loading for the plugin's config_new.
// toml++ drops a node's source position when the node is copied (keys keep theirs), so the copy records where each
// of its nodes was written: a plugin's problems then point at FILE:LINE:COL like the host's own.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <unordered_map>

namespace portico::config {

struct PluginTable {
    toml::table table;  // the whole entry, host keys (`use`, `on_error`) included
    std::string file;   // the file it was written in
    // The place of every node of `table` (tables, arrays, values), by address; `table` never changes after
    // construction, so the addresses stay valid.
    std::unordered_map<const toml::node*, toml::source_region> places;

    explicit PluginTable(const toml::table& original) : table(original) {
        if (original.source().path) file = *original.source().path;
        record(original, table);
    }
    PluginTable(const PluginTable&) = delete;  // `places` points into `table`
    PluginTable& operator=(const PluginTable&) = delete;

    // Where `node` (a node of `table`) was written; the table's own place for a node it does not know.
    const toml::source_region& place(const toml::node& node) const {
        auto it = places.find(&node);
        if (it != places.end()) return it->second;
        return places.at(&table);
    }

private:
    // Walks the original and the copy together: they have the same shape.
    void record(const toml::node& original, const toml::node& copy) {
        places.emplace(&copy, original.source());
        if (const toml::table* from = original.as_table()) {
            const toml::table& to = *copy.as_table();
            for (auto&& [key, value] : *from) {
                if (const toml::node* twin = to.get(key.str())) record(value, *twin);
            }
        } else if (const toml::array* from = original.as_array()) {
            const toml::array& to = *copy.as_array();
            for (size_t i = 0; i < from->size() && i < to.size(); ++i) record(*from->get(i), *to.get(i));
        }
    }
};

}  // namespace portico::config
