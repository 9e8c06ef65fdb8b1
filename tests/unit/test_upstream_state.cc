// The shared per-endpoint state: ejection caps (also under concurrent workers), slow start by the clock, and
// failures that arrive while an endpoint is ejected.
#include <doctest/doctest.h>

#include <Poco/Logger.h>

#include <thread>

#include "upstream/upstream_state.h"

using portico::upstream::UpstreamState;

namespace {

portico::config::Upstream pool_of(size_t n, unsigned threshold, int64_t slow_start_ms = 0) {
    portico::config::Upstream upstream;
    upstream.name = "app";
    for (size_t i = 0; i < n; ++i) {
        upstream.endpoints.push_back({Poco::Net::SocketAddress("127.0.0.1", static_cast<uint16_t>(9001 + i)), 1});
    }
    upstream.outlier.consecutive_failures = threshold;
    upstream.outlier.max_ejected_percent = 100;
    upstream.slow_start = std::chrono::milliseconds(slow_start_ms);
    return upstream;
}

Poco::Logger& quiet() {
    Poco::Logger& log = Poco::Logger::get("test.upstream_state");
    log.setLevel(Poco::Message::PRIO_FATAL);
    return log;
}

bool ejected(const UpstreamState& state, size_t i, int64_t now) {
    return state.endpoint(i).ejected_until_ms.load() > now;
}

}  // namespace

TEST_CASE("upstream state: the last endpoint that can serve is never ejected, DOWN ones count as gone") {
    auto config = pool_of(2, 1);
    UpstreamState state(config, quiet());
    const int64_t now = 1'000'000;
    state.set_checked(0, false, "test", now);  // 0 is DOWN by its checks
    state.record_failure(1, "status 500", now);
    CHECK_FALSE(ejected(state, 1, now));
    CHECK(state.health(1, now) == PORTICO_HEALTH_HEALTHY);
}

TEST_CASE("upstream state: two workers failing two endpoints at once never eject both") {
    auto config = pool_of(2, 1);
    for (int trial = 0; trial < 2000; ++trial) {
        UpstreamState state(config, quiet());
        const int64_t now = 1'000'000;
        std::thread a([&] { state.record_failure(0, "reset", now); });
        std::thread b([&] { state.record_failure(1, "reset", now); });
        a.join();
        b.join();
        REQUIRE_FALSE((ejected(state, 0, now) && ejected(state, 1, now)));
    }
}

TEST_CASE("upstream state: failures in flight during an ejection do not eject again on return") {
    auto config = pool_of(3, 2);
    UpstreamState state(config, quiet());
    int64_t now = 1'000'000;
    state.record_failure(0, "reset", now);
    state.record_failure(0, "reset", now);
    REQUIRE(ejected(state, 0, now));
    int64_t until = state.endpoint(0).ejected_until_ms.load();
    for (int i = 0; i < 5; ++i) state.record_failure(0, "late reset", now + 1);  // requests sent before it
    now = until;
    CHECK_FALSE(ejected(state, 0, now));
    state.record_failure(0, "reset", now);  // one failure after the return: below the threshold of 2
    CHECK_FALSE(ejected(state, 0, now));
}

TEST_CASE("upstream state: slow start ramps in ten steps, also when the start is stamped ahead of the reader") {
    auto config = pool_of(2, 0, 1000);
    UpstreamState state(config, quiet());
    const int64_t up_at = 5'000'000;
    state.set_checked(0, false, "test", up_at - 10'000);
    state.set_checked(0, true, "test", up_at);
    // A worker whose cached clock is 3 ms behind the health thread's: still the first step, and a change is due.
    int64_t early = up_at - 3;
    CHECK(state.health(0, early) == PORTICO_HEALTH_DEGRADED);
    CHECK(state.effective_weight(0, early) == portico::upstream::kWeightScale / 10);
    CHECK(state.next_change_ms(early) == up_at + 100);
    CHECK(state.effective_weight(0, up_at + 550) == portico::upstream::kWeightScale * 6 / 10);
    CHECK(state.next_change_ms(up_at + 550) == up_at + 600);
    CHECK(state.health(0, up_at + 1000) == PORTICO_HEALTH_HEALTHY);
    CHECK(state.effective_weight(0, up_at + 1000) == portico::upstream::kWeightScale);
    CHECK(state.effective_weight(1, up_at) == portico::upstream::kWeightScale);  // never down: full weight
}
