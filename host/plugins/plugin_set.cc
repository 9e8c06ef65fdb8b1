// The life of a configuration's plugins: load and global_init (main), config_new per route filter (main),
// worker_init / worker_fini (each worker), then config_free and global_fini (main, at the end).
#include "plugins/plugin_set.h"

#include <Poco/Logger.h>

#include "config/diagnostics.h"
#include "config/plugin_table.h"
#include "plugins/config_api.h"
#include "plugins/factory_lookup.h"
#include "plugins/host_api.h"
#include "plugins/loaded_plugin.h"
#include "plugins/loader.h"

namespace portico::plugins {

namespace {

// The keys of a filter's or balancer's table that belong to the host (config/route_section.cc and
// upstream_section.cc read them): the plugin's config_new does not see them.
const std::vector<std::string> kFilterHostKeys = {"use", "on_error"};
const std::vector<std::string> kUseOnly = {"use"};

// The ABI promises that a plugin's host table stays valid for the process's life, and a plugin's thread, atexit
// handler or thread_local destructor may still use it after the PluginSet is gone: accepted plugins are handed
// here at the end, and this list is never destroyed (a static pointer keeps it reachable for leak checkers).
std::vector<std::unique_ptr<LoadedPlugin>>& kept_for_process_life() {
    static auto* kept = new std::vector<std::unique_ptr<LoadedPlugin>>;
    return *kept;
}

std::string error_text(const portico_error& err) {
    return std::string(err.message, strnlen(err.message, sizeof err.message));
}

// "FILE:LINE:COL" of the `use` key of a filter's table.
std::string use_place(const config::PluginTable& table) {
    auto it = table.table.find("use");
    return config::describe(it == table.table.end() ? table.place(table.table) : it->first.source());
}

}  // namespace

// The loaded plugins: shared by the PluginSets of successive configurations (a reload configures the same
// libraries again: no second load, no second global_init). The last set to let go runs global_fini.
struct Libraries {
    std::vector<std::unique_ptr<LoadedPlugin>> plugins;  // accepted, in load order
    Libraries() = default;
    Libraries(const Libraries&) = delete;
    Libraries& operator=(const Libraries&) = delete;
    ~Libraries() {
        for (auto it = plugins.rbegin(); it != plugins.rend(); ++it) {
            LoadedPlugin& plugin = **it;
            if (plugin.initialized && plugin.desc->global_fini) plugin.desc->global_fini(plugin.global);
            plugin.initialized = false;
        }
        auto& kept = kept_for_process_life();
        for (auto& plugin : plugins) kept.push_back(std::move(plugin));
    }
};

Instance::~Instance() {
    if (factory != nullptr && factory->config_free != nullptr && config != nullptr) factory->config_free(config);
}

struct PluginSet::State {
    std::shared_ptr<Libraries> libraries = std::make_shared<Libraries>();
    std::vector<std::shared_ptr<Instance>> instances;  // every transport, balancer and filter, in config order
    std::vector<std::vector<std::shared_ptr<FilterInstance>>> routes;  // by route index
    std::vector<std::shared_ptr<BalancerInstance>> balancers;          // by upstream index; null = built-in
    std::vector<std::shared_ptr<TransportInstance>> listener_transports;  // by listener index; null = plain
    std::vector<std::shared_ptr<TransportInstance>> upstream_transports;  // by upstream index; null = plain
    // worker_ready[i][w]: worker w ran instances[i]'s worker_init successfully (bytes, not vector<bool>: workers
    // write their own element concurrently).
    std::vector<std::vector<unsigned char>> worker_ready;

