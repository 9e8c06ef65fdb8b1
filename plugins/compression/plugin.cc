// The compression plugin's descriptor: one HTTP filter factory, "compression", over the raw C ABI. Hooks catch
// everything: no exception may cross into the host.
#include <portico/abi.h>

#include <cstdio>
#include <new>

#include "config.h"
#include "filter.h"

namespace {

using portico::compression::FilterConfig;
using portico::compression::StreamFilter;

portico_status config_new(const portico_host_api* host, void*, const portico_config* cfg, void** out,
                          portico_error* err) {
    try {
        auto config = std::make_unique<FilterConfig>();
        portico_status status = portico::compression::read_config(host, cfg, *config);
        if (status != PORTICO_OK) return status;
        // Metrics are optional: an older host without them still compresses.
        host->core->metric_define(host->plugin, "responses_compressed", PORTICO_METRIC_COUNTER,
                                  &config->compressed);
        host->core->metric_define(host->plugin, "bytes_in", PORTICO_METRIC_COUNTER, &config->bytes_in);
        host->core->metric_define(host->plugin, "bytes_out", PORTICO_METRIC_COUNTER, &config->bytes_out);
        *out = config.release();
        return PORTICO_OK;
    } catch (const std::exception& e) {
        std::snprintf(err->message, sizeof err->message, "%s", e.what());
        return PORTICO_E_INTERNAL;
    }
}

void config_free(void* config) {
    delete static_cast<FilterConfig*>(config);
}

void* stream_new(void* config, void*, portico_stream*) {
    return new (std::nothrow) StreamFilter(*static_cast<const FilterConfig*>(config));
}

void stream_free(void* filter) {
    delete static_cast<StreamFilter*>(filter);
}

portico_action on_response_headers(void* filter, portico_stream* s, bool end_stream) {
    try {
        return static_cast<StreamFilter*>(filter)->on_response_headers(s, end_stream);
    } catch (...) {
        return PORTICO_ACTION_ERROR;
    }
}

portico_action on_response_body(void* filter, portico_stream* s, bool end_stream) {
    try {
        return static_cast<StreamFilter*>(filter)->on_response_body(s, end_stream);
    } catch (...) {
        return PORTICO_ACTION_ERROR;
    }
}

const portico_http_filter_ops kOps = [] {
    portico_http_filter_ops ops{};
    ops.struct_size = sizeof ops;
    ops.stream_new = stream_new;
    ops.stream_free = stream_free;
    ops.on_response_headers = on_response_headers;
    ops.on_response_body = on_response_body;
    return ops;
}();

const portico_factory kFactory = [] {
    portico_factory factory{};
    factory.struct_size = sizeof factory;
    factory.kind = PORTICO_KIND_HTTP_FILTER;
    factory.name = "compression";
    factory.config_new = config_new;
    factory.config_free = config_free;
    factory.ops = &kOps;
    return factory;
}();

const portico_factory* const kFactories[] = {&kFactory};

const portico_plugin_desc kDescriptor = [] {
    portico_plugin_desc desc{};
    desc.struct_size = sizeof desc;
    desc.abi_major = PORTICO_ABI_MAJOR;
    desc.abi_minor = PORTICO_ABI_MINOR;
    desc.name = "compression";
    desc.version = "1.0.0";
    desc.description = "gzip, brotli and zstd response compression";
    desc.factories = kFactories;
    desc.n_factories = 1;
    return desc;
}();

}  // namespace

PORTICO_PLUGIN(&kDescriptor);