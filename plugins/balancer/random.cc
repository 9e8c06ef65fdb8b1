#include "random.h"

namespace portico::balancer {

void RandomPolicy::rebuild(const EndpointSet& next) {
    picker_ = WeightedPick(next);
}

void RandomPolicy::reset() noexcept {
    picker_ = WeightedPick();
}

size_t RandomPolicy::pick(const Request&, const Avoid& avoid) {
    return picker_.pick(rng(), avoid);
}

}  // namespace portico::balancer
