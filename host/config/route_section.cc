// [[route]]: which upstream serves a request, by host and path; the first matching route wins.
#include <algorithm>
#include <limits>

#include "config/address.h"
#include "config/plugin_table.h"
#include "config/sections.h"

namespace portico::config {

namespace {

// A path or prefix as the router compares it: the path of the request target, without query or fragment.
std::string path_problem(std::string_view path) {
    if (path.empty() || path[0] != '/') return "must start with \"/\"";
    for (char c : path) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f) return "must not contain spaces or control characters";
        if (c == '?' || c == '#') return "must not contain '?' or '#' (routes match the path only)";
    }
    return "";
}

void read_path(TableReader& match, std::string_view key, std::string& out) {
    std::string path;
    if (!match.read_string(key, path)) return;
    std::string problem = path_problem(path);
    if (!problem.empty()) {
        match.report(key, "'" + match.name(key) + "' " + problem + ", not " + in_quotes(path));
        return;
    }
    out = path;
}

void read_match(TableReader& route, RouteMatch& out) {
    const toml::table* table = route.table("match");
    if (table != nullptr) {
        TableReader match = route.nested("match", *table);
        std::string host;
        if (match.read_string("host", host)) {
            if (std::optional<std::string> pattern = host.empty() ? std::string() : normalize_host_pattern(host)) {
                out.host = *pattern;
            } else {
                match.report("host", "'" + match.name("host") + "' must be \"\" (any host), a host name like " +
                                         "\"example.com\" or a wildcard like \"*.example.com\", not " +
                                         in_quotes(host));
            }
        }
        if (match.node("path") != nullptr && match.node("prefix") != nullptr) {
            match.report("prefix", "'" + route.name("match") + "' takes either 'path' or 'prefix', not both");
        }
        read_path(match, "path", out.path);
        read_path(match, "prefix", out.prefix);
        match.report_unknown();
    }
    if (out.path.empty() && out.prefix.empty()) out.prefix = "/";
}

// Fills upstream and upstream_index; the problem points at the 'upstream' key, or at the route when it is missing.
void read_upstream_reference(TableReader& route, const toml::source_region& route_place,
                             const std::vector<Upstream>& upstreams, bool check, Route& out) {
    if (!route.read_string("upstream", out.upstream)) {
        if (route.node("upstream") == nullptr) {
            route.problems().add(route_place, "'route.upstream' is missing: a route needs the name of an upstream");
        }
        return;
    }
    auto it = std::find_if(upstreams.begin(), upstreams.end(),
                           [&](const Upstream& upstream) { return upstream.name == out.upstream; });
    if (it != upstreams.end()) {
        out.upstream_index = static_cast<size_t>(it - upstreams.begin());
    } else if (check) {
        std::vector<std::string> names;
        for (const Upstream& upstream : upstreams) names.push_back(upstream.name);
        route.report("upstream", "'route.upstream' names an undefined upstream " + in_quotes(out.upstream) +
                                     did_you_mean(out.upstream, names));
    }
}

// One entry of `filters`: `use` and `on_error` are the host's; every other key belongs to the plugin, which checks
// them itself through the config API (plugins/config_api.cc), so they are not read here.
void read_filter(TableReader& route, const toml::node& entry, std::vector<FilterUse>& out) {
    const toml::table* table = entry.as_table();
    if (table == nullptr) {
        route.problems().add(entry.source(), "'" + route.name("filters") +
                                                 "' entries must be tables like { use = \"compression\" }, not " +
                                                 type_name(entry.type()));
        return;
    }
    TableReader filter = route.nested("filters", *table);
    FilterUse use;
    if (filter.read_string("use", use.use)) {
        if (use.use.empty()) {
            filter.report("use", "'" + filter.name("use") +
                                     "' must name a filter factory (\"factory\" or \"plugin.factory\"), not \"\"");
            return;
        }
    } else {
        if (filter.node("use") == nullptr) {
            route.problems().add(table->source(), "'" + filter.name("use") +
                                                      "' is missing: a filter needs the name of a filter factory, "
                                                      "like { use = \"compression\" }");
        }
        return;
    }
    std::string on_error;
    if (filter.read_string("on_error", on_error)) {
        if (on_error == "fail-open" || on_error == "fail-closed") {
            use.fail_open = on_error == "fail-open";
        } else {
            filter.report("on_error", "'" + filter.name("on_error") +
                                          "' must be \"fail-closed\" or \"fail-open\", not " + in_quotes(on_error));
        }
    }
    use.table = std::make_shared<const PluginTable>(*table);
    out.push_back(std::move(use));
}

void read_filters(TableReader& route, std::vector<FilterUse>& out) {
    const toml::node* node = route.node("filters");
    if (node == nullptr) return;
    const toml::array* entries = node->as_array();
    if (entries == nullptr) {
        route.report("filters", "'" + route.name("filters") +
                                    "' must be an array of tables like [{ use = \"compression\" }], not " +
                                    type_name(node->type()));
        return;
    }
    for (const toml::node& entry : *entries) read_filter(route, entry, out);
}

}  // namespace

void read_routes(TableReader& root, const Limits& limits, const std::vector<Upstream>& upstreams,
                 bool check_upstreams, std::vector<Route>& out) {
    const toml::node* node = root.node("route");
    if (node == nullptr) return;
    const toml::array* entries = node->as_array();
    if (entries == nullptr) {
        root.report("route", "'route' must be an array of tables (write each route as [[route]]), not " +
                                 type_name(node->type()));
        return;
    }
    for (const toml::node& entry : *entries) {
        const toml::table* table = entry.as_table();
        if (table == nullptr) {
            root.problems().add(entry.source(), "'route' entries must be tables, not " + type_name(entry.type()));
            continue;
        }
        TableReader route = root.nested("route", *table);
        Route& result = out.emplace_back();
        result.name = "route " + std::to_string(out.size());
        result.max_body_size = limits.max_body_size;
        std::string name;
        if (route.read_string("name", name)) {
            if (name.empty()) {
                route.report("name", "'route.name' must not be empty");
            } else {
                result.name = name;
            }
        }
        read_match(route, result.match);
        read_upstream_reference(route, table->source(), upstreams, check_upstreams, result);
        route.read_size("max_body_size", 0, std::numeric_limits<uint64_t>::max(), result.max_body_size);
        read_filters(route, result.filters);
        route.read_size("filter_buffer", 0, std::numeric_limits<uint64_t>::max(), result.filter_buffer);
        route.report_unknown();
    }
}

}  // namespace portico::config
