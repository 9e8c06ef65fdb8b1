// Distinct uniform random draws from the eligible endpoints, for the power-of-choices policies (least_request with
// equal weights, ewma): a partial Fisher-Yates shuffle over a permutation kept between calls. Any permutation is
// as good a start as the identity, so nothing is reset and a draw of k costs k steps, without allocating.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "policy.h"

namespace portico::balancer {

class DistinctDraw {
public:
    DistinctDraw() = default;
    explicit DistinctDraw(std::vector<uint32_t> positions) : order_(std::move(positions)) {}

    // Calls visit(position) for up to `count` distinct positions that `avoid` lets through (fewer when fewer are
    // left), each set of `count` equally likely.
    template <class Visit>
    void draw(Rng& rng, size_t count, const Avoid& avoid, Visit&& visit) {
        const size_t n = order_.size();
        size_t found = 0;
        for (size_t i = 0; i < n && found < count; ++i) {
            std::swap(order_[i], order_[i + rng.below(n - i)]);
            if (avoid(order_[i])) continue;
            visit(order_[i]);
            ++found;
        }
    }

private:
    std::vector<uint32_t> order_;
};

}  // namespace portico::balancer
