// portico_pool, the ABI's opaque type for "one upstream's endpoints as a balancer sees them": one worker's copy,
// rebuilt from the shared UpstreamState when it changes, so a balancer reads plain memory on every choice.
#pragma once

#include <portico/abi.h>

#include <vector>

#include "upstream/upstream_state.h"

struct portico_pool {
    portico::upstream::UpstreamState* state = nullptr;
    std::vector<portico_endpoint> endpoints;  // index = endpoint index = id; addresses point into `state`
};
