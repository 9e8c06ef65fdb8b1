// The plugins of one configuration: the loaded .so files (Boost.DLL, RTLD_NOW | RTLD_LOCAL), their global state,
// and the filter instances each route chains. Built on the main thread before workers start; read-only after,
// except worker_init/worker_fini, which each worker calls for its own index on its own thread.
#pragma once

#include <portico/abi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"

namespace portico::plugins {

struct LoadedPlugin;  // defined in plugins/loaded_plugin.h: the library handle, descriptor, host table, global

// One use of a factory, ready for work: the config object its config_new made, and one worker state per worker
// (null when the factory has no worker_init). Its config_free runs when the last holder lets go: usually its
// PluginSet, but a connection carried into a newer configuration by a reload keeps its transport's config.
struct Instance {
    Instance() = default;
    ~Instance();
    Instance(const Instance&) = delete;
    Instance& operator=(const Instance&) = delete;

    const LoadedPlugin* plugin = nullptr;
    std::string plugin_name;
    const portico_factory* factory = nullptr;
    void* config = nullptr;
    std::string label;                // "plugin.factory", for log lines
    std::vector<void*> worker_state;  // index = worker index
    std::shared_ptr<const void> libraries;  // the loaded plugins outlive every config made from them
};

// One filter of one route (a factory of kind HTTP_FILTER).
struct FilterInstance : Instance {
    const portico_http_filter_ops* ops = nullptr;  // never null; hooks inside may be
    bool fail_open = false;                        // on_error = "fail-open"
};

// The balancer of one upstream (a factory of kind BALANCER).
struct BalancerInstance : Instance {
    const portico_balancer_ops* ops = nullptr;  // never null
};

// The transport of one listener or upstream (a factory of kind TRANSPORT).
struct TransportInstance : Instance {
    const portico_transport_ops* ops = nullptr;  // never null; conn_new and on_input / on_output are set
};

// What --list-plugins prints for one plugin file.
struct PluginListing {
    std::string file;
    std::string name;
    std::string version;
    uint32_t abi_major = 0;
    uint32_t abi_minor = 0;
    std::vector<std::pair<std::string, portico_kind>> factories;  // name, kind
};

class PluginSet {
public:
    PluginSet();
    ~PluginSet();  // config_free for every instance; global_fini (reverse load order) when no other set shares them
    PluginSet(const PluginSet&) = delete;
    PluginSet& operator=(const PluginSet&) = delete;

    // Loads every plugin file (*.so) in `dirs`, in name order per directory, and runs each global_init.
    // A missing directory is skipped when it is the built-in default, an error otherwise. Appends one
    // "plugin FILE: reason" per refusal to `errors`; returns false when there was any.
    bool load(const std::vector<std::string>& dirs, bool dirs_are_default, std::vector<std::string>& errors);

    // Reload: this set uses the plugins `other` loaded (instead of load()), to configure them again.
    void share_plugins(const PluginSet& other);

    // Runs config_new for every listener's and upstream's transport, every upstream's balancer and every filter of every route (in config order), with
    // `workers` worker states to come.
    // Config problems come out as "CONFIG_FILE:LINE:COL: message". Returns false when there was any.
    bool configure(const config::Config& config, unsigned workers, std::vector<std::string>& errors);

    // Per worker, on that worker's thread: worker_init / worker_fini of every instance.
    bool worker_init(unsigned worker_index, std::vector<std::string>& errors);
    void worker_fini(unsigned worker_index);

    // The filters of config.routes[route_index], in list order (empty when the route has none).
    const std::vector<std::shared_ptr<FilterInstance>>& route_filters(size_t route_index) const;

    // The balancer of config.upstreams[upstream_index]; null when it has none (the host's round robin).
    const BalancerInstance* upstream_balancer(size_t upstream_index) const;

    // The transport of config.listeners[i] / config.upstreams[i]; null when plain.
    std::shared_ptr<const TransportInstance> listener_transport(size_t listener_index) const;
    std::shared_ptr<const TransportInstance> upstream_transport(size_t upstream_index) const;

    std::vector<PluginListing> listing() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace portico::plugins
