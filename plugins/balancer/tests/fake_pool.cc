#include "fake_pool.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "ewma.h"
#include "least_request.h"
#include "maglev.h"
#include "random.h"
#include "ring_hash.h"
#include "round_robin.h"

namespace {
std::atomic<size_t> allocations{0};
}  // namespace

// Every allocation of the test binary, and of the plugin it loads, passes here. The whole unaligned family is
// replaced, so that each pair (a nothrow new freed by a plain delete, say) meets the same malloc and free.
void* operator new(size_t size) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
    throw std::bad_alloc();
}
void* operator new[](size_t size) {
    return ::operator new(size);
}
void* operator new(size_t size, const std::nothrow_t&) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t& tag) noexcept {
    return ::operator new(size, tag);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, size_t) noexcept {
    std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
    std::free(p);
}

namespace portico::balancer::test {

size_t allocation_count() {
    return allocations.load(std::memory_order_relaxed);
}

std::vector<Endpoint> make_endpoints(const std::vector<uint32_t>& weights) {
    std::vector<Endpoint> endpoints;
    for (size_t k = 0; k < weights.size(); ++k) {
        Endpoint endpoint;
        endpoint.id = id_of(k);
        endpoint.weight = weights[k];
        endpoint.health = kHealthy;
        endpoint.address = "10.0.0." + std::to_string(k + 1) + ":8080";
        endpoints.push_back(endpoint);
    }
    return endpoints;
}

const char* name(Kind kind) {
    switch (kind) {
        case Kind::RoundRobin:
            return "round_robin";
        case Kind::LeastRequest:
            return "least_request";
        case Kind::Ewma:
            return "ewma";
        case Kind::RingHash:
            return "ring_hash";
        case Kind::Maglev:
            return "maglev";
        case Kind::Random:
            return "random";
    }
    return "?";
}

bool is_hashing(Kind kind) {
    return kind == Kind::RingHash || kind == Kind::Maglev;
}

std::unique_ptr<Policy> make_policy(Kind kind, const Load& load, uint64_t seed) {
    switch (kind) {
        case Kind::RoundRobin:
            return std::make_unique<RoundRobin>(load, seed);
        case Kind::LeastRequest:
            return std::make_unique<LeastRequest>(load, seed, LeastRequestOptions{});
        case Kind::Ewma:
            return std::make_unique<Ewma>(load, seed, EwmaOptions{});
        case Kind::RingHash:
            return std::make_unique<RingHash>(load, seed, RingHashOptions{});
        case Kind::Maglev:
            return std::make_unique<Maglev>(load, seed, MaglevOptions{});
        case Kind::Random:
            return std::make_unique<RandomPolicy>(load, seed);
    }
    return nullptr;
}

uint32_t pick(Policy& policy, std::string_view key, const std::vector<uint32_t>& tried) {
    Request request;
    request.hash_key = key;
    request.tried = tried.data();
    request.n_tried = tried.size();
    return policy.choose(request).value_or(0);
}

std::string key_of(int i) {
    return "user-" + std::to_string(i * 7919 + 13);
}

std::map<uint32_t, double> shares(Policy& policy, int n, bool with_keys) {
    std::map<uint32_t, double> result;
    for (int i = 0; i < n; ++i) result[pick(policy, with_keys ? key_of(i) : std::string())] += 1.0 / n;
    return result;
}

double max_error(const std::map<uint32_t, double>& shares, const std::vector<double>& expected) {
    double worst = 0;
    for (size_t k = 0; k < expected.size(); ++k) {
        auto it = shares.find(id_of(k));
        const double share = it == shares.end() ? 0.0 : it->second;
        worst = std::max(worst, std::fabs(share - expected[k]));
    }
    return worst;
}

std::string describe(const std::map<uint32_t, double>& shares) {
    std::string text;
    char item[48];
    for (const auto& [id, share] : shares) {
        std::snprintf(item, sizeof item, "%s%u: %.3f", text.empty() ? "" : "  ", id, share);
        text += item;
    }
    return text;
}

}  // namespace portico::balancer::test
