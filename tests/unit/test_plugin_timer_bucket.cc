#include <doctest/doctest.h>

#include <set>

#include "proxy/filter_chain.h"

using namespace portico;

TEST_CASE("plugin timer durations round up by at most 12.5% onto few queues") {
    std::set<int64_t> buckets;
    for (uint64_t ms = 1; ms <= 100000; ++ms) {
        int64_t bucket = proxy::plugin_timer_bucket_ms(ms);
        CHECK(bucket >= static_cast<int64_t>(ms));
        CHECK(static_cast<double>(bucket) <= static_cast<double>(ms) * 1.125);
        buckets.insert(bucket);
    }
    CHECK(buckets.size() <= 16 + 8 * 13);  // exact below 16 ms, then 8 per power of two up to 2^17
}
