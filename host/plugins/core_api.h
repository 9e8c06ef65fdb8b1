// portico_core_api: what every plugin may call from any thread: logging, metrics, the clock.
#pragma once

#include <portico/abi.h>

#include <Poco/Logger.h>

#include <cstdint>
#include <string>
#include <vector>

// The host's side of the opaque `portico_plugin` handle: what core->log and core->metric_define need to know about
// the plugin calling them. One per loaded plugin, at a fixed address for the process's life.
struct portico_plugin {
    std::string name;
    Poco::Logger* logger = nullptr;  // "portico": plugin lines go where the host's error log goes
};

namespace portico::plugins {

const portico_core_api* core_api();

// One metric of the registry, as --list-plugins or a stats endpoint would read it.
struct MetricReading {
    std::string name;   // "<plugin>_<name>"
    uint32_t kind = 0;  // PORTICO_METRIC_*
    int64_t value = 0;
};

// Every metric defined so far, in definition order. THREAD any.
std::vector<MetricReading> read_metrics();

}  // namespace portico::plugins