    void free_instances();
    bool make_transport(const config::PluginUse& use, portico_role role, unsigned workers,
                        std::vector<std::string>& errors, std::shared_ptr<TransportInstance>& out);
    bool make_instance(const std::string& use, const config::PluginTable& table, portico_kind kind,
                       const char* what, const std::vector<std::string>& host_keys, unsigned workers,
                       std::vector<std::string>& errors, Instance& out);
};

PluginSet::PluginSet() : state_(std::make_unique<State>()) {}

PluginSet::~PluginSet() { state_->free_instances(); }  // the libraries go with state_, after their configs

void PluginSet::share_plugins(const PluginSet& other) { state_->libraries = other.state_->libraries; }

void PluginSet::State::free_instances() {
    routes.clear();
    balancers.clear();
    listener_transports.clear();
    upstream_transports.clear();
    while (!instances.empty()) instances.pop_back();  // config_free in reverse config order (unless still held)
    worker_ready.clear();
}

bool PluginSet::load(const std::vector<std::string>& dirs, bool dirs_are_default,
                     std::vector<std::string>& errors) {
    size_t errors_before = errors.size();
    std::vector<std::string> warnings;
    std::vector<std::unique_ptr<LoadedPlugin>> accepted;
    for (const std::string& dir : dirs) {
        std::vector<std::string> files;
        std::string reason;
        bool missing = false;
        if (!list_plugin_files(dir, files, reason, missing)) {
            // The built-in directory may not exist where no plugin package was installed: no plugins, then.
            if (!(missing && dirs_are_default)) {
                errors.push_back("plugin directory " + config::in_quotes(dir) + ": " + reason);
            }
            continue;
        }
        for (const std::string& file : files) {
            std::string refusal;
            std::unique_ptr<LoadedPlugin> plugin = open_plugin(file, refusal, warnings);
            if (!plugin) {
                errors.push_back(refusal);
                continue;
            }
            auto same = std::find_if(accepted.begin(), accepted.end(),
                                     [&](const auto& other) { return other->name() == plugin->name(); });
            if (same != accepted.end()) {
                errors.push_back("plugin " + file + ": duplicate plugin name '" + plugin->name() + "' (also in " +
                                 (*same)->file + ")");
                continue;
            }
            accepted.push_back(std::move(plugin));
        }
    }
    Poco::Logger& log = Poco::Logger::get("portico");
    for (const std::string& warning : warnings) log.warning(warning);

    // Every file is checked before any plugin code beyond the entry runs: a refusal costs no init and fini.
    for (auto& plugin : accepted) {
        plugin->handle.name = plugin->name();
        plugin->handle.logger = &log;
        make_host_api(&plugin->handle, plugin->host);
        const portico_plugin_desc& desc = *plugin->desc;
        if (desc.global_init == nullptr) {
            plugin->initialized = true;
        } else {
            portico_error err;
            PORTICO_INIT(&err);
            portico_status status = desc.global_init(&plugin->host, &plugin->global, &err);
            if (status == PORTICO_OK) {
                plugin->initialized = true;
            } else {
                std::string message = error_text(err);
                errors.push_back("plugin " + plugin->file + ": global_init failed: " +
                                 (message.empty() ? "status " + std::to_string(status) : message));
                plugin->global = nullptr;
            }
        }
        state_->libraries->plugins.push_back(std::move(plugin));
    }
    return errors.size() == errors_before;
}

bool PluginSet::State::make_instance(const std::string& use, const config::PluginTable& table, portico_kind kind,
                                     const char* what, const std::vector<std::string>& host_keys, unsigned workers,
                                     std::vector<std::string>& errors, Instance& out) {
    std::string problem;
    FactoryRef ref = find_factory(libraries->plugins, use, kind, problem);
    if (ref.factory == nullptr) {
        errors.push_back(use_place(table) + ": " + problem);
        return false;
    }
    std::string label = ref.plugin->name() + "." + ref.factory->name;
    ConfigSession session(table, host_keys);
    portico_error err;
    PORTICO_INIT(&err);
    void* made = nullptr;
    portico_status status =
        ref.factory->config_new(&ref.plugin->host, ref.plugin->global, session.root(), &made, &err);
    std::string named = std::string(what) + " '" + use + "'";
    if (status == PORTICO_OK && session.problems().empty()) {
        session.report_unknown(named);
    } else if (status != PORTICO_OK) {
        std::string message = error_text(err);
        if (!message.empty()) {
            session.report_at_table(message);
        } else if (session.problems().empty()) {
            session.report_at_table(named + " (" + label + "): config_new failed with status " +
                                    std::to_string(status));
        }
    }
    if (!session.problems().empty()) {
        errors.insert(errors.end(), session.problems().begin(), session.problems().end());
        // A config made despite problems (unknown keys, or a plugin that ignored a getter's error) is not used.
        if (status == PORTICO_OK && ref.factory->config_free) ref.factory->config_free(made);
        return false;
    }
    out.libraries = libraries;
    out.plugin = ref.plugin;
    out.plugin_name = ref.plugin->name();
    out.factory = ref.factory;
    out.config = made;
    out.label = label;
    out.worker_state.assign(workers, nullptr);
    return true;
}

bool PluginSet::State::make_transport(const config::PluginUse& use, portico_role role, unsigned workers,
                                      std::vector<std::string>& errors, std::shared_ptr<TransportInstance>& out) {
    auto instance = std::make_shared<TransportInstance>();
    if (!make_instance(use.use, *use.table, PORTICO_KIND_TRANSPORT, "transport", kUseOnly, workers, errors,
                       *instance)) {
        return false;
    }
    instance->ops = static_cast<const portico_transport_ops*>(instance->factory->ops);
    if (instance->ops == nullptr || instance->ops->conn_new == nullptr || instance->ops->on_input == nullptr ||
        instance->ops->on_output == nullptr) {
        errors.push_back(use_place(*use.table) + ": transport '" + use.use + "' (" + instance->label +
                         ") lacks conn_new, on_input or on_output");
        return false;
    }
    // The config itself cannot tell which side it is for (a 1.0 config_new is not told): a trial connection
    // asks the plugin now, so that a table meant for the other side fails the start, not every connection.
    portico_conn_params params;
    PORTICO_INIT(&params);
    void* trial = instance->ops->conn_new(instance->config, nullptr, nullptr, role, &params);
    if (trial == nullptr) {
        errors.push_back(use_place(*use.table) + ": transport '" + use.use + "' (" + instance->label +
                         ") cannot serve " + (role == PORTICO_ROLE_SERVER ? "a listener" : "an upstream") +
                         " with this table (the plugin logged why just above; is the table meant for " +
                         (role == PORTICO_ROLE_SERVER ? "an upstream?)" : "a listener?)"));
        return false;
    }
    if (instance->ops->conn_free != nullptr) instance->ops->conn_free(trial);
    instances.push_back(instance);
    out = std::move(instance);
    return true;
}

bool PluginSet::configure(const config::Config& config, unsigned workers, std::vector<std::string>& errors) {
    State& s = *state_;
    s.free_instances();
    s.routes.resize(config.routes.size());
    s.balancers.resize(config.upstreams.size());
    s.listener_transports.resize(config.listeners.size());
    s.upstream_transports.resize(config.upstreams.size());
    bool ok = true;
    for (size_t l = 0; l < config.listeners.size(); ++l) {
        const config::PluginUse& use = config.listeners[l].transport;
        if (!use.use.empty() && !s.make_transport(use, PORTICO_ROLE_SERVER, workers, errors, s.listener_transports[l]))
            ok = false;
    }
    for (size_t u = 0; u < config.upstreams.size(); ++u) {
        const config::PluginUse& use = config.upstreams[u].transport;
        if (!use.use.empty() && !s.make_transport(use, PORTICO_ROLE_CLIENT, workers, errors, s.upstream_transports[u]))
            ok = false;
    }
    for (size_t u = 0; u < config.upstreams.size(); ++u) {
        const config::PluginUse& use = config.upstreams[u].balancer;
        if (use.use.empty()) continue;
        auto instance = std::make_shared<BalancerInstance>();
        if (!s.make_instance(use.use, *use.table, PORTICO_KIND_BALANCER, "balancer", kUseOnly, workers,
                             errors, *instance)) {
            ok = false;
            continue;
        }
        instance->ops = static_cast<const portico_balancer_ops*>(instance->factory->ops);
        s.instances.push_back(instance);
        s.balancers[u] = std::move(instance);
    }
    for (size_t r = 0; r < config.routes.size(); ++r) {
        for (const config::FilterUse& use : config.routes[r].filters) {
            auto instance = std::make_shared<FilterInstance>();
            if (!s.make_instance(use.use, *use.table, PORTICO_KIND_HTTP_FILTER, "filter", kFilterHostKeys, workers,
                                 errors, *instance)) {
                ok = false;
                continue;
            }
            instance->ops = static_cast<const portico_http_filter_ops*>(instance->factory->ops);
            instance->fail_open = use.fail_open;
            s.instances.push_back(instance);
            s.routes[r].push_back(std::move(instance));
        }
    }
    s.worker_ready.assign(s.instances.size(), std::vector<unsigned char>(workers, 0));
    return ok;
}

bool PluginSet::worker_init(unsigned worker_index, std::vector<std::string>& errors) {
    State& s = *state_;
    for (size_t i = 0; i < s.instances.size(); ++i) {
        Instance& instance = *s.instances[i];
        if (worker_index >= instance.worker_state.size()) {
            errors.push_back(instance.label + ": no worker " + std::to_string(worker_index) +
                             " was configured");
            worker_fini(worker_index);
            return false;
        }
        if (instance.factory->worker_init != nullptr) {
            void* made = nullptr;
            portico_status status = instance.factory->worker_init(instance.config, worker_index, &made);
            if (status != PORTICO_OK) {
                errors.push_back(instance.label + ": worker_init failed on worker " +
                                 std::to_string(worker_index) + " (status " + std::to_string(status) + ")");
                worker_fini(worker_index);  // the ones already made for this worker
                return false;
            }
            instance.worker_state[worker_index] = made;
        }
        s.worker_ready[i][worker_index] = 1;
    }
    return true;
}

void PluginSet::worker_fini(unsigned worker_index) {
    State& s = *state_;
    for (size_t i = s.instances.size(); i-- > 0;) {
        if (worker_index >= s.worker_ready[i].size() || !s.worker_ready[i][worker_index]) continue;
        Instance& instance = *s.instances[i];
        if (instance.factory->worker_init != nullptr && instance.factory->worker_fini != nullptr) {
            instance.factory->worker_fini(instance.worker_state[worker_index]);
        }
        instance.worker_state[worker_index] = nullptr;
        s.worker_ready[i][worker_index] = 0;
    }
}

const std::vector<std::shared_ptr<FilterInstance>>& PluginSet::route_filters(size_t route_index) const {
    static const std::vector<std::shared_ptr<FilterInstance>> kNone;
    return route_index < state_->routes.size() ? state_->routes[route_index] : kNone;
}

const BalancerInstance* PluginSet::upstream_balancer(size_t upstream_index) const {
    return upstream_index < state_->balancers.size() ? state_->balancers[upstream_index].get() : nullptr;
}

std::shared_ptr<const TransportInstance> PluginSet::listener_transport(size_t listener_index) const {
    return listener_index < state_->listener_transports.size() ? state_->listener_transports[listener_index]
                                                              : nullptr;
}

std::shared_ptr<const TransportInstance> PluginSet::upstream_transport(size_t upstream_index) const {
    return upstream_index < state_->upstream_transports.size() ? state_->upstream_transports[upstream_index]
                                                              : nullptr;
}

std::vector<PluginListing> PluginSet::listing() const {
    std::vector<PluginListing> out;
    for (const auto& plugin : state_->libraries->plugins) {
        PluginListing item;
        item.file = plugin->file;
        item.name = plugin->name();
        item.version = plugin->desc->version ? plugin->desc->version : "";
        item.abi_major = plugin->desc->abi_major;
        item.abi_minor = plugin->desc->abi_minor;
        for (uint32_t i = 0; i < plugin->factory_count(); ++i) {
            item.factories.emplace_back(plugin->factory(i)->name, plugin->factory(i)->kind);
        }
        out.push_back(std::move(item));
    }
    return out;
}

}  // namespace portico::plugins
