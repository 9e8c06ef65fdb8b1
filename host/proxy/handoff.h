// Where a worker draining after a reload sends its idle client connections: the worker with the same index in the
// newest generation, so a reload closes no keep-alive connection (a close races with a request the client may be
// sending on it). One Handoff per worker index, shared across generations; the main thread retargets it.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "plugins/transport_conn.h"

namespace portico::proxy {

class Worker;

// An idle client connection on its way to another worker: the socket, and its transport's state (TLS keeps its
// keys and its config: a reload that changed the certificates applies to new connections only).
struct HandedOver {
    int fd = -1;
    std::string client_ip;
    size_t listener = 0;  // index into config.listeners (a reload keeps the listeners)
    std::unique_ptr<plugins::TransportConn> transport;
};

class Handoff {
public:
    // Main thread: the worker that takes connections from now on (null: none, e.g. shutting down).
    void set_target(Worker* worker);
    // Any worker: passes the idle connection to the target (moving from `connection`); false when there is none
    // (the caller closes the fd).
    bool pass(HandedOver& connection);
    // A worker whose loop has ended: never a target again.
    void retire(Worker* worker);

private:
    std::mutex mutex_;  // held while passing, so a retired worker can no longer be handed anything
    Worker* target_ = nullptr;
};

}  // namespace portico::proxy
