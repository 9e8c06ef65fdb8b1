// Active health checks: one thread with its own event loop sends an HTTP GET to every endpoint of every upstream
// that has `health` configured, every interval, whether traffic flows or not. `fall` failed checks in a row take an
// endpoint DOWN, `rise` passed checks bring it back UP; UpstreamState logs and publishes each change.
#pragma once

#include <memory>
#include <thread>
#include <vector>

#include "net/buffer.h"
#include "net/event_loop.h"
#include "upstream/upstream_state.h"

namespace portico::plugins {
class PluginSet;
}

namespace portico::upstream {

class HealthChecker {
public:
    // `plugins` (may be null) gives the upstreams' transports: a TLS upstream is checked over TLS.
    HealthChecker(UpstreamStates& upstreams, const plugins::PluginSet* plugins);
    ~HealthChecker();  // stops the thread
    HealthChecker(const HealthChecker&) = delete;
    HealthChecker& operator=(const HealthChecker&) = delete;

    // Starts the thread (nothing happens when no upstream has checks). The first checks go out at once.
    void start();
    void stop();

private:
    class Probe;
    net::EventLoop loop_;
    net::BufferPool buffers_{16 * 1024, 16};  // TLS checks' wire buffers, on the checker's thread
    std::vector<std::unique_ptr<Probe>> probes_;
    std::thread thread_;
};

}  // namespace portico::upstream
