#include "lb_instance.h"

#include <atomic>
#include <stdexcept>
#include <string>

#include "maglev.h"
#include "random.h"
#include "ring_hash.h"
#include "round_robin.h"

namespace portico::balancer {

namespace {

// Instances are made on several workers at once; each gets its own stream of numbers.
std::atomic<uint64_t> instances_made{0};

Outcome outcome_from_abi(portico_lb_outcome outcome) {
    switch (outcome) {
        case PORTICO_LB_SUCCESS:
            return Outcome::Success;
        case PORTICO_LB_CONNECT_FAILURE:
            return Outcome::ConnectFailure;
        case PORTICO_LB_RESET:
            return Outcome::Reset;
        case PORTICO_LB_TIMEOUT:
            return Outcome::Timeout;
        case PORTICO_LB_HTTP_5XX:
            return Outcome::Http5xx;
        default:
            return Outcome::Other;
    }
}

}  // namespace

std::unique_ptr<Policy> make_policy(const BalancerConfig& config, const Load& load, uint64_t seed) {
    switch (config.algorithm) {
        case Algorithm::RoundRobin:
            return std::make_unique<RoundRobin>(load, seed);
        case Algorithm::LeastRequest:
            return std::make_unique<LeastRequest>(load, seed, config.least_request);
        case Algorithm::Ewma:
            return std::make_unique<Ewma>(load, seed, config.ewma);
        case Algorithm::RingHash:
            return std::make_unique<RingHash>(load, seed, config.ring_hash);
        case Algorithm::Maglev:
            return std::make_unique<Maglev>(load, seed, config.maglev);
        case Algorithm::Random:
            return std::make_unique<RandomPolicy>(load, seed);
    }
    throw std::logic_error("unknown balancing algorithm");
}

LbInstance::LbInstance(const BalancerConfig& config, const portico_pool* pool)
    : config_(config), lb_(config.host->lb) {
    if (!PORTICO_HAS(lb_, portico_lb_api, endpoint_get) || lb_->pool_size == nullptr ||
        lb_->endpoint_get == nullptr)
        throw std::runtime_error("the host offers no pool snapshot (host->lb)");
    const uint64_t made = instances_made.fetch_add(1, std::memory_order_relaxed);
    const uint64_t seed = now_ns() ^ mix64(made ^ reinterpret_cast<uintptr_t>(this));
    policy_ = make_policy(config, *this, seed);
    update(pool);
}

void LbInstance::update(const portico_pool* pool) {
    const size_t size = pool == nullptr ? 0 : lb_->pool_size(pool);
    std::vector<Endpoint> endpoints;
    std::vector<size_t> snapshot_index;
    endpoints.reserve(size);
    snapshot_index.reserve(size);
    size_t unreadable = 0;
    for (size_t index = 0; index < size; ++index) {
        portico_endpoint endpoint;
        PORTICO_INIT(&endpoint);
        if (lb_->endpoint_get(pool, index, &endpoint) != PORTICO_OK) {
            ++unreadable;
            continue;
        }
        Endpoint& view = endpoints.emplace_back();
        view.id = endpoint.id;
        view.weight = endpoint.weight;
        view.health = endpoint.health;
        if (endpoint.address.data != nullptr) view.address.assign(endpoint.address.data, endpoint.address.len);
        snapshot_index.push_back(index);
    }
    const size_t count = endpoints.size();
    policy_->update(std::move(endpoints));
    pool_ = pool;
    snapshot_index_.swap(snapshot_index);

    note_update(size, count, unreadable);
}

void LbInstance::note_update(size_t size, size_t count, size_t unreadable) const noexcept {
    try {
        const std::string name = factory_name(config_.algorithm);
        if (unreadable > 0) {
            std::string message = name + ": " + std::to_string(unreadable) + " of " + std::to_string(size) +
                                  " endpoints unreadable in the pool snapshot";
            log(PORTICO_LOG_WARNING, message.c_str());
        }
        const portico_core_api* core = config_.host->core;
        if (core != nullptr && core->log_enabled != nullptr &&
            core->log_enabled(config_.host->plugin, PORTICO_LOG_DEBUG)) {
            std::string message = name + ": pool of " + std::to_string(count) + ", " +
                                  std::to_string(policy_->endpoints().eligible().size()) + " eligible";
            log(PORTICO_LOG_DEBUG, message.c_str());
        }
    } catch (...) {
        // A log line is not worth failing an update that already succeeded.
    }
}

void LbInstance::fail(const portico_pool* pool) noexcept {
    policy_->clear();
    snapshot_index_.clear();
    pool_ = pool;
    log(PORTICO_LOG_ERROR, "pool update failed (out of memory?): answering no endpoint until the next update");
}

portico_status LbInstance::choose(const portico_lb_context* ctx, uint32_t* endpoint_id) {
    if (ctx == nullptr || endpoint_id == nullptr) return PORTICO_E_BAD_ARG;
    Request request;
    // Fields past the context's struct_size are absent (an older host): they keep their empty defaults.
    if (PORTICO_HAS(ctx, portico_lb_context, n_tried) && ctx->tried != nullptr) {
        request.tried = ctx->tried;
        request.n_tried = ctx->n_tried;
    }
    if (PORTICO_HAS(ctx, portico_lb_context, hash_key) && ctx->hash_key.data != nullptr)
        request.hash_key = std::string_view(ctx->hash_key.data, ctx->hash_key.len);
    const std::optional<uint32_t> chosen = policy_->choose(request);
    if (!chosen) return PORTICO_E_NO_HOST;
    *endpoint_id = *chosen;
    return PORTICO_OK;
}

void LbInstance::on_result(uint32_t endpoint_id, portico_lb_outcome outcome, uint64_t latency_us) {
    policy_->on_result(endpoint_id, outcome_from_abi(outcome), latency_us);
}

uint64_t LbInstance::active_requests(size_t position) const {
    if (position >= snapshot_index_.size() || !PORTICO_HAS(lb_, portico_lb_api, endpoint_stat) ||
        lb_->endpoint_stat == nullptr)
        return 0;
    uint64_t value = 0;
    // A host without live figures (PORTICO_E_UNIMPLEMENTED) reads as idle: the policies then spread evenly.
    if (lb_->endpoint_stat(pool_, snapshot_index_[position], PORTICO_STAT_ACTIVE_REQUESTS, &value) != PORTICO_OK)
        return 0;
    return value;
}

uint64_t LbInstance::now_ns() const {
    const portico_core_api* core = config_.host->core;
    return core != nullptr && core->now_ns != nullptr ? core->now_ns() : 0;
}

void LbInstance::log(portico_log_level level, const char* message) const noexcept {
    const portico_core_api* core = config_.host->core;
    if (core == nullptr || core->log == nullptr) return;
    size_t len = 0;
    while (message[len] != '\0') ++len;
    core->log(config_.host->plugin, level, message, len);
}

}  // namespace portico::balancer
