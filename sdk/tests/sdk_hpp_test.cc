// sdk.hpp against a fake host: the generated hook tables, the exception barrier (no exception crosses the ABI),
// the Config reader's memory of failures, Poster RAII, and the hello example driven through its descriptor exactly
// as the host would drive it.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <portico/sdk.hpp>

#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

extern "C" const portico_plugin_desc* portico_plugin_v1(void);  // sdk/examples/hello/hello.cc, linked in

// ------------------------------------------------------------------------------------------------------------
// The fake host. The opaque handles get definitions here, as the real host gives them its own.
// ------------------------------------------------------------------------------------------------------------

struct portico_metric {
    int64_t value = 0;
};
struct portico_config {
    std::map<std::string, std::string> strings;
    std::map<std::string, int64_t> ints;
    std::map<std::string, portico_config> tables;
    std::vector<std::string> malformed;  // keys whose getter "reports" a type error
};
struct portico_stream {
    std::vector<std::pair<std::string, std::string>> response_headers;
    std::string method = "GET";
};
struct portico_poster {
    int token = 0;
};

namespace {

struct Fake {
    std::vector<std::string> log;
    std::vector<std::string> config_errors;
    std::map<std::string, portico_metric> metrics;
    int posters_alive = 0;
    std::vector<uint64_t> posted;
};
Fake fake;

void fake_log(const portico_plugin*, portico_log_level, const char* msg, size_t len) {
    fake.log.emplace_back(msg, len);
}
bool fake_log_enabled(const portico_plugin*, portico_log_level) {
    return true;
}
portico_status fake_metric_define(const portico_plugin*, const char* name, uint32_t, portico_metric** out) {
    *out = &fake.metrics[name];
    return PORTICO_OK;
}
void fake_metric_add(portico_metric* m, int64_t delta) {
    m->value += delta;
}
void fake_metric_set(portico_metric* m, int64_t value) {
    m->value = value;
}
int64_t fake_metric_get(const portico_metric* m) {
    return m->value;
}
uint64_t fake_now_ns() {
    return 42;
}

bool malformed(const portico_config* cfg, const char* key) {
    for (const auto& k : cfg->malformed)
        if (k == key) {
            fake.config_errors.push_back(std::string(key) + ": expected another type");
            return true;
        }
    return false;
}
portico_status fake_get_string(const portico_config* cfg, const char* key, portico_view* out) {
    if (malformed(cfg, key)) return PORTICO_E_CONFIG;
    auto it = cfg->strings.find(key);
    if (it == cfg->strings.end()) return PORTICO_E_NOT_FOUND;
    *out = {it->second.data(), it->second.size()};
    return PORTICO_OK;
}
portico_status fake_get_int(const portico_config* cfg, const char* key, int64_t* out) {
    if (malformed(cfg, key)) return PORTICO_E_CONFIG;
    auto it = cfg->ints.find(key);
    if (it == cfg->ints.end()) return PORTICO_E_NOT_FOUND;
    *out = it->second;
    return PORTICO_OK;
}
portico_status fake_get_table(const portico_config* cfg, const char* key, const portico_config** out) {
    auto it = cfg->tables.find(key);
    if (it == cfg->tables.end()) return PORTICO_E_NOT_FOUND;
    *out = &it->second;
    return PORTICO_OK;
}
portico_status fake_config_error(const portico_config*, const char* key, const char* message) {
    fake.config_errors.push_back(std::string(key ? key : "(table)") + ": " + message);
    return PORTICO_E_CONFIG;
}

portico_status fake_attr_get(portico_stream* s, portico_attr attr, portico_view* out) {
    if (attr != PORTICO_ATTR_METHOD) return PORTICO_E_NOT_FOUND;
    *out = {s->method.data(), s->method.size()};
    return PORTICO_OK;
}
portico_status fake_header_get(portico_stream* s, portico_headers_kind, portico_view name, size_t index,
                               portico_view* value, size_t* count) {
    size_t seen = 0;
    const std::pair<std::string, std::string>* found = nullptr;
    for (const auto& field : s->response_headers) {
        if (field.first == std::string_view(name.data, name.len)) {
            if (seen == index) found = &field;
            ++seen;
        }
    }
    if (count) *count = seen;
    if (!found) return PORTICO_E_NOT_FOUND;
    *value = {found->second.data(), found->second.size()};
    return PORTICO_OK;
}
portico_status fake_header_set(portico_stream* s, portico_headers_kind, portico_view name, portico_view value) {
    std::string n(name.data, name.len);
    for (auto& field : s->response_headers)
        if (field.first == n) {
            field.second.assign(value.data, value.len);
            return PORTICO_OK;
        }
    s->response_headers.emplace_back(n, std::string(value.data, value.len));
    return PORTICO_OK;
}
portico_status fake_poster_new(portico_stream*, portico_poster** out) {
    ++fake.posters_alive;
    *out = new portico_poster;
    return PORTICO_OK;
}
portico_status fake_poster_post(portico_poster*, uint64_t token) {
    fake.posted.push_back(token);
    return PORTICO_OK;
}
void fake_poster_free(portico_poster* p) {
    --fake.posters_alive;
    delete p;
}

portico_core_api make_core() {
    portico_core_api core{};
    core.struct_size = sizeof core;
    core.log = fake_log;
    core.log_enabled = fake_log_enabled;
    core.metric_define = fake_metric_define;
    core.metric_add = fake_metric_add;
    core.metric_set = fake_metric_set;
    core.metric_get = fake_metric_get;
    core.now_ns = fake_now_ns;
    return core;
}
portico_config_api make_config_api() {
    portico_config_api config{};
    config.struct_size = sizeof config;
    config.get_string = fake_get_string;
    config.get_int = fake_get_int;
    config.get_table = fake_get_table;
    config.error = fake_config_error;
    return config;
}
portico_http_api make_http() {
    portico_http_api http{};
    http.struct_size = sizeof http;
    http.attr_get = fake_attr_get;
    http.header_get = fake_header_get;
    http.header_set = fake_header_set;
    http.poster_new = fake_poster_new;
    http.poster_post = fake_poster_post;
    http.poster_free = fake_poster_free;
    return http;
}

const portico_core_api core_api = make_core();
const portico_config_api config_api = make_config_api();
const portico_http_api http_api = make_http();

portico_host_api make_host() {
    portico_host_api host{};
    host.struct_size = sizeof host;
    host.abi_major = PORTICO_ABI_MAJOR;
    host.abi_minor = PORTICO_ABI_MINOR;
    host.core = &core_api;
    host.config = &config_api;
    host.http = &http_api;
    return host;
}
const portico_host_api host_api = make_host();

const portico_http_filter_ops& ops_of(const portico_factory& factory) {
    return *static_cast<const portico_http_filter_ops*>(factory.ops);
}

bool logged(const std::string& needle) {
    for (const auto& line : fake.log)
        if (line.find(needle) != std::string::npos) return true;
    return false;
}

// ------------------------------------------------------------------------------------------------------------
// Filters under test
// ------------------------------------------------------------------------------------------------------------

// Only one hook, no Settings: the other slots must stay NULL.
struct OnlyResponse {
    static constexpr char name[] = "only_response";
    portico_action on_response_headers(portico::Stream& s, bool) {
        s.response_headers().set("x-only", "1");
        return PORTICO_ACTION_CONTINUE;
    }
};

// Throws from its hooks (and from its constructor on request): nothing may escape into the host.
struct Throwing {
    static constexpr char name[] = "throwing";
    struct Settings {
        explicit Settings(portico::Config& config)
            : throw_in_constructor(config.integer("ctor").value_or(0) != 0) {}
        bool throw_in_constructor;
    };
    Throwing(const Settings& settings, portico::Stream&) {
        if (settings.throw_in_constructor) throw std::runtime_error("no filter today");
    }
    portico_action on_request_headers(portico::Stream&, bool) { throw std::runtime_error("boom"); }
    portico_action on_response_headers(portico::Stream&, bool) { throw 7; }
    void on_event(portico::Stream&, portico_event, uint64_t) { throw std::logic_error("event"); }
    void on_done(portico::Stream&, const portico_stream_summary&) { throw std::runtime_error("done"); }
};

// Settings that reject their configuration in the ways a plugin can.
struct Picky {
    static constexpr char name[] = "picky";
    struct Settings {
        explicit Settings(portico::Config& config) {
            auto mode = config.string("mode");
            if (mode && *mode != "strict" && *mode != "lax") config.error("mode", "mode: expected strict or lax");
            if (config.string("explode")) throw portico::ConfigError("explode", "explode: not allowed");
            if (config.string("crash")) throw std::runtime_error("crashed reading the table");
        }
    };
    Picky(const Settings&, portico::Stream&) {}
};

// A per-worker state, a stream filter (wants), on_done and a poster.
struct WithWorker {
    static constexpr char name[] = "with_worker";
    struct Settings {
        explicit Settings(portico::Config&) {}
    };
    struct Worker {
        Worker(const Settings&, uint32_t index) : index(index) {}
        uint32_t index;
        int streams = 0;
    };
    static bool wants(const Settings&, portico::Stream& s) { return s.method() != std::string_view("HEAD"); }
    WithWorker(const Settings&, Worker& worker, portico::Stream& s) : worker_(worker), poster_(s.poster()) {
        ++worker_.streams;
    }
    portico_action on_request_headers(portico::Stream&, bool) {
        poster_.post(worker_.index);
        return PORTICO_ACTION_STOP;
    }
    void on_done(portico::Stream&, const portico_stream_summary& summary) { last_status = summary.status; }
    static inline uint32_t last_status = 0;

private:
    Worker& worker_;
    portico::Poster poster_;
};

// Drives one factory as the host does: config_new (+ worker_init), stream_new, ..., stream_free, config_free.
struct Driver {
    explicit Driver(const portico_factory& f, portico_config cfg = {}) : factory(f), config(std::move(cfg)) {
        status = factory.config_new(&host_api, nullptr, &config, &instance_config, &error);
        if (status == PORTICO_OK && factory.worker_init)
            REQUIRE(factory.worker_init(instance_config, 3, &worker) == PORTICO_OK);
    }
    ~Driver() {
        if (worker) factory.worker_fini(worker);
        if (instance_config) factory.config_free(instance_config);
    }
    const portico_http_filter_ops& ops() const { return ops_of(factory); }
    const portico_factory& factory;
    portico_config config;
    portico_error error{sizeof(portico_error), {}};
    void* instance_config = nullptr;
    void* worker = nullptr;
    portico_status status;
};

}  // namespace

