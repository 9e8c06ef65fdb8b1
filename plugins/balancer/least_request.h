// `least_request`: Envoy's LEAST_REQUEST, in its two modes.
//
// Equal weights (the eligible endpoints all have one weight): power of `choices` choices (Mitzenmacher). Draw
// `choices` distinct endpoints at random and take the one with the fewest active requests (the first drawn on a
// tie). O(choices). The busiest endpoint never gets a new request until it is no busier than another.
//
// Different weights (set by the user, or while slow start ramps an endpoint): Envoy's earliest-deadline-first
// schedule with load-scaled weights. Every eligible endpoint waits in a min-heap by deadline; a pick takes the
// earliest, moves the clock to its deadline, and puts it back 1 / w later, where
//     w = weight / (active + 1) ^ active_request_bias
// is read at that moment. With no requests in flight this is exact weighted round robin; a busy endpoint gets
// picked less often without ever draining completely. O(log n). `choices` plays no part in this mode.
//
// Why not weighted random over all endpoints with the load-scaled weights: reading every endpoint's live count
// makes each pick O(n); the schedule reads one.
#pragma once

#include <cstdint>
#include <vector>

#include "distinct_draw.h"
#include "policy.h"

namespace portico::balancer {

struct LeastRequestOptions {
    uint32_t choices = 2;              // 2..100
    double active_request_bias = 1.0;  // 0..10; 0 ignores the load in the weighted mode
};

class LeastRequest final : public Policy {
public:
    LeastRequest(const Load& load, uint64_t seed, LeastRequestOptions options)
        : Policy(load, seed), options_(options) {}

private:
    struct Entry {
        double deadline;
        uint64_t order;  // FIFO among equal deadlines
        uint32_t position;
    };
    struct Later {
        bool operator()(const Entry& a, const Entry& b) const {
            return a.deadline != b.deadline ? a.deadline > b.deadline : a.order > b.order;
        }
    };

    void rebuild(const EndpointSet& next) override;
    void reset() noexcept override;
    size_t pick(const Request& request, const Avoid& avoid) override;
    size_t pick_choices(const Avoid& avoid);
    size_t pick_schedule(const Avoid& avoid);
    double scaled_weight(size_t position) const;

    LeastRequestOptions options_;
    bool weighted_ = false;
    DistinctDraw draw_;
    std::vector<Entry> heap_;     // min-heap by (deadline, order)
    std::vector<Entry> skipped_;  // tried entries set aside during one pick; capacity reserved by rebuild
    double now_ = 0;              // the schedule's virtual time: the deadline of the last pick
    uint64_t next_order_ = 0;
};

}  // namespace portico::balancer
