// Where a worker draining after a reload sends its idle client connections: the worker with the same index in the
// newest generation, so a reload closes no keep-alive connection (a close races with a request the client may be
// sending on it). One Handoff per worker index, shared across generations; the main thread retargets it.
#pragma once

#include <mutex>
#include <string>

namespace portico::proxy {

class Worker;

class Handoff {
public:
    // Main thread: the worker that takes connections from now on (null: none, e.g. shutting down).
    void set_target(Worker* worker);
    // Any worker: passes the idle connection `fd` to the target; false when there is none (the caller closes fd).
    bool pass(int fd, const std::string& client_ip);
    // A worker whose loop has ended: never a target again.
    void retire(Worker* worker);

private:
    std::mutex mutex_;  // held while passing, so a retired worker can no longer be handed anything
    Worker* target_ = nullptr;
};

}  // namespace portico::proxy
