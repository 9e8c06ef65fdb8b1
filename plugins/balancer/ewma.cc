#include "ewma.h"

#include <algorithm>
#include <cmath>

namespace portico::balancer {

namespace {

bool is_failure(Outcome outcome) {
    return outcome == Outcome::ConnectFailure || outcome == Outcome::Reset || outcome == Outcome::Timeout;
}

}  // namespace

void Ewma::rebuild(const EndpointSet& next) {
    // Histories follow their endpoints by id; the mean is recounted over the new eligible set.
    const uint64_t now_ns = load().now_ns();
    std::vector<State> state(next.all().size());
    for (size_t position = 0; position < state.size(); ++position) {
        const size_t old = endpoints().position_of(next[position].id);
        if (old != kNone) {
            state[position] = state_[old];
        } else {
            state[position].stamp_ns = now_ns;  // joined now
        }
    }
    double sum = 0;
    size_t count = 0;
    for (uint32_t position : next.eligible()) {
        if (!state[position].sampled) continue;
        sum += state[position].ewma_us;
        ++count;
    }
    DistinctDraw draw(next.eligible());
    state_.swap(state);
    draw_ = std::move(draw);
    sampled_sum_us_ = sum;
    sampled_count_ = count;
}

void Ewma::reset() noexcept {
    state_.clear();
    draw_ = DistinctDraw();
    sampled_sum_us_ = 0;
    sampled_count_ = 0;
}

double Ewma::neutral_us() const {
    if (sampled_count_ == 0) return kUnknownLatencyUs;
    return std::max(sampled_sum_us_ / static_cast<double>(sampled_count_), kLatencyFloorUs);
}

double Ewma::latency_now_us(size_t position, uint64_t now_ns) const {
    const State& state = state_[position];
    const double idle_ns = now_ns > state.stamp_ns ? static_cast<double>(now_ns - state.stamp_ns) : 0.0;
    const double average = state.sampled ? state.ewma_us : neutral_us();
    return std::max(average * std::exp(-idle_ns / static_cast<double>(options_.decay_ns)), kLatencyFloorUs);
}

double Ewma::latency_us(uint32_t id) const {
    const size_t position = endpoints().position_of(id);
    return position == kNone ? -1.0 : latency_now_us(position, load().now_ns());
}

size_t Ewma::pick(const Request&, const Avoid& avoid) {
    const uint64_t now_ns = load().now_ns();
    size_t best = kNone;
    double best_cost = 0;
    draw_.draw(rng(), 2, avoid, [&](size_t position) {
        const double active = static_cast<double>(load().active_requests(position));
        const double cost = latency_now_us(position, now_ns) * (active + 1.0) / endpoints()[position].weight;
        if (best == kNone || cost < best_cost) {
            best = position;
            best_cost = cost;
        }
    });
    return best;
}

void Ewma::learn(size_t position, Outcome outcome, uint64_t latency_us) {
    const uint64_t now_ns = load().now_ns();
    double sample = static_cast<double>(latency_us);
    if (is_failure(outcome)) sample = std::max(sample, kFailurePenaltyFactor * neutral_us());

    State& state = state_[position];
    const double before = state.ewma_us;
    const bool was_sampled = state.sampled;
    if (!state.sampled || sample > state.ewma_us) {
        state.ewma_us = sample;  // the first sample replaces the neutral guess; a peak replaces the average
    } else {
        const double dt_ns = now_ns > state.stamp_ns ? static_cast<double>(now_ns - state.stamp_ns) : 0.0;
        const double w = std::exp(-dt_ns / static_cast<double>(options_.decay_ns));
        state.ewma_us = state.ewma_us * w + sample * (1.0 - w);
    }
    state.sampled = true;
    state.stamp_ns = now_ns;

    if (!is_eligible(endpoints()[position].health)) return;
    if (was_sampled) {
        sampled_sum_us_ = std::max(sampled_sum_us_ + state.ewma_us - before, 0.0);
    } else {
        sampled_sum_us_ += state.ewma_us;
        ++sampled_count_;
    }
}

}  // namespace portico::balancer
