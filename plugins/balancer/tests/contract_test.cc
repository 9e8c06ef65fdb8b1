// The host's contract, which every policy keeps: only HEALTHY and DEGRADED endpoints, nothing when none is
// eligible, never a tried endpoint while an untried one is left, deterministic retries for the hashing policies,
// and no allocation when choosing.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "fake_pool.h"

using namespace portico::balancer;
using namespace portico::balancer::test;

namespace {

bool contains(const std::vector<uint32_t>& ids, uint32_t id) {
    return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

TEST_CASE("unhealthy, draining and unknown health are never chosen while an eligible endpoint exists") {
    for (Kind kind : kAllKinds) {
        const std::string policy_name = name(kind);
        CAPTURE(policy_name);
        FakeLoad load;
        auto policy = make_policy(kind, load);
        std::vector<Endpoint> endpoints = make_endpoints({1, 1, 1, 1, 1, 1});
        endpoints[0].health = kUnhealthy;
        endpoints[2].health = kDraining;
        endpoints[3].health = 99;  // unknown: counts as unhealthy
        endpoints[5].health = kDegraded;
        policy->update(endpoints);
        std::set<uint32_t> chosen;
        for (int i = 0; i < 2000; ++i) chosen.insert(pick(*policy, key_of(i)));
        CHECK(chosen == std::set<uint32_t>{id_of(1), id_of(4), id_of(5)});
    }
}

TEST_CASE("no eligible endpoint: no choice (the plugin answers PORTICO_E_NO_HOST)") {
    for (Kind kind : kAllKinds) {
        const std::string policy_name = name(kind);
        CAPTURE(policy_name);
        FakeLoad load;
        auto policy = make_policy(kind, load);
        CHECK_FALSE(policy->choose(Request{}).has_value());  // before any snapshot
        std::vector<Endpoint> endpoints = make_endpoints({1, 2, 3});
        endpoints[0].health = kUnhealthy;
        endpoints[1].health = kDraining;
        endpoints[2].health = kUnhealthy;
        policy->update(endpoints);
        CHECK(pick(*policy, "key") == 0);
        CHECK(pick(*policy) == 0);
        policy->update({});
        CHECK(pick(*policy, "key") == 0);
        // ... and back once an endpoint recovers.
        endpoints[2].health = kHealthy;
        policy->update(endpoints);
        CHECK(pick(*policy, "key") == id_of(2));
        policy->clear();
        CHECK(pick(*policy, "key") == 0);
    }
}

TEST_CASE("tried endpoints are skipped while an untried eligible one is left") {
    for (Kind kind : kAllKinds) {
        const std::string policy_name = name(kind);
        CAPTURE(policy_name);
        FakeLoad load;
        auto policy = make_policy(kind, load);
        std::vector<Endpoint> endpoints = make_endpoints({1, 2, 3, 1, 5});
        endpoints[1].health = kUnhealthy;
        policy->update(endpoints);
        const std::vector<uint32_t> tried = {id_of(0), id_of(4), 999 /* not in the pool */, id_of(0)};
        std::set<uint32_t> chosen;
        for (int i = 0; i < 2000; ++i) {
            const uint32_t id = pick(*policy, key_of(i), tried);
            CHECK_FALSE(contains(tried, id));
            chosen.insert(id);
        }
        // ewma, fed no results and no load here, always prefers the cheaper of the two (weight 3 over 1).
        if (kind == Kind::Ewma) {
            CHECK(chosen == std::set<uint32_t>{id_of(2)});
        } else {
            CHECK(chosen == std::set<uint32_t>{id_of(2), id_of(3)});
        }

        // One untried endpoint left: it is the answer, every time.
        const std::vector<uint32_t> all_but_one = {id_of(0), id_of(2), id_of(4)};
        for (int i = 0; i < 300; ++i) CHECK(pick(*policy, key_of(i), all_but_one) == id_of(3));
    }
}

TEST_CASE("every eligible endpoint tried: one of them is returned (the host decides whether to retry)") {
    for (Kind kind : kAllKinds) {
        const std::string policy_name = name(kind);
        CAPTURE(policy_name);
        FakeLoad load;
        auto policy = make_policy(kind, load);
        std::vector<Endpoint> endpoints = make_endpoints({1, 2, 3, 4});
        endpoints[3].health = kDraining;
        policy->update(endpoints);
        const std::vector<uint32_t> tried = {id_of(0), id_of(1), id_of(2)};
        for (int i = 0; i < 300; ++i) {
            const uint32_t id = pick(*policy, key_of(i), tried);
            CHECK(contains(tried, id));
        }
        // The hashing policies return the key's own endpoint: the best of the tried ones.
        if (is_hashing(kind)) {
            for (int i = 0; i < 100; ++i) CHECK(pick(*policy, key_of(i), tried) == pick(*policy, key_of(i)));
        }
    }
}

TEST_CASE("hashing policies retry deterministically, across instances and seeds") {
    for (Kind kind : {Kind::RingHash, Kind::Maglev}) {
        const std::string policy_name = name(kind);
        CAPTURE(policy_name);
        FakeLoad load;
        auto a = make_policy(kind, load, 1);
        auto b = make_policy(kind, load, 987654321);
        std::vector<Endpoint> endpoints = make_endpoints({1, 1, 2, 1, 1, 3, 1, 1});
        a->update(endpoints);
        std::reverse(endpoints.begin(), endpoints.end());  // another listing order must not matter
        b->update(endpoints);
        for (int i = 0; i < 500; ++i) {
            const std::string key = key_of(i);
            const uint32_t first = pick(*a, key);
            CHECK(first == pick(*b, key));
            const uint32_t second = pick(*a, key, {first});
            CHECK(second != first);
            CHECK(second == pick(*b, key, {first}));
            CHECK(second == pick(*a, key, {first}));
            const uint32_t third = pick(*a, key, {first, second});
            CHECK(third != first);
            CHECK(third != second);
            CHECK(third == pick(*b, key, {second, first}));
        }
    }
}

TEST_CASE("an endpoint that left the snapshot is not chosen, and results for it are ignored") {
    for (Kind kind : kAllKinds) {
        const std::string policy_name = name(kind);
        CAPTURE(policy_name);
        FakeLoad load;
        auto policy = make_policy(kind, load);
        std::vector<Endpoint> endpoints = make_endpoints({1, 1, 1, 1});
        policy->update(endpoints);
        endpoints.erase(endpoints.begin() + 1);
        policy->update(endpoints);
        policy->on_result(id_of(1), Outcome::ConnectFailure, 5);
        for (int i = 0; i < 1000; ++i) CHECK(pick(*policy, key_of(i)) != id_of(1));
    }
}

TEST_CASE("choose never allocates") {
    for (Kind kind : kAllKinds) {
        const std::string policy_name = name(kind);
        CAPTURE(policy_name);
        FakeLoad load;
        load.active = {3, 0, 1, 7, 2, 0, 0, 4};
        auto policy = make_policy(kind, load);
        policy->update(make_endpoints({1, 2, 3, 1, 1, 5, 1, 2}));  // weighted: least_request's schedule
        std::vector<std::string> keys;
        for (int i = 0; i < 500; ++i) keys.push_back(key_of(i));
        const std::vector<uint32_t> tried = {id_of(5), id_of(2)};
        const std::vector<uint32_t> all = {id_of(0), id_of(1), id_of(2), id_of(3),
                                           id_of(4), id_of(5), id_of(6), id_of(7)};
        Request plain, retry, exhausted;
        retry.tried = tried.data();
        retry.n_tried = tried.size();
        exhausted.tried = all.data();
        exhausted.n_tried = all.size();
        uint64_t checksum = 0;
        const size_t before = allocation_count();
        for (const std::string& key : keys) {
            plain.hash_key = retry.hash_key = exhausted.hash_key = key;
            checksum += policy->choose(plain).value_or(0);
            checksum += policy->choose(retry).value_or(0);
            checksum += policy->choose(exhausted).value_or(0);
            plain.hash_key = {};
            checksum += policy->choose(plain).value_or(0);
            policy->on_result(id_of(checksum % 8), Outcome::Success, 1000 + checksum % 5000);
        }
        CHECK(allocation_count() == before);
        CHECK(checksum > 0);

        // The equal-weight path of least_request too.
        policy->update(make_endpoints({4, 4, 4, 4}));
        const size_t again = allocation_count();
        for (int i = 0; i < 200; ++i) checksum += policy->choose(retry).value_or(0);
        CHECK(allocation_count() == again);
    }
}
