// `ring_hash`: consistent hashing on a ketama ring (Karger et al.; libketama; Envoy's RING_HASH). Every eligible
// endpoint puts points on a 64-bit ring, xxHash64("<address>_<i>") for i = 0, 1, ..., as many as its weight
// asks; a key goes to the first point at or after xxHash64(key), wrapping around. O(log ring) a pick.
//
// Ring size. Envoy gives the lightest endpoint ceil(its share * min_ring_size) points and scales the others to
// it, so every endpoint's count depends on how many others there are: with ten equal endpoints each has 103
// points, with nine 114, and the 11 new points of each survivor take keys from the others, so removing one of
// ten endpoints moves ~18% of the keys instead of its own ~10% (measured). Here an endpoint has
//     ceil(weight * 2^k) points
// with one power of two 2^k for the pool: the smallest that puts at least `min_ring_size` points on the ring of
// the whole pool, halved while that ring would exceed `max_ring_size`. The whole pool counts every endpoint,
// whatever its health, HEALTHY ones at their weight and the others at the HEALTHY endpoints' mean weight: the
// host reports 0 for an UNHEALTHY endpoint and a reduced weight for a DEGRADED one in slow start, and a sizing
// that followed those would rescale everyone's points whenever one endpoint's health changed (seen through the
// proxy: an ejection moved 17% of the other endpoints' keys). An endpoint's points then change only with its own
// weight, and the others' stay where they were:
//   - an endpoint ejected, draining, or ramped by slow start moves only keys to and from itself;
//   - endpoints joining or leaving the pool move only their own keys, unless the pool's total weight crosses a
//     factor of two: then 2^k halves or doubles and about half the keys move, once. Envoy's continuous sizing
//     moves an extra ~1/n of the keys on every such change instead.
// Ten endpoints of weight 1: 2^7 = 128 points each, 1280 in all (between min_ring_size and twice it for the
// whole pool). 12 bytes a point, per pool and worker.
//
// An empty key is hashed by nobody: the pick is weighted random. A retry walks on along the ring to the next
// endpoint not yet tried, so a key's second choice is as stable as its first.
#pragma once

#include <cstdint>
#include <vector>

#include "policy.h"
#include "weighted_pick.h"

namespace portico::balancer {

struct RingHashOptions {
    uint64_t min_ring_size = 1024;     // 1..8388608
    uint64_t max_ring_size = 8388608;  // min_ring_size..8388608
};

class RingHash final : public Policy {
public:
    RingHash(const Load& load, uint64_t seed, RingHashOptions options) : Policy(load, seed), options_(options) {}

    size_t ring_size() const { return points_.size(); }
    // ceil(weight * 2^exponent): an endpoint's points.
    static uint64_t points_for(uint32_t weight, int exponent);

private:
    void rebuild(const EndpointSet& next) override;
    void reset() noexcept override;
    size_t pick(const Request& request, const Avoid& avoid) override;
    int scale_exponent(const EndpointSet& set) const;

    RingHashOptions options_;
    std::vector<uint64_t> points_;  // sorted
    std::vector<uint32_t> owners_;  // the endpoint position of each point
    WeightedPick random_;
};

}  // namespace portico::balancer
