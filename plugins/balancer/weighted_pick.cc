#include "weighted_pick.h"

#include <algorithm>

namespace portico::balancer {

namespace {

// Retries pass over the endpoints already tried by drawing again; after this many misses (most of the weight was
// tried) one pass over the untried ones finishes the job, so a draw never loops for long.
constexpr int kRedraws = 16;

}  // namespace

WeightedPick::WeightedPick(const EndpointSet& set) : positions_(set.eligible()) {
    cumulative_.reserve(positions_.size());
    uint64_t total = 0;
    for (uint32_t position : positions_) {
        total += set[position].weight;
        cumulative_.push_back(total);
    }
}

size_t WeightedPick::pick(Rng& rng, const Avoid& avoid) const {
    if (positions_.empty()) return kNone;
    const uint64_t total = cumulative_.back();
    for (int draw = 0; draw < kRedraws; ++draw) {
        const uint64_t r = rng.below(total);
        const size_t k = std::upper_bound(cumulative_.begin(), cumulative_.end(), r) - cumulative_.begin();
        if (!avoid(positions_[k])) return positions_[k];
    }
    uint64_t untried_total = 0;
    for (size_t k = 0; k < positions_.size(); ++k) {
        if (!avoid(positions_[k])) untried_total += cumulative_[k] - (k == 0 ? 0 : cumulative_[k - 1]);
    }
    if (untried_total == 0) return kNone;
    uint64_t r = rng.below(untried_total);
    for (size_t k = 0; k < positions_.size(); ++k) {
        if (avoid(positions_[k])) continue;
        const uint64_t weight = cumulative_[k] - (k == 0 ? 0 : cumulative_[k - 1]);
        if (r < weight) return positions_[k];
        r -= weight;
    }
    return kNone;
}

}  // namespace portico::balancer
