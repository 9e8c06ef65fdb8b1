// The balancer plugin's descriptor: six BALANCER factories, one per policy, over the raw C ABI. They share one
// hook table (an instance knows its policy); each has its own config_new, so each asks only for its own keys.
// Every hook catches everything: no exception may cross into the host.
#include <portico/abi.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <new>

#include "config.h"
#include "lb_instance.h"

namespace {

using portico::balancer::Algorithm;
using portico::balancer::BalancerConfig;
using portico::balancer::LbInstance;

void fill_error(portico_error* err, const char* message) {
    if (err != nullptr) std::snprintf(err->message, sizeof err->message, "%s", message);
}

template <Algorithm kAlgorithm>
portico_status config_new(const portico_host_api* host, void*, const portico_config* cfg, void** out,
                          portico_error* err) {
    try {
        if (host == nullptr || host->config == nullptr || out == nullptr) return PORTICO_E_BAD_ARG;
        if (!PORTICO_HAS(host, portico_host_api, lb) || host->lb == nullptr) {
            fill_error(err, "this host offers no balancer support (host->lb)");
            return PORTICO_E_UNIMPLEMENTED;
        }
        auto config = std::make_unique<BalancerConfig>();
        portico_status status = portico::balancer::read_config(host, cfg, kAlgorithm, *config);
        if (status != PORTICO_OK) return status;
        *out = config.release();
        return PORTICO_OK;
    } catch (const std::exception& e) {
        fill_error(err, e.what());
        return PORTICO_E_INTERNAL;
    } catch (...) {
        fill_error(err, "unexpected exception");
        return PORTICO_E_INTERNAL;
    }
}

void config_free(void* config) {
    delete static_cast<BalancerConfig*>(config);
}

void* lb_new(void* config, void*, const portico_pool* pool) {
    if (config == nullptr) return nullptr;
    const auto& balancer_config = *static_cast<const BalancerConfig*>(config);
    try {
        return new LbInstance(balancer_config, pool);
    } catch (const std::exception& e) {
        const portico_core_api* core = balancer_config.host->core;
        if (core != nullptr && core->log != nullptr) {
            char message[256];
            int len = std::snprintf(message, sizeof message, "%s: cannot make a balancer for the pool: %s",
                                    portico::balancer::factory_name(balancer_config.algorithm), e.what());
            if (len > 0)
                core->log(balancer_config.host->plugin, PORTICO_LOG_ERROR, message,
                          std::min(static_cast<size_t>(len), sizeof message - 1));
        }
        return nullptr;
    } catch (...) {
        return nullptr;
    }
}

void lb_free(void* lb) {
    delete static_cast<LbInstance*>(lb);
}

void on_pool_update(void* lb, const portico_pool* pool) {
    if (lb == nullptr) return;
    auto* instance = static_cast<LbInstance*>(lb);
    try {
        instance->update(pool);
    } catch (...) {
        instance->fail(pool);
    }
}

portico_status choose(void* lb, const portico_lb_context* ctx, uint32_t* endpoint_id) {
    if (lb == nullptr) return PORTICO_E_BAD_ARG;
    try {
        return static_cast<LbInstance*>(lb)->choose(ctx, endpoint_id);
    } catch (...) {
        return PORTICO_E_INTERNAL;
    }
}

void on_result(void* lb, uint32_t endpoint_id, portico_lb_outcome outcome, uint64_t latency_us) {
    if (lb == nullptr) return;
    try {
        static_cast<LbInstance*>(lb)->on_result(endpoint_id, outcome, latency_us);
    } catch (...) {
        // Learning from one outcome is optional; the next pick goes on without it.
    }
}

const portico_balancer_ops kOps = [] {
    portico_balancer_ops ops{};
    ops.struct_size = sizeof ops;
    ops.lb_new = lb_new;
    ops.lb_free = lb_free;
    ops.on_pool_update = on_pool_update;
    ops.choose = choose;
    ops.on_result = on_result;
    return ops;
}();

template <Algorithm kAlgorithm>
portico_factory make_factory() {
    portico_factory factory{};
    factory.struct_size = sizeof factory;
    factory.kind = PORTICO_KIND_BALANCER;
    factory.name = portico::balancer::factory_name(kAlgorithm);
    factory.config_new = config_new<kAlgorithm>;
    factory.config_free = config_free;
    factory.ops = &kOps;
    return factory;
}

const portico_factory kRoundRobin = make_factory<Algorithm::RoundRobin>();
const portico_factory kLeastRequest = make_factory<Algorithm::LeastRequest>();
const portico_factory kEwma = make_factory<Algorithm::Ewma>();
const portico_factory kRingHash = make_factory<Algorithm::RingHash>();
const portico_factory kMaglev = make_factory<Algorithm::Maglev>();
const portico_factory kRandom = make_factory<Algorithm::Random>();

const portico_factory* const kFactories[] = {&kRoundRobin, &kLeastRequest, &kEwma, &kRingHash, &kMaglev, &kRandom};

const portico_plugin_desc kDescriptor = [] {
    portico_plugin_desc desc{};
    desc.struct_size = sizeof desc;
    desc.abi_major = PORTICO_ABI_MAJOR;
    desc.abi_minor = PORTICO_ABI_MINOR;
    desc.name = "balancer";
    desc.version = "1.0.0";
    desc.description = "load balancing: round_robin, least_request, ewma, ring_hash, maglev, random";
    desc.factories = kFactories;
    desc.n_factories = sizeof kFactories / sizeof kFactories[0];
    return desc;
}();

}  // namespace

PORTICO_PLUGIN(&kDescriptor);
