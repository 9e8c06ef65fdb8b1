// Logging goes to the host's error log ("portico" logger) with the plugin's name in front, so a line always says
// who wrote it. Metrics are atomics in a process-wide registry: defined on the main thread, updated from any.
#include "plugins/core_api.h"

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>

// The opaque metric handle is the registry's entry itself.
struct portico_metric {
    std::string name;
    uint32_t kind;
    std::atomic<int64_t> value{0};
    portico_metric(std::string n, uint32_t k) : name(std::move(n)), kind(k) {}
};

namespace portico::plugins {

namespace {

// -- metrics ---------------------------------------------------------------------------------------------------

// A deque never moves its elements: the pointers handed out stay valid for the process's life (the ABI promises
// that), and plugins may update a metric while another is being defined.
struct Registry {
    std::mutex mutex;
    std::deque<portico_metric> metrics;
};

Registry& registry() {
    static Registry* instance = new Registry;  // never destroyed: a plugin thread may count during exit
    return *instance;
}

bool is_metric_name(const char* name) {
    if (name == nullptr || *name == '\0') return false;
    for (const char* c = name; *c; ++c) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return false;
    }
    return true;
}

// -- logging ---------------------------------------------------------------------------------------------------

Poco::Message::Priority priority(portico_log_level level) {
    switch (level) {
        case PORTICO_LOG_DEBUG:
            return Poco::Message::PRIO_DEBUG;
        case PORTICO_LOG_WARNING:
            return Poco::Message::PRIO_WARNING;
        case PORTICO_LOG_ERROR:
            return Poco::Message::PRIO_ERROR;
        default:
            return Poco::Message::PRIO_INFORMATION;  // INFO, and unknown levels as the ABI says
    }
}

void log(const portico_plugin* plugin, portico_log_level level, const char* msg, size_t len) {
    if (plugin == nullptr || plugin->logger == nullptr) return;
    Poco::Logger& logger = *plugin->logger;
    Poco::Message::Priority prio = priority(level);
    if (!logger.is(prio)) return;
    std::string line = "plugin " + plugin->name + ": ";
    if (msg != nullptr) line.append(msg, len);
    // One plugin call is one log line: a line break inside would forge a second line.
    for (char& c : line) {
        if (c == '\n' || c == '\r') c = ' ';
    }
    logger.log(Poco::Message(logger.name(), line, prio));
}

bool log_enabled(const portico_plugin* plugin, portico_log_level level) {
    return plugin != nullptr && plugin->logger != nullptr && plugin->logger->is(priority(level));
}

portico_status metric_define(const portico_plugin* plugin, const char* name, uint32_t kind, portico_metric** out) {
    if (plugin == nullptr || out == nullptr || !is_metric_name(name)) return PORTICO_E_BAD_ARG;
    if (kind != PORTICO_METRIC_COUNTER && kind != PORTICO_METRIC_GAUGE) return PORTICO_E_BAD_ARG;
    std::string full = plugin->name + "_" + name;
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    for (portico_metric& metric : r.metrics) {
        if (metric.name != full) continue;
        if (metric.kind != kind) return PORTICO_E_BAD_ARG;  // one name, one meaning
        *out = &metric;
        return PORTICO_OK;
    }
    r.metrics.emplace_back(std::move(full), kind);
    *out = &r.metrics.back();
    return PORTICO_OK;
}

// A counter only goes up: a negative delta or a set would make rates computed from it lie.
void metric_add(portico_metric* metric, int64_t delta) {
    if (metric == nullptr) return;
    if (metric->kind == PORTICO_METRIC_COUNTER && delta < 0) return;
    metric->value.fetch_add(delta, std::memory_order_relaxed);
}

void metric_set(portico_metric* metric, int64_t value) {
    if (metric == nullptr || metric->kind != PORTICO_METRIC_GAUGE) return;
    metric->value.store(value, std::memory_order_relaxed);
}

int64_t metric_get(const portico_metric* metric) {
    return metric == nullptr ? 0 : metric->value.load(std::memory_order_relaxed);
}

uint64_t now_ns() {
    auto since_epoch = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count());
}

}  // namespace

const portico_core_api* core_api() {
    static const portico_core_api table = [] {
        portico_core_api t;
        PORTICO_INIT(&t);
        t.log = log;
        t.log_enabled = log_enabled;
        t.metric_define = metric_define;
        t.metric_add = metric_add;
        t.metric_set = metric_set;
        t.metric_get = metric_get;
        t.now_ns = now_ns;
        return t;
    }();
    return &table;
}

std::vector<MetricReading> read_metrics() {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    std::vector<MetricReading> out;
    for (const portico_metric& metric : r.metrics) {
        out.push_back({metric.name, metric.kind, metric.value.load(std::memory_order_relaxed)});
    }
    return out;
}

}  // namespace portico::plugins
