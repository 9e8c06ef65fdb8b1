// portico_lb_api: what a BALANCER plugin reads of its pool. The snapshot part (ids, addresses, weights, health)
// is the worker's copy; the stats are live figures from the shared state.
#include "plugins/lb_api.h"

#include <cstddef>
#include <cstring>

#include "upstream/pool_snapshot.h"

namespace portico::plugins {

namespace {

size_t pool_size(const portico_pool* pool) { return pool ? pool->endpoints.size() : 0; }

portico_status endpoint_get(const portico_pool* pool, size_t index, portico_endpoint* out) {
    if (pool == nullptr || out == nullptr) return PORTICO_E_BAD_ARG;
    if (index >= pool->endpoints.size()) return PORTICO_E_NOT_FOUND;
    // A plugin built against an older, shorter struct gets the fields it knows (struct_size says how many).
    uint32_t size = out->struct_size;
    if (size < offsetof(portico_endpoint, id) + sizeof out->id) return PORTICO_E_BAD_ARG;
    const portico_endpoint& from = pool->endpoints[index];
    std::memcpy(reinterpret_cast<char*>(out) + sizeof size, reinterpret_cast<const char*>(&from) + sizeof size,
                std::min<size_t>(size, sizeof from) - sizeof size);
    return PORTICO_OK;
}

portico_status endpoint_stat(const portico_pool* pool, size_t index, portico_endpoint_stat stat, uint64_t* out) {
    if (pool == nullptr || out == nullptr) return PORTICO_E_BAD_ARG;
    if (index >= pool->endpoints.size()) return PORTICO_E_NOT_FOUND;
    const upstream::EndpointState& e = pool->state->endpoint(index);
    constexpr auto relaxed = std::memory_order_relaxed;
    switch (stat) {
        case PORTICO_STAT_ACTIVE_REQUESTS: *out = e.active_requests.load(relaxed); return PORTICO_OK;
        case PORTICO_STAT_EWMA_LATENCY_US: *out = e.ewma_latency_us.load(relaxed); return PORTICO_OK;
        case PORTICO_STAT_CONNECT_FAILURES: *out = e.consecutive_failures.load(relaxed); return PORTICO_OK;
        case PORTICO_STAT_TOTAL_REQUESTS: *out = e.requests.load(relaxed); return PORTICO_OK;
        default: return PORTICO_E_NOT_FOUND;
    }
}

}  // namespace

const portico_lb_api* lb_api() {
    static const portico_lb_api table = [] {
        portico_lb_api t;
        PORTICO_INIT(&t);
        t.pool_size = pool_size;
        t.endpoint_get = endpoint_get;
        t.endpoint_stat = endpoint_stat;
        return t;
    }();
    return &table;
}

}  // namespace portico::plugins