// ------------------------------------------------------------------------------------------------------------

TEST_CASE("views convert both ways without copying") {
    std::string_view text = "abc";
    portico_view v = portico::to_view(text);
    CHECK(v.data == text.data());
    CHECK(v.len == 3);
    CHECK(portico::to_string_view(v).data() == text.data());
    portico_header h = portico::header("a", "b");
    CHECK(portico::to_string_view(h.name) == "a");
    CHECK(portico::to_string_view(h.value) == "b");
}

TEST_CASE("the generated table has a slot only for the hooks the class has") {
    const portico_factory& f = portico::http_filter_factory<OnlyResponse>;
    CHECK(f.struct_size == sizeof(portico_factory));
    CHECK(f.kind == PORTICO_KIND_HTTP_FILTER);
    CHECK(std::string(f.name) == "only_response");
    CHECK((f.worker_init == nullptr));
    const portico_http_filter_ops& ops = ops_of(f);
    CHECK(ops.struct_size == sizeof(portico_http_filter_ops));
    CHECK((ops.stream_new != nullptr));
    CHECK((ops.stream_free != nullptr));
    CHECK((ops.on_request_headers == nullptr));
    CHECK((ops.on_request_body == nullptr));
    CHECK((ops.on_response_headers != nullptr));
    CHECK((ops.on_response_body == nullptr));
    CHECK((ops.on_event == nullptr));

    Driver d(f);
    REQUIRE(d.status == PORTICO_OK);
    portico_stream s;
    void* filter = d.ops().stream_new(d.instance_config, nullptr, &s);
    REQUIRE(filter != nullptr);
    CHECK(d.ops().on_response_headers(filter, &s, false) == PORTICO_ACTION_CONTINUE);
    d.ops().on_done(filter, &s, nullptr);  // no on_done in the class: the slot ignores everything
    d.ops().stream_free(filter);
    REQUIRE(s.response_headers.size() == 1);
    CHECK(s.response_headers[0].second == "1");
}

