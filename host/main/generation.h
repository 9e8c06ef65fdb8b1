// One configuration at work: its plugins' configurations, its upstreams' shared state, its workers and its health
// checker. A reload (SIGHUP) starts a new generation beside the running one, on copies of the same listening
// sockets, then drains the old one as SIGTERM would, without stopping the process: requests in flight finish on
// the configuration (and endpoints) they started with, new ones see the new configuration.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "plugins/plugin_set.h"
#include "proxy/access_log.h"
#include "proxy/worker.h"
#include "upstream/health_checker.h"
#include "upstream/upstream_state.h"

namespace portico {

class Generation {
public:
    // `fds[w][l]`: worker w's socket for listener l, owned by the generation from here on. `plugins` is
    // configured for `config`. `previous` (may be null) hands over what its endpoints' health checks and
    // ejections found. Null when a worker could not start (logged); nothing is left running then.
    // `handoffs[w]` is worker w's handoff (shared with the other generations' worker w); the new workers become
    // their targets once they are all up.
    static std::unique_ptr<Generation> start(std::shared_ptr<const config::Config> config,
                                             std::unique_ptr<plugins::PluginSet> plugins,
                                             std::vector<std::vector<int>> fds, proxy::AccessLog& access_log,
                                             const std::vector<std::shared_ptr<proxy::Handoff>>& handoffs,
                                             const Generation* previous);
    ~Generation();  // stops what still runs and joins the threads
    Generation(const Generation&) = delete;
    Generation& operator=(const Generation&) = delete;

    const config::Config& config() const { return *config_; }
    const plugins::PluginSet& plugins() const { return *plugins_; }

    // Stop accepting, let in-flight requests finish; the health checks stop. Idle connections are closed, or
    // with `hand_over` (a reload) passed to the newer generation, busy ones after their response.
    void drain(bool hand_over);
    bool finished() const;
    // Close everything now (drain timeout).
    void stop_now();

private:
    Generation() = default;

    std::shared_ptr<const config::Config> config_;
    std::unique_ptr<plugins::PluginSet> plugins_;  // outlives the workers (their worker_fini runs on their threads)
    upstream::UpstreamStates upstreams_;           // outlives the workers and the health checker
    std::vector<std::unique_ptr<proxy::Worker>> workers_;
    std::unique_ptr<upstream::HealthChecker> health_;
};

}  // namespace portico
