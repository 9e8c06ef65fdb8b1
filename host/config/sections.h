// Reading the sections of the merged configuration tree into a Config. Each function reports its own problems
// and keeps the default where a value is wrong, so one load reports as many problems as it can.
#pragma once

#include <vector>

#include "config/config.h"
#include "config/fields.h"

namespace portico::config {

// `root` reads the merged tree; each function marks its top-level key as known.
void read_server(TableReader& root, Server& out);
void read_timeouts(TableReader& root, Timeouts& out);
void read_limits(TableReader& root, Limits& out);

// In name order. Every table under [listener] / [upstream] yields an entry, even a broken one, so that a broken
// definition does not also cause "no listener" or "unknown upstream" problems elsewhere.
void read_listeners(TableReader& root, std::vector<Listener>& out);
void read_upstreams(TableReader& root, const Timeouts& timeouts, std::vector<Upstream>& out);

// In file order. `upstreams` (in name order) give upstream_index; `check_upstreams` is false when some file could
// not be parsed, because then a missing upstream may just be in that file.
void read_routes(TableReader& root, const Limits& limits, const std::vector<Upstream>& upstreams,
                 bool check_upstreams, std::vector<Route>& out);

// The `use` key of a plugin's inline table (a route's filter, an upstream's balancer): a non-empty "factory" or
// "plugin.factory" string. `kind` ("filter", "balancer") and `example` ("compression") make the messages; a missing
// `use` is reported at `body`. True when `out` was set. The plugin resolves the name and checks the other keys.
bool read_factory_use(TableReader& entry, const toml::table& body, std::string_view kind, std::string_view example,
                      std::string& out);

// `key = { use = "factory", ...plugin keys }` of `parent` (an upstream's balancer or transport, a listener's
// transport), read like a route's filter: the plugin checks its own keys. True when the key is absent or valid
// (false: reported, so the checks that depend on it stay quiet).
bool read_plugin_use(TableReader& parent, std::string_view key, std::string_view example, PluginUse& out);

// Listener and upstream names: letters, digits, '-' and '_' (they appear in logs and in route references).
bool is_valid_name(std::string_view name);

// RFC 9110 5.6.2 token: what a header name or a Via pseudonym may consist of.
bool is_token(std::string_view text);

}  // namespace portico::config
