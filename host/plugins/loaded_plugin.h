// One plugin file the host accepted: its library handle, its descriptor, and what the host made for it.
#pragma once

#include <portico/abi.h>

#include <boost/dll/shared_library.hpp>

#include <string>

#include "plugins/core_api.h"

namespace portico::plugins {

// Lives at a fixed address (held by pointer) from the load to the process's exit: `host` and `handle` are handed
// to the plugin, which may keep them for the process's life.
struct LoadedPlugin {
    std::string file;
    boost::dll::shared_library library;
    const portico_plugin_desc* desc = nullptr;  // static data of the library, checked by the loader
    portico_plugin handle;                      // names the plugin in core->log and metric names
    portico_host_api host{};
    void* global = nullptr;    // what global_init made
    bool initialized = false;  // global_init succeeded (or there is none): configs may be made

    std::string name() const { return desc->name; }
    // The factories of the descriptor, in order (all checked by the loader; unknown kinds included).
    const portico_factory* factory(uint32_t i) const { return desc->factories[i]; }
    uint32_t factory_count() const { return desc->n_factories; }
};

// True for the kinds this host knows: a factory of another kind is listed but never used.
inline bool is_known_kind(portico_kind kind) {
    return kind == PORTICO_KIND_HTTP_FILTER || kind == PORTICO_KIND_TRANSPORT || kind == PORTICO_KIND_BALANCER;
}

// "filter", "transport", "balancer", or "unknown kind N".
std::string kind_name(portico_kind kind);

}  // namespace portico::plugins
