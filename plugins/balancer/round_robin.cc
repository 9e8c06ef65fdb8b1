#include "round_robin.h"

namespace portico::balancer {

void RoundRobin::rebuild(const EndpointSet& next) {
    // Current weights follow their endpoints across snapshots (slow start changes weights often); resetting them
    // would hand the next turn to the first endpoint every time.
    std::vector<int64_t> current(next.all().size(), 0);
    for (size_t position = 0; position < current.size(); ++position) {
        const size_t old = endpoints().position_of(next[position].id);
        if (old != kNone) current[position] = current_[old];
    }
    current_.swap(current);
}

void RoundRobin::reset() noexcept {
    current_.clear();
}

size_t RoundRobin::pick(const Request&, const Avoid& avoid) {
    // Tried endpoints sit the round out, as nginx skips its tried peers: their current weight stays as it was.
    const EndpointSet& set = endpoints();
    int64_t total = 0;
    size_t best = kNone;
    for (uint32_t position : set.eligible()) {
        if (avoid(position)) continue;
        const int64_t weight = set[position].weight;
        current_[position] += weight;
        total += weight;
        if (best == kNone || current_[position] > current_[best]) best = position;
    }
    if (best != kNone) current_[best] -= total;
    return best;
}

}  // namespace portico::balancer