TEST_CASE("an exception in a hook becomes PORTICO_ACTION_ERROR and a log line, never an unwind") {
    fake.log.clear();
    Driver d(portico::http_filter_factory<Throwing>);
    REQUIRE(d.status == PORTICO_OK);
    portico_stream s;
    void* filter = d.ops().stream_new(d.instance_config, nullptr, &s);
    REQUIRE(filter != nullptr);
    CHECK(d.ops().on_request_headers(filter, &s, true) == PORTICO_ACTION_ERROR);
    CHECK(logged("throwing.on_request_headers: exception: boom"));
    CHECK(d.ops().on_response_headers(filter, &s, true) == PORTICO_ACTION_ERROR);
    CHECK(logged("throwing.on_response_headers: unknown exception"));
    d.ops().on_event(filter, &s, PORTICO_EVENT_TIMER, 1);
    CHECK(logged("throwing.on_event: exception: event"));
    portico_stream_summary summary{sizeof(portico_stream_summary), PORTICO_DONE_ERROR, 500, 0, 0};
    d.ops().on_done(filter, &s, &summary);
    CHECK(logged("throwing.on_done: exception: done"));
    d.ops().stream_free(filter);
}

TEST_CASE("a filter that cannot be constructed fails closed: its hooks answer PORTICO_ACTION_ERROR") {
    fake.log.clear();
    portico_config cfg;
    cfg.ints["ctor"] = 1;
    Driver d(portico::http_filter_factory<Throwing>, cfg);
    REQUIRE(d.status == PORTICO_OK);
    portico_stream s;
    void* filter = d.ops().stream_new(d.instance_config, nullptr, &s);
    CHECK(filter != nullptr);  // NULL would mean "skip this filter": fail open
    CHECK(logged("throwing.stream_new: exception: no filter today"));
    CHECK(d.ops().on_request_headers(filter, &s, true) == PORTICO_ACTION_ERROR);
    d.ops().on_event(filter, &s, PORTICO_EVENT_POST, 1);
    d.ops().on_done(filter, &s, nullptr);
    d.ops().stream_free(filter);
}

