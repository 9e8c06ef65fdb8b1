// `maglev`: Maglev consistent hashing (Eisenbud et al., NSDI 2016, section 3.4; Envoy's MAGLEV). A lookup table
// of `table_size` entries (a prime) is filled by letting the endpoints take turns, each claiming the next free
// entry of its own permutation of the table, offset + i * skip (mod table_size), with offset and skip from
// xxHash64 of its address. An endpoint takes a turn in proportion to its weight (the heaviest every round, as
// Envoy weighs it), so it ends up with that share of the entries. A key goes to entry xxHash64(key) mod
// table_size: O(1), and the table spreads keys more evenly than a ring of the same memory. Removing an endpoint
// moves its keys and a few others (the paper's "minimal disruption" is near-, not strictly minimal).
//
// The table is table_size * 4 bytes per pool and worker (256 KiB at the default 65537) and is rebuilt on every
// pool update, O(table_size * log table_size). The paper wants table_size well above 100 times the endpoint count;
// with more endpoints than entries some get none (they are still chosen on retries and for empty keys).
//
// An empty key gives a weighted random pick. A retry rehashes the key (up to 32 times, deterministically) until
// it lands on an untried endpoint, then takes the untried endpoint with the highest rendezvous score
// mix(key hash ^ endpoint hash): the same request always retries on the same endpoint.
#pragma once

#include <cstdint>
#include <vector>

#include "policy.h"
#include "weighted_pick.h"

namespace portico::balancer {

struct MaglevOptions {
    uint64_t table_size = 65537;  // a prime, 3..5000011
};

class Maglev final : public Policy {
public:
    Maglev(const Load& load, uint64_t seed, MaglevOptions options) : Policy(load, seed), options_(options) {}

    static bool is_prime(uint64_t n);
    // How many table entries the endpoint with this id holds (for tests).
    size_t entries_of(uint32_t id) const;

private:
    void rebuild(const EndpointSet& next) override;
    void reset() noexcept override;
    size_t pick(const Request& request, const Avoid& avoid) override;

    MaglevOptions options_;
    std::vector<uint32_t> table_;      // endpoint position per entry
    std::vector<uint64_t> name_hash_;  // by position: xxHash64 of the endpoint's name, for the last resort
    WeightedPick random_;
};

}  // namespace portico::balancer
