// ring_hash: ketama ring, stable keys, minimal remapping, weighted points.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "fake_pool.h"
#include "ring_hash.h"

using namespace portico::balancer;
using namespace portico::balancer::test;

namespace {

std::vector<uint32_t> map_keys(Policy& policy, int n) {
    std::vector<uint32_t> ids;
    for (int i = 0; i < n; ++i) ids.push_back(pick(policy, key_of(i)));
    return ids;
}

double moved_share(const std::vector<uint32_t>& before, const std::vector<uint32_t>& after) {
    size_t moved = 0;
    for (size_t i = 0; i < before.size(); ++i) moved += before[i] != after[i];
    return static_cast<double>(moved) / before.size();
}

}  // namespace

TEST_CASE("ring_hash: the same key always lands on the same endpoint, in every instance") {
    FakeLoad load;
    RingHash a(load, 1, RingHashOptions{}), b(load, 2, RingHashOptions{});
    std::vector<Endpoint> endpoints = make_endpoints({1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    a.update(endpoints);
    std::reverse(endpoints.begin(), endpoints.end());
    b.update(endpoints);
    const std::vector<uint32_t> first = map_keys(a, 10'000);
    CHECK(map_keys(a, 10'000) == first);
    CHECK(map_keys(b, 10'000) == first);
    a.update(make_endpoints({1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));  // a rebuild from the same endpoints
    CHECK(map_keys(a, 10'000) == first);
    CHECK(std::set<uint32_t>(first.begin(), first.end()).size() == 10);
}

TEST_CASE("ring_hash: removing one of ten endpoints remaps only its own keys (<= 15% of 10,000)") {
    FakeLoad load;
    RingHash policy(load, 1, RingHashOptions{});
    std::vector<Endpoint> endpoints = make_endpoints({1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    policy.update(endpoints);
    const std::vector<uint32_t> before = map_keys(policy, 10'000);
    CHECK(policy.ring_size() == 1280);  // 2^7 = 128 points each: the smallest power of two reaching 1024

    for (size_t removed : {size_t{0}, size_t{4}, size_t{9}}) {
        std::vector<Endpoint> nine = endpoints;
        nine.erase(nine.begin() + static_cast<std::ptrdiff_t>(removed));
        policy.update(nine);
        const std::vector<uint32_t> after = map_keys(policy, 10'000);
        const double moved = moved_share(before, after);
        const double owned =
            static_cast<double>(std::count(before.begin(), before.end(), id_of(removed))) / before.size();
        MESSAGE("ring_hash: removing endpoint " << removed << " of 10 remaps " << moved * 100
                                                << "% of 10000 keys (it held " << owned * 100 << "%)");
        CHECK(moved <= 0.15);
        // The nine keep their 128 points each: exactly the removed endpoint's keys move.
        CHECK(moved == doctest::Approx(owned).epsilon(1e-12));
        for (size_t i = 0; i < before.size(); ++i) {
            if (before[i] != id_of(removed)) CHECK(after[i] == before[i]);
        }

        // Marking it unhealthy instead of removing it does the same: the ring holds eligible endpoints only.
        std::vector<Endpoint> marked = endpoints;
        marked[removed].health = kUnhealthy;
        policy.update(marked);
        CHECK(map_keys(policy, 10'000) == after);
        policy.update(endpoints);
        CHECK(map_keys(policy, 10'000) == before);
    }
}

// The host reports weights in hundredths (weight 1 is 100), 0 for an UNHEALTHY endpoint, and a DEGRADED endpoint
// at 10%, 20%, ... 100% of its weight while slow start ramps it.
TEST_CASE("ring_hash: an ejection (weight 0) and the slow start after it move only that endpoint's keys") {
    FakeLoad load;
    RingHash policy(load, 1, RingHashOptions{});
    std::vector<Endpoint> endpoints = make_endpoints(std::vector<uint32_t>(3, 100));
    policy.update(endpoints);
    const size_t ring = policy.ring_size();
    std::vector<uint32_t> previous = map_keys(policy, 10'000);
    auto check_only_own_keys_moved = [&](const char* step) {
        const std::vector<uint32_t> now = map_keys(policy, 10'000);
        size_t others_moved = 0;
        for (size_t i = 0; i < now.size(); ++i)
            others_moved += now[i] != previous[i] && now[i] != id_of(2) && previous[i] != id_of(2);
        CAPTURE(step);
        CHECK(others_moved == 0);
        previous = now;
    };
    endpoints[2].health = kUnhealthy;
    endpoints[2].weight = 0;
    policy.update(endpoints);
    check_only_own_keys_moved("ejected");
    for (uint32_t weight = 10; weight < 100; weight += 10) {
        endpoints[2].health = kDegraded;
        endpoints[2].weight = weight;
        policy.update(endpoints);
        check_only_own_keys_moved("ramping");
    }
    endpoints[2].health = kHealthy;
    endpoints[2].weight = 100;
    policy.update(endpoints);
    check_only_own_keys_moved("healthy again");
    CHECK(policy.ring_size() == ring);
}

TEST_CASE("ring_hash: weights 1:2:3 over many keys, approximately") {
    FakeLoad load;
    RingHash policy(load, 1, RingHashOptions{});
    policy.update(make_endpoints({1, 2, 3}));
    CHECK(policy.ring_size() == 1536);  // 256, 512 and 768 points
    const auto measured = shares(policy, 6000, true);
    const double error = max_error(measured, {1.0 / 6, 2.0 / 6, 3.0 / 6});
    MESSAGE("ring_hash 1:2:3 over 6000 keys: " << describe(measured) << "  largest deviation: " << error);
    CHECK(error <= 0.05);
}

TEST_CASE("ring_hash: ring sizes follow min_ring_size and max_ring_size") {
    FakeLoad load;
    RingHashOptions small;
    small.min_ring_size = 16;
    small.max_ring_size = 64;
    RingHash policy(load, 1, small);
    policy.update(make_endpoints({1, 1, 1, 1}));
    CHECK(policy.ring_size() == 16);
    policy.update(make_endpoints({1, 100}));  // 2^-2 per weight: 1 + 25 points, the first power of two >= 16
    CHECK(policy.ring_size() == 26);
    policy.update(make_endpoints({1, 1000}));  // 2^-6: 1 + 16 points
    CHECK(policy.ring_size() == 17);
    RingHashOptions tight;
    tight.min_ring_size = 16;
    tight.max_ring_size = 20;
    RingHash capped(load, 1, tight);
    capped.update(make_endpoints(std::vector<uint32_t>(12, 1)));  // 2 each would be 24 > 20: one each
    CHECK(capped.ring_size() == 12);
    for (int i = 0; i < 200; ++i) CHECK(pick(policy, key_of(i)) != 0);
    policy.update(make_endpoints(std::vector<uint32_t>(100, 1)));  // more endpoints than max_ring_size
    CHECK(policy.ring_size() == 100);                              // one point each, at least
}

TEST_CASE("ring_hash: an empty key is a weighted random pick") {
    FakeLoad load;
    RingHash policy(load, 1, RingHashOptions{});
    policy.update(make_endpoints({1, 1, 2}));
    const auto measured = shares(policy, 4000, false);
    CHECK(max_error(measured, {0.25, 0.25, 0.5}) <= 0.03);
}

TEST_CASE("ring_hash: a retry takes the next distinct endpoint along the ring") {
    FakeLoad load;
    RingHash policy(load, 1, RingHashOptions{});
    policy.update(make_endpoints({1, 1, 1, 1, 1}));
    std::set<uint32_t> seconds;
    for (int i = 0; i < 1000; ++i) {
        const std::string key = key_of(i);
        const uint32_t first = pick(policy, key);
        const uint32_t second = pick(policy, key, {first});
        CHECK(second != first);
        CHECK(second == pick(policy, key, {first}));
        seconds.insert(second);
    }
    CHECK(seconds.size() == 5);  // second choices spread over the whole pool, not onto one neighbour
}