TEST_CASE("configuration errors fail config_new with PORTICO_E_CONFIG, reported at the key") {
    SUBCASE("accepted") {
        portico_config cfg;
        cfg.strings["mode"] = "strict";
        Driver d(portico::http_filter_factory<Picky>, cfg);
        CHECK(d.status == PORTICO_OK);
        CHECK(d.instance_config != nullptr);
    }
    SUBCASE("Config::error") {
        fake.config_errors.clear();
        portico_config cfg;
        cfg.strings["mode"] = "sloppy";
        Driver d(portico::http_filter_factory<Picky>, cfg);
        CHECK(d.status == PORTICO_E_CONFIG);
        CHECK(d.instance_config == nullptr);
        REQUIRE(fake.config_errors.size() == 1);
        CHECK(fake.config_errors[0] == "mode: mode: expected strict or lax");
    }
    SUBCASE("a getter's own type error") {
        fake.config_errors.clear();
        portico_config cfg;
        cfg.malformed.push_back("mode");
        Driver d(portico::http_filter_factory<Picky>, cfg);
        CHECK(d.status == PORTICO_E_CONFIG);
        CHECK(d.instance_config == nullptr);
        CHECK(fake.config_errors.size() == 1);  // the host reported it; the SDK adds nothing
    }
    SUBCASE("portico::ConfigError") {
        fake.config_errors.clear();
        portico_config cfg;
        cfg.strings["explode"] = "yes";
        Driver d(portico::http_filter_factory<Picky>, cfg);
        CHECK(d.status == PORTICO_E_CONFIG);
        REQUIRE(fake.config_errors.size() == 1);
        CHECK(fake.config_errors[0] == "explode: explode: not allowed");
        CHECK(std::string(d.error.message) == "explode: not allowed");
    }
    SUBCASE("any other exception, reported at the plugin's table") {
        fake.config_errors.clear();
        portico_config cfg;
        cfg.strings["crash"] = "yes";
        Driver d(portico::http_filter_factory<Picky>, cfg);
        CHECK(d.status == PORTICO_E_CONFIG);
        REQUIRE(fake.config_errors.size() == 1);
        CHECK(fake.config_errors[0] == "(table): crashed reading the table");
    }
}

