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
    if (!read_factory_use(filter, *table, "filter", "compression", use.use)) return;
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

// One entry of `retry.on`: a failure kind or a status code. Status codes 400..599, as nginx (http_403, http_404,
// http_429) and Envoy (retriable_status_codes) allow: a 429 or a 503 from one endpoint may well be served by
// another; below 400 nothing failed.
bool add_retry_condition(std::string_view text, RetryPolicy& out) {
    if (text == "connect-failure") {
        out.on_connect_failure = true;
    } else if (text == "reset") {
        out.on_reset = true;
    } else if (text == "timeout") {
        out.on_timeout = true;
    } else if (text.size() == 3 &&
               std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        auto status = static_cast<uint16_t>((text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0'));
        if (status < 400 || status > 599) return false;
        out.statuses.push_back(status);
    } else {
        return false;
    }
    return true;
}

// `on` replaces the default set as a whole (Envoy's retry_on and nginx's proxy_next_upstream do the same), so
// what is retried can be read from one place. True when `on` was given and every entry is valid.
bool read_retry_on(TableReader& retry, RetryPolicy& out) {
    const toml::node* node = retry.node("on");
    if (node == nullptr) return false;
    std::string key_name = retry.name("on");
    const toml::array* entries = node->as_array();
    if (entries == nullptr) {
        retry.report("on", "'" + key_name +
                               "' must be an array like [\"connect-failure\", \"reset\", \"503\"], not " +
                               type_name(node->type()));
        return false;
    }
    static const std::vector<std::string> kWords = {"connect-failure", "reset", "timeout"};
    RetryPolicy conditions;
    conditions.on_connect_failure = conditions.on_reset = conditions.on_timeout = false;
    std::vector<std::string> seen;
    bool valid = true;
    for (const toml::node& entry : *entries) {
        const auto* string = entry.as_string();
        if (string == nullptr) {
            retry.problems().add(entry.source(), "'" + key_name + "' entries must be strings like \"reset\" or " +
                                                     "\"503\", not " + type_name(entry.type()));
            valid = false;
            continue;
        }
        const std::string& text = string->get();
        if (std::find(seen.begin(), seen.end(), text) != seen.end()) {
            retry.problems().add(entry.source(), "'" + key_name + "' lists " + in_quotes(text) + " twice");
            valid = false;
            continue;
        }
        seen.push_back(text);
        if (!add_retry_condition(text, conditions)) {
            retry.problems().add(entry.source(), "'" + key_name + "' entry " + in_quotes(text) +
                                                     " must be \"connect-failure\", \"reset\", \"timeout\" or a " +
                                                     "status code \"400\"..\"599\"" + did_you_mean(text, kWords));
            valid = false;
        }
    }
    if (!valid) return false;
    out.on_connect_failure = conditions.on_connect_failure;
    out.on_reset = conditions.on_reset;
    out.on_timeout = conditions.on_timeout;
    out.statuses = std::move(conditions.statuses);
    return true;
}

void read_retry(TableReader& route, RetryPolicy& out) {
    const toml::node* node = route.node("retry");
    if (node == nullptr) return;
    const toml::table* table = node->as_table();
    if (table == nullptr) {
        route.report("retry", "'" + route.name("retry") + "' must be a table like { attempts = 3 }, not " +
                                  type_name(node->type()));
        return;
    }
    TableReader retry = route.nested("retry", *table);
    retry.read_integer<unsigned>("attempts", 1, 10, out.attempts);
    bool on_given = read_retry_on(retry, out);
    retry.read_bool("non_idempotent", out.non_idempotent);
    retry.read_duration_or_zero("per_try_timeout", out.per_try_timeout);
    // budget_percent = 0 with min_retries_per_second = 0 is allowed: every retry is then refused, and logged.
    retry.read_integer<unsigned>("budget_percent", 0, 100, out.budget_percent);
    retry.read_integer<unsigned>("min_retries_per_second", 0, 1000, out.min_retries_per_second);
    // An empty list with attempts to spare reads like a mistake: said now rather than found out in an outage.
    bool retries_nothing = !out.on_connect_failure && !out.on_reset && !out.on_timeout && out.statuses.empty();
    if (on_given && retries_nothing && out.attempts > 1) {
        retry.report("on", "'" + retry.name("on") + "' is empty, so nothing would be retried: list what to " +
                               "retry on, or set attempts = 1 to turn retries off");
    }
    retry.report_unknown();
}

}  // namespace

bool read_factory_use(TableReader& entry, const toml::table& body, std::string_view kind, std::string_view example,
                      std::string& out) {
    std::string use;
    if (!entry.read_string("use", use)) {
        if (entry.node("use") == nullptr) {
            entry.problems().add(body.source(), "'" + entry.name("use") + "' is missing: a " + std::string(kind) +
                                                    " needs the name of a " + std::string(kind) +
                                                    " factory, like { use = \"" + std::string(example) + "\" }");
        }
        return false;
    }
    if (use.empty()) {
        entry.report("use", "'" + entry.name("use") + "' must name a " + std::string(kind) +
                                " factory (\"factory\" or \"plugin.factory\"), not \"\"");
        return false;
    }
    out = std::move(use);
    return true;
}

bool read_plugin_use(TableReader& parent, std::string_view key, std::string_view example, PluginUse& out) {
    const toml::node* node = parent.node(key);
    if (node == nullptr) return true;
    const toml::table* table = node->as_table();
    if (table == nullptr) {
        parent.report(key, "'" + parent.name(key) + "' must be a table like { use = \"" + std::string(example) +
                               "\" }, not " + type_name(node->type()));
        return false;
    }
    TableReader reader = parent.nested(key, *table);
    if (!read_factory_use(reader, *table, key, example, out.use)) return false;
    out.table = std::make_shared<const PluginTable>(*table);
    return true;
}

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
        read_retry(route, result.retry);
        route.report_unknown();
    }
}

}  // namespace portico::config
