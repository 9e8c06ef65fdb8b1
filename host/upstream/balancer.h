// Choosing an endpoint for one attempt, per upstream and per worker: the upstream's BALANCER plugin when it has
// one, the host's round robin otherwise. Either way the host keeps its promises whatever a plugin answers: an
// UNHEALTHY or DRAINING endpoint is never used while an eligible one exists, a retry never goes to an endpoint
// already tried while an eligible untried one exists, and none eligible means 503 at once.
#pragma once

#include <portico/abi.h>

#include <cstdint>
#include <string_view>

#include "upstream/pool_snapshot.h"

namespace Poco {
class Logger;
}

namespace portico::plugins {
struct BalancerInstance;
}

namespace portico::upstream {

class Balancer {
public:
    // `plugin` may be null (the host's round robin). Construct and destroy on the worker's thread (lb_new and
    // lb_free are worker hooks).
    Balancer(UpstreamState& state, const plugins::BalancerInstance* plugin, unsigned worker_index, int64_t now_ms);
    ~Balancer();
    Balancer(const Balancer&) = delete;
    Balancer& operator=(const Balancer&) = delete;

    // False when the plugin's lb_new failed (the worker does not start).
    bool ready() const { return plugin_ == nullptr || lb_ != nullptr; }

    // The endpoint index for attempt number `attempt` (1 = first), avoiding `tried`; -1 when no endpoint is
    // eligible (the caller answers 503).
    int choose(const uint32_t* tried, size_t n_tried, uint32_t attempt, std::string_view hash_key,
               portico_stream* stream, int64_t now_ms);
    void on_result(size_t endpoint, portico_lb_outcome outcome, uint64_t latency_us);

private:
    void refresh(int64_t now_ms);
    bool eligible(size_t endpoint) const;
    bool untried_eligible(const uint32_t* tried, size_t n_tried) const;
    int round_robin(const uint32_t* tried, size_t n_tried);

    UpstreamState& state_;
    const plugins::BalancerInstance* plugin_;
    void* lb_ = nullptr;
    portico_pool pool_;
    uint64_t generation_ = 0;
    int64_t valid_until_ms_ = 0;
    size_t eligible_count_ = 0;
    size_t next_ = 0;               // round robin
    bool warned_ = false;           // a plugin broke the contract: logged once per balancer
};

}  // namespace portico::upstream
