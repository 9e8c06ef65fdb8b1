// random: weighted random draws.
#include <doctest/doctest.h>

#include <cmath>

#include "fake_pool.h"
#include "random.h"

using namespace portico::balancer;
using namespace portico::balancer::test;

TEST_CASE("random: weights 1:2:3 over 6,000 picks land within 5% of 1/6, 2/6, 3/6") {
    FakeLoad load;
    RandomPolicy policy(load, 2024);
    policy.update(make_endpoints({1, 2, 3}));
    const auto measured = shares(policy, 6000, false);
    MESSAGE("random 1:2:3 over 6000: " << describe(measured));
    const double error = max_error(measured, {1.0 / 6, 2.0 / 6, 3.0 / 6});
    MESSAGE("largest deviation: " << error);
    CHECK(error <= 0.05);
}

TEST_CASE("random: instances with different seeds do not move in step") {
    FakeLoad load;
    RandomPolicy a(load, 1), b(load, 2);
    a.update(make_endpoints({1, 1, 1, 1}));
    b.update(make_endpoints({1, 1, 1, 1}));
    int same = 0;
    for (int i = 0; i < 1000; ++i) same += pick(a) == pick(b);
    CHECK(same < 400);  // 250 expected
}

TEST_CASE("random: retries keep the weights among the untried endpoints") {
    FakeLoad load;
    RandomPolicy policy(load, 5);
    policy.update(make_endpoints({100, 1, 3}));
    // Nearly all the weight was tried: the redraws give up and one pass draws among the rest.
    int light = 0;
    for (int i = 0; i < 4000; ++i) light += pick(policy, {}, {id_of(0)}) == id_of(1);
    CHECK(std::fabs(light / 4000.0 - 0.25) < 0.03);
}
