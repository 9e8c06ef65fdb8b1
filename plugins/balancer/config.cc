#include "config.h"

#include <cmath>
#include <string>

namespace portico::balancer {

namespace {

// The prime a user most likely meant: the first at or above `n` (for "not a prime" messages).
int64_t next_prime(int64_t n) {
    if (n < 2) return 2;
    while (!Maglev::is_prime(static_cast<uint64_t>(n))) ++n;
    return n;
}

portico_status read_least_request(const portico_config_api& api, const portico_config* cfg,
                                  LeastRequestOptions& out) {
    int64_t choices = 0;
    portico_status status = api.get_int(cfg, "choices", &choices);
    if (status == PORTICO_OK) {
        if (choices < kMinChoices || choices > kMaxChoices) {
            std::string message = "'choices' must be between " + std::to_string(kMinChoices) + " and " +
                                  std::to_string(kMaxChoices) + " (default 2), not " + std::to_string(choices);
            return api.error(cfg, "choices", message.c_str());
        }
        out.choices = static_cast<uint32_t>(choices);
    } else if (status != PORTICO_E_NOT_FOUND) {
        return status;
    }

    double bias = 0;
    status = api.get_double(cfg, "active_request_bias", &bias);
    if (status == PORTICO_OK) {
        if (!std::isfinite(bias) || bias < 0.0 || bias > kMaxActiveRequestBias) {
            return api.error(cfg, "active_request_bias",
                             "'active_request_bias' must be a number from 0.0 to 10.0 (default 1.0; 0 ignores "
                             "the active requests when weights differ)");
        }
        out.active_request_bias = bias;
    } else if (status != PORTICO_E_NOT_FOUND) {
        return status;
    }
    return PORTICO_OK;
}

portico_status read_ewma(const portico_config_api& api, const portico_config* cfg, EwmaOptions& out) {
    uint64_t decay_ms = 0;
    portico_status status = api.get_duration_ms(cfg, "decay", &decay_ms);
    if (status == PORTICO_E_NOT_FOUND) return PORTICO_OK;
    if (status != PORTICO_OK) return status;
    if (decay_ms < kMinDecayMs || decay_ms > kMaxDecayMs)
        return api.error(cfg, "decay", "'decay' must be a duration from 1ms to 1h (default \"10s\")");
    out.decay_ns = decay_ms * 1'000'000;
    return PORTICO_OK;
}

portico_status read_ring_size(const portico_config_api& api, const portico_config* cfg, const char* key,
                              uint64_t& out, bool& given) {
    int64_t value = 0;
    portico_status status = api.get_int(cfg, key, &value);
    given = status == PORTICO_OK;
    if (status == PORTICO_E_NOT_FOUND) return PORTICO_OK;
    if (status != PORTICO_OK) return status;
    if (value < 1 || value > kMaxRingSize) {
        std::string message = std::string("'") + key + "' must be between 1 and " + std::to_string(kMaxRingSize) +
                              " (the number of points on the ring), not " + std::to_string(value);
        return api.error(cfg, key, message.c_str());
    }
    out = static_cast<uint64_t>(value);
    return PORTICO_OK;
}

portico_status read_ring_hash(const portico_config_api& api, const portico_config* cfg, RingHashOptions& out) {
    bool min_given = false;
    bool max_given = false;
    portico_status status;
    if ((status = read_ring_size(api, cfg, "min_ring_size", out.min_ring_size, min_given)) != PORTICO_OK)
        return status;
    if ((status = read_ring_size(api, cfg, "max_ring_size", out.max_ring_size, max_given)) != PORTICO_OK)
        return status;
    if (out.min_ring_size > out.max_ring_size) {
        std::string message = "'max_ring_size' (" + std::to_string(out.max_ring_size) +
                              ") must not be below 'min_ring_size' (" + std::to_string(out.min_ring_size) + ")";
        return api.error(cfg, max_given ? "max_ring_size" : "min_ring_size", message.c_str());
    }
    return PORTICO_OK;
}

portico_status read_maglev(const portico_config_api& api, const portico_config* cfg, MaglevOptions& out) {
    int64_t size = 0;
    portico_status status = api.get_int(cfg, "table_size", &size);
    if (status == PORTICO_E_NOT_FOUND) return PORTICO_OK;
    if (status != PORTICO_OK) return status;
    if (size < kMinTableSize || size > kMaxTableSize || !Maglev::is_prime(static_cast<uint64_t>(size))) {
        std::string message = "'table_size' must be a prime number from " + std::to_string(kMinTableSize) + " to " +
                              std::to_string(kMaxTableSize) + " (default 65537), not " + std::to_string(size);
        if (size >= kMinTableSize && size < kMaxTableSize)
            message += "; the next prime is " + std::to_string(next_prime(size));
        return api.error(cfg, "table_size", message.c_str());
    }
    out.table_size = static_cast<uint64_t>(size);
    return PORTICO_OK;
}

}  // namespace

const char* factory_name(Algorithm algorithm) {
    switch (algorithm) {
        case Algorithm::RoundRobin:
            return "round_robin";
        case Algorithm::LeastRequest:
            return "least_request";
        case Algorithm::Ewma:
            return "ewma";
        case Algorithm::RingHash:
            return "ring_hash";
        case Algorithm::Maglev:
            return "maglev";
        case Algorithm::Random:
            return "random";
    }
    return "?";
}

portico_status read_config(const portico_host_api* host, const portico_config* cfg, Algorithm algorithm,
                           BalancerConfig& out) {
    const portico_config_api& api = *host->config;
    out.algorithm = algorithm;
    out.host = host;
    switch (algorithm) {
        case Algorithm::LeastRequest:
            return read_least_request(api, cfg, out.least_request);
        case Algorithm::Ewma:
            return read_ewma(api, cfg, out.ewma);
        case Algorithm::RingHash:
            return read_ring_hash(api, cfg, out.ring_hash);
        case Algorithm::Maglev:
            return read_maglev(api, cfg, out.maglev);
        case Algorithm::RoundRobin:
        case Algorithm::Random:
            return PORTICO_OK;
    }
    return PORTICO_OK;
}

}  // namespace portico::balancer
