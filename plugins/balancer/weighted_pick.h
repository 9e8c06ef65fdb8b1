// Weighted random choice among a set's eligible endpoints: running totals and a binary search, O(log n) a draw.
// The random policy is this alone; the hashing policies fall back to it when a request has no hash key.
#pragma once

#include <cstdint>
#include <vector>

#include "policy.h"

namespace portico::balancer {

class WeightedPick {
public:
    WeightedPick() = default;
    explicit WeightedPick(const EndpointSet& set);

    // A position drawn with probability weight / total among the endpoints `avoid` lets through (at least one
    // must). kNone only when the set had no eligible endpoint.
    size_t pick(Rng& rng, const Avoid& avoid) const;

private:
    std::vector<uint64_t> cumulative_;  // running totals of the eligible weights, in the set's eligible order
    std::vector<uint32_t> positions_;
};

}  // namespace portico::balancer
