// round_robin: nginx's smooth weighted round robin, turn for turn.
#include <doctest/doctest.h>

#include <string>

#include "fake_pool.h"
#include "round_robin.h"

using namespace portico::balancer;
using namespace portico::balancer::test;

namespace {

std::string sequence(RoundRobin& policy, int n, const std::vector<uint32_t>& tried = {}) {
    std::string letters;
    for (int i = 0; i < n; ++i) letters.push_back(static_cast<char>('a' + (pick(policy, {}, tried) - id_of(0))));
    return letters;
}

}  // namespace

TEST_CASE("round_robin: weights 5:1:1 give nginx's sequence a a b a c a a") {
    FakeLoad load;
    RoundRobin policy(load, 1);
    policy.update(make_endpoints({5, 1, 1}));
    CHECK(sequence(policy, 14) == "aabacaaaabacaa");
}

TEST_CASE("round_robin: equal weights take turns in order") {
    FakeLoad load;
    RoundRobin policy(load, 1);
    policy.update(make_endpoints({1, 1, 1, 1}));
    CHECK(sequence(policy, 9) == "abcdabcda");
}

TEST_CASE("round_robin: weights 1:2:3 over 6,000 picks are exact") {
    FakeLoad load;
    RoundRobin policy(load, 1);
    policy.update(make_endpoints({1, 2, 3}));
    const auto measured = shares(policy, 6000, false);
    MESSAGE("round_robin 1:2:3 over 6000: " << describe(measured));
    CHECK(measured.at(id_of(0)) == doctest::Approx(1.0 / 6).epsilon(1e-9));
    CHECK(measured.at(id_of(1)) == doctest::Approx(2.0 / 6).epsilon(1e-9));
    CHECK(measured.at(id_of(2)) == doctest::Approx(3.0 / 6).epsilon(1e-9));
    // Smooth: the heaviest endpoint never gets more than two turns in a row.
    CHECK(sequence(policy, 60).find("ccc") == std::string::npos);
}

TEST_CASE("round_robin: a tried endpoint sits the round out, as nginx's tried peers do") {
    FakeLoad load;
    RoundRobin policy(load, 1);
    policy.update(make_endpoints({5, 1, 1}));
    // a's current weight stays where it was while it is skipped: b and c share the retries.
    CHECK(sequence(policy, 4, {id_of(0)}) == "bcbc");
    CHECK(sequence(policy, 7) == "aabacaa");
}

TEST_CASE("round_robin: current weights follow their endpoints across pool updates") {
    FakeLoad load;
    RoundRobin policy(load, 1);
    std::vector<Endpoint> endpoints = make_endpoints({5, 1, 1});
    policy.update(endpoints);
    CHECK(sequence(policy, 3) == "aab");
    policy.update(endpoints);  // the same snapshot again (say, another endpoint's health changed)
    CHECK(sequence(policy, 4) == "acaa");
    // A weight change (slow start) keeps the others' progress; a new endpoint starts at zero.
    endpoints[1].weight = 3;
    endpoints.push_back(make_endpoints({1, 1, 1, 2})[3]);
    policy.update(endpoints);
    const auto measured = shares(policy, 1100, false);
    CHECK(measured.at(id_of(0)) == doctest::Approx(5.0 / 11).epsilon(0.01));
    CHECK(measured.at(id_of(1)) == doctest::Approx(3.0 / 11).epsilon(0.01));
    CHECK(measured.at(id_of(3)) == doctest::Approx(2.0 / 11).epsilon(0.01));
}
