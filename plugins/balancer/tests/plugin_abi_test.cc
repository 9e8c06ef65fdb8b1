// The plugin as the host sees it: portico-balancer.so loaded with dlopen, its descriptor, config_new against a
// fake config table, and every balancer hook driven over a fake pool through a fake portico_lb_api.
#include <dlfcn.h>
#include <doctest/doctest.h>
#include <portico/abi.h>

#include <cstddef>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "fake_pool.h"

// The host's opaque handles, as this fake host defines them.
struct portico_config {
    std::map<std::string, std::variant<int64_t, double, std::string, bool>> values;
    mutable std::set<std::string> asked;
    mutable std::vector<std::pair<std::string, std::string>> errors;  // (key, message)
};

struct portico_pool {
    struct Entry {
        uint32_t id;
        std::string address;
        uint32_t weight;
        uint32_t health;
        uint64_t active;
    };
    std::vector<Entry> entries;
    bool stats = true;                            // false: endpoint_stat answers PORTICO_E_UNIMPLEMENTED
    size_t unreadable = static_cast<size_t>(-1);  // endpoint_get fails at this index
};

namespace {

using portico::balancer::test::allocation_count;

// ---- the fake host ----------------------------------------------------------------------------------------------

std::vector<std::string> log_lines;
uint64_t clock_ns = 5'000'000'000;

void core_log(const portico_plugin*, portico_log_level, const char* msg, size_t len) {
    log_lines.emplace_back(msg, len);
}
bool core_log_enabled(const portico_plugin*, portico_log_level) {
    return true;
}
uint64_t core_now_ns() {
    return clock_ns;
}

template <class T>
const T* lookup(const portico_config* cfg, const char* key) {
    cfg->asked.insert(key);
    auto it = cfg->values.find(key);
    if (it == cfg->values.end()) return nullptr;
    return std::get_if<T>(&it->second);
}

portico_status wrong_type(const portico_config* cfg, const char* key) {
    cfg->errors.emplace_back(key, std::string(key) + ": expected another type");
    return PORTICO_E_CONFIG;
}

portico_status get_int(const portico_config* cfg, const char* key, int64_t* out) {
    cfg->asked.insert(key);
    if (cfg->values.count(key) == 0) return PORTICO_E_NOT_FOUND;
    const int64_t* value = lookup<int64_t>(cfg, key);
    if (value == nullptr) return wrong_type(cfg, key);
    *out = *value;
    return PORTICO_OK;
}

portico_status get_double(const portico_config* cfg, const char* key, double* out) {
    cfg->asked.insert(key);
    if (cfg->values.count(key) == 0) return PORTICO_E_NOT_FOUND;
    if (const double* value = lookup<double>(cfg, key)) {
        *out = *value;
    } else if (const int64_t* integer = lookup<int64_t>(cfg, key)) {
        *out = static_cast<double>(*integer);
    } else {
        return wrong_type(cfg, key);
    }
    return PORTICO_OK;
}

portico_status get_duration_ms(const portico_config* cfg, const char* key, uint64_t* out) {
    cfg->asked.insert(key);
    if (cfg->values.count(key) == 0) return PORTICO_E_NOT_FOUND;
    if (const int64_t* integer = lookup<int64_t>(cfg, key)) {
        *out = static_cast<uint64_t>(*integer);
        return PORTICO_OK;
    }
    const std::string* text = lookup<std::string>(cfg, key);
    if (text == nullptr) return wrong_type(cfg, key);
    size_t digits = 0;
    const uint64_t number = std::stoull(*text, &digits);
    const std::string unit = text->substr(digits);
    const std::map<std::string, uint64_t> units = {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}};
    if (units.count(unit) == 0) return wrong_type(cfg, key);
    *out = number * units.at(unit);
    return PORTICO_OK;
}

