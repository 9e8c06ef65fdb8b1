// What every balancing policy shares: the endpoint view it is built from, what one attempt asks, the live figures
// the host keeps, and the base class that applies the host's contract once for all of them: only HEALTHY and
// DEGRADED endpoints are chosen, nothing when none is, and never an endpoint this request already tried while an
// untried one is left. Nothing here knows the plugin ABI, so tests drive the policies with a fake pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "prng.h"

namespace portico::balancer {

// Health with the ABI's numbers (PORTICO_HEALTH_*), kept as an integer so that unknown values pass through and
// count as not eligible, as the ABI says.
inline constexpr uint32_t kHealthy = 1;
inline constexpr uint32_t kDegraded = 2;
inline constexpr uint32_t kUnhealthy = 3;
inline constexpr uint32_t kDraining = 4;

inline bool is_eligible(uint32_t health) {
    return health == kHealthy || health == kDegraded;
}

// How an attempt ended (PORTICO_LB_*); unknown values arrive as Other.
enum class Outcome { Success, ConnectFailure, Reset, Timeout, Http5xx, Other };

inline constexpr size_t kNone = static_cast<size_t>(-1);

// One endpoint of the pool, as the host's snapshot has it.
struct Endpoint {
    uint32_t id = 0;
    uint32_t weight = 1;  // effective weight (slow start applied), >= 1
    uint32_t health = kHealthy;
    std::string address;  // "10.0.0.1:8080": what the hashing policies hash, the same in every process
};

// The endpoints of one snapshot, indexed once: by position (the order the host listed them), by id, and the
// positions of the eligible ones.
class EndpointSet {
public:
    EndpointSet() = default;
    explicit EndpointSet(std::vector<Endpoint> endpoints);

    const std::vector<Endpoint>& all() const { return all_; }
    const Endpoint& operator[](size_t position) const { return all_[position]; }
    // Positions of the HEALTHY and DEGRADED endpoints, in snapshot order.
    const std::vector<uint32_t>& eligible() const { return eligible_; }
    bool eligible_equal_weights() const { return equal_weights_; }
    uint64_t eligible_weight_total() const { return weight_total_; }
    // The position of the endpoint with this id, or kNone. O(log n).
    size_t position_of(uint32_t id) const;

private:
    std::vector<Endpoint> all_;
    std::vector<uint32_t> eligible_;
    std::vector<std::pair<uint32_t, uint32_t>> by_id_;  // (id, position), sorted by id
    bool equal_weights_ = true;
    uint64_t weight_total_ = 0;
};

// What the host tells about one attempt.
struct Request {
    const uint32_t* tried = nullptr;  // ids already tried for this request
    size_t n_tried = 0;
    std::string_view hash_key;  // bytes to hash; empty when the upstream has no hash_key (or it was absent)

    bool was_tried(uint32_t id) const {
        for (size_t i = 0; i < n_tried; ++i) {
            if (tried[i] == id) return true;
        }
        return false;
    }
};

// Live figures the host keeps, by position in the current EndpointSet (so rebuild() may ask for the time but not
// for the load: the positions switch to the new set only once it returns).
class Load {
public:
    virtual ~Load() = default;
    virtual uint64_t active_requests(size_t position) const = 0;
    virtual uint64_t now_ns() const = 0;
};

// Which endpoints a pick must pass over: those this request tried, unless every eligible one was tried (then the
// policy picks as if nothing had been tried, and the host decides whether to retry).
class Avoid {
public:
    Avoid(const EndpointSet& set, const Request* request) : set_(set), request_(request) {}
    bool operator()(size_t position) const { return request_ != nullptr && request_->was_tried(set_[position].id); }

private:
    const EndpointSet& set_;
    const Request* request_;
};

class Policy {
public:
    Policy(const Load& load, uint64_t seed) : load_(load), rng_(seed) {}
    virtual ~Policy() = default;
    Policy(const Policy&) = delete;
    Policy& operator=(const Policy&) = delete;

    // A new snapshot: every endpoint of the pool, whatever its health. Either everything is rebuilt or, when an
    // allocation throws, nothing changed.
    void update(std::vector<Endpoint> endpoints);
    // Forgets every endpoint: choose() answers nullopt until the next update(). Never throws.
    void clear() noexcept;

    // The chosen endpoint's id; nullopt when no endpoint is eligible. Never allocates.
    std::optional<uint32_t> choose(const Request& request);
    // How an attempt on endpoint `id` went; ids that left the pool are ignored.
    void on_result(uint32_t id, Outcome outcome, uint64_t latency_us);

    const EndpointSet& endpoints() const { return set_; }

protected:
    // Builds the policy's structures for `next` and then, once nothing more can throw, swaps them in: the base
    // keeps the old set until rebuild() returns (so `endpoints()` still names the old snapshot inside it).
    virtual void rebuild(const EndpointSet& next) = 0;
    // Drops what rebuild() built. Never throws.
    virtual void reset() noexcept = 0;
    // Picks the position of an eligible endpoint that `avoid` lets through; at least one exists.
    virtual size_t pick(const Request& request, const Avoid& avoid) = 0;
    // An outcome for the endpoint at `position` (of any health).
    virtual void learn(size_t /*position*/, Outcome /*outcome*/, uint64_t /*latency_us*/) {}

    const Load& load() const { return load_; }
    Rng& rng() { return rng_; }

private:
    bool untried_left(const Request& request) const;

    const Load& load_;
    Rng rng_;
    EndpointSet set_;
};

}  // namespace portico::balancer
