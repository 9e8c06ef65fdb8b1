/*
 * portico/abi.h -- the contract between the Portico host and its plugins.
 *
 * THE CONTRACT
 * ------------
 * A plugin is a shared object (SONAME portico-NAME.so.<ABI major>) that exports exactly one symbol,
 * `portico_plugin_v1`, returning a static descriptor. Everything else crosses the line as data: the plugin hands
 * the host tables of hooks (`portico_*_ops`), the host hands the plugin a table of host calls
 * (`portico_host_api`), in the manner of SQLite's extension API. A plugin imports no host symbol and links
 * against nothing of Portico's; this header is the only thing it includes. Plugins are loaded with
 * RTLD_NOW | RTLD_LOCAL and never unloaded while the process runs.
 *
 * Trust: plugins run in the host's address space with its privileges; the host validates what it can (sizes,
 * versions, phases, lengths) and refuses to load a plugin it cannot speak to, but it cannot defend against a
 * hostile plugin. Every byte a plugin sees from a client or an origin is hostile.
 *
 * VERSION POLICY
 *   PORTICO_ABI_MAJOR  is part of the entry symbol's name. It changes only when an existing type, slot or meaning
 *                      changes; the host then keeps an adapter for the previous major for at least a year.
 *   PORTICO_ABI_MINOR  grows by one with every appended struct field, table slot or enum value (each is tagged
 *                      below with the minor that added it, "since 1.N"). A host runs plugins built against its own
 *                      or any older minor; it refuses a plugin built against a newer minor than its own.
 *   The plugin's own version (semver string in its descriptor) is independent of the ABI version.
 *
 * STABILITY RULES (guarded in CI by a golden layout test, a hash of this file and abidiff)
 *   1. Pure C99: stdint.h, stddef.h and stdbool.h only; no bitfields, no varargs, no C++ types.
 *   2. Every struct that crosses the line begins with `uint32_t struct_size`, set by whoever fills the struct
 *      (use PORTICO_INIT). Fields are only appended. A reader never touches a field beyond struct_size, and a
 *      zero field means the old behaviour.
 *   3. Tables of functions are append-only; a slot is never reordered, removed or retyped. New semantics get a
 *      new slot with a `_v2` suffix. A plugin checks for a newer host slot with PORTICO_HAS(table, type, slot).
 *   4. Enumerations cross as uint32_t with explicit values, never renumbered; receivers treat unknown values as
 *      documented at each type (usually: ignore, or refuse with PORTICO_E_BAD_ARG).
 *   5. Nothing unwinds across the line: a C++ plugin catches every exception inside each hook.
 *
 * NAMES
 *   portico_*            types;   PORTICO_*  constants and macros
 *   on_<event>           hooks: functions the plugin implements and the host calls (all optional unless noted)
 *   <object>_<verb>      host calls: functions the host implements and the plugin calls
 *
 * LEGEND (each declaration's comment says)
 *   THREAD: main    -- the host's main thread, before workers run or during a reload, never concurrently
 *           worker  -- the worker thread that owns the stream, connection or pool named by the first argument;
 *                      hooks of one stream never run concurrently
 *           any     -- any thread, concurrently
 *   OWNERSHIP: "borrowed" memory belongs to the side that passed it and stays valid only until the hook or call
 *           returns, or until the map or buffer it points into is changed, whichever is first. Memory a plugin
 *           passes to a host call is copied before the call returns. Objects are freed by the side that made
 *           them: a plugin frees its own state in the matching *_free / *_fini hook.
 */
#ifndef PORTICO_ABI_H
#define PORTICO_ABI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PORTICO_ABI_MAJOR 1
#define PORTICO_ABI_MINOR 0

/* The one exported symbol's name carries the major: portico_plugin_v1. */
#define PORTICO_ENTRY_SYMBOL "portico_plugin_v1"

#if defined(__GNUC__) || defined(__clang__)
#define PORTICO_EXPORT __attribute__((visibility("default")))
#else
#define PORTICO_EXPORT
#endif

