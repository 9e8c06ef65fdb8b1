// `ewma`: peak-EWMA latency with two random choices, as Finagle's and Linkerd's balancers do it.
//
// Each endpoint keeps a peak-sensitive moving average of the latencies on_result reports: a sample above the
// average replaces it at once (a slowdown shows up on the next pick), a sample below pulls it down as
//     ewma = ewma * w + sample * (1 - w),   w = exp(-dt / decay)
// with dt the time since the endpoint's previous sample, so the average forgets at the same rate whatever the
// request rate. A pick draws two distinct endpoints and takes the lower
//     cost = latency * (active + 1) / weight
// where `latency` is the average decayed towards zero by the time since its last sample (Finagle reads it that
// way): an endpoint that stopped being chosen because it was slow is tried again after a while, instead of being
// judged forever by its last bad answer. Latencies count at least 1 us, so the active count always matters.
//
// An endpoint with no sample yet counts as if it had answered in the mean of the eligible endpoints' averages
// (10 ms when none has one) at the moment it joined the pool, and ages from there like any other: neutral on
// arrival, neither flooded as a zero would be nor starved as a pessimistic guess would be, and soon cheaper than
// the endpoints heard from a moment ago, so that even one request at a time reaches it. Its first real sample
// replaces the guess outright. (Without the ageing, an endpoint sampled a millisecond earlier, its average decayed
// by that millisecond, always undercut the undecayed mean: through the proxy, sequential requests never reached
// the other endpoint.)
//
// A connect failure, reset or timeout counts as the larger of its latency and 10 times that mean: a refused
// connection is fast and must not look like a fast endpoint. A 5xx is an answer and counts with its latency (the
// host's outlier detection handles endpoints that fail that way).
#pragma once

#include <cstdint>
#include <vector>

#include "distinct_draw.h"
#include "policy.h"

namespace portico::balancer {

struct EwmaOptions {
    uint64_t decay_ns = 10'000'000'000;  // the time constant `decay`: 1ms..1h
};

class Ewma final : public Policy {
public:
    Ewma(const Load& load, uint64_t seed, EwmaOptions options) : Policy(load, seed), options_(options) {}

    static constexpr double kUnknownLatencyUs = 10'000;
    static constexpr double kFailurePenaltyFactor = 10;
    static constexpr double kLatencyFloorUs = 1;

    // The latency a pick would use for the endpoint with this id now (for tests and debugging); < 0 when absent.
    double latency_us(uint32_t id) const;

private:
    struct State {
        double ewma_us = 0;
        uint64_t stamp_ns = 0;  // when the last sample came; before the first, when the endpoint joined
        bool sampled = false;
    };

    void rebuild(const EndpointSet& next) override;
    void reset() noexcept override;
    size_t pick(const Request& request, const Avoid& avoid) override;
    void learn(size_t position, Outcome outcome, uint64_t latency_us) override;

    double neutral_us() const;
    double latency_now_us(size_t position, uint64_t now_ns) const;

    EwmaOptions options_;
    DistinctDraw draw_;
    std::vector<State> state_;   // by position, every endpoint (an unhealthy one keeps its history)
    double sampled_sum_us_ = 0;  // over the eligible endpoints with a sample
    size_t sampled_count_ = 0;
};

}  // namespace portico::balancer
