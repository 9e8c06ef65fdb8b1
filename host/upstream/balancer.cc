#include "upstream/balancer.h"

#include <Poco/Logger.h>

#include <algorithm>

#include "plugins/plugin_set.h"

namespace portico::upstream {

namespace {

bool contains(const uint32_t* ids, size_t n, uint32_t id) { return std::find(ids, ids + n, id) != ids + n; }

}  // namespace

Balancer::Balancer(UpstreamState& state, const plugins::BalancerInstance* plugin, unsigned worker_index,
                   int64_t now_ms)
    : state_(state), plugin_(plugin) {
    pool_.state = &state;
    refresh(now_ms);
    if (plugin_ != nullptr) {
        lb_ = plugin_->ops->lb_new(plugin_->config, plugin_->worker_state[worker_index], &pool_);
    }
}

Balancer::~Balancer() {
    if (lb_ != nullptr && plugin_->ops->lb_free) plugin_->ops->lb_free(lb_);
}

void Balancer::refresh(int64_t now_ms) {
    state_.log_returns(now_ms);
    generation_ = state_.generation();
    valid_until_ms_ = state_.next_change_ms(now_ms);
    size_t count = state_.size();
    pool_.endpoints.resize(count);
    eligible_count_ = 0;
    for (size_t i = 0; i < count; ++i) {
        portico_endpoint& e = pool_.endpoints[i];
        PORTICO_INIT(&e);
        e.id = static_cast<uint32_t>(i);
        e.address = portico_view{state_.text(i).data(), state_.text(i).size()};
        e.health = state_.health(i, now_ms);
        e.weight = e.health == PORTICO_HEALTH_UNHEALTHY ? 0 : state_.effective_weight(i, now_ms);
        if (eligible(i)) ++eligible_count_;
    }
}

bool Balancer::eligible(size_t endpoint) const {
    portico_health health = pool_.endpoints[endpoint].health;
    return health == PORTICO_HEALTH_HEALTHY || health == PORTICO_HEALTH_DEGRADED;
}

int Balancer::choose(const uint32_t* tried, size_t n_tried, uint32_t attempt, std::string_view hash_key,
                     portico_stream* stream, int64_t now_ms) {
    if (state_.generation() != generation_ || now_ms >= valid_until_ms_) {
        refresh(now_ms);
        if (lb_ != nullptr && plugin_->ops->on_pool_update) plugin_->ops->on_pool_update(lb_, &pool_);
    }
    if (eligible_count_ == 0) return -1;
    if (lb_ == nullptr) return round_robin(tried, n_tried);

    portico_lb_context ctx;
    PORTICO_INIT(&ctx);
    ctx.attempt = attempt;
    ctx.tried = tried;
    ctx.n_tried = n_tried;
    ctx.hash_key = portico_view{hash_key.data(), hash_key.size()};
    ctx.stream = stream;
    uint32_t id = 0;
    portico_status status = plugin_->ops->choose(lb_, &ctx, &id);
    if (status == PORTICO_OK && id < pool_.endpoints.size() && eligible(id) &&
        (!contains(tried, n_tried, id) || !untried_eligible(tried, n_tried))) {
        return static_cast<int>(id);
    }
    // The plugin said no host, erred, or picked what it must not while an eligible endpoint exists: the host's
    // promise holds anyway.
    if (!warned_) {
        warned_ = true;
        Poco::Logger::get("portico").warning(
            "upstream " + state_.name() + ": balancer " + plugin_->label +
            (status == PORTICO_OK ? " chose an endpoint that cannot take requests or was already tried"
                                  : " failed to choose (status " + std::to_string(status) + ")") +
            " while one can; using round robin for such choices");
    }
    return round_robin(tried, n_tried);
}

bool Balancer::untried_eligible(const uint32_t* tried, size_t n_tried) const {
    for (size_t i = 0; i < pool_.endpoints.size(); ++i) {
        if (eligible(i) && !contains(tried, n_tried, static_cast<uint32_t>(i))) return true;
    }
    return false;
}

int Balancer::round_robin(const uint32_t* tried, size_t n_tried) {
    size_t count = pool_.endpoints.size();
    int fallback = -1;  // an eligible endpoint already tried: better than none
    for (size_t step = 0; step < count; ++step) {
        size_t candidate = (next_ + step) % count;
        if (!eligible(candidate)) continue;
        if (contains(tried, n_tried, static_cast<uint32_t>(candidate))) {
            if (fallback < 0) fallback = static_cast<int>(candidate);
            continue;
        }
        next_ = (candidate + 1) % count;
        return static_cast<int>(candidate);
    }
    return fallback;
}

void Balancer::on_result(size_t endpoint, portico_lb_outcome outcome, uint64_t latency_us) {
    if (lb_ != nullptr && plugin_->ops->on_result) {
        plugin_->ops->on_result(lb_, static_cast<uint32_t>(endpoint), outcome, latency_us);
    }
}

}  // namespace portico::upstream
