#include "least_request.h"

#include <algorithm>
#include <cmath>

namespace portico::balancer {

namespace {

// Past this virtual time the deadlines are shifted back to zero, so that 1 / w stays far above a double's
// resolution however long the instance lives. Rare: the clock moves about 1 / (total weight) per pick.
constexpr double kRebaseAfter = 1e9;

}  // namespace

void LeastRequest::rebuild(const EndpointSet& next) {
    DistinctDraw draw(next.eligible());
    std::vector<Entry> heap;
    std::vector<Entry> skipped;
    const bool weighted = !next.eligible_equal_weights();
    if (weighted) {
        heap.reserve(next.eligible().size());
        skipped.reserve(next.eligible().size());
        // Each endpoint starts at a random point of its first period, as Envoy's scheduler starts after a random
        // number of picks: the workers' schedules do not move in step, and the long-run shares stay exact.
        uint64_t order = 0;
        for (uint32_t position : next.eligible())
            heap.push_back(Entry{rng().unit() / next[position].weight, order++, position});
        std::make_heap(heap.begin(), heap.end(), Later{});
    }
    weighted_ = weighted;
    draw_ = std::move(draw);
    heap_.swap(heap);
    skipped_.swap(skipped);
    now_ = 0;
    next_order_ = heap_.size();
}

void LeastRequest::reset() noexcept {
    draw_ = DistinctDraw();
    heap_.clear();
    skipped_.clear();
}

size_t LeastRequest::pick(const Request&, const Avoid& avoid) {
    return weighted_ ? pick_schedule(avoid) : pick_choices(avoid);
}

size_t LeastRequest::pick_choices(const Avoid& avoid) {
    size_t best = kNone;
    uint64_t best_active = 0;
    draw_.draw(rng(), options_.choices, avoid, [&](size_t position) {
        const uint64_t active = load().active_requests(position);
        if (best == kNone || active < best_active) {
            best = position;
            best_active = active;
        }
    });
    return best;
}

double LeastRequest::scaled_weight(size_t position) const {
    const double weight = endpoints()[position].weight;
    const double bias = options_.active_request_bias;
    if (bias == 0.0) return weight;
    const double active_plus_one = static_cast<double>(load().active_requests(position)) + 1.0;
    return bias == 1.0 ? weight / active_plus_one : weight / std::pow(active_plus_one, bias);
}

size_t LeastRequest::pick_schedule(const Avoid& avoid) {
    // Tried endpoints are lifted off the heap and put back untouched: they keep their place for later requests.
    skipped_.clear();
    Entry chosen{0, 0, static_cast<uint32_t>(kNone)};
    bool found = false;
    while (!heap_.empty()) {
        std::pop_heap(heap_.begin(), heap_.end(), Later{});
        Entry entry = heap_.back();
        heap_.pop_back();
        if (avoid(entry.position)) {
            skipped_.push_back(entry);
            continue;
        }
        chosen = entry;
        found = true;
        break;
    }
    for (const Entry& entry : skipped_) {
        heap_.push_back(entry);
        std::push_heap(heap_.begin(), heap_.end(), Later{});
    }
    if (!found) return kNone;

    now_ = chosen.deadline;
    chosen.deadline = now_ + 1.0 / scaled_weight(chosen.position);
    chosen.order = next_order_++;
    heap_.push_back(chosen);
    std::push_heap(heap_.begin(), heap_.end(), Later{});
    if (now_ > kRebaseAfter) {
        for (Entry& entry : heap_) entry.deadline -= now_;  // a uniform shift keeps the heap ordered
        now_ = 0;
    }
    return chosen.position;
}

}  // namespace portico::balancer
