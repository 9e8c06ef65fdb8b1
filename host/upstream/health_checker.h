// Active health checks: one thread with its own event loop sends an HTTP GET to every endpoint of every upstream
// that has `health` configured, every interval, whether traffic flows or not. `fall` failed checks in a row take an
// endpoint DOWN, `rise` passed checks bring it back UP; UpstreamState logs and publishes each change.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "net/event_loop.h"
#include "upstream/upstream_state.h"

namespace portico::upstream {

class HealthChecker {
public:
    explicit HealthChecker(UpstreamStates& upstreams);
    ~HealthChecker();  // stops the thread
    HealthChecker(const HealthChecker&) = delete;
    HealthChecker& operator=(const HealthChecker&) = delete;

    // Starts the thread (nothing happens when no upstream has checks). The first checks go out at once.
    void start();
    void stop();

private:
    class Probe;
    net::EventLoop loop_;
    std::vector<std::unique_ptr<Probe>> probes_;
    std::thread thread_;
};

}  // namespace portico::upstream
