// least_request: power of choices over active requests with equal weights, Envoy's load-scaled EDF schedule
// with different ones.
#include <doctest/doctest.h>

#include "fake_pool.h"
#include "least_request.h"

using namespace portico::balancer;
using namespace portico::balancer::test;

TEST_CASE("least_request: weights 1:2:3 with nothing in flight over 6,000 picks land within 5%") {
    FakeLoad load;
    LeastRequest policy(load, 3, LeastRequestOptions{});
    policy.update(make_endpoints({1, 2, 3}));
    const auto measured = shares(policy, 6000, false);
    const double error = max_error(measured, {1.0 / 6, 2.0 / 6, 3.0 / 6});
    MESSAGE("least_request 1:2:3 over 6000: " << describe(measured) << "  largest deviation: " << error);
    CHECK(error <= 0.001);  // the schedule is exact weighted round robin while the load is equal
}

TEST_CASE("least_request: equal weights spread evenly with nothing in flight") {
    FakeLoad load;
    LeastRequest policy(load, 3, LeastRequestOptions{});
    policy.update(make_endpoints({1, 1, 1, 1}));
    const auto measured = shares(policy, 8000, false);
    CHECK(max_error(measured, {0.25, 0.25, 0.25, 0.25}) <= 0.03);
}

TEST_CASE("least_request: two choices never send to the busiest endpoint") {
    FakeLoad load;
    load.active = {0, 12, 1, 0};
    LeastRequest policy(load, 3, LeastRequestOptions{});
    policy.update(make_endpoints({1, 1, 1, 1}));
    const auto measured = shares(policy, 4000, false);
    MESSAGE("least_request, equal weights, active 0/12/1/0: " << describe(measured));
    CHECK(measured.count(id_of(1)) == 0);
    // The idle ones win every pair they are in; endpoint 2 (1 in flight) only the pairs with endpoint 1.
    CHECK(measured.at(id_of(2)) == doctest::Approx(1.0 / 6).epsilon(0.03));
    CHECK(measured.at(id_of(0)) > 0.35);
    CHECK(measured.at(id_of(3)) > 0.35);
}

TEST_CASE("least_request: more choices, fewer mistakes") {
    FakeLoad load;
    load.active = {5, 4, 3, 2, 1, 0};
    LeastRequestOptions options;
    options.choices = 6;  // as many as endpoints: a full scan
    LeastRequest policy(load, 3, options);
    policy.update(make_endpoints({1, 1, 1, 1, 1, 1}));
    for (int i = 0; i < 100; ++i) CHECK(pick(policy) == id_of(5));
}

TEST_CASE("least_request: with different weights, the load scales the weight down") {
    FakeLoad load;
    load.active = {0, 0, 5};  // the heaviest endpoint is busy: 3 / (5 + 1) = 0.5
    LeastRequest policy(load, 3, LeastRequestOptions{});
    policy.update(make_endpoints({1, 2, 3}));
    const auto measured = shares(policy, 6000, false);
    MESSAGE("least_request 1:2:3, active 0/0/5: " << describe(measured));
    // Effective weights 1 : 2 : 0.5.
    CHECK(max_error(measured, {1 / 3.5, 2 / 3.5, 0.5 / 3.5}) <= 0.01);

    // active_request_bias 0: the load is ignored, as Envoy's round robin.
    LeastRequestOptions unbiased;
    unbiased.active_request_bias = 0;
    LeastRequest plain(load, 3, unbiased);
    plain.update(make_endpoints({1, 2, 3}));
    CHECK(max_error(shares(plain, 6000, false), {1.0 / 6, 2.0 / 6, 3.0 / 6}) <= 0.001);

    // A bias of 2 punishes load harder: 3 / 36.
    LeastRequestOptions strong;
    strong.active_request_bias = 2;
    LeastRequest steep(load, 3, strong);
    steep.update(make_endpoints({1, 2, 3}));
    const double w = 3.0 / 36;
    CHECK(max_error(shares(steep, 6000, false), {1 / (3 + w), 2 / (3 + w), w / (3 + w)}) <= 0.01);
}

TEST_CASE("least_request: a retry takes the next endpoint of the schedule and keeps the tried one's place") {
    FakeLoad load;
    LeastRequest policy(load, 3, LeastRequestOptions{});
    policy.update(make_endpoints({1, 2, 3}));
    for (int i = 0; i < 600; ++i) {
        const uint32_t first = pick(policy);
        CHECK(pick(policy, {}, {first}) != first);
    }
    // Retries did not skew the long-run shares.
    CHECK(max_error(shares(policy, 6000, false), {1.0 / 6, 2.0 / 6, 3.0 / 6}) <= 0.02);
}
