#include "policy.h"

#include <algorithm>
#include <utility>

namespace portico::balancer {

EndpointSet::EndpointSet(std::vector<Endpoint> endpoints) : all_(std::move(endpoints)) {
    by_id_.reserve(all_.size());
    for (uint32_t position = 0; position < all_.size(); ++position) {
        Endpoint& endpoint = all_[position];
        endpoint.weight = std::max<uint32_t>(endpoint.weight, 1);  // the ABI promises >= 1; 0 would divide by 0
        by_id_.emplace_back(endpoint.id, position);
    }
    // A duplicate id (a host bug) keeps its first endpoint; the later ones cannot be chosen.
    std::stable_sort(by_id_.begin(), by_id_.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    by_id_.erase(
        std::unique(by_id_.begin(), by_id_.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
        by_id_.end());
    for (const auto& [id, position] : by_id_) {
        if (!is_eligible(all_[position].health)) continue;
        eligible_.push_back(position);
    }
    std::sort(eligible_.begin(), eligible_.end());
    for (uint32_t position : eligible_) {
        weight_total_ += all_[position].weight;
        if (all_[position].weight != all_[eligible_.front()].weight) equal_weights_ = false;
    }
}

size_t EndpointSet::position_of(uint32_t id) const {
    auto it = std::lower_bound(by_id_.begin(), by_id_.end(), id,
                               [](const auto& entry, uint32_t key) { return entry.first < key; });
    return it != by_id_.end() && it->first == id ? it->second : kNone;
}

void Policy::update(std::vector<Endpoint> endpoints) {
    EndpointSet next(std::move(endpoints));
    rebuild(next);
    set_ = std::move(next);
}

void Policy::clear() noexcept {
    reset();
    set_ = EndpointSet();
}

bool Policy::untried_left(const Request& request) const {
    size_t tried_eligible = 0;
    for (size_t i = 0; i < request.n_tried; ++i) {
        size_t position = set_.position_of(request.tried[i]);
        if (position == kNone || !is_eligible(set_[position].health)) continue;
        bool repeated = false;
        for (size_t j = 0; j < i && !repeated; ++j) repeated = request.tried[j] == request.tried[i];
        if (!repeated) ++tried_eligible;
    }
    return tried_eligible < set_.eligible().size();
}

std::optional<uint32_t> Policy::choose(const Request& request) {
    if (set_.eligible().empty()) return std::nullopt;
    const bool skip_tried = request.n_tried > 0 && request.tried != nullptr && untried_left(request);
    const Avoid avoid(set_, skip_tried ? &request : nullptr);
    size_t position = pick(request, avoid);
    if (position >= set_.all().size() || !is_eligible(set_[position].health) || avoid(position)) {
        // A policy bug must not send traffic to an endpoint the contract rules out: take the first that fits.
        position = kNone;
        for (uint32_t candidate : set_.eligible()) {
            if (!avoid(candidate)) {
                position = candidate;
                break;
            }
        }
        if (position == kNone) return std::nullopt;  // unreachable: untried_left() said one is left
    }
    return set_[position].id;
}

void Policy::on_result(uint32_t id, Outcome outcome, uint64_t latency_us) {
    size_t position = set_.position_of(id);
    if (position != kNone) learn(position, outcome, latency_us);
}

}  // namespace portico::balancer
