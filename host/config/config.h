// The validated, immutable configuration the host runs on. Produced by config::load() from the main TOML file
// and the conf.d fragments; docs/config.md documents every key and default.
#pragma once

#include <Poco/Net/SocketAddress.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/message.h"

namespace portico::config {

using Duration = std::chrono::milliseconds;

struct Timeouts {
    Duration client_header{10'000};     // whole request head must arrive within this -> 408
    Duration client_body{60'000};       // longest pause between two reads of a request body -> 408
    Duration client_idle{60'000};       // keep-alive: idle time between requests before we close
    Duration client_send{60'000};       // longest stall writing to a client before we close
    Duration upstream_connect{5'000};   // TCP connect to an endpoint -> 504 (after trying others)
    Duration upstream_response{60'000}; // request sent -> first response byte... -> 504
    Duration upstream_read{60'000};     // longest pause between two reads of a response body -> close
    Duration upstream_idle{60'000};     // how long a pooled keep-alive upstream connection may sit unused
    Duration tunnel_idle{300'000};      // an upgraded (WebSocket) tunnel with no traffic either way
    Duration filter_pause{60'000};      // a filter that paused a stream (STOP) must resume it within this -> 504
};

struct Limits {
    http::Limits head;                    // request line (414), head size and field count (431)
    uint64_t max_body_size = 1ull << 30;  // default for routes -> 413; 0 = unlimited
    size_t buffer_size = 32 * 1024;       // each per-direction buffer of a connection
    uint32_t max_connections = 0;         // per worker, 0 = unlimited: accept pauses at the limit
};

struct AccessLog {
    std::string path = "stdout";  // "stdout", "stderr", "off" or a file path
    std::string format = "combined";  // "combined" or "json"
};

struct ErrorLog {
    std::string path = "stderr";  // "stderr", "stdout" or a file path
    std::string level = "information";  // POCO level names: fatal critical error warning notice information debug trace
};

struct Server {
    unsigned workers = 0;  // 0 = one per CPU core
    // Where plugins (*.so) are loaded from; PORTICO_PLUGIN_DIR (the install's lib/portico/plugins) by default.
    std::vector<std::string> plugin_dirs;
    bool plugin_dirs_default = true;  // not set in the config: a missing directory is not an error
    Duration drain_timeout{30'000};    // SIGTERM: in-flight requests may finish within this
    bool pass_server_header = false;   // forward the origin's Server and X-Powered-By
    std::string via_name = "portico";  // pseudonym in the Via header (RFC 9110 7.6.3)
    std::string request_id_header = "X-Request-Id";
    AccessLog access_log;
    ErrorLog error_log;
};

// A plugin's own TOML table, kept for its config_new (plugins/config_api.cc reads it). Defined in
// config/plugin_table.h so that this header does not pull in toml++.
struct PluginTable;

// `{ use = "factory", ...plugin keys }`: the factory a listener's or upstream's transport, or an upstream's
// balancer, is made by.
struct PluginUse {
    std::string use;                           // "factory" or "plugin.factory"; "" = none (the host's own)
    std::shared_ptr<const PluginTable> table;  // the whole inline table, for the plugin's config_new
};

struct Listener {
    std::string name;
    Poco::Net::SocketAddress address;
    int backlog = 4096;
    PluginUse transport;          // `transport = { use = "tls", ... }`; "" = plain TCP
    uint16_t redirect_https = 0;  // plain listener: every request gets a 308 to https on this port; 0 = off
    std::string hsts;             // TLS listener: the Strict-Transport-Security value sent; "" = none
};

// One backend of an upstream: `"host:port"` or `{ address = "host:port", weight = N }`.
struct Endpoint {
    Poco::Net::SocketAddress address;
    unsigned weight = 1;  // 1..1000: its share relative to the others under a balancer's weighted policies
};

// `hash_key`: what consistent-hashing balancers hash (the host computes it; the balancer sees bytes).
struct HashKey {
    enum class Source : uint8_t { None, ClientIp, Header, Cookie };
    Source source = Source::None;  // "client_ip", "header:NAME", "cookie:NAME"
    std::string name;              // header name (lower case) or cookie name
};

// `health = { ... }`: active checks, an HTTP GET per endpoint every interval, traffic or not.
struct HealthCheck {
    bool enabled = false;       // the table is present
    std::string path = "/";     // origin-form target of the GET
    std::string host;           // Host header; "" = the endpoint's "host:port"
    unsigned status_min = 200;  // `expect = "200-399"`: a status in [min, max] passes
    unsigned status_max = 399;
    Duration interval{5'000};
    Duration timeout{2'000};    // connect + response head; must be below interval
    unsigned rise = 2;          // consecutive passes that bring a DOWN endpoint UP
    unsigned fall = 3;          // consecutive failures that take an UP endpoint DOWN
};

// `outlier = { ... }`: passive detection from real traffic, per endpoint, shared by all workers.
struct OutlierDetection {
    unsigned consecutive_failures = 5;  // connect failures, resets, timeouts or 5xx in a row; 0 = off
    Duration base_ejection{10'000};     // first ejection; the n-th lasts n times this ...
    Duration max_ejection{300'000};     // ... up to this
    unsigned max_ejected_percent = 50;  // never eject more than this share of the pool (at least one stays)
};

struct Upstream {
    std::string name;
    std::vector<Endpoint> endpoints;  // at least one
    unsigned keepalive = 64;   // idle pooled connections kept per endpoint per worker
    Duration connect_timeout;  // defaults to timeouts.upstream_connect
    Duration response_timeout; // defaults to timeouts.upstream_response
    PluginUse balancer;        // "" = the host's round robin
    PluginUse transport;       // `transport = { use = "tls", ... }`: how connections to the endpoints are wrapped
    HashKey hash_key;
    HealthCheck health;
    OutlierDetection outlier;
    Duration slow_start{0};    // a recovered endpoint's weight ramps from 1/10 to full over this; 0 = off
};

struct RouteMatch {
    std::string host;    // "" = any; "example.com" exact; "*.example.com" any subdomain (not the apex)
    std::string path;    // exact path ("" = unused)
    std::string prefix;  // path prefix ("" = unused); if both are empty, prefix "/" is meant
};

// One entry of a route's `filters = [ { use = "factory", on_error = "fail-closed", ...plugin keys } ]`.
struct FilterUse {
    std::string use;         // "factory" or "plugin.factory"
    bool fail_open = false;  // on_error = "fail-open": a failing hook is logged and skipped
    std::shared_ptr<const PluginTable> table;  // the whole inline table, with its file and positions
};

// `retry = { ... }` of a route: when a failed attempt is tried again on another endpoint.
struct RetryPolicy {
    unsigned attempts = 3;          // tries in all, the first included; 1 = never retry
    // `on = [...]`: "connect-failure" (always safe: nothing was sent), "reset" (closed or reset before any
    // response byte), "timeout" (no response head within the try's time), and status codes 400..599 ("503").
    bool on_connect_failure = true;
    bool on_reset = true;
    bool on_timeout = false;
    std::vector<uint16_t> statuses;
    bool non_idempotent = false;    // also retry POST/PATCH (reset, timeout, status); off: idempotent methods only
    Duration per_try_timeout{0};    // response head within this per attempt; 0 = the upstream's response_timeout
    // Retry budget per upstream over the last ~10 s: retries at most budget_percent of the requests, plus
    // min_retries_per_second (so a burst after quiet traffic is still retried; as Finagle and Linkerd do).
    unsigned budget_percent = 20;
    unsigned min_retries_per_second = 10;
};

struct Route {
    std::string name;          // `name`, or "route N" (1-based, in merged order)
    RouteMatch match;
    std::string upstream;      // name of an Upstream (validated to exist)
    size_t upstream_index = 0; // index into Config::upstreams, filled by the loader
    uint64_t max_body_size;    // defaults to limits.max_body_size
    std::vector<FilterUse> filters;  // request hooks in this order, response hooks in reverse
    uint64_t filter_buffer = 1 << 20;  // bytes filters may hold back per direction (STOP_AND_BUFFER): 413 / 500 past it
    RetryPolicy retry;
};

struct Config {
    std::string main_file;  // path as given with -c
    Server server;
    Timeouts timeouts;
    Limits limits;
    std::vector<Listener> listeners;  // in name order; at least one
    std::vector<Upstream> upstreams;  // in name order
    std::vector<Route> routes;        // in file order (files in name order); first match wins
};

// One problem found while loading: rendered as "FILE:LINE:COL: message" (line/col omitted when unknown).
struct Problem {
    std::string file;
    uint32_t line = 0;
    uint32_t column = 0;
    std::string message;
    std::string to_string() const;
};

struct LoadResult {
    std::shared_ptr<const Config> config;  // null when problems is non-empty
    std::vector<Problem> problems;
};

// Loads `path`: a main TOML file (plus every *.toml in its conf_dir, in name order), or a directory (every *.toml
// in it, in name order). Reports every problem it can find, not just the first. Has no side effects.
LoadResult load(const std::string& path);

}  // namespace portico::config
