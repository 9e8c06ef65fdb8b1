// ewma: peak-EWMA latency with two choices.
#include <doctest/doctest.h>

#include <cmath>

#include "ewma.h"
#include "fake_pool.h"

using namespace portico::balancer;
using namespace portico::balancer::test;

namespace {

constexpr uint64_t kMs = 1'000'000;

// Sends `n` requests one after another, 1 ms apart; each answers with its endpoint's latency.
std::map<uint32_t, double> run(Ewma& policy, FakeLoad& load, int n, const std::vector<uint64_t>& latency_us) {
    std::map<uint32_t, double> result;
    for (int i = 0; i < n; ++i) {
        const uint32_t id = pick(policy);
        result[id] += 1.0 / n;
        load.now += kMs;
        policy.on_result(id, Outcome::Success, latency_us[id - id_of(0)]);
    }
    return result;
}

}  // namespace

TEST_CASE("ewma: a slower endpoint gets clearly less") {
    FakeLoad load;
    Ewma policy(load, 9, EwmaOptions{});
    policy.update(make_endpoints({1, 1, 1}));
    auto measured = run(policy, load, 6000, {10'000, 10'000, 40'000});
    MESSAGE("ewma, latencies 10/10/40 ms: " << describe(measured));
    CHECK(measured[id_of(2)] < 0.05);
    CHECK(measured[id_of(0)] > 0.4);
    CHECK(measured[id_of(1)] > 0.4);
}

TEST_CASE("ewma: with equal latencies, an endpoint with more requests in flight gets clearly less") {
    FakeLoad load;
    load.active = {0, 6, 0};
    Ewma policy(load, 9, EwmaOptions{});
    policy.update(make_endpoints({1, 1, 1}));
    auto measured = run(policy, load, 3000, {5'000, 5'000, 5'000});
    MESSAGE("ewma, active 0/6/0: " << describe(measured));
    CHECK(measured[id_of(1)] < 0.05);
}

TEST_CASE("ewma: weights divide the cost") {
    FakeLoad load;
    load.active = {2, 2};
    Ewma policy(load, 9, EwmaOptions{});
    policy.update(make_endpoints({1, 4}));
    auto measured = run(policy, load, 2000, {5'000, 5'000});
    CHECK(measured[id_of(1)] > 0.9);
}

TEST_CASE("ewma: peaks replace the average at once, lower samples pull it down at exp(-dt/decay)") {
    FakeLoad load;
    Ewma policy(load, 9, EwmaOptions{});  // decay 10 s
    policy.update(make_endpoints({1, 1}));
    policy.on_result(id_of(0), Outcome::Success, 20'000);
    CHECK(policy.latency_us(id_of(0)) == doctest::Approx(20'000));
    policy.on_result(id_of(0), Outcome::Success, 80'000);  // peak, same instant
    CHECK(policy.latency_us(id_of(0)) == doctest::Approx(80'000));
    load.now += 1'000 * kMs;  // 1 s later: w = exp(-0.1)
    policy.on_result(id_of(0), Outcome::Success, 10'000);
    const double w = std::exp(-0.1);
    CHECK(policy.latency_us(id_of(0)) == doctest::Approx(80'000 * w + 10'000 * (1 - w)));
}

TEST_CASE("ewma: an endpoint with no sample costs the mean of the others (neutral)") {
    FakeLoad load;
    Ewma policy(load, 9, EwmaOptions{});
    policy.update(make_endpoints({1, 1, 1}));
    CHECK(policy.latency_us(id_of(2)) == doctest::Approx(Ewma::kUnknownLatencyUs));
    policy.on_result(id_of(0), Outcome::Success, 10'000);
    policy.on_result(id_of(1), Outcome::Success, 30'000);
    CHECK(policy.latency_us(id_of(2)) == doctest::Approx(20'000));
    // A new endpoint joins a warm pool: it starts at the mean too, and is chosen about as often as an average one.
    std::vector<Endpoint> endpoints = make_endpoints({1, 1, 1, 1});
    policy.update(endpoints);
    CHECK(policy.latency_us(id_of(3)) == doctest::Approx(20'000));
    // Its first sample replaces the guess outright.
    policy.on_result(id_of(3), Outcome::Success, 2'000);
    CHECK(policy.latency_us(id_of(3)) == doctest::Approx(2'000));
}

TEST_CASE("ewma: an endpoint joining a warm pool is reached soon, even one request at a time") {
    FakeLoad load;
    Ewma policy(load, 9, EwmaOptions{});
    policy.update(make_endpoints({1, 1, 1}));
    run(policy, load, 1000, {5'000, 5'000, 5'000});
    policy.update(make_endpoints({1, 1, 1, 1}));
    // It starts at the pool's mean and ages from its arrival; the others were each heard from a few ms ago.
    int first_pick = 0;
    for (int i = 1; i <= 50 && first_pick == 0; ++i) {
        load.now += kMs;
        const uint32_t id = pick(policy);
        if (id == id_of(3)) first_pick = i;
        policy.on_result(id, Outcome::Success, 5'000);
    }
    MESSAGE("the new endpoint got its first request after " << first_pick << " picks");
    CHECK(first_pick > 0);
    CHECK(first_pick <= 10);
    // With equal latencies it then gets about its share.
    auto measured = run(policy, load, 4000, {5'000, 5'000, 5'000, 5'000});
    CHECK(measured[id_of(3)] > 0.15);
}

TEST_CASE("ewma: connect failures, resets and timeouts count as a penalty latency; a 5xx as its latency") {
    for (Outcome failure : {Outcome::ConnectFailure, Outcome::Reset, Outcome::Timeout}) {
        FakeLoad load;
        Ewma policy(load, 9, EwmaOptions{});
        policy.update(make_endpoints({1, 1, 1}));
        policy.on_result(id_of(0), Outcome::Success, 10'000);
        policy.on_result(id_of(1), Outcome::Success, 10'000);
        policy.on_result(id_of(2), Outcome::Success, 10'000);
        policy.on_result(id_of(2), failure, 300);  // refused at once: not a fast endpoint
        CHECK(policy.latency_us(id_of(2)) == doctest::Approx(Ewma::kFailurePenaltyFactor * 10'000));
        auto measured = run(policy, load, 1000, {10'000, 10'000, 10'000});
        CHECK(measured[id_of(2)] < 0.05);
    }
    FakeLoad load;
    Ewma policy(load, 9, EwmaOptions{});
    policy.update(make_endpoints({1, 1}));
    policy.on_result(id_of(0), Outcome::Http5xx, 3'000);
    CHECK(policy.latency_us(id_of(0)) == doctest::Approx(3'000));
}

TEST_CASE("ewma: an endpoint left alone because it was slow is tried again after a while") {
    FakeLoad load;
    Ewma policy(load, 9, EwmaOptions{});  // decay 10 s
    policy.update(make_endpoints({1, 1}));
    policy.on_result(id_of(0), Outcome::Success, 5'000);
    policy.on_result(id_of(1), Outcome::Success, 500'000);  // a bad moment; it has recovered since
    // Requests every 10 ms keep the fast endpoint's average at 5 ms. The slow one's, unheard of, decays as
    // 500 ms * exp(-t / 10 s) and drops under 5 ms after 10 s * ln(100) = 46 s: then it is tried again.
    uint64_t first_retry_ms = 0;
    for (int i = 1; i <= 6000 && first_retry_ms == 0; ++i) {
        load.now += 10 * kMs;
        const uint32_t id = pick(policy);
        if (id == id_of(1)) first_retry_ms = static_cast<uint64_t>(i) * 10;
        policy.on_result(id, Outcome::Success, 5'000);
    }
    MESSAGE("the slow endpoint was tried again after " << first_retry_ms << " ms");
    CHECK(first_retry_ms > 45'000);
    CHECK(first_retry_ms < 47'000);
}