portico_status get_other(const portico_config* cfg, const char* key) {
    cfg->asked.insert(key);
    return cfg->values.count(key) ? wrong_type(cfg, key) : PORTICO_E_NOT_FOUND;
}
portico_status get_string(const portico_config* cfg, const char* key, portico_view*) {
    return get_other(cfg, key);
}
portico_status get_bool(const portico_config* cfg, const char* key, bool*) {
    return get_other(cfg, key);
}
portico_status get_size(const portico_config* cfg, const char* key, uint64_t*) {
    return get_other(cfg, key);
}
portico_status get_table(const portico_config* cfg, const char* key, const portico_config**) {
    return get_other(cfg, key);
}
portico_status array_len(const portico_config* cfg, const char* key, size_t*) {
    return get_other(cfg, key);
}
portico_status array_string(const portico_config* cfg, const char* key, size_t, portico_view*) {
    return get_other(cfg, key);
}
portico_status array_table(const portico_config* cfg, const char* key, size_t, const portico_config**) {
    return get_other(cfg, key);
}
portico_status config_error(const portico_config* cfg, const char* key, const char* message) {
    cfg->errors.emplace_back(key != nullptr ? key : "", message);
    return PORTICO_E_CONFIG;
}

size_t pool_size(const portico_pool* pool) {
    return pool->entries.size();
}

portico_status endpoint_get(const portico_pool* pool, size_t index, portico_endpoint* out) {
    if (index >= pool->entries.size() || index == pool->unreadable) return PORTICO_E_NOT_FOUND;
    CHECK(out->struct_size >= sizeof(portico_endpoint));  // the plugin initialised what it passes
    const portico_pool::Entry& entry = pool->entries[index];
    out->id = entry.id;
    out->address = portico_view{entry.address.data(), entry.address.size()};
    out->weight = entry.weight;
    out->health = entry.health;
    return PORTICO_OK;
}

portico_status endpoint_stat(const portico_pool* pool, size_t index, portico_endpoint_stat stat, uint64_t* out) {
    if (!pool->stats) return PORTICO_E_UNIMPLEMENTED;
    if (index >= pool->entries.size()) return PORTICO_E_NOT_FOUND;
    if (stat != PORTICO_STAT_ACTIVE_REQUESTS) return PORTICO_E_BAD_ARG;
    *out = pool->entries[index].active;
    return PORTICO_OK;
}

struct FakeHost {
    portico_core_api core;
    portico_config_api config;
    portico_lb_api lb;
    portico_host_api api;

    FakeHost() {
        PORTICO_INIT(&core);
        core.log = core_log;
        core.log_enabled = core_log_enabled;
        core.now_ns = core_now_ns;
        PORTICO_INIT(&config);
        config.get_string = get_string;
        config.get_int = get_int;
        config.get_bool = get_bool;
        config.get_double = get_double;
        config.get_duration_ms = get_duration_ms;
        config.get_size = get_size;
        config.get_table = get_table;
        config.array_len = array_len;
        config.array_string = array_string;
        config.array_table = array_table;
        config.error = config_error;
        PORTICO_INIT(&lb);
        lb.pool_size = pool_size;
        lb.endpoint_get = endpoint_get;
        lb.endpoint_stat = endpoint_stat;
        PORTICO_INIT(&api);
        api.abi_major = PORTICO_ABI_MAJOR;
        api.abi_minor = PORTICO_ABI_MINOR;
        api.plugin = reinterpret_cast<const portico_plugin*>(this);
        api.core = &core;
        api.config = &config;
        api.lb = &lb;
    }
};

FakeHost& host() {
    static FakeHost instance;
    return instance;
}

// ---- the plugin -------------------------------------------------------------------------------------------------

