/* abi.h promises pure C99. This translation unit is compiled with -std=c99 -pedantic -Wall -Wextra -Werror, and
 * uses each function-like macro of the header the way a plugin does, so an extension, a C++-ism or a macro that
 * only compiles in C++ fails the build. It is never linked. */
#include <portico/abi.h>

static portico_action check_on_request_headers(void* filter, portico_stream* s, bool end_stream) {
    (void)filter;
    (void)s;
    (void)end_stream;
    return PORTICO_ACTION_CONTINUE;
}

/* Designated initializers: slots appended in a later minor stay zero without a warning. */
static const portico_http_filter_ops check_ops = {.struct_size = sizeof(portico_http_filter_ops),
                                                  .on_request_headers = check_on_request_headers};
static const portico_factory check_factory = {
    .struct_size = sizeof(portico_factory), .kind = PORTICO_KIND_HTTP_FILTER, .name = "check", .ops = &check_ops};
static const portico_factory* const check_factories[] = {&check_factory};
static const portico_plugin_desc check_desc = {.struct_size = sizeof(portico_plugin_desc),
                                               .abi_major = PORTICO_ABI_MAJOR,
                                               .abi_minor = PORTICO_ABI_MINOR,
                                               .name = "check",
                                               .version = "0.0.0",
                                               .factories = check_factories,
                                               .n_factories = 1};

PORTICO_PLUGIN(&check_desc);
/* PORTICO_INIT and PORTICO_HAS as a plugin uses them. */
int portico_abi_c99_check_macros(const portico_host_api* host);
int portico_abi_c99_check_macros(const portico_host_api* host) {
    portico_endpoint endpoint;
    PORTICO_INIT(&endpoint);
    return (int)endpoint.struct_size + PORTICO_HAS(host->http, portico_http_api, poster_free);
}
