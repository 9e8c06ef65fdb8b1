// One balancer instance: one upstream pool on one worker thread. It copies the host's snapshot into the policy's
// endpoint view on lb_new and on every on_pool_update, answers the policy's questions about live load through
// host->lb, and turns the ABI's context and outcomes into the policy's terms. Worker-local: no locks.
#pragma once

#include <portico/abi.h>

#include <memory>
#include <vector>

#include "config.h"
#include "policy.h"

namespace portico::balancer {

class LbInstance final : public Load {
public:
    // Throws on allocation failure or a host without a usable lb table.
    LbInstance(const BalancerConfig& config, const portico_pool* pool);

    // A new snapshot. Strong guarantee: on an exception nothing changed (the caller then calls fail()).
    void update(const portico_pool* pool);
    // After a failed update: forget every endpoint (choose answers PORTICO_E_NO_HOST until the next update) rather
    // than choose from a snapshot the host has replaced. Never throws.
    void fail(const portico_pool* pool) noexcept;

    portico_status choose(const portico_lb_context* ctx, uint32_t* endpoint_id);
    void on_result(uint32_t endpoint_id, portico_lb_outcome outcome, uint64_t latency_us);

    // Load
    uint64_t active_requests(size_t position) const override;
    uint64_t now_ns() const override;

    void log(portico_log_level level, const char* message) const noexcept;

private:
    void note_update(size_t size, size_t count, size_t unreadable) const noexcept;

    const BalancerConfig& config_;
    const portico_lb_api* lb_;
    // The pool handle of the latest snapshot: choose() gets none, and live figures are read by snapshot index.
    const portico_pool* pool_ = nullptr;
    std::vector<size_t> snapshot_index_;  // by policy position
    std::unique_ptr<Policy> policy_;
};

// The policy a config names, over `load`, its generator seeded with `seed`.
std::unique_ptr<Policy> make_policy(const BalancerConfig& config, const Load& load, uint64_t seed);

}  // namespace portico::balancer
