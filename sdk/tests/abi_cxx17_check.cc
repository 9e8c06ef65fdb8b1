// abi.h must compile as C++17 as cleanly as C99 (ATS's lesson: a C API that drifts into needing C++ locks plugins
// to one toolchain). Compiled with -std=c++17 -pedantic -Wall -Wextra -Werror; uses the macros as a C++ plugin
// does. Never linked.
#include <portico/abi.h>

namespace {

portico_action on_request_headers(void*, portico_stream*, bool) {
    return PORTICO_ACTION_CONTINUE;
}

// C++17 has no designated initializers: value-initialize, then set what is used, so that slots appended in a later
// minor stay zero (and -Wmissing-field-initializers stays quiet).
constexpr portico_http_filter_ops make_ops() {
    portico_http_filter_ops ops{};
    ops.struct_size = sizeof ops;
    ops.on_request_headers = on_request_headers;
    return ops;
}
constexpr portico_http_filter_ops check_ops = make_ops();

constexpr portico_factory make_factory() {
    portico_factory factory{};
    factory.struct_size = sizeof factory;
    factory.kind = PORTICO_KIND_HTTP_FILTER;
    factory.name = "check";
    factory.ops = &check_ops;
    return factory;
}
constexpr portico_factory check_factory = make_factory();
constexpr const portico_factory* check_factories[] = {&check_factory};

constexpr portico_plugin_desc make_desc() {
    portico_plugin_desc desc{};
    desc.struct_size = sizeof desc;
    desc.abi_major = PORTICO_ABI_MAJOR;
    desc.abi_minor = PORTICO_ABI_MINOR;
    desc.name = "check";
    desc.version = "0.0.0";
    desc.factories = check_factories;
    desc.n_factories = 1;
    return desc;
}
constexpr portico_plugin_desc check_desc = make_desc();

}  // namespace

PORTICO_PLUGIN(&check_desc);
int portico_abi_cxx17_check_macros(const portico_host_api* host);
int portico_abi_cxx17_check_macros(const portico_host_api* host) {
    portico_endpoint endpoint;
    PORTICO_INIT(&endpoint);
    return static_cast<int>(endpoint.struct_size) + PORTICO_HAS(host->http, portico_http_api, poster_free);
}
