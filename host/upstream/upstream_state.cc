#include "upstream/upstream_state.h"

#include <Poco/Logger.h>

#include <algorithm>
#include <limits>

namespace portico::upstream {

namespace {

constexpr auto kRelaxed = std::memory_order_relaxed;
// Slow start raises the weight in this many steps, from 1/kRampSteps of it: each step is a snapshot rebuild.
constexpr int64_t kRampSteps = 10;

std::string seconds_text(int64_t ms) {
    if (ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
    return std::to_string(ms) + "ms";
}

}  // namespace

UpstreamState::UpstreamState(const config::Upstream& config, Poco::Logger& log)
    : config_(config), log_(log), endpoints_(new EndpointState[config.endpoints.size()]) {
    for (const auto& endpoint : config.endpoints) texts_.push_back(endpoint.address.toString());
}

void UpstreamState::inherit(const UpstreamState& before) {
    for (size_t i = 0; i < size(); ++i) {
        for (size_t j = 0; j < before.size(); ++j) {
            if (before.text(j) != text(i)) continue;
            const EndpointState& from = before.endpoint(j);
            EndpointState& to = endpoints_[i];
            to.checks_down.store(from.checks_down.load(kRelaxed), kRelaxed);
            to.ejected_until_ms.store(from.ejected_until_ms.load(kRelaxed), kRelaxed);
            to.return_logged_ms.store(from.return_logged_ms.load(kRelaxed), kRelaxed);
            to.last_ejection_end_ms.store(from.last_ejection_end_ms.load(kRelaxed), kRelaxed);
            to.ejections.store(from.ejections.load(kRelaxed), kRelaxed);
            to.consecutive_failures.store(from.consecutive_failures.load(kRelaxed), kRelaxed);
            to.ramp_start_ms.store(from.ramp_start_ms.load(kRelaxed), kRelaxed);
            break;
        }
    }
}

int64_t UpstreamState::ramp_start(size_t i) const {
    const EndpointState& e = endpoints_[i];
    return std::max(e.ramp_start_ms.load(kRelaxed), e.ejected_until_ms.load(kRelaxed));
}

portico_health UpstreamState::health(size_t i, int64_t now_ms) const {
    const EndpointState& e = endpoints_[i];
    if (e.checks_down.load(kRelaxed) || e.ejected_until_ms.load(kRelaxed) > now_ms) return PORTICO_HEALTH_UNHEALTHY;
    int64_t ramp = config_.slow_start.count();
    if (ramp > 0 && now_ms < ramp_start(i) + ramp) return PORTICO_HEALTH_DEGRADED;
    return PORTICO_HEALTH_HEALTHY;
}

uint32_t UpstreamState::effective_weight(size_t i, int64_t now_ms) const {
    uint32_t full = config_.endpoints[i].weight * kWeightScale;
    int64_t ramp = config_.slow_start.count();
    // A start stamped by another thread's clock may lie a few ms ahead of this reader's: that is step 1 too.
    int64_t since = std::max<int64_t>(0, now_ms - ramp_start(i));
    if (ramp <= 0 || since >= ramp) return full;
    // Step k of kRampSteps (k = 1 at the start) carries k/kRampSteps of the weight.
    int64_t step = std::min<int64_t>(kRampSteps, 1 + since * kRampSteps / ramp);
    return std::max<uint32_t>(1, static_cast<uint32_t>(full * step / kRampSteps));
}

int64_t UpstreamState::next_change_ms(int64_t now_ms) const {
    int64_t next = std::numeric_limits<int64_t>::max();
    int64_t ramp = config_.slow_start.count();
    for (size_t i = 0; i < size(); ++i) {
        int64_t until = endpoints_[i].ejected_until_ms.load(kRelaxed);
        if (until > now_ms) next = std::min(next, until);
        if (ramp <= 0) continue;
        int64_t start = ramp_start(i);
        int64_t since = std::max<int64_t>(0, now_ms - start);
        if (since >= ramp) continue;
        int64_t step = 1 + since * kRampSteps / ramp;  // the next step begins where this one ends
        next = std::min(next, start + (step * ramp + kRampSteps - 1) / kRampSteps);
    }
    return next;
}

void UpstreamState::log_returns(int64_t now_ms) {
    for (size_t i = 0; i < size(); ++i) {
        EndpointState& e = endpoints_[i];
        int64_t until = e.ejected_until_ms.load(kRelaxed);
        int64_t logged = e.return_logged_ms.load(kRelaxed);
        if (until == 0 || until > now_ms || logged == until) continue;
        // Every worker notices; the one that swaps the mark logs.
        if (!e.return_logged_ms.compare_exchange_strong(logged, until, kRelaxed)) continue;
        log_.notice("upstream " + name() + ": " + texts_[i] + " back after its ejection" +
                    (config_.slow_start.count() > 0 ? " (slow start)" : ""));
    }
}

void UpstreamState::set_checked(size_t i, bool up, const std::string& why, int64_t now_ms) {
    EndpointState& e = endpoints_[i];
    bool was_down = e.checks_down.load(kRelaxed);
    if (was_down == !up) return;
    if (up) {
        e.ramp_start_ms.store(now_ms, kRelaxed);
        e.ejected_until_ms.store(0, kRelaxed);  // the checks say it serves again: a passive ejection ends too
        e.consecutive_failures.store(0, kRelaxed);
    }
    e.checks_down.store(!up, kRelaxed);
    bump();
    std::string line = "upstream " + name() + ": " + texts_[i] + (up ? " UP (" : " DOWN (") + why + ")";
    if (up) {
        log_.notice(line);
    } else {
        log_.warning(line);
    }
}

void UpstreamState::record_success(size_t i, uint64_t latency_us) {
    EndpointState& e = endpoints_[i];
    if (e.consecutive_failures.load(kRelaxed) != 0) e.consecutive_failures.store(0, kRelaxed);
    // An EWMA with weight 1/8 per sample (as TCP's smoothed RTT). Racing workers may lose a sample: harmless.
    uint64_t old = e.ewma_latency_us.load(kRelaxed);
    uint64_t next = old == 0 ? latency_us : old - old / 8 + latency_us / 8;
    e.ewma_latency_us.store(std::max<uint64_t>(next, 1), kRelaxed);
}

void UpstreamState::record_failure(size_t i, const char* why, int64_t now_ms) {
    EndpointState& e = endpoints_[i];
    e.failures.fetch_add(1, kRelaxed);
    // Requests already in flight when it was ejected say nothing new: they must not eject it again on return.
    if (e.ejected_until_ms.load(kRelaxed) > now_ms) return;
    uint32_t in_a_row = e.consecutive_failures.fetch_add(1, kRelaxed) + 1;
    unsigned threshold = config_.outlier.consecutive_failures;
    if (threshold != 0 && in_a_row >= threshold && e.ejected_until_ms.load(kRelaxed) <= now_ms) {
        eject(i, why, now_ms);
    }
}

void UpstreamState::eject(size_t i, const char* why, int64_t now_ms) {
    const config::OutlierDetection& outlier = config_.outlier;
    std::lock_guard<std::mutex> lock(eject_mutex_);
    EndpointState& e = endpoints_[i];
    if (e.ejected_until_ms.load(kRelaxed) > now_ms) return;  // another worker just did
    size_t ejected = 0;
    size_t serving = 0;  // neither ejected nor DOWN by checks
    for (size_t j = 0; j < size(); ++j) {
        bool out = endpoints_[j].ejected_until_ms.load(kRelaxed) > now_ms;
        if (out) ++ejected;
        if (!out && !endpoints_[j].checks_down.load(kRelaxed)) ++serving;
    }
    // The cap keeps part of the pool serving when a shared cause (the network, a bad deploy) fails them all:
    // ejecting the last endpoint that can serve would only turn errors into 503s.
    bool last = serving <= 1 && !e.checks_down.load(kRelaxed);
    if ((ejected + 1) * 100 > size() * outlier.max_ejected_percent || last) return;
    // Ejections in a row grow; one that starts long after the last ended starts over.
    uint32_t n = e.ejections.load(kRelaxed);
    if (now_ms - e.last_ejection_end_ms.load(kRelaxed) > outlier.max_ejection.count()) n = 0;
    ++n;
    int64_t duration = std::min<int64_t>(outlier.base_ejection.count() * n, outlier.max_ejection.count());
    e.ejected_until_ms.store(now_ms + duration, kRelaxed);
    e.ejections.store(n, kRelaxed);
    e.last_ejection_end_ms.store(now_ms + duration, kRelaxed);
    uint32_t failures = e.consecutive_failures.exchange(0, kRelaxed);
    bump();
    log_.warning("upstream " + name() + ": " + texts_[i] + " ejected for " + seconds_text(duration) + " (" +
                 std::to_string(failures) + " failures in a row: " + why + ")");
}

void UpstreamState::rotate_budget(int64_t now_ms) {
    if (now_ms - window_start_ms_.load(kRelaxed) < kBudgetWindowMs) return;
    std::lock_guard<std::mutex> lock(rotate_mutex_);
    int64_t start = window_start_ms_.load(kRelaxed);
    if (now_ms - start < kBudgetWindowMs) return;  // another worker rotated it meanwhile
    // A window that ended long ago says nothing about now: both start empty then.
    bool adjacent = now_ms - start < 2 * kBudgetWindowMs;
    previous_requests_.store(adjacent ? window_requests_.load(kRelaxed) : 0, kRelaxed);
    previous_retries_.store(adjacent ? window_retries_.load(kRelaxed) : 0, kRelaxed);
    window_requests_.store(0, kRelaxed);
    window_retries_.store(0, kRelaxed);
    window_start_ms_.store(adjacent ? start + kBudgetWindowMs : now_ms, kRelaxed);
}

void UpstreamState::count_request(int64_t now_ms) {
    rotate_budget(now_ms);
    window_requests_.fetch_add(1, kRelaxed);
}

bool UpstreamState::try_retry(const config::RetryPolicy& policy, int64_t now_ms) {
    rotate_budget(now_ms);
    // The previous window counts for the part of it still inside the sliding window.
    double elapsed = static_cast<double>(now_ms - window_start_ms_.load(kRelaxed)) / kBudgetWindowMs;
    double weight = std::clamp(1.0 - elapsed, 0.0, 1.0);
    double requests = window_requests_.load(kRelaxed) + weight * previous_requests_.load(kRelaxed);
    double retries = window_retries_.load(kRelaxed) + weight * previous_retries_.load(kRelaxed);
    double allowed = requests * policy.budget_percent / 100.0 +
                     static_cast<double>(policy.min_retries_per_second) * kBudgetWindowMs / 1000.0;
    if (retries >= allowed) return false;
    window_retries_.fetch_add(1, kRelaxed);
    return true;
}

bool UpstreamState::should_log_budget(int64_t now_ms) {
    int64_t last = budget_logged_ms_.load(kRelaxed);
    if (last != 0 && now_ms - last < kBudgetWindowMs) return false;
    return budget_logged_ms_.compare_exchange_strong(last, now_ms, kRelaxed);
}

}  // namespace portico::upstream