TEST_CASE("Config: absent is fine, malformed is remembered, child tables report to their parent") {
    portico_config cfg;
    cfg.ints["n"] = 5;
    cfg.tables["child"].malformed.push_back("bad");
    portico::Config config(&host_api, &cfg);
    CHECK(config.integer("n") == 5);
    CHECK(!config.integer("absent"));
    CHECK(config.ok());
    CHECK(config.status() == PORTICO_OK);
    auto child = config.table("child");
    REQUIRE(child);
    CHECK(!child->string("bad"));
    CHECK(!child->ok());
    CHECK(!config.ok());
    CHECK(config.status() == PORTICO_E_CONFIG);

    portico::Config copy = config;  // a copy of the root keeps the state, and its own flag
    CHECK(!copy.ok());
    portico_config clean;
    portico::Config fresh(&host_api, &clean);
    portico::Config fresh_copy = fresh;
    fresh_copy.error(nullptr, "only the copy");
    CHECK(fresh.ok());
    CHECK(!fresh_copy.ok());
}

TEST_CASE("worker state, wants() and Poster RAII") {
    fake.posted.clear();
    Driver d(portico::http_filter_factory<WithWorker>);
    REQUIRE(d.status == PORTICO_OK);
    REQUIRE(d.worker != nullptr);
    portico_stream head;
    head.method = "HEAD";
    CHECK(d.ops().stream_new(d.instance_config, d.worker, &head) == nullptr);  // skipped: no hooks, no allocation

    portico_stream s;
    void* filter = d.ops().stream_new(d.instance_config, d.worker, &s);
    REQUIRE(filter != nullptr);
    CHECK(fake.posters_alive == 1);
    CHECK(d.ops().on_request_headers(filter, &s, true) == PORTICO_ACTION_STOP);
    REQUIRE(fake.posted.size() == 1);
    CHECK(fake.posted[0] == 3);  // the worker index the host gave worker_init
    portico_stream_summary summary{sizeof(portico_stream_summary), PORTICO_DONE_COMPLETE, 204, 0, 0};
    d.ops().on_done(filter, &s, &summary);
    CHECK(WithWorker::last_status == 204);
    d.ops().stream_free(filter);
    CHECK(fake.posters_alive == 0);  // freed with the filter

    portico::Stream stream(&host_api, &s);
    portico::Poster a = stream.poster();
    portico::Poster b = std::move(a);
    CHECK(!a);
    CHECK(b);
    CHECK(a.post(1) == PORTICO_E_CLOSED);
    CHECK(fake.posters_alive == 1);
    b = portico::Poster();
    CHECK(fake.posters_alive == 0);
}

TEST_CASE("the hello example, through its descriptor") {
    const portico_plugin_desc* desc = portico_plugin_v1();
    REQUIRE(desc != nullptr);
    CHECK(desc->struct_size == sizeof(portico_plugin_desc));
    CHECK(desc->abi_major == PORTICO_ABI_MAJOR);
    CHECK(desc->abi_minor == PORTICO_ABI_MINOR);
    CHECK(std::string(desc->name) == "hello");
    REQUIRE(desc->n_factories == 1);
    const portico_factory& factory = *desc->factories[0];
    CHECK(std::string(factory.name) == "hello");

    fake.metrics.clear();
    portico_config custom;
    custom.strings["greeting"] = "hi there";
    Driver greeter(factory, custom);
    Driver plain(factory);
    REQUIRE(greeter.status == PORTICO_OK);
    REQUIRE(plain.status == PORTICO_OK);
    CHECK(fake.metrics.count("requests") == 1);  // both uses share the one metric

    auto request = [](Driver& d) {
        portico_stream s;
        void* filter = d.ops().stream_new(d.instance_config, nullptr, &s);
        REQUIRE(filter != nullptr);
        CHECK(d.ops().on_request_headers(filter, &s, true) == PORTICO_ACTION_CONTINUE);
        CHECK(d.ops().on_response_headers(filter, &s, false) == PORTICO_ACTION_CONTINUE);
        d.ops().stream_free(filter);
        return s.response_headers;
    };
    auto first = request(plain);
    auto second = request(greeter);
    REQUIRE(first.size() == 2);
    CHECK(first[0] == std::make_pair(std::string("X-Hello"), std::string("hello")));
    CHECK(first[1] == std::make_pair(std::string("X-Hello-Count"), std::string("1")));
    CHECK(second[0].second == "hi there");
    CHECK(second[1].second == "2");

    fake.config_errors.clear();
    portico_config bad;
    bad.strings["greeting"] = "a\r\nb";
    Driver rejected(factory, bad);
    CHECK(rejected.status == PORTICO_E_CONFIG);
    CHECK(fake.config_errors.size() == 1);
}
