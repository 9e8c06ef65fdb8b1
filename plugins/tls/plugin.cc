// The tls plugin's descriptor: one TRANSPORT factory, "tls", over the raw C ABI. The same factory serves listeners
// (SERVER role, a table with `certificates`) and upstreams (CLIENT role). Hooks catch everything: no exception may
// cross into the host.
#include <openssl/ssl.h>
#include <portico/abi.h>

#include <cstdio>
#include <memory>
#include <new>

#include "config.h"
#include "connection.h"

namespace {

using portico::tls::Connection;
using portico::tls::GlobalState;
using portico::tls::TlsConfig;

void fill_error(portico_error* err, const char* message) {
    if (err != nullptr) std::snprintf(err->message, sizeof err->message, "%s", message);
}

portico_status global_init(const portico_host_api* host, void** global, portico_error* err) {
    try {
        if (OPENSSL_init_ssl(0, nullptr) != 1) {
            fill_error(err, "OpenSSL failed to initialise");
            return PORTICO_E_INTERNAL;
        }
        auto state = std::make_unique<GlobalState>();
        state->host = host;
        *global = state.release();
        return PORTICO_OK;
    } catch (...) {
        fill_error(err, "out of memory");
        return PORTICO_E_INTERNAL;
    }
}

void global_fini(void* global) {
    delete static_cast<GlobalState*>(global);
}

portico_status config_new(const portico_host_api* host, void* global, const portico_config* cfg, void** out,
                          portico_error* err) {
    try {
        if (host == nullptr || host->config == nullptr || out == nullptr) return PORTICO_E_BAD_ARG;
        auto config = std::make_unique<TlsConfig>();
        const portico_status status =
            portico::tls::read_config(host, static_cast<GlobalState*>(global), cfg, *config);
        if (status != PORTICO_OK) return status;
        // Metrics are optional: a host without them still gets TLS.
        if (host->core != nullptr && host->core->metric_define != nullptr && host->core->metric_add != nullptr) {
            host->core->metric_define(host->plugin, "handshakes", PORTICO_METRIC_COUNTER, &config->handshakes);
            host->core->metric_define(host->plugin, "handshake_failures", PORTICO_METRIC_COUNTER,
                                      &config->failures);
            host->core->metric_define(host->plugin, "resumptions", PORTICO_METRIC_COUNTER, &config->resumptions);
        }
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
    delete static_cast<TlsConfig*>(config);
}

void* conn_new(void* config, void*, portico_conn* c, portico_role role, const portico_conn_params* params) {
    if (config == nullptr) return nullptr;
    try {
        return Connection::make(*static_cast<TlsConfig*>(config), c, role, params);
    } catch (...) {
        return nullptr;
    }
}

void conn_free(void* transport) {
    delete static_cast<Connection*>(transport);
}

portico_io on_input(void* transport, portico_conn*, const char* data, size_t len, size_t* consumed, bool peer_eof) {
    size_t ignored = 0;
    if (consumed == nullptr) consumed = &ignored;
    *consumed = 0;
    if (transport == nullptr) return PORTICO_IO_ERROR;
    try {
        return static_cast<Connection*>(transport)->on_input(data, len, consumed, peer_eof);
    } catch (...) {
        return PORTICO_IO_ERROR;
    }
}

portico_io on_output(void* transport, portico_conn*, const char* data, size_t len, size_t* consumed) {
    size_t ignored = 0;
    if (consumed == nullptr) consumed = &ignored;
    *consumed = 0;
    if (transport == nullptr) return PORTICO_IO_ERROR;
    try {
        return static_cast<Connection*>(transport)->on_output(data, len, consumed);
    } catch (...) {
        return PORTICO_IO_ERROR;
    }
}

portico_io on_shutdown(void* transport, portico_conn*) {
    if (transport == nullptr) return PORTICO_IO_CLOSE;
    try {
        return static_cast<Connection*>(transport)->on_shutdown();
    } catch (...) {
        return PORTICO_IO_CLOSE;
    }
}

portico_status get_info(void* transport, portico_transport_info* out) {
    if (transport == nullptr) return PORTICO_E_BAD_ARG;
    try {
        return static_cast<const Connection*>(transport)->get_info(out);
    } catch (...) {
        return PORTICO_E_INTERNAL;
    }
}

const portico_transport_ops kOps = [] {
    portico_transport_ops ops{};
    ops.struct_size = sizeof ops;
    ops.conn_new = conn_new;
    ops.conn_free = conn_free;
    ops.on_input = on_input;
    ops.on_output = on_output;
    ops.on_shutdown = on_shutdown;
    ops.get_info = get_info;
    return ops;
}();

const portico_factory kTls = [] {
    portico_factory factory{};
    factory.struct_size = sizeof factory;
    factory.kind = PORTICO_KIND_TRANSPORT;
    factory.name = "tls";
    factory.config_new = config_new;
    factory.config_free = config_free;
    factory.ops = &kOps;
    return factory;
}();

const portico_factory* const kFactories[] = {&kTls};

const portico_plugin_desc kDescriptor = [] {
    portico_plugin_desc desc{};
    desc.struct_size = sizeof desc;
    desc.abi_major = PORTICO_ABI_MAJOR;
    desc.abi_minor = PORTICO_ABI_MINOR;
    desc.name = "tls";
    desc.version = "1.0.0";
    desc.description = "TLS 1.2/1.3 on OpenSSL 3: SNI, RSA+ECDSA, ALPN, tickets, session cache, OCSP, mTLS";
    desc.factories = kFactories;
    desc.n_factories = sizeof kFactories / sizeof kFactories[0];
    desc.global_init = global_init;
    desc.global_fini = global_fini;
    return desc;
}();

}  // namespace

PORTICO_PLUGIN(&kDescriptor);
