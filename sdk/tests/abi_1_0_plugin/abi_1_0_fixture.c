/* A plugin as a third party built it against ABI 1.0 and never rebuilt: compiled with the kept copy
 * sdk/abi/1.0/portico/abi.h (not the live header), in C99. tests/integration/test_abi_1_0_fixture.py loads it into
 * today's host and expects its filter to work: the 1.0 promise, kept. Keep this file to the 1.0 API only. */
#include <portico/abi.h>

#if PORTICO_ABI_MAJOR != 1 || PORTICO_ABI_MINOR != 0
#error "the ABI 1.0 fixture must be compiled against sdk/abi/1.0/portico/abi.h"
#endif

static const portico_host_api* host;

static portico_status fixture_global_init(const portico_host_api* h, void** global, portico_error* err) {
    (void)err;
    host = h;
    *global = NULL;
    return PORTICO_OK;
}

static portico_status fixture_config_new(const portico_host_api* h, void* global, const portico_config* cfg,
                                         void** config, portico_error* err) {
    (void)h;
    (void)global;
    (void)cfg;
    (void)err;
    *config = NULL;
    return PORTICO_OK;
}

static void fixture_config_free(void* config) {
    (void)config;
}

/* No per-stream state is needed, but NULL would mean "no hooks for this stream": any non-NULL pointer will do. */
static char fixture_stream_marker;

static void* fixture_stream_new(void* config, void* worker_state, portico_stream* s) {
    (void)config;
    (void)worker_state;
    (void)s;
    return &fixture_stream_marker;
}

static void fixture_stream_free(void* filter) {
    (void)filter;
}

static portico_view view_of(const char* text, size_t len) {
    portico_view v;
    v.data = text;
    v.len = len;
    return v;
}

static portico_action fixture_on_response_headers(void* filter, portico_stream* s, bool end_stream) {
    (void)filter;
    (void)end_stream;
    if (host->http->header_set(s, PORTICO_RESPONSE_HEADERS, view_of("X-Abi-1-0", 9), view_of("yes", 3)) !=
        PORTICO_OK)
        return PORTICO_ACTION_ERROR;
    return PORTICO_ACTION_CONTINUE;
}

static const portico_http_filter_ops fixture_ops = {
    .struct_size = sizeof(portico_http_filter_ops),
    .stream_new = fixture_stream_new,
    .stream_free = fixture_stream_free,
    .on_response_headers = fixture_on_response_headers,
};

static const portico_factory fixture_factory = {
    .struct_size = sizeof(portico_factory),
    .kind = PORTICO_KIND_HTTP_FILTER,
    .name = "abi_1_0_fixture",
    .config_new = fixture_config_new,
    .config_free = fixture_config_free,
    .ops = &fixture_ops,
};

static const portico_factory* const fixture_factories[] = {&fixture_factory};

static const portico_plugin_desc fixture_desc = {
    .struct_size = sizeof(portico_plugin_desc),
    .abi_major = PORTICO_ABI_MAJOR,
    .abi_minor = PORTICO_ABI_MINOR,
    .name = "abi_1_0_fixture",
    .version = "0.3.0", /* not "1.0.x", so that a listing showing "1.0" shows the ABI */
    .description = "built against the kept ABI 1.0 header; adds X-Abi-1-0: yes to responses",
    .factories = fixture_factories,
    .n_factories = 1,
    .global_init = fixture_global_init,
};

PORTICO_PLUGIN(&fixture_desc);
