#include "ring_hash.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "hash.h"

namespace portico::balancer {

namespace {

// 2^-32 gives every endpoint (weight < 2^32) a single point; 2^23 gives an endpoint of weight 1 max_ring_size's
// upper limit on its own.
constexpr int kMinExponent = -32;
constexpr int kMaxExponent = 23;

// What names an endpoint on the ring: its address, the same in every worker and every proxy in front of the pool
// (ids are only stable within one process). An endpoint without one falls back to its id.
std::string ring_name(const Endpoint& endpoint) {
    return endpoint.address.empty() ? "#" + std::to_string(endpoint.id) : endpoint.address;
}

// The weight an endpoint counts with when sizing the ring. Its effective weight moves with its health (the host
// reports 0 for an UNHEALTHY endpoint and a reduced weight while slow start ramps a DEGRADED one), and a sizing
// that followed it would rescale every endpoint's points when one endpoint's health changes. So only HEALTHY
// endpoints count with their own weight; every other counts with the HEALTHY endpoints' mean, which is its own
// weight whenever the pool's weights are equal.
uint64_t sizing_weight(const EndpointSet& set, size_t position, uint64_t stand_in) {
    return set[position].health == kHealthy ? set[position].weight : stand_in;
}

}  // namespace

uint64_t RingHash::points_for(uint32_t weight, int exponent) {
    return static_cast<uint64_t>(std::ceil(std::ldexp(static_cast<double>(weight), exponent)));
}

int RingHash::scale_exponent(const EndpointSet& set) const {
    uint64_t healthy_total = 0;
    uint64_t healthy_count = 0;
    for (const Endpoint& endpoint : set.all()) {
        if (endpoint.health != kHealthy) continue;
        healthy_total += endpoint.weight;
        ++healthy_count;
    }
    uint64_t stand_in = 1;
    if (healthy_count > 0) {
        stand_in = (healthy_total + healthy_count - 1) / healthy_count;
    } else if (!set.eligible().empty()) {
        stand_in = (set.eligible_weight_total() + set.eligible().size() - 1) / set.eligible().size();
    }
    auto whole_ring = [&](int exponent) {
        uint64_t size = 0;
        for (size_t position = 0; position < set.all().size(); ++position) {
            size += points_for(static_cast<uint32_t>(sizing_weight(set, position, stand_in)), exponent);
            if (size > options_.max_ring_size) break;  // enough to decide; and no overflow
        }
        return size;
    };
    int low = kMinExponent;
    int high = kMaxExponent;
    while (low < high) {  // the smallest exponent whose ring holds min_ring_size points
        const int mid = low + (high - low) / 2;
        if (whole_ring(mid) >= options_.min_ring_size) {
            high = mid;
        } else {
            low = mid + 1;
        }
    }
    int exponent = low;
    while (exponent > kMinExponent && whole_ring(exponent) > options_.max_ring_size) --exponent;
    return exponent;
}

void RingHash::rebuild(const EndpointSet& next) {
    std::vector<std::pair<uint64_t, uint32_t>> ring;
    if (!next.eligible().empty()) {
        const int exponent = scale_exponent(next);
        uint64_t size = 0;
        for (uint32_t position : next.eligible()) size += points_for(next[position].weight, exponent);
        ring.reserve(size);
        for (uint32_t position : next.eligible()) {
            const uint64_t count = points_for(next[position].weight, exponent);
            std::string name = ring_name(next[position]) + "_";
            const size_t stem = name.size();
            for (uint64_t i = 0; i < count; ++i) {
                name.resize(stem);
                name += std::to_string(i);
                ring.emplace_back(xxhash64(name), position);
            }
        }
        std::sort(ring.begin(), ring.end());
    }
    std::vector<uint64_t> points;
    std::vector<uint32_t> owners;
    points.reserve(ring.size());
    owners.reserve(ring.size());
    for (const auto& [hash, position] : ring) {
        points.push_back(hash);
        owners.push_back(position);
    }
    WeightedPick random(next);
    points_.swap(points);
    owners_.swap(owners);
    random_ = std::move(random);
}

void RingHash::reset() noexcept {
    points_.clear();
    owners_.clear();
    random_ = WeightedPick();
}

size_t RingHash::pick(const Request& request, const Avoid& avoid) {
    if (request.hash_key.empty() || points_.empty()) return random_.pick(rng(), avoid);
    const uint64_t hash = xxhash64(request.hash_key);
    size_t at = std::lower_bound(points_.begin(), points_.end(), hash) - points_.begin();
    // Every eligible endpoint has a point, so the walk meets an untried one within one turn of the ring.
    for (size_t step = 0; step < points_.size(); ++step, ++at) {
        if (at == points_.size()) at = 0;
        if (!avoid(owners_[at])) return owners_[at];
    }
    return kNone;
}

}  // namespace portico::balancer
