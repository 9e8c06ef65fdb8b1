// Shared by the balancer tests: a fake pool (endpoints and live figures), one way to make each policy, pick
// helpers, share measurements, and an allocation counter (operator new is replaced in this binary) for the "no
// allocation on the choose path" rule.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy.h"

namespace portico::balancer::test {

struct FakeLoad : Load {
    std::vector<uint64_t> active;  // by position; missing entries are 0
    uint64_t now = 1'000'000'000;

    uint64_t active_requests(size_t position) const override {
        return position < active.size() ? active[position] : 0;
    }
    uint64_t now_ns() const override { return now; }
};

// Endpoints with ids 101, 102, ... and addresses "10.0.0.1:8080", ..., all HEALTHY.
std::vector<Endpoint> make_endpoints(const std::vector<uint32_t>& weights);
inline uint32_t id_of(size_t k) {
    return static_cast<uint32_t>(101 + k);
}

enum class Kind { RoundRobin, LeastRequest, Ewma, RingHash, Maglev, Random };
inline constexpr Kind kAllKinds[] = {Kind::RoundRobin, Kind::LeastRequest, Kind::Ewma,
                                     Kind::RingHash,   Kind::Maglev,       Kind::Random};
const char* name(Kind kind);
bool is_hashing(Kind kind);
std::unique_ptr<Policy> make_policy(Kind kind, const Load& load, uint64_t seed = 42);

// One pick; 0 when the policy answers no endpoint.
uint32_t pick(Policy& policy, std::string_view key = {}, const std::vector<uint32_t>& tried = {});

// The key of the i-th request in the distribution tests.
std::string key_of(int i);

// Picks `n` times (with key_of(i) as the hash key) and returns each id's share.
std::map<uint32_t, double> shares(Policy& policy, int n, bool with_keys);

// The largest |share - expected[k]| over the endpoints id_of(0), id_of(1), ... (absolute, in shares).
double max_error(const std::map<uint32_t, double>& shares, const std::vector<double>& expected);

// "101: 0.167 102: 0.333 ..." for MESSAGE lines.
std::string describe(const std::map<uint32_t, double>& shares);

size_t allocation_count();

}  // namespace portico::balancer::test