const portico_plugin_desc* descriptor() {
    static const portico_plugin_desc* desc = [] {
        void* handle = dlopen(PORTICO_BALANCER_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
        REQUIRE_MESSAGE(handle != nullptr, dlerror());
        auto entry = reinterpret_cast<portico_plugin_entry>(dlsym(handle, PORTICO_ENTRY_SYMBOL));
        REQUIRE((entry != nullptr));
        return entry();
    }();
    return desc;
}

const portico_factory* factory(const std::string& name) {
    const portico_plugin_desc* desc = descriptor();
    for (uint32_t i = 0; i < desc->n_factories; ++i) {
        if (name == desc->factories[i]->name) return desc->factories[i];
    }
    FAIL("no factory " << name);
    return nullptr;
}

const portico_balancer_ops& ops(const portico_factory* f) {
    return *static_cast<const portico_balancer_ops*>(f->ops);
}

// A config made from `cfg`; fails the test unless config_new succeeds.
void* make_config(const portico_factory* f, const portico_config& cfg) {
    void* config = nullptr;
    portico_error err;
    PORTICO_INIT(&err);
    REQUIRE(f->config_new(&host().api, nullptr, &cfg, &config, &err) == PORTICO_OK);
    REQUIRE(config != nullptr);
    return config;
}

portico_pool make_pool(const std::vector<uint32_t>& weights) {
    portico_pool pool;
    for (size_t k = 0; k < weights.size(); ++k)
        pool.entries.push_back({static_cast<uint32_t>(1000 + k), "192.0.2." + std::to_string(k + 1) + ":80",
                                weights[k], PORTICO_HEALTH_HEALTHY, 0});
    return pool;
}

// One attempt's context. The pointers into `tried` and `key` are filled when the context is taken, so an
// Attempt can be copied and moved (a vector of them reallocates) without leaving them dangling.
struct Attempt {
    std::vector<uint32_t> tried;
    std::string key;
    uint32_t struct_size = sizeof(portico_lb_context);  // smaller: a context from an older host
    mutable portico_lb_context ctx;

    explicit Attempt(std::string hash_key = {}, std::vector<uint32_t> tried_ids = {})
        : tried(std::move(tried_ids)), key(std::move(hash_key)) {}

    const portico_lb_context* context() const {
        PORTICO_INIT(&ctx);
        ctx.struct_size = struct_size;
        ctx.attempt = static_cast<uint32_t>(tried.size() + 1);
        ctx.tried = tried.empty() ? nullptr : tried.data();
        ctx.n_tried = tried.size();
        ctx.hash_key = portico_view{key.data(), key.size()};
        ctx.stream = nullptr;
        return &ctx;
    }
};

// The id chosen, or the status as a negative number.
int64_t choose(const portico_factory* f, void* lb, const Attempt& attempt) {
    uint32_t id = 0;
    const portico_status status = ops(f).choose(lb, attempt.context(), &id);
    return status == PORTICO_OK ? static_cast<int64_t>(id) : status;
}

const char* const kFactoryNames[] = {"round_robin", "least_request", "ewma", "ring_hash", "maglev", "random"};

}  // namespace

TEST_CASE("abi: the descriptor lists six balancer factories with every hook") {
    const portico_plugin_desc* desc = descriptor();
    CHECK(desc->struct_size == sizeof(portico_plugin_desc));
    CHECK(desc->abi_major == PORTICO_ABI_MAJOR);
    CHECK(desc->abi_minor == PORTICO_ABI_MINOR);
    CHECK(std::string(desc->name) == "balancer");
    REQUIRE(desc->n_factories == 6);
    for (uint32_t i = 0; i < desc->n_factories; ++i) {
        const portico_factory* f = desc->factories[i];
        const std::string name = f->name;
        CAPTURE(name);
        CHECK(std::string(f->name) == kFactoryNames[i]);
        CHECK(f->struct_size == sizeof(portico_factory));
        CHECK(f->kind == PORTICO_KIND_BALANCER);
        CHECK((f->config_new != nullptr));
        CHECK((f->config_free != nullptr));
        const portico_balancer_ops& o = ops(f);
        CHECK(o.struct_size == sizeof(portico_balancer_ops));
        CHECK((o.lb_new != nullptr));
        CHECK((o.lb_free != nullptr));
        CHECK((o.on_pool_update != nullptr));
        CHECK((o.choose != nullptr));
        CHECK((o.on_result != nullptr));
    }
}

