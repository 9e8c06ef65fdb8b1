// `round_robin`: nginx's smooth weighted round robin (ngx_http_upstream_get_peer). Each pick adds every
// candidate's weight to its current weight, takes the largest (the first on a tie) and takes the total off it.
// Weights 5:1:1 give a a b a c a a: the heavy endpoint's turns are spread out, not bunched.
//
// A pick visits every eligible endpoint, O(n), as nginx's does: the sequence cannot be produced exactly by a
// cheaper structure (the candidates' current weights grow at different rates). For the pools a proxy balances
// (weights 1..1000, tens to hundreds of endpoints) that is a few hundred additions on contiguous memory.
#pragma once

#include <cstdint>
#include <vector>

#include "policy.h"

namespace portico::balancer {

class RoundRobin final : public Policy {
public:
    using Policy::Policy;

private:
    void rebuild(const EndpointSet& next) override;
    void reset() noexcept override;
    size_t pick(const Request& request, const Avoid& avoid) override;

    std::vector<int64_t> current_;  // nginx's current_weight, by position
};

}  // namespace portico::balancer