#ifdef __cplusplus
#define PORTICO_EXTERN_C extern "C"
extern "C" {
#else
#define PORTICO_EXTERN_C
#endif

/* Zero-fills a struct and sets its size, as every struct crossing the line needs: PORTICO_INIT(&endpoint); */
#define PORTICO_INIT(ptr)                                                                                        \
    do {                                                                                                         \
        unsigned char *portico_init_p_ = (unsigned char *)(ptr);                                                 \
        size_t portico_init_i_;                                                                                  \
        for (portico_init_i_ = 0; portico_init_i_ < sizeof(*(ptr)); ++portico_init_i_)                           \
            portico_init_p_[portico_init_i_] = 0;                                                                \
        (ptr)->struct_size = (uint32_t)sizeof(*(ptr));                                                           \
    } while (0)

/* True when the struct or table `ptr` of type `type` (which begins with struct_size) is long enough to hold
 * `field`: how a plugin asks whether an older host has a slot appended later, e.g.
 * PORTICO_HAS(host->http, portico_http_api, poster_new). */
#define PORTICO_HAS(ptr, type, field)                                                                            \
    ((ptr) != NULL && (size_t)(ptr)->struct_size >= offsetof(type, field) + sizeof(((const type *)0)->field))

/* ============================================================================================================
 * Basic types
 * ========================================================================================================== */

/* Results of host calls and of lifecycle hooks. Zero is success; errors are negative. Receivers treat an unknown
 * negative value as PORTICO_E_INTERNAL. */
typedef int32_t portico_status;
#define PORTICO_OK 0
#define PORTICO_E_NOT_FOUND (-1)      /* no such header, key, attribute or endpoint */
#define PORTICO_E_BAD_ARG (-2)        /* an argument is out of range or malformed */
#define PORTICO_E_WRONG_PHASE (-3)    /* the call makes no sense now (e.g. a request header after it was sent) */
#define PORTICO_E_LIMIT (-4)          /* a host limit (buffer, header count, size) would be exceeded */
#define PORTICO_E_BACKPRESSURE (-5)   /* accepted, but slow down: wait for PORTICO_EVENT_WRITABLE */
#define PORTICO_E_NO_HOST (-6)        /* balancer: no endpoint can take the request */
#define PORTICO_E_UNIMPLEMENTED (-7)  /* the host has this slot but not the feature */
#define PORTICO_E_INTERNAL (-8)       /* anything else; the host logs the details */
#define PORTICO_E_CONFIG (-9)         /* configuration error, already reported with file:line:col */
#define PORTICO_E_CLOSED (-10)        /* the stream or connection has ended */

/* A borrowed run of bytes (not NUL-terminated). */
typedef struct portico_view {
    const char *data;
    size_t len;
} portico_view;

/* Host memory the plugin may write into until it commits (see body_reserve, emit_reserve). */
typedef struct portico_mut_view {
    char *data;
    size_t len;
} portico_mut_view;

/* A header field as a pair of borrowed views. */
typedef struct portico_header {
    portico_view name;
    portico_view value;
} portico_header;

/* Where a lifecycle hook explains a failure. The host prints "plugin FILE: <message>" or
 * "CONFIG_FILE:LINE:COL: <message>". Fill with a bounded write (snprintf); the host NUL-terminates. */
#define PORTICO_ERROR_MESSAGE_MAX 512
typedef struct portico_error {
    uint32_t struct_size;
    char message[PORTICO_ERROR_MESSAGE_MAX];
} portico_error;

/* Log levels, for core->log. Unknown values are logged as INFO. */
typedef uint32_t portico_log_level;
#define PORTICO_LOG_DEBUG 0u
#define PORTICO_LOG_INFO 1u
#define PORTICO_LOG_WARNING 2u
#define PORTICO_LOG_ERROR 3u

/* Plugin kinds. A factory of an unknown kind is listed and skipped with a warning. */
typedef uint32_t portico_kind;
#define PORTICO_KIND_HTTP_FILTER 1u
#define PORTICO_KIND_TRANSPORT 2u
#define PORTICO_KIND_BALANCER 3u

/* Opaque handles: the host's layouts never leak. */
typedef struct portico_plugin portico_plugin;   /* one loaded plugin; tags its log lines and metrics */
typedef struct portico_config portico_config;   /* a read-only TOML table of the plugin's configuration */
typedef struct portico_metric portico_metric;   /* a counter or gauge */
typedef struct portico_stream portico_stream;   /* one request and its response */
typedef struct portico_poster portico_poster;   /* a weak, thread-safe handle to wake a stream */
typedef struct portico_conn portico_conn;       /* one connection under a transport */
typedef struct portico_pool portico_pool;       /* one upstream's endpoints, as a balancer sees them */

/* ============================================================================================================
 * Host calls: the table the host hands to the plugin
 * ========================================================================================================== */

/* THREAD any. Logging, metrics, time. */
typedef struct portico_core_api {
    uint32_t struct_size;
    /* Writes one line to the error log, prefixed with the plugin's name. `msg` is borrowed. */
    void (*log)(const portico_plugin *plugin, portico_log_level level, const char *msg, size_t len);
    /* True when a line of this level would be written: skip building messages nobody reads. */
    bool (*log_enabled)(const portico_plugin *plugin, portico_log_level level);
    /* Defines a metric named "<plugin>_<name>" (name: [a-z0-9_]+) of kind PORTICO_METRIC_*, or returns the
     * existing one of that name. THREAD main (global_init or config_new). The metric lives as long as the
     * process; the pointer stays valid. */
    portico_status (*metric_define)(const portico_plugin *plugin, const char *name, uint32_t kind,
                                    portico_metric **out);
    /* Atomically adds `delta` (counters: delta >= 0) or sets a gauge. */
    void (*metric_add)(portico_metric *metric, int64_t delta);
    void (*metric_set)(portico_metric *metric, int64_t value);
    int64_t (*metric_get)(const portico_metric *metric);
    /* Monotonic clock, nanoseconds. */
    uint64_t (*now_ns)(void);
} portico_core_api;

#define PORTICO_METRIC_COUNTER 1u
#define PORTICO_METRIC_GAUGE 2u

/* THREAD main, only inside config_new. Typed getters over the plugin's TOML table. A getter returns
 * PORTICO_E_NOT_FOUND when the key is absent (use your default); on a wrong type or value it reports
 * "FILE:LINE:COL: <key>: expected ..." itself and returns PORTICO_E_CONFIG: then return PORTICO_E_CONFIG from
 * config_new. A key of the table that no getter asked for is an "unknown key" error after config_new returns. */
typedef struct portico_config_api {
    uint32_t struct_size;
    portico_status (*get_string)(const portico_config *cfg, const char *key, portico_view *out);
    portico_status (*get_int)(const portico_config *cfg, const char *key, int64_t *out);
    portico_status (*get_bool)(const portico_config *cfg, const char *key, bool *out);
    portico_status (*get_double)(const portico_config *cfg, const char *key, double *out);
    /* "250ms", "2s", "5m", "1h" (or an integer of milliseconds) -> milliseconds. */
    portico_status (*get_duration_ms)(const portico_config *cfg, const char *key, uint64_t *out);
    /* "512", "64KiB", "256MiB", "1GiB" (or an integer of bytes) -> bytes. */
    portico_status (*get_size)(const portico_config *cfg, const char *key, uint64_t *out);
    /* A nested table; the child is valid as long as `cfg`. */
    portico_status (*get_table)(const portico_config *cfg, const char *key, const portico_config **out);
    /* Arrays: the length, then elements by index. */
    portico_status (*array_len)(const portico_config *cfg, const char *key, size_t *out);
    portico_status (*array_string)(const portico_config *cfg, const char *key, size_t index, portico_view *out);
    portico_status (*array_table)(const portico_config *cfg, const char *key, size_t index,
                                  const portico_config **out);
    /* Reports a semantic error at the key's position (at the table's when key is NULL or absent):
     * "FILE:LINE:COL: <message>". Returns PORTICO_E_CONFIG for convenience. `message` is borrowed. */
    portico_status (*error)(const portico_config *cfg, const char *key, const char *message);
} portico_config_api;

/* Which header map a call addresses. */
typedef uint32_t portico_headers_kind;
#define PORTICO_REQUEST_HEADERS 1u
#define PORTICO_RESPONSE_HEADERS 2u
/* (trailers pass through unchanged in ABI 1.0; hooks and kinds for them may be appended) */

/* Stream attributes: protocol-neutral, so HTTP/2 to clients needs no ABI change. */
typedef uint32_t portico_attr;
#define PORTICO_ATTR_METHOD 1u        /* "GET" */
#define PORTICO_ATTR_PATH 2u          /* the path and query as received, "/a/b?c" */
#define PORTICO_ATTR_AUTHORITY 3u     /* host[:port] the client asked for */
#define PORTICO_ATTR_SCHEME 4u        /* "http" or "https" */
#define PORTICO_ATTR_PROTOCOL 5u      /* "HTTP/1.1", "HTTP/1.0" */
#define PORTICO_ATTR_CLIENT_ADDRESS 6u /* "192.0.2.1" or "2001:db8::1" */
#define PORTICO_ATTR_ROUTE 7u         /* the matched route's name */
#define PORTICO_ATTR_UPSTREAM 8u      /* the route's upstream name */
#define PORTICO_ATTR_REQUEST_ID 9u
#define PORTICO_ATTR_TLS_SNI 10u      /* PORTICO_E_NOT_FOUND on plain connections */
#define PORTICO_ATTR_TLS_VERSION 11u
#define PORTICO_ATTR_TLS_CIPHER 12u
#define PORTICO_ATTR_TLS_PEER_SUBJECT 13u

/* Body direction. */
typedef uint32_t portico_direction;
#define PORTICO_DIR_REQUEST 1u
#define PORTICO_DIR_RESPONSE 2u

/* THREAD worker (the stream's), except poster_post and poster_free (any). Calls made outside a hook of the
 * stream, or about a phase that has passed, return PORTICO_E_WRONG_PHASE. */
typedef struct portico_http_api {
    uint32_t struct_size;

    /* -- attributes and status -- */
    /* `out` is borrowed until the hook returns. */
    portico_status (*attr_get)(portico_stream *s, portico_attr attr, portico_view *out);
    /* The response status (in response hooks, or of a local reply being made). */
    portico_status (*status_get)(portico_stream *s, uint32_t *status);
    /* In on_response_headers: replace the status code sent to the client (200..999: an interim one cannot end it). */
    portico_status (*status_set)(portico_stream *s, uint32_t status);

    /* -- headers (names compare case-insensitively) -- */
    /* The index-th value of `name`; `*count` (optional) receives how many fields have that name. */
    portico_status (*header_get)(portico_stream *s, portico_headers_kind which, portico_view name, size_t index,
                                 portico_view *value, size_t *count);
    portico_status (*header_count)(portico_stream *s, portico_headers_kind which, size_t *count);
    portico_status (*header_at)(portico_stream *s, portico_headers_kind which, size_t index, portico_header *out);
    /* Replaces every field of that name with one (adds it when absent). Name and value are validated (token; no
     * CR, LF or NUL) and copied. */
    portico_status (*header_set)(portico_stream *s, portico_headers_kind which, portico_view name,
                                 portico_view value);
    portico_status (*header_add)(portico_stream *s, portico_headers_kind which, portico_view name,
                                 portico_view value);
    /* Removes every field of that name; PORTICO_E_NOT_FOUND when there was none. */
    portico_status (*header_remove)(portico_stream *s, portico_headers_kind which, portico_view name);

    /* -- bodies: in on_*_body the filter sees the bytes that reached it and not yet passed on -- */
    /* Up to `max` borrowed views of the pending bytes, in order; `*count` receives how many were filled and
     * `*total` (optional) the pending byte count. */
    portico_status (*body_chunks)(portico_stream *s, portico_direction dir, portico_view *views, size_t max,
                                  size_t *count, size_t *total);
    /* Removes the first n pending bytes (the filter consumed them). */
    portico_status (*body_drain)(portico_stream *s, portico_direction dir, size_t n);
    /* Appends a copy of the bytes after the pending ones. PORTICO_E_LIMIT past the route's filter buffer. */
    portico_status (*body_append)(portico_stream *s, portico_direction dir, const char *data, size_t len);
    /* Host memory of at least `min` bytes to write into, then commit the bytes written (<= out->len); append
     * without a copy. A new reserve or any other body call cancels an uncommitted one. */
    portico_status (*body_reserve)(portico_stream *s, portico_direction dir, size_t min, portico_mut_view *out);
    portico_status (*body_commit)(portico_stream *s, portico_direction dir, size_t n);

    /* -- flow -- */
    /* Continues a direction this filter paused (STOP*): exactly once per pause. From on_event or any hook of the
     * stream; resuming from another thread goes through a poster. */
    portico_status (*resume)(portico_stream *s, portico_direction dir);
    /* Answers the client without the upstream (a WAF block, a redirect). Only before response headers went to
     * the client. The reply passes the response hooks of the filters before this one only. `headers` and `body`
     * are copied. `details` (optional, borrowed) goes to the log. After it, the filter's hooks for this stream
     * get only on_done. */
    portico_status (*send_local_reply)(portico_stream *s, uint32_t status, const portico_header *headers,
                                       size_t n_headers, const char *body, size_t body_len, const char *details);
    /* A streamed local reply (a cache hit): headers first, then body pieces; end_stream on the last call.
     * send_body returns PORTICO_E_BACKPRESSURE when the host holds more than it wants: the bytes were taken,
     * wait for PORTICO_EVENT_WRITABLE before sending more. */
    portico_status (*send_headers)(portico_stream *s, uint32_t status, const portico_header *headers,
                                   size_t n_headers, bool end_stream);
    portico_status (*send_body)(portico_stream *s, const char *data, size_t len, bool end_stream);

    /* -- time and other threads -- */
    /* Calls on_event(PORTICO_EVENT_TIMER, token) after `ms` milliseconds (one timer per filter per stream; arming
     * again replaces it; ms == 0 cancels). */
    portico_status (*timer_arm)(portico_stream *s, uint64_t ms, uint64_t token);
    /* A weak handle to wake this filter's stream from any thread. */
    portico_status (*poster_new)(portico_stream *s, portico_poster **out);
    /* THREAD any. Queues on_event(PORTICO_EVENT_POST, token) on the stream's worker. PORTICO_E_CLOSED once the
     * stream ended (the event is then dropped). */
    portico_status (*poster_post)(portico_poster *poster, uint64_t token);
    /* THREAD any. Every poster_new is matched by one poster_free, also after the stream ended. */
    void (*poster_free)(portico_poster *poster);
} portico_http_api;

/* THREAD worker (the connection's). For TRANSPORT plugins: how the plugin moves bytes of the host-owned socket. */
typedef struct portico_transport_api {
    uint32_t struct_size;
    /* Passes decrypted bytes up to the host (copied). PORTICO_E_BACKPRESSURE: the host took them but its read
     * buffer is full; stop consuming input until on_input is called again. */
    portico_status (*deliver)(portico_conn *c, const char *data, size_t len);
    /* Host memory for bytes to the wire (ciphertext), then commit what was written. */
    portico_status (*emit_reserve)(portico_conn *c, size_t min, portico_mut_view *out);
    portico_status (*emit_commit)(portico_conn *c, size_t n);
    /* The handshake finished: the host reads get_info (SNI, ALPN) and starts HTTP. */
    portico_status (*handshake_done)(portico_conn *c);
    /* The peer's address, borrowed. */
    portico_status (*peer_address)(portico_conn *c, portico_view *out);
} portico_transport_api;

/* Endpoint health, as the host's checks see it. Unknown values count as UNHEALTHY. */
typedef uint32_t portico_health;
#define PORTICO_HEALTH_HEALTHY 1u
#define PORTICO_HEALTH_DEGRADED 2u   /* passing but slow or ramping up (slow start): weight is reduced */
#define PORTICO_HEALTH_UNHEALTHY 3u
#define PORTICO_HEALTH_DRAINING 4u   /* being removed: no new requests */

/* One endpoint of a pool. */
typedef struct portico_endpoint {
    uint32_t struct_size;
    uint32_t id;            /* stable across pool updates while the endpoint exists */
    portico_view address;   /* "127.0.0.1:9001", borrowed from the pool snapshot */
    uint32_t weight;        /* effective weight (slow start applied), >= 1 when healthy */
    portico_health health;
} portico_endpoint;

/* Per-endpoint load figures (atomic reads, through lb->endpoint_stat). */
typedef uint32_t portico_endpoint_stat;
#define PORTICO_STAT_ACTIVE_REQUESTS 1u
#define PORTICO_STAT_EWMA_LATENCY_US 2u
#define PORTICO_STAT_CONNECT_FAILURES 3u   /* consecutive */
#define PORTICO_STAT_TOTAL_REQUESTS 4u

/* THREAD worker (the pool's). For BALANCER plugins: reading the pool snapshot the host publishes. */
typedef struct portico_lb_api {
    uint32_t struct_size;
    size_t (*pool_size)(const portico_pool *pool);
    /* The index-th endpoint (0 <= index < pool_size); views borrowed until the next on_pool_update. */
    portico_status (*endpoint_get)(const portico_pool *pool, size_t index, portico_endpoint *out);
    portico_status (*endpoint_stat)(const portico_pool *pool, size_t index, portico_endpoint_stat stat,
                                    uint64_t *out);
} portico_lb_api;

/* The table handed to the plugin. One per plugin; valid for the life of the process. */
typedef struct portico_host_api {
    uint32_t struct_size;
    uint32_t abi_major;   /* the host's ABI version */
    uint32_t abi_minor;
    const portico_plugin *plugin;   /* this plugin, for core->log and core->metric_define */
    const portico_core_api *core;
    const portico_config_api *config;
    const portico_http_api *http;
    const portico_transport_api *transport;
    const portico_lb_api *lb;
} portico_host_api;

/* ============================================================================================================
 * Hooks: the tables the plugin hands to the host
 * ========================================================================================================== */

/* What a filter hook tells the host. Unknown values are treated as PORTICO_ACTION_ERROR. */
typedef uint32_t portico_action;
#define PORTICO_ACTION_CONTINUE 0u        /* pass headers and every pending byte on to the next filter */
#define PORTICO_ACTION_STOP 1u            /* hold and wait for resume(): nothing passes this filter, its body
                                           * hook is not called meanwhile; bytes that arrive are held, up to
                                           * the route's filter_buffer */
#define PORTICO_ACTION_STOP_AND_BUFFER 2u /* hold, and call the body hook again with every new piece; a later
                                           * CONTINUE passes everything held. From a headers hook: the headers
                                           * wait while the body hook inspects the body (a WAF). Past the
                                           * filter_buffer the request gets 413, the response 500 */
#define PORTICO_ACTION_STOP_NO_BUFFER 3u  /* as STOP, and the host stops reading the source (backpressure) */
#define PORTICO_ACTION_ERROR 4u           /* the hook failed: 500 (or close, once the response began) unless the
                                           * filter is configured on_error = "fail-open", which skips it for
                                           * the rest of the stream */

/* Events delivered to on_event. Unknown values are ignored by plugins. */
typedef uint32_t portico_event;
#define PORTICO_EVENT_TIMER 1u
#define PORTICO_EVENT_POST 2u
#define PORTICO_EVENT_WRITABLE 3u   /* a send_body that returned PORTICO_E_BACKPRESSURE may continue */

/* How a stream ended, for on_done. */
typedef uint32_t portico_done_reason;
#define PORTICO_DONE_COMPLETE 1u   /* the response went out whole */
#define PORTICO_DONE_RESET 2u      /* a side closed or failed mid-way */
#define PORTICO_DONE_TIMEOUT 3u
#define PORTICO_DONE_ERROR 4u      /* a filter or the host failed it */

typedef struct portico_stream_summary {
    uint32_t struct_size;
    portico_done_reason reason;
    uint32_t status;             /* the status sent to the client, 0 when none */
    uint64_t request_body_bytes; /* body bytes read from the client */
    uint64_t response_body_bytes;/* body bytes sent to the client */
} portico_stream_summary;

/* PORTICO_KIND_HTTP_FILTER. One instance per stream (stream_new); every hook is optional.
 * THREAD worker. The `end_stream` flag says no more bytes follow in that direction (on a headers hook: the message
 * has no body). Headers are read and changed through http->header_*; bodies through http->body_*: a body hook sees
 * the bytes that reached this filter and were not passed on, drains what it consumed and appends what it makes;
 * on CONTINUE whatever is pending moves on. Request hooks run in the route's list order, response hooks in reverse.
 * A filter sees every body byte once, in order. */
typedef struct portico_http_filter_ops {
    uint32_t struct_size;
    /* A per-stream state, or NULL with no hooks wanted for this stream (a cheap way to skip). `config` and
     * `worker_state` are what config_new and worker_init made. */
    void *(*stream_new)(void *config, void *worker_state, portico_stream *s);
    /* Called once, last, after on_done. */
    void (*stream_free)(void *filter);
    portico_action (*on_request_headers)(void *filter, portico_stream *s, bool end_stream);
    portico_action (*on_request_body)(void *filter, portico_stream *s, bool end_stream);
    portico_action (*on_response_headers)(void *filter, portico_stream *s, bool end_stream);
    portico_action (*on_response_body)(void *filter, portico_stream *s, bool end_stream);
    void (*on_event)(void *filter, portico_stream *s, portico_event event, uint64_t token);
    /* Exactly once per stream_new that returned non-NULL, however the stream ended (also while paused: cancel
     * outstanding work). Only http->attr_get and status_get are allowed in it. */
    void (*on_done)(void *filter, portico_stream *s, const portico_stream_summary *summary);
} portico_http_filter_ops;

/* Results of transport hooks. */
typedef uint32_t portico_io;
#define PORTICO_IO_OK 0u
#define PORTICO_IO_WANT_INPUT 1u   /* nothing more to do until more bytes arrive from the wire */
#define PORTICO_IO_CLOSE 2u        /* close cleanly (after emitted bytes are flushed) */
#define PORTICO_IO_ERROR 3u        /* close now; the host logs get_info's `error` at debug level */

typedef uint32_t portico_role;
#define PORTICO_ROLE_SERVER 1u   /* a listener: the client connects to us */
#define PORTICO_ROLE_CLIENT 2u   /* an upstream: we connect to the origin */

/* What a connection's transport reports once the handshake is done. */
typedef struct portico_transport_info {
    uint32_t struct_size;
    portico_view sni;            /* borrowed until conn_free */
    portico_view alpn;
    portico_view version;        /* "TLSv1.3" */
    portico_view cipher;
    portico_view peer_subject;   /* empty when no client certificate */
    bool resumed;
    portico_view error;          /* after PORTICO_IO_ERROR: why (e.g. OpenSSL's reason); borrowed until conn_free */
} portico_transport_info;

/* Parameters of an upstream (CLIENT) connection. */
typedef struct portico_conn_params {
    uint32_t struct_size;
    portico_view sni;    /* server name to send and verify; empty = none */
    portico_view alpn;   /* wire format list, e.g. "\x08http/1.1" */
} portico_conn_params;

/* PORTICO_KIND_TRANSPORT: a byte transform on a host-owned socket. THREAD worker. The plugin never touches the
 * fd: ciphertext comes in through on_input, plaintext goes up with transport->deliver, bytes for the wire go out
 * with emit_reserve/emit_commit. */
typedef struct portico_transport_ops {
    uint32_t struct_size;
    void *(*conn_new)(void *config, void *worker_state, portico_conn *c, portico_role role,
                      const portico_conn_params *params);
    void (*conn_free)(void *transport);
    /* Bytes from the wire; `*consumed` receives how many were used (the rest are offered again). */
    portico_io (*on_input)(void *transport, portico_conn *c, const char *data, size_t len, size_t *consumed,
                           bool peer_eof);
    /* Plaintext for the peer; `*consumed` as above. */
    portico_io (*on_output)(void *transport, portico_conn *c, const char *data, size_t len, size_t *consumed);
    /* Send a clean close (TLS close_notify). */
    portico_io (*on_shutdown)(void *transport, portico_conn *c);
    portico_status (*get_info)(void *transport, portico_transport_info *out);
} portico_transport_ops;

/* What a balancer is asked for one attempt. */
typedef struct portico_lb_context {
    uint32_t struct_size;
    uint32_t attempt;              /* 1 for the first try */
    const uint32_t *tried;         /* endpoint ids already tried for this request */
    size_t n_tried;
    portico_view hash_key;         /* for consistent hashing, as configured; empty when none */
    portico_stream *stream;        /* for http->header_get / attr_get; NULL for health-check-free picks */
} portico_lb_context;

/* Outcomes for on_result. */
typedef uint32_t portico_lb_outcome;
#define PORTICO_LB_SUCCESS 1u
#define PORTICO_LB_CONNECT_FAILURE 2u
#define PORTICO_LB_RESET 3u
#define PORTICO_LB_TIMEOUT 4u
#define PORTICO_LB_HTTP_5XX 5u

/* PORTICO_KIND_BALANCER: one instance per upstream pool per worker. THREAD worker. */
typedef struct portico_balancer_ops {
    uint32_t struct_size;
    void *(*lb_new)(void *config, void *worker_state, const portico_pool *pool);
    void (*lb_free)(void *lb);
    /* The host published a new snapshot (endpoints added, removed, health or weight changed). */
    void (*on_pool_update)(void *lb, const portico_pool *pool);
    /* Picks an endpoint id for this attempt; PORTICO_E_NO_HOST when none fits (the host answers 503). Must be
     * fast and must not block. */
    portico_status (*choose)(void *lb, const portico_lb_context *ctx, uint32_t *endpoint_id);
    void (*on_result)(void *lb, uint32_t endpoint_id, portico_lb_outcome outcome, uint64_t latency_us);
} portico_balancer_ops;

/* ============================================================================================================
 * The descriptor
 * ========================================================================================================== */

/* One named factory: what a TOML `use = "..."` names. `ops` points to the table of its kind. */
typedef struct portico_factory {
    uint32_t struct_size;
    portico_kind kind;
    const char *name;   /* [a-z0-9_-]+; "plugin.factory" or just "factory" in TOML */
    /* THREAD main. Builds an immutable config from the TOML table. No side effects beyond reading files: it runs
     * for `portico -t`. `global` is what global_init made (NULL without one). */
    portico_status (*config_new)(const portico_host_api *host, void *global, const portico_config *cfg,
                                 void **config, portico_error *err);
    /* THREAD main, after the last stream using it ended. */
    void (*config_free)(void *config);
    /* THREAD worker: per-worker state for one config (pools, caches, RNG). Optional. */
    portico_status (*worker_init)(void *config, uint32_t worker_index, void **worker_state);
    void (*worker_fini)(void *worker_state);
    const void *ops;   /* portico_http_filter_ops | portico_transport_ops | portico_balancer_ops */
} portico_factory;

typedef struct portico_plugin_desc {
    uint32_t struct_size;
    uint32_t abi_major;   /* PORTICO_ABI_MAJOR the plugin was built with */
    uint32_t abi_minor;   /* PORTICO_ABI_MINOR the plugin was built with */
    uint32_t flags;       /* none defined yet; 0 */
    const char *name;     /* unique among loaded plugins, [a-z0-9_-]+ */
    const char *version;  /* the plugin's own semver */
    const char *description;
    const portico_factory *const *factories;
    uint32_t n_factories;
    /* THREAD main, once, before any config_new. Optional. `host` stays valid for the process's life. */
    portico_status (*global_init)(const portico_host_api *host, void **global, portico_error *err);
    void (*global_fini)(void *global);
} portico_plugin_desc;

/* The entry point every plugin exports. It has no side effects: the host may call it only to list plugins. */
typedef const portico_plugin_desc *(*portico_plugin_entry)(void);

/* Declares the entry, once per plugin at file scope, followed by a semicolon: PORTICO_PLUGIN(&my_descriptor);
 * (it ends with a redeclaration, so the semicolon is legal even in pedantic C). */
#define PORTICO_PLUGIN(desc_ptr)                                                                                 \
    PORTICO_EXTERN_C PORTICO_EXPORT const portico_plugin_desc *portico_plugin_v1(void);                          \
    PORTICO_EXTERN_C PORTICO_EXPORT const portico_plugin_desc *portico_plugin_v1(void) { return (desc_ptr); }    \
    PORTICO_EXTERN_C PORTICO_EXPORT const portico_plugin_desc *portico_plugin_v1(void)

#ifdef __cplusplus
}
#endif

#endif /* PORTICO_ABI_H */
