// maglev: lookup table, stable keys, small disruption, weighted entries.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "fake_pool.h"
#include "maglev.h"

using namespace portico::balancer;
using namespace portico::balancer::test;

namespace {

std::vector<uint32_t> map_keys(Policy& policy, int n) {
    std::vector<uint32_t> ids;
    for (int i = 0; i < n; ++i) ids.push_back(pick(policy, key_of(i)));
    return ids;
}

}  // namespace

TEST_CASE("maglev: table sizes must be prime") {
    CHECK(Maglev::is_prime(3));
    CHECK(Maglev::is_prime(65537));
    CHECK(Maglev::is_prime(5000011));
    CHECK_FALSE(Maglev::is_prime(1));
    CHECK_FALSE(Maglev::is_prime(65536));
    CHECK_FALSE(Maglev::is_prime(65539 * 3));
}

TEST_CASE("maglev: the same key always lands on the same endpoint, in every instance") {
    FakeLoad load;
    Maglev a(load, 1, MaglevOptions{}), b(load, 2, MaglevOptions{});
    std::vector<Endpoint> endpoints = make_endpoints({1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    a.update(endpoints);
    std::reverse(endpoints.begin(), endpoints.end());
    b.update(endpoints);
    const std::vector<uint32_t> first = map_keys(a, 10'000);
    CHECK(map_keys(a, 10'000) == first);
    CHECK(map_keys(b, 10'000) == first);
    // Every endpoint holds its tenth of the table, to within a few entries.
    for (size_t k = 0; k < 10; ++k) CHECK(a.entries_of(id_of(k)) == doctest::Approx(6553.7).epsilon(0.001));
}

TEST_CASE("maglev: removing one of ten endpoints remaps <= 15% of 10,000 keys") {
    FakeLoad load;
    Maglev policy(load, 1, MaglevOptions{});
    std::vector<Endpoint> endpoints = make_endpoints({1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
    policy.update(endpoints);
    const std::vector<uint32_t> before = map_keys(policy, 10'000);
    for (size_t removed : {size_t{0}, size_t{4}, size_t{9}}) {
        std::vector<Endpoint> nine = endpoints;
        nine.erase(nine.begin() + static_cast<std::ptrdiff_t>(removed));
        policy.update(nine);
        const std::vector<uint32_t> after = map_keys(policy, 10'000);
        size_t moved = 0;
        for (size_t i = 0; i < before.size(); ++i) moved += before[i] != after[i];
        const double share = static_cast<double>(moved) / before.size();
        MESSAGE("maglev: removing endpoint " << removed << " of 10 remaps " << share * 100 << "% of 10000 keys");
        CHECK(share <= 0.15);
        // Every key of the removed endpoint moved, and the rest mostly stayed.
        for (size_t i = 0; i < before.size(); ++i) {
            if (before[i] == id_of(removed)) CHECK(after[i] != id_of(removed));
        }
        policy.update(endpoints);
        CHECK(map_keys(policy, 10'000) == before);
    }
}

TEST_CASE("maglev: weights 1:2:3 share the table and the keys, approximately") {
    FakeLoad load;
    Maglev policy(load, 1, MaglevOptions{});
    policy.update(make_endpoints({1, 2, 3}));
    const double table = 65537;
    MESSAGE("maglev 1:2:3 table entries: " << policy.entries_of(id_of(0)) << " " << policy.entries_of(id_of(1))
                                           << " " << policy.entries_of(id_of(2)));
    CHECK(policy.entries_of(id_of(0)) / table == doctest::Approx(1.0 / 6).epsilon(0.01));
    CHECK(policy.entries_of(id_of(1)) / table == doctest::Approx(2.0 / 6).epsilon(0.01));
    CHECK(policy.entries_of(id_of(2)) / table == doctest::Approx(3.0 / 6).epsilon(0.01));
    const auto measured = shares(policy, 6000, true);
    const double error = max_error(measured, {1.0 / 6, 2.0 / 6, 3.0 / 6});
    MESSAGE("maglev 1:2:3 over 6000 keys: " << describe(measured) << "  largest deviation: " << error);
    CHECK(error <= 0.05);
}

TEST_CASE("maglev: a tiny table with more endpoints than entries still answers, retries included") {
    FakeLoad load;
    MaglevOptions tiny;
    tiny.table_size = 7;
    Maglev policy(load, 1, tiny);
    policy.update(make_endpoints({1, 1, 1, 1, 1, 1, 1, 1, 1, 1}));
    std::set<uint32_t> firsts;
    for (int i = 0; i < 500; ++i) {
        const std::string key = key_of(i);
        const uint32_t first = pick(policy, key);
        firsts.insert(first);
        // Nine tried: the one left is found even if it has no entry.
        std::vector<uint32_t> tried;
        for (size_t k = 0; k < 10; ++k) {
            if (id_of(k) != id_of(i % 10)) tried.push_back(id_of(k));
        }
        CHECK(pick(policy, key, tried) == id_of(i % 10));
    }
    CHECK(firsts.size() <= 7);
}

TEST_CASE("maglev: an empty key is a weighted random pick; a retry rehashes") {
    FakeLoad load;
    Maglev policy(load, 1, MaglevOptions{});
    policy.update(make_endpoints({1, 1, 2}));
    CHECK(max_error(shares(policy, 4000, false), {0.25, 0.25, 0.5}) <= 0.03);
    std::set<uint32_t> seconds;
    for (int i = 0; i < 1000; ++i) {
        const uint32_t first = pick(policy, key_of(i));
        const uint32_t second = pick(policy, key_of(i), {first});
        CHECK(second != first);
        seconds.insert(second);
    }
    CHECK(seconds.size() == 3);
}
