// What the whole process knows about one upstream's endpoints: health from active checks (the health-checker
// thread writes it), passive ejections and slow start (workers write them from real outcomes), and the
// per-endpoint counters (requests, failures, active requests, latency) that balancers read and metrics publish.
//
// Shared by every worker, so every field is an atomic read and written with relaxed order: each is a figure on its
// own, nothing is derived from two of them at once, and a stale read costs at most one request's choice. A
// change that balancers must see (up, down, ejected) bumps `generation`, which workers compare on each choice
// before they rebuild their snapshot; changes that happen by the clock (an ejection ending, a slow-start step)
// are found through next_change_ms() instead, so no thread has to wake up for them.
#pragma once

#include <portico/abi.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "config/config.h"

namespace Poco {
class Logger;
}

namespace portico::upstream {

struct EndpointState {
    std::atomic<bool> checks_down{false};         // active checks took it DOWN
    std::atomic<int64_t> ejected_until_ms{0};     // passive: no traffic until then (monotonic ms)
    std::atomic<int64_t> last_ejection_end_ms{0};
    std::atomic<int64_t> return_logged_ms{0};     // the ejection (by its end time) whose end was logged
    std::atomic<uint32_t> ejections{0};           // in a row: the n-th ejection lasts n x base_ejection
    std::atomic<uint32_t> consecutive_failures{0};
    std::atomic<int64_t> ramp_start_ms{0};        // back from DOWN at this time: slow start runs from here
    // Counters, for balancers and metrics.
    std::atomic<uint32_t> active_requests{0};
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> failures{0};
    std::atomic<uint64_t> ewma_latency_us{0};
};

// Balancers see weights in these units, so that slow start can reduce a weight of 1 (relative shares only).
constexpr uint32_t kWeightScale = 100;

class UpstreamState {
public:
    UpstreamState(const config::Upstream& config, Poco::Logger& log);
    UpstreamState(const UpstreamState&) = delete;
    UpstreamState& operator=(const UpstreamState&) = delete;

    const config::Upstream& config() const { return config_; }
    const std::string& name() const { return config_.name; }
    size_t size() const { return texts_.size(); }
    EndpointState& endpoint(size_t i) { return endpoints_[i]; }
    const EndpointState& endpoint(size_t i) const { return endpoints_[i]; }
    // "127.0.0.1:9001": for logs and for recognising the endpoint in a Location header.
    const std::string& text(size_t i) const { return texts_[i]; }
    uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

    // As a balancer sees endpoint i at `now_ms`: UNHEALTHY when checks say DOWN or it is ejected, DEGRADED while
    // slow start ramps its weight up, HEALTHY otherwise.
    portico_health health(size_t i, int64_t now_ms) const;
    // Its weight in kWeightScale units, slow start applied (>= 1).
    uint32_t effective_weight(size_t i, int64_t now_ms) const;
    // When health() or effective_weight() of some endpoint changes by the clock alone; INT64_MAX if never.
    int64_t next_change_ms(int64_t now_ms) const;
    // Logs, once, each endpoint whose ejection has ended by now (workers call it when their snapshot is rebuilt).
    void log_returns(int64_t now_ms);

    // Reload: what `before` (the previous configuration's state of this upstream) knows of the endpoints both
    // have (same address): DOWN by checks, ejections, slow start. Before any worker uses this state.
    void inherit(const UpstreamState& before);

    // Active checks (the health-checker thread): logs and publishes a state change.
    void set_checked(size_t i, bool up, const std::string& why, int64_t now_ms);

    // One attempt's outcome (workers). A failure may eject the endpoint (logged), within max_ejected_percent.
    void record_success(size_t i, uint64_t latency_us);
    void record_failure(size_t i, const char* why, int64_t now_ms);

    // Retry budget, over a sliding window of about kBudgetWindow: a retry may go out while the retries of the window
    // stay within budget_percent of its requests plus a floor of min_retries_per_second (as Finagle's and
    // Linkerd's budgets), so a sick pool is not hammered and a burst of failures after quiet traffic is still
    // retried. count_request() for every first attempt; try_retry() counts the retry when it is allowed.
    static constexpr int64_t kBudgetWindowMs = 10'000;
    void count_request(int64_t now_ms);
    bool try_retry(const config::RetryPolicy& policy, int64_t now_ms);
    // True at most once per kBudgetWindowMs: a refused retry is logged then, not on every request of an outage.
    bool should_log_budget(int64_t now_ms);

private:
    void eject(size_t i, const char* why, int64_t now_ms);
    void bump() { generation_.fetch_add(1, std::memory_order_release); }
    int64_t ramp_start(size_t i) const;  // the later of a check's recovery and the end of an ejection

    const config::Upstream& config_;
    Poco::Logger& log_;
    std::unique_ptr<EndpointState[]> endpoints_;
    std::vector<std::string> texts_;
    std::atomic<uint64_t> generation_{1};
    // The retry budget's windows: the current one (since window_start_ms_) and the one before it.
    void rotate_budget(int64_t now_ms);
    std::atomic<int64_t> window_start_ms_{0};
    std::atomic<uint64_t> window_requests_{0};
    std::atomic<uint64_t> window_retries_{0};
    std::atomic<uint64_t> previous_requests_{0};
    std::atomic<uint64_t> previous_retries_{0};
    std::mutex rotate_mutex_;  // taken once per window, by the worker that sees it expire
    std::mutex eject_mutex_;   // ejections are rare: the cap is checked and applied as one step
    std::atomic<int64_t> budget_logged_ms_{0};
};

// Every upstream's state, by index into Config::upstreams: made on the main thread before the workers start.
using UpstreamStates = std::vector<std::unique_ptr<UpstreamState>>;

}  // namespace portico::upstream