TEST_CASE("abi: each factory asks for its own keys only, so the host rejects the others as unknown") {
    const std::map<std::string, std::set<std::string>> expected = {
        {"round_robin", {}},        {"least_request", {"choices", "active_request_bias"}},
        {"ewma", {"decay"}},        {"ring_hash", {"min_ring_size", "max_ring_size"}},
        {"maglev", {"table_size"}}, {"random", {}},
    };
    for (const auto& entry : expected) {
        // Not a structured binding: CAPTURE makes a lambda, and C++17 lambdas cannot capture those (clang).
        const std::string& name = entry.first;
        const std::set<std::string>& keys = entry.second;
        CAPTURE(name);
        const portico_factory* f = factory(name);
        portico_config cfg;
        void* config = make_config(f, cfg);
        CHECK(cfg.asked == keys);
        CHECK(cfg.errors.empty());
        f->config_free(config);
    }
}

TEST_CASE("abi: good values are accepted") {
    struct Case {
        const char* factory;
        const char* key;
        std::variant<int64_t, double, std::string, bool> value;
    };
    const Case cases[] = {
        {"least_request", "choices", int64_t{2}},      {"least_request", "choices", int64_t{100}},
        {"least_request", "active_request_bias", 0.0}, {"least_request", "active_request_bias", int64_t{3}},
        {"ewma", "decay", std::string("250ms")},       {"ewma", "decay", std::string("1s")},
        {"ring_hash", "min_ring_size", int64_t{1}},    {"ring_hash", "max_ring_size", int64_t{8388608}},
        {"maglev", "table_size", int64_t{3}},          {"maglev", "table_size", int64_t{5000011}},
    };
    for (const Case& c : cases) {
        const std::string factory_name = c.factory;
        CAPTURE(factory_name);
        const std::string key_name = c.key;
        CAPTURE(key_name);
        const portico_factory* f = factory(c.factory);
        portico_config cfg;
        cfg.values[c.key] = c.value;
        void* config = make_config(f, cfg);
        CHECK(cfg.errors.empty());
        f->config_free(config);
    }
}

TEST_CASE("abi: bad values fail config_new with a message at the key that states the accepted range") {
    struct Case {
        const char* factory;
        std::map<std::string, std::variant<int64_t, double, std::string, bool>> values;
        const char* key;       // where the error is reported
        const char* contains;  // part of the message
    };
    const Case cases[] = {
        {"least_request", {{"choices", int64_t{1}}}, "choices", "between 2 and 100"},
        {"least_request", {{"choices", int64_t{101}}}, "choices", "between 2 and 100"},
        {"least_request", {{"choices", std::string("two")}}, "choices", "expected"},
        {"least_request", {{"active_request_bias", -0.5}}, "active_request_bias", "from 0.0 to 10.0"},
        {"least_request", {{"active_request_bias", 11.0}}, "active_request_bias", "from 0.0 to 10.0"},
        {"ewma", {{"decay", int64_t{0}}}, "decay", "from 1ms to 1h"},
        {"ewma", {{"decay", std::string("2h")}}, "decay", "from 1ms to 1h"},
        {"ring_hash", {{"min_ring_size", int64_t{0}}}, "min_ring_size", "between 1 and 8388608"},
        {"ring_hash", {{"max_ring_size", int64_t{8388609}}}, "max_ring_size", "between 1 and 8388608"},
        {"ring_hash",
         {{"min_ring_size", int64_t{4096}}, {"max_ring_size", int64_t{2048}}},
         "max_ring_size",
         "must not be below 'min_ring_size' (4096)"},
        {"ring_hash",
         {{"max_ring_size", int64_t{512}}},
         "max_ring_size",
         "must not be below 'min_ring_size' (1024)"},
        {"maglev", {{"table_size", int64_t{65536}}}, "table_size", "the next prime is 65537"},
        {"maglev", {{"table_size", int64_t{2}}}, "table_size", "from 3 to 5000011"},
        {"maglev", {{"table_size", int64_t{5000012}}}, "table_size", "a prime number from 3 to 5000011"},
    };
    for (const Case& c : cases) {
        const std::string factory_name = c.factory;
        CAPTURE(factory_name);
        const std::string key_name = c.key;
        CAPTURE(key_name);
        const portico_factory* f = factory(c.factory);
        portico_config cfg;
        cfg.values = c.values;
        void* config = nullptr;
        portico_error err;
        PORTICO_INIT(&err);
        CHECK(f->config_new(&host().api, nullptr, &cfg, &config, &err) == PORTICO_E_CONFIG);
        CHECK(config == nullptr);
        REQUIRE(cfg.errors.size() == 1);
        CHECK(cfg.errors[0].first == c.key);
        CAPTURE(cfg.errors[0].second);
        CHECK(cfg.errors[0].second.find(c.contains) != std::string::npos);
    }
}

