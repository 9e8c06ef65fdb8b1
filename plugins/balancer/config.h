// A balancer factory's configuration: one per `balancer = { use = "<policy>", ... }` of an upstream, read once on
// the main thread through the host's typed getters and shared read-only by every worker's instances. Each policy
// asks only for its own keys, so the host rejects a key that belongs to another policy as unknown.
#pragma once

#include <portico/abi.h>

#include <cstdint>

#include "ewma.h"
#include "least_request.h"
#include "maglev.h"
#include "ring_hash.h"

namespace portico::balancer {

enum class Algorithm { RoundRobin, LeastRequest, Ewma, RingHash, Maglev, Random };

// The factory name, as `use = "..."` names it.
const char* factory_name(Algorithm algorithm);

struct BalancerConfig {
    Algorithm algorithm = Algorithm::RoundRobin;
    const portico_host_api* host = nullptr;
    LeastRequestOptions least_request;  // `choices`, `active_request_bias`
    EwmaOptions ewma;                   // `decay`
    RingHashOptions ring_hash;          // `min_ring_size`, `max_ring_size`
    MaglevOptions maglev;               // `table_size`
};

// Limits of the keys, as the messages state them.
inline constexpr int64_t kMinChoices = 2;
inline constexpr int64_t kMaxChoices = 100;
inline constexpr double kMaxActiveRequestBias = 10.0;
inline constexpr uint64_t kMinDecayMs = 1;
inline constexpr uint64_t kMaxDecayMs = 3'600'000;
inline constexpr int64_t kMaxRingSize = 8'388'608;  // Envoy's limit: 2^23 points
inline constexpr int64_t kMinTableSize = 3;
inline constexpr int64_t kMaxTableSize = 5'000'011;  // Envoy's limit

// Reads `cfg` for `algorithm`; on a bad value reports it through host->config->error at its key and returns
// PORTICO_E_CONFIG.
portico_status read_config(const portico_host_api* host, const portico_config* cfg, Algorithm algorithm,
                           BalancerConfig& out);

}  // namespace portico::balancer
