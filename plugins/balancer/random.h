// `random`: weighted random. Stateless apart from the generator, so workers and instances never fall in step,
// and with many proxies in front of one pool it spreads as well as round robin without any coordination.
#pragma once

#include "policy.h"
#include "weighted_pick.h"

namespace portico::balancer {

class RandomPolicy final : public Policy {
public:
    using Policy::Policy;

private:
    void rebuild(const EndpointSet& next) override;
    void reset() noexcept override;
    size_t pick(const Request& request, const Avoid& avoid) override;

    WeightedPick picker_;
};

}  // namespace portico::balancer
