#include "fake_host.h"

#include <dlfcn.h>
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>

#include "test_certs.h"

namespace tlstest {

std::vector<ConfigError> config_errors;
std::vector<LogLine> log_lines;
uint64_t clock_ns = 1'000'000'000;

namespace {

// ---- core ----

void core_log(const portico_plugin*, portico_log_level level, const char* msg, size_t len) {
    log_lines.push_back({level, std::string(msg, len)});
}
bool core_log_enabled(const portico_plugin*, portico_log_level) {
    return true;
}
uint64_t core_now_ns() {
    return clock_ns;
}

std::map<std::string, portico_metric> metrics;

portico_status metric_define(const portico_plugin*, const char* name, uint32_t kind, portico_metric** out) {
    CHECK(kind == PORTICO_METRIC_COUNTER);
    *out = &metrics[name];
    return PORTICO_OK;
}
void metric_add(portico_metric* metric, int64_t delta) {
    metric->value += delta;
}

// ---- config ----

// True when `key` is present under any type; records the ask.
bool present(const portico_config* cfg, const char* key) {
    cfg->asked.insert(key);
    return cfg->strings.count(key) || cfg->bools.count(key) || cfg->ints.count(key) || cfg->durations.count(key) ||
           cfg->string_arrays.count(key) || cfg->table_arrays.count(key);
}

portico_status wrong_type(const portico_config* cfg, const char* key) {
    config_errors.push_back({cfg->name, key, std::string(key) + ": expected another type"});
    return PORTICO_E_CONFIG;
}

portico_status get_string(const portico_config* cfg, const char* key, portico_view* out) {
    if (!present(cfg, key)) return PORTICO_E_NOT_FOUND;
    auto it = cfg->strings.find(key);
    if (it == cfg->strings.end()) return wrong_type(cfg, key);
    *out = portico_view{it->second.data(), it->second.size()};
    return PORTICO_OK;
}
portico_status get_int(const portico_config* cfg, const char* key, int64_t* out) {
    if (!present(cfg, key)) return PORTICO_E_NOT_FOUND;
    auto it = cfg->ints.find(key);
    if (it == cfg->ints.end()) return wrong_type(cfg, key);
    *out = it->second;
    return PORTICO_OK;
}
portico_status get_bool(const portico_config* cfg, const char* key, bool* out) {
    if (!present(cfg, key)) return PORTICO_E_NOT_FOUND;
    auto it = cfg->bools.find(key);
    if (it == cfg->bools.end()) return wrong_type(cfg, key);
    *out = it->second;
    return PORTICO_OK;
}
portico_status get_double(const portico_config* cfg, const char* key, double*) {
    return present(cfg, key) ? wrong_type(cfg, key) : PORTICO_E_NOT_FOUND;
}
portico_status get_duration_ms(const portico_config* cfg, const char* key, uint64_t* out) {
    if (!present(cfg, key)) return PORTICO_E_NOT_FOUND;
    auto it = cfg->durations.find(key);
    if (it == cfg->durations.end()) return wrong_type(cfg, key);
    size_t digits = 0;
    const uint64_t number = std::stoull(it->second, &digits);
    const std::string unit = it->second.substr(digits);
    const std::map<std::string, uint64_t> units = {
        {"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}};
    if (units.count(unit) == 0) return wrong_type(cfg, key);
    *out = number * units.at(unit);
    return PORTICO_OK;
}
portico_status get_size(const portico_config* cfg, const char* key, uint64_t*) {
    return present(cfg, key) ? wrong_type(cfg, key) : PORTICO_E_NOT_FOUND;
}
portico_status get_table(const portico_config* cfg, const char* key, const portico_config**) {
    return present(cfg, key) ? wrong_type(cfg, key) : PORTICO_E_NOT_FOUND;
}
portico_status array_len(const portico_config* cfg, const char* key, size_t* out) {
    if (!present(cfg, key)) return PORTICO_E_NOT_FOUND;
    if (auto it = cfg->string_arrays.find(key); it != cfg->string_arrays.end()) {
        *out = it->second.size();
        return PORTICO_OK;
    }
    if (auto it = cfg->table_arrays.find(key); it != cfg->table_arrays.end()) {
        *out = it->second.size();
        return PORTICO_OK;
    }
    return wrong_type(cfg, key);
}
portico_status array_string(const portico_config* cfg, const char* key, size_t index, portico_view* out) {
    auto it = cfg->string_arrays.find(key);
    if (it == cfg->string_arrays.end()) return wrong_type(cfg, key);
    if (index >= it->second.size()) return PORTICO_E_NOT_FOUND;
    *out = portico_view{it->second[index].data(), it->second[index].size()};
    return PORTICO_OK;
}
portico_status array_table(const portico_config* cfg, const char* key, size_t index, const portico_config** out) {
    auto it = cfg->table_arrays.find(key);
    if (it == cfg->table_arrays.end()) return wrong_type(cfg, key);
    if (index >= it->second.size()) return PORTICO_E_NOT_FOUND;
    *out = it->second[index].get();
    return PORTICO_OK;
}
portico_status config_error(const portico_config* cfg, const char* key, const char* message) {
    config_errors.push_back({cfg->name, key != nullptr ? key : "", message});
    return PORTICO_E_CONFIG;
}

// ---- transport ----

portico_status deliver(portico_conn* c, const char* data, size_t len) {
    c->plaintext.append(data, len);
    c->since_drain += len;
    if (c->since_drain >= c->deliver_limit) {
        c->stalled = true;
        ++c->backpressure_hits;
        return PORTICO_E_BACKPRESSURE;
    }
    return PORTICO_OK;
}
portico_status emit_reserve(portico_conn* c, size_t min, portico_mut_view* out) {
    if (c->refuse_emit) return PORTICO_E_LIMIT;
    c->scratch.resize(std::max<size_t>(min, 4096));
    *out = portico_mut_view{c->scratch.data(), c->scratch.size()};
    return PORTICO_OK;
}
portico_status emit_commit(portico_conn* c, size_t n) {
    REQUIRE(n <= c->scratch.size());
    c->wire.append(c->scratch.data(), n);
    return PORTICO_OK;
}
portico_status handshake_done(portico_conn* c) {
    ++c->handshakes;
    return PORTICO_OK;
}
portico_status peer_address(portico_conn* c, portico_view* out) {
    *out = portico_view{c->address.data(), c->address.size()};
    return PORTICO_OK;
}

struct FakeHost {
    portico_core_api core;
    portico_config_api config;
    portico_transport_api transport;
    portico_host_api api;

    FakeHost() {
        PORTICO_INIT(&core);
        core.log = core_log;
        core.log_enabled = core_log_enabled;
        core.now_ns = core_now_ns;
        core.metric_define = metric_define;
        core.metric_add = metric_add;
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
        PORTICO_INIT(&transport);
        transport.deliver = deliver;
        transport.emit_reserve = emit_reserve;
        transport.emit_commit = emit_commit;
        transport.handshake_done = handshake_done;
        transport.peer_address = peer_address;
        PORTICO_INIT(&api);
        api.abi_major = PORTICO_ABI_MAJOR;
        api.abi_minor = PORTICO_ABI_MINOR;
        api.plugin = reinterpret_cast<const portico_plugin*>(this);
        api.core = &core;
        api.config = &config;
        api.transport = &transport;
    }
};

FakeHost& fake_host() {
    static FakeHost instance;
    return instance;
}

void* global = nullptr;

}  // namespace

int64_t metric(const std::string& name) {
    return metrics[name].value;
}

const portico_host_api* host_api() {
    return &fake_host().api;
}

const portico_plugin_desc* descriptor() {
    static const portico_plugin_desc* desc = [] {
        void* handle = dlopen(PORTICO_TLS_PLUGIN_PATH, RTLD_NOW | RTLD_LOCAL);
        REQUIRE_MESSAGE(handle != nullptr, dlerror());
        auto entry = reinterpret_cast<portico_plugin_entry>(dlsym(handle, PORTICO_ENTRY_SYMBOL));
        REQUIRE((entry != nullptr));
        const portico_plugin_desc* d = entry();
        REQUIRE((d->global_init != nullptr));
        portico_error err;
        PORTICO_INIT(&err);
        REQUIRE(d->global_init(host_api(), &global, &err) == PORTICO_OK);
        return d;
    }();
    return desc;
}

void* global_state() {
    descriptor();
    return global;
}

const portico_factory* tls_factory() {
    const portico_plugin_desc* desc = descriptor();
    REQUIRE(desc->n_factories == 1);
    return desc->factories[0];
}

const portico_transport_ops& ops() {
    return *static_cast<const portico_transport_ops*>(tls_factory()->ops);
}

void* try_config(const portico_config& cfg, portico_status* status) {
    void* config = nullptr;
    portico_error err;
    PORTICO_INIT(&err);
    const portico_status s = tls_factory()->config_new(host_api(), global_state(), &cfg, &config, &err);
    if (status != nullptr) *status = s;
    if (s != PORTICO_OK) {
        CHECK(config == nullptr);
        return nullptr;
    }
    return config;
}

void* make_config(const portico_config& cfg) {
    config_errors.clear();
    portico_status status = PORTICO_OK;
    void* config = try_config(cfg, &status);
    for (const ConfigError& e : config_errors) MESSAGE(e.table << "." << e.key << ": " << e.message);
    REQUIRE(status == PORTICO_OK);
    REQUIRE(config != nullptr);
    return config;
}

void free_config(void* config) {
    tls_factory()->config_free(config);
}

portico_config server_table() {
    const Files& f = files();
    portico_config cfg;
    cfg.add("certificates").set("cert", f.default_cert).set("key", f.default_key);
    cfg.add("certificates").set("cert", f.rsa_cert).set("key", f.rsa_key);
    cfg.add("certificates").set("cert", f.ecdsa_cert).set("key", f.ecdsa_key);
    cfg.add("certificates").set("cert", f.cn_only_cert).set("key", f.cn_only_key);
    cfg.add("certificates").set("cert", f.other_cert).set("key", f.other_key).list("names", {"explicit.test"});
    return cfg;
}

portico_config client_table() {
    portico_config cfg;
    cfg.set("ca", files().ca_cert);
    return cfg;
}

Info Side::info() const {
    portico_transport_info out;
    PORTICO_INIT(&out);
    Info info;
    if (ops().get_info(transport, &out) != PORTICO_OK) return info;
    auto text = [](portico_view v) { return v.data != nullptr ? std::string(v.data, v.len) : std::string(); };
    info.sni = text(out.sni);
    info.alpn = text(out.alpn);
    info.version = text(out.version);
    info.cipher = text(out.cipher);
    info.peer_subject = text(out.peer_subject);
    info.error = text(out.error);
    info.resumed = out.resumed;
    return info;
}

Pair::Pair(void* server_config, void* client_config, const std::string& sni, const std::string& alpn) {
    server.transport = ops().conn_new(server_config, nullptr, &server.conn, PORTICO_ROLE_SERVER, nullptr);
    portico_conn_params params;
    PORTICO_INIT(&params);
    params.sni = portico_view{sni.data(), sni.size()};
    params.alpn = portico_view{alpn.data(), alpn.size()};
    client.transport = ops().conn_new(client_config, nullptr, &client.conn, PORTICO_ROLE_CLIENT, &params);
}

Pair::~Pair() {
    if (server.transport != nullptr) ops().conn_free(server.transport);
    if (client.transport != nullptr) ops().conn_free(client.transport);
}

void Pair::pump() {
    for (int round = 0; round < 100000; ++round) {
        bool progress = false;
        // Not a structured binding: doctest's assertions may wrap their expression in a lambda, and C++17 lambdas
        // cannot capture those (clang refuses).
        for (const std::pair<Side*, Side*>& way :
             {std::pair<Side*, Side*>{&client, &server}, std::pair<Side*, Side*>{&server, &client}}) {
            Side* from = way.first;
            Side* to = way.second;
            if (!from->conn.wire.empty()) {
                to->inbox += from->conn.wire;
                from->conn.wire.clear();
                progress = true;
            }
            if (to->conn.stalled) {  // the host's reader caught up
                to->received += to->conn.plaintext;
                to->conn.plaintext.clear();
                to->conn.since_drain = 0;
                to->conn.stalled = false;
                progress = true;
            } else if (to->inbox.empty() || to->done()) {
                continue;
            }
            if (to->done()) continue;
            size_t used = 0;
            to->last = ops().on_input(to->transport, &to->conn, to->inbox.data(), to->inbox.size(), &used, false);
            REQUIRE(used <= to->inbox.size());
            to->inbox.erase(0, used);
            if (used > 0 || to->conn.stalled || !to->conn.wire.empty()) progress = true;
        }
        if (!progress) break;
    }
    for (Side* s : {&client, &server}) {
        s->received += s->conn.plaintext;
        s->conn.plaintext.clear();
        s->conn.since_drain = 0;
    }
}

bool Pair::handshake() {
    if (!valid()) return false;
    size_t used = 0;
    client.last = ops().on_output(client.transport, &client.conn, nullptr, 0, &used);
    pump();
    return server.conn.handshakes == 1 && client.conn.handshakes == 1 && !server.done() && !client.done();
}

bool Pair::send(Side& from, const std::string& data) {
    size_t offset = 0;
    int stalls = 0;
    while (offset < data.size() && stalls < 3) {
        size_t used = 0;
        from.last = ops().on_output(from.transport, &from.conn, data.data() + offset, data.size() - offset, &used);
        if (from.done()) return false;
        offset += used;
        stalls = used == 0 ? stalls + 1 : 0;
        pump();
    }
    return offset == data.size();
}

bool logged(portico_log_level level, const std::vector<std::string>& parts) {
    for (const LogLine& line : log_lines) {
        if (line.level != level) continue;
        bool all = true;
        for (const std::string& part : parts) all = all && line.text.find(part) != std::string::npos;
        if (all) return true;
    }
    return false;
}

}  // namespace tlstest