TEST_CASE("abi: every factory chooses over a pool through lb_new, choose, on_result, on_pool_update, lb_free") {
    for (const char* factory_name : kFactoryNames) {
        const std::string name = factory_name;
        CAPTURE(name);
        const portico_factory* f = factory(name);
        portico_config cfg;
        void* config = make_config(f, cfg);
        portico_pool pool = make_pool({1, 1, 1, 1});
        void* lb = ops(f).lb_new(config, nullptr, &pool);
        REQUIRE(lb != nullptr);

        std::set<int64_t> chosen;
        for (int i = 0; i < 400; ++i) {
            const int64_t id = choose(f, lb, Attempt("client-" + std::to_string(i)));
            chosen.insert(id);
            clock_ns += 1'000'000;
            ops(f).on_result(lb, static_cast<uint32_t>(id), PORTICO_LB_SUCCESS, 2'000);
        }
        CHECK(chosen == std::set<int64_t>{1000, 1001, 1002, 1003});
        ops(f).on_result(lb, 4242, PORTICO_LB_TIMEOUT, 1);  // an unknown id is ignored
        ops(f).on_result(lb, 1000, 77, 1);                  // so is an unknown outcome

        // The host publishes a new snapshot: 1001 drains, 1003 is gone, 1004 is new.
        pool.entries[1].health = PORTICO_HEALTH_DRAINING;
        pool.entries.pop_back();
        pool.entries.push_back({1004, "192.0.2.5:80", 2, PORTICO_HEALTH_DEGRADED, 0});
        ops(f).on_pool_update(lb, &pool);
        chosen.clear();
        for (int i = 0; i < 400; ++i) {
            const int64_t id = choose(f, lb, Attempt("client-" + std::to_string(i)));
            chosen.insert(id);
            clock_ns += 1'000'000;
            ops(f).on_result(lb, static_cast<uint32_t>(id), PORTICO_LB_SUCCESS, 2'000);
        }
        CHECK(chosen == std::set<int64_t>{1000, 1002, 1004});

        // Tried endpoints are skipped.
        for (int i = 0; i < 100; ++i) CHECK(choose(f, lb, Attempt("k" + std::to_string(i), {1000, 1004})) == 1002);

        // Nothing eligible: PORTICO_E_NO_HOST at once.
        for (auto& entry : pool.entries) entry.health = PORTICO_HEALTH_UNHEALTHY;
        ops(f).on_pool_update(lb, &pool);
        CHECK(choose(f, lb, Attempt("x")) == PORTICO_E_NO_HOST);
        pool.entries.clear();
        ops(f).on_pool_update(lb, &pool);
        CHECK(choose(f, lb, Attempt("x")) == PORTICO_E_NO_HOST);

        // Bad arguments are refused, not crashed on.
        uint32_t id = 0;
        CHECK(ops(f).choose(lb, nullptr, &id) == PORTICO_E_BAD_ARG);
        const Attempt plain;
        CHECK(ops(f).choose(nullptr, plain.context(), &id) == PORTICO_E_BAD_ARG);

        ops(f).lb_free(lb);
        f->config_free(config);
    }
}

TEST_CASE("abi: least_request reads active requests through endpoint_stat, by snapshot index") {
    const portico_factory* f = factory("least_request");
    portico_config cfg;
    void* config = make_config(f, cfg);
    portico_pool pool = make_pool({1, 1, 1, 1, 1});
    pool.entries[3].active = 50;
    pool.unreadable = 1;  // endpoint_get fails for index 1: the indices after it must still line up
    void* lb = ops(f).lb_new(config, nullptr, &pool);
    REQUIRE(lb != nullptr);
    std::map<int64_t, int> counts;
    for (int i = 0; i < 3000; ++i) ++counts[choose(f, lb, Attempt())];
    CHECK(counts.count(1001) == 0);  // unreadable: not in the snapshot
    CHECK(counts.count(1003) == 0);  // the busy one never wins a pair
    CHECK(counts[1000] > 700);
    bool warned = false;
    for (const std::string& line : log_lines)
        warned = warned || line.find("1 of 5 endpoints unreadable") != line.npos;
    CHECK(warned);

    // A host without live figures reads as idle everywhere: an even spread.
    pool.stats = false;
    counts.clear();
    for (int i = 0; i < 4000; ++i) ++counts[choose(f, lb, Attempt())];
    CHECK(counts[1003] > 700);
    ops(f).lb_free(lb);
    f->config_free(config);
}

TEST_CASE("abi: hash keys from the context; an older, shorter context means no key") {
    for (const char* factory_name : {"ring_hash", "maglev"}) {
        const std::string name = factory_name;
        CAPTURE(name);
        const portico_factory* f = factory(name);
        portico_config cfg;
        void* config = make_config(f, cfg);
        portico_pool pool = make_pool({1, 1, 1, 1, 1, 1});
        void* a = ops(f).lb_new(config, nullptr, &pool);  // two workers' instances
        void* b = ops(f).lb_new(config, nullptr, &pool);
        REQUIRE(a != nullptr);
        REQUIRE(b != nullptr);
        std::set<int64_t> spread;
        for (int i = 0; i < 500; ++i) {
            const Attempt attempt("session=" + std::to_string(i));
            const int64_t id = choose(f, a, attempt);
            CHECK(id == choose(f, b, attempt));
            CHECK(id == choose(f, a, attempt));
            spread.insert(id);
        }
        CHECK(spread.size() == 6);

        Attempt old("session=1");
        old.struct_size = offsetof(portico_lb_context, hash_key);  // a 1.0 host that had no hash_key
        std::set<int64_t> chosen;
        for (int i = 0; i < 300; ++i) chosen.insert(choose(f, a, old));
        CHECK(chosen.size() == 6);  // weighted random, not one endpoint
        ops(f).lb_free(a);
        ops(f).lb_free(b);
        f->config_free(config);
    }
}

TEST_CASE("abi: choose allocates nothing") {
    for (const char* factory_name : kFactoryNames) {
        const std::string name = factory_name;
        CAPTURE(name);
        const portico_factory* f = factory(name);
        portico_config cfg;
        void* config = make_config(f, cfg);
        portico_pool pool = make_pool({1, 2, 3, 1, 1});
        pool.entries[2].active = 4;
        void* lb = ops(f).lb_new(config, nullptr, &pool);
        REQUIRE(lb != nullptr);
        std::vector<Attempt> attempts;
        for (int i = 0; i < 100; ++i) {
            attempts.emplace_back("user-" + std::to_string(i));
            attempts.emplace_back("user-" + std::to_string(i), std::vector<uint32_t>{1002, 1000});
        }
        int64_t sum = 0;
        const size_t before = allocation_count();
        for (const Attempt& attempt : attempts) {
            const int64_t id = choose(f, lb, attempt);
            sum += id;
            ops(f).on_result(lb, static_cast<uint32_t>(id), PORTICO_LB_SUCCESS, 1'500);
        }
        CHECK(allocation_count() == before);
        CHECK(sum > 0);
        ops(f).lb_free(lb);
        f->config_free(config);
    }
    // The counter does see the plugin's allocations (so a zero above means something).
    const portico_factory* f = factory("ring_hash");
    portico_config cfg;
    void* config = make_config(f, cfg);
    portico_pool pool = make_pool({1, 1});
    const size_t before = allocation_count();
    void* lb = ops(f).lb_new(config, nullptr, &pool);
    CHECK(allocation_count() > before);
    ops(f).lb_free(lb);
    f->config_free(config);
}
