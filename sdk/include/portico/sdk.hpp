// portico/sdk.hpp -- an optional, header-only C++17 layer over portico/abi.h.
//
// The contract is abi.h; this file only makes it pleasant from C++ and is compiled into each plugin (it is not
// part of the ABI, so a plugin built with an older copy keeps working). What it adds:
//   * std::string_view for portico_view, std::optional for "absent";
//   * thin value wrappers over the host tables: Host (log, metrics, clock), Metric, Config (a reader for the
//     plugin's TOML table that remembers a failure), Stream (attributes, Headers, Body, flow, local replies),
//     Poster (RAII: poster_free runs in its destructor);
//   * http_filter_factory<F>: the C hook table generated from a C++ class, every hook wrapped in try/catch, so that
//     no exception crosses the ABI (STYLE.md): an exception becomes PORTICO_ACTION_ERROR plus an error-log line,
//     or a configuration error at the plugin's TOML table;
//   * PORTICO_SDK_PLUGIN(...): the descriptor and the entry symbol in one line.
// Nothing here allocates except where the plugin asks for it (the per-stream filter object, its Settings and
// Worker objects); log lines are formatted on the stack, and views are never copied into strings.
//
// A filter class (see sdk/examples/hello/hello.cc and docs/plugin-guide.md):
//
//   struct Greeter {
//       static constexpr char name[] = "greeter";         // the factory name, what `use = "..."` names in TOML
//       struct Settings {                                  // optional: one per `use`, read-only, shared by workers
//           explicit Settings(portico::Config& config);    //   reads the table; throw or config.error() fails
//       };
//       struct Worker { Worker(const Settings&, uint32_t worker_index); };   // optional: per worker thread
//       static bool wants(const Settings&, portico::Stream&);               // optional: false = skip this stream
//       Greeter(const Settings&, portico::Stream&);        // per stream; or (const Settings&, Worker&, Stream&),
//                                                          //   (Stream&) or ()
//       // Any of these hooks; a hook the class does not have stays NULL and costs the host nothing:
//       portico_action on_request_headers(portico::Stream&, bool end_stream);
//       portico_action on_request_body(portico::Stream&, bool end_stream);
//       portico_action on_response_headers(portico::Stream&, bool end_stream);
//       portico_action on_response_body(portico::Stream&, bool end_stream);
//       void on_event(portico::Stream&, portico_event event, uint64_t token);
//       void on_done(portico::Stream&, const portico_stream_summary& summary);
//   };
//   PORTICO_SDK_PLUGIN("greeter", "1.0.0", "Greets", &portico::http_filter_factory<Greeter>);
#ifndef PORTICO_SDK_HPP
#define PORTICO_SDK_HPP

#if !defined(__cplusplus) || __cplusplus < 201703L
#error "portico/sdk.hpp needs C++17; a C plugin includes portico/abi.h alone"
#endif

#include <portico/abi.h>

#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

// Plugins built with -fno-exceptions get the same wrappers without the try/catch.
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define PORTICO_SDK_EXCEPTIONS 1
#else
#define PORTICO_SDK_EXCEPTIONS 0
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PORTICO_SDK_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define PORTICO_SDK_PRINTF(fmt, args)
#endif

namespace portico {

using Status = portico_status;

// ------------------------------------------------------------------------------------------------------------
// Views
// ------------------------------------------------------------------------------------------------------------

constexpr std::string_view to_string_view(portico_view v) noexcept {
    return {v.data, v.len};
}
constexpr portico_view to_view(std::string_view s) noexcept {
    return {s.data(), s.size()};
}
// A header field for send_local_reply / send_headers; the views are copied by the host during the call.
constexpr portico_header header(std::string_view name, std::string_view value) noexcept {
    return {to_view(name), to_view(value)};
}

// ------------------------------------------------------------------------------------------------------------
// Host: logging, metrics, clock (core table; THREAD any unless noted)
// ------------------------------------------------------------------------------------------------------------

// A counter or gauge; copies refer to the same metric, which lives as long as the process. An empty Metric
// (metric_define failed) ignores updates and reads 0.
class Metric {
public:
    Metric() noexcept = default;
    Metric(const portico_core_api* core, portico_metric* metric) noexcept : core_(core), metric_(metric) {}
    explicit operator bool() const noexcept { return metric_ != nullptr; }
    void add(int64_t delta) const noexcept {
        if (metric_) core_->metric_add(metric_, delta);
    }
    void set(int64_t value) const noexcept {
        if (metric_) core_->metric_set(metric_, value);
    }
    int64_t get() const noexcept { return metric_ ? core_->metric_get(metric_) : 0; }
    portico_metric* raw() const noexcept { return metric_; }

private:
    const portico_core_api* core_ = nullptr;
    portico_metric* metric_ = nullptr;
};

class Host {
public:
    Host() noexcept = default;
    explicit Host(const portico_host_api* api) noexcept : api_(api) {}
    const portico_host_api* api() const noexcept { return api_; }

    bool log_enabled(portico_log_level level) const noexcept {
        return api_->core->log_enabled(api_->plugin, level);
    }
    // One error-log line; the host prefixes the plugin's name.
    void log(portico_log_level level, std::string_view message) const noexcept {
        api_->core->log(api_->plugin, level, message.data(), message.size());
    }
    // printf-style; formatted on the stack (lines past 1 KiB are cut) and only when the level is enabled.
    void logf(portico_log_level level, const char* format, ...) const noexcept PORTICO_SDK_PRINTF(3, 4) {
        if (!log_enabled(level)) return;
        char line[1024];
        va_list args;
        va_start(args, format);
        int n = std::vsnprintf(line, sizeof line, format, args);
        va_end(args);
        if (n < 0) return;
        log(level, std::string_view(
                       line, static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1));
    }
    // THREAD main (global_init or config_new, i.e. in a Settings constructor). "<plugin>_<name>", name [a-z0-9_]+.
    // Empty on failure.
    Metric metric(const char* name, uint32_t kind = PORTICO_METRIC_COUNTER) const noexcept {
        portico_metric* metric = nullptr;
        if (api_->core->metric_define(api_->plugin, name, kind, &metric) != PORTICO_OK) return {};
        return Metric(api_->core, metric);
    }
    uint64_t now_ns() const noexcept { return api_->core->now_ns(); }

private:
    const portico_host_api* api_ = nullptr;
};

// ------------------------------------------------------------------------------------------------------------
// Config: the plugin's TOML table (THREAD main, only while config_new runs)
// ------------------------------------------------------------------------------------------------------------

// Thrown from a Settings constructor: reported as "FILE:LINE:COL: message" at `key` (at the plugin's table when
// key is null). `key` must outlive the throw (a string literal).
class ConfigError : public std::runtime_error {
public:
    ConfigError(const char* key, const char* message) : std::runtime_error(message), key_(key) {}
    const char* key() const noexcept { return key_; }

private:
    const char* key_;
};

// Getters return std::nullopt when the key is absent (use your default) and also when it is malformed: then the
// host has already reported "FILE:LINE:COL: ..." and the reader remembers it, so that ok() is false and config_new
// fails. Child tables share their parent's memory of failures. Views are valid while config_new runs: copy what
// the Settings keep.
class Config {
public:
    Config(const portico_host_api* host, const portico_config* config) noexcept
        : host_(host), config_(config), failed_(&own_failed_) {}
    Config(const Config& other) noexcept
        : host_(other.host_),
          config_(other.config_),
          own_failed_(other.failed()),
          failed_(other.failed_ == &other.own_failed_ ? &own_failed_ : other.failed_) {}
    Config& operator=(const Config& other) noexcept {
        if (this != &other) {
            host_ = other.host_;
            config_ = other.config_;
            own_failed_ = other.failed();
            failed_ = other.failed_ == &other.own_failed_ ? &own_failed_ : other.failed_;
        }
        return *this;
    }

    const Host& host() const noexcept { return host_; }
    const portico_config* raw() const noexcept { return config_; }
    bool ok() const noexcept { return !failed(); }
    Status status() const noexcept { return ok() ? PORTICO_OK : PORTICO_E_CONFIG; }

    std::optional<std::string_view> string(const char* key) const noexcept {
        portico_view v{};
        if (!check(api()->get_string(config_, key, &v), key)) return std::nullopt;
        return to_string_view(v);
    }
    std::optional<int64_t> integer(const char* key) const noexcept { return get(api()->get_int, key, int64_t{}); }
    std::optional<bool> boolean(const char* key) const noexcept { return get(api()->get_bool, key, false); }
    std::optional<double> number(const char* key) const noexcept { return get(api()->get_double, key, 0.0); }
    // "250ms", "2s", "5m", "1h" -> milliseconds.
    std::optional<uint64_t> duration_ms(const char* key) const noexcept {
        return get(api()->get_duration_ms, key, uint64_t{});
    }
    // "64KiB", "256MiB" -> bytes.
    std::optional<uint64_t> size(const char* key) const noexcept { return get(api()->get_size, key, uint64_t{}); }
    std::optional<Config> table(const char* key) const noexcept {
        const portico_config* child = nullptr;
        if (!check(api()->get_table(config_, key, &child), key)) return std::nullopt;
        return Config(host_, child, failed_);
    }
    std::optional<size_t> array_len(const char* key) const noexcept { return get(api()->array_len, key, size_t{}); }
    std::optional<std::string_view> array_string(const char* key, size_t index) const noexcept {
        portico_view v{};
        if (!check(api()->array_string(config_, key, index, &v), key)) return std::nullopt;
        return to_string_view(v);
    }
    std::optional<Config> array_table(const char* key, size_t index) const noexcept {
        const portico_config* child = nullptr;
        if (!check(api()->array_table(config_, key, index, &child), key)) return std::nullopt;
        return Config(host_, child, failed_);
    }
    // Reports a semantic error at `key` (at the table when null) and remembers it. Returns PORTICO_E_CONFIG.
    Status error(const char* key, const char* message) const noexcept {
        *failed_ = true;
        api()->error(config_, key, message);
        return PORTICO_E_CONFIG;
    }

private:
    Config(Host host, const portico_config* config, bool* failed) noexcept
        : host_(host), config_(config), failed_(failed) {}
    const portico_config_api* api() const noexcept { return host_.api()->config; }
    bool failed() const noexcept { return *failed_; }

    // True when the value is there; false when absent (fine) or bad (remembered; reported by the host, or here
    // for a status the getters do not promise).
    bool check(Status status, const char* key) const noexcept {
        if (status == PORTICO_OK) return true;
        if (status == PORTICO_E_NOT_FOUND) return false;
        *failed_ = true;
        if (status != PORTICO_E_CONFIG) api()->error(config_, key, "the host could not read this key");
        return false;
    }
    template <class T, class Getter>
    std::optional<T> get(Getter getter, const char* key, T value) const noexcept {
        if (!check(getter(config_, key, &value), key)) return std::nullopt;
        return value;
    }

    Host host_;
    const portico_config* config_;
    bool own_failed_ = false;
    bool* failed_;
};

// ------------------------------------------------------------------------------------------------------------
// Stream: one request and its response, seen from a filter hook (THREAD worker)
// ------------------------------------------------------------------------------------------------------------

// A weak handle that wakes a stream from any thread: post(token) -> on_event(PORTICO_EVENT_POST, token) on the
// stream's worker, or PORTICO_E_CLOSED once the stream ended. Move-only; poster_free runs when it is destroyed
// (on any thread), as abi.h requires once per poster_new.
class Poster {
public:
    Poster() noexcept = default;
    Poster(const portico_http_api* http, portico_poster* poster) noexcept : http_(http), poster_(poster) {}
    Poster(Poster&& other) noexcept : http_(other.http_), poster_(std::exchange(other.poster_, nullptr)) {}
    Poster& operator=(Poster&& other) noexcept {
        if (this != &other) {
            reset();
            http_ = other.http_;
            poster_ = std::exchange(other.poster_, nullptr);
        }
        return *this;
    }
    Poster(const Poster&) = delete;
    Poster& operator=(const Poster&) = delete;
    ~Poster() { reset(); }

    explicit operator bool() const noexcept { return poster_ != nullptr; }
    Status post(uint64_t token) const noexcept {
        return poster_ ? http_->poster_post(poster_, token) : PORTICO_E_CLOSED;
    }
    void reset() noexcept {
        if (poster_) http_->poster_free(std::exchange(poster_, nullptr));
    }

private:
    const portico_http_api* http_ = nullptr;
    portico_poster* poster_ = nullptr;
};

// One header map of a stream. Names compare case-insensitively; views are borrowed until the hook returns or the
// map changes.
class Headers {
public:
    Headers(const portico_http_api* http, portico_stream* stream, portico_headers_kind which) noexcept
        : http_(http), stream_(stream), which_(which) {}

    std::optional<std::string_view> get(std::string_view name, size_t index = 0) const noexcept {
        portico_view value{};
        if (http_->header_get(stream_, which_, to_view(name), index, &value, nullptr) != PORTICO_OK)
            return std::nullopt;
        return to_string_view(value);
    }
    // How many fields have this name.
    size_t count(std::string_view name) const noexcept {
        portico_view value{};
        size_t count = 0;
        if (http_->header_get(stream_, which_, to_view(name), 0, &value, &count) != PORTICO_OK) return 0;
        return count;
    }
    // How many fields the map has.
    size_t size() const noexcept {
        size_t n = 0;
        return http_->header_count(stream_, which_, &n) == PORTICO_OK ? n : 0;
    }
    std::optional<std::pair<std::string_view, std::string_view>> at(size_t index) const noexcept {
        portico_header field{};
        if (http_->header_at(stream_, which_, index, &field) != PORTICO_OK) return std::nullopt;
        return std::make_pair(to_string_view(field.name), to_string_view(field.value));
    }
    // fn(name, value) for every field, in order.
    template <class Fn>
    void for_each(Fn&& fn) const {
        size_t n = size();
        for (size_t i = 0; i < n; ++i) {
            if (auto field = at(i)) fn(field->first, field->second);
        }
    }
    // Copied and validated by the host (token name; no CR, LF or NUL in the value).
    Status set(std::string_view name, std::string_view value) const noexcept {
        return http_->header_set(stream_, which_, to_view(name), to_view(value));
    }
    Status add(std::string_view name, std::string_view value) const noexcept {
        return http_->header_add(stream_, which_, to_view(name), to_view(value));
    }
    Status remove(std::string_view name) const noexcept {
        return http_->header_remove(stream_, which_, to_view(name));
    }

private:
    const portico_http_api* http_;
    portico_stream* stream_;
    portico_headers_kind which_;
};

// The pending bytes of one direction, in a body hook: read them (chunks), consume them (drain), add to them
// (append, or reserve + commit to write straight into host memory).
class Body {
public:
    Body(const portico_http_api* http, portico_stream* stream, portico_direction dir) noexcept
        : http_(http), stream_(stream), dir_(dir) {}

    // Fills up to `max` borrowed views of the pending bytes, in order; returns how many. `*total` (optional)
    // receives the pending byte count.
    size_t chunks(portico_view* views, size_t max, size_t* total = nullptr) const noexcept {
        size_t count = 0;
        if (http_->body_chunks(stream_, dir_, views, max, &count, total) != PORTICO_OK) return 0;
        return count;
    }
    size_t pending() const noexcept {
        size_t count = 0, total = 0;
        return http_->body_chunks(stream_, dir_, nullptr, 0, &count, &total) == PORTICO_OK ? total : 0;
    }
    Status drain(size_t n) const noexcept { return http_->body_drain(stream_, dir_, n); }
    Status append(std::string_view bytes) const noexcept {
        return http_->body_append(stream_, dir_, bytes.data(), bytes.size());
    }
    // Host memory of at least `min` bytes; write, then commit(n <= out.len). Any other body call cancels it.
    Status reserve(size_t min, portico_mut_view& out) const noexcept {
        return http_->body_reserve(stream_, dir_, min, &out);
    }
    Status commit(size_t n) const noexcept { return http_->body_commit(stream_, dir_, n); }

private:
    const portico_http_api* http_;
    portico_stream* stream_;
    portico_direction dir_;
};

class Stream {
public:
    Stream(const portico_host_api* host, portico_stream* stream) noexcept : host_(host), stream_(stream) {}
    Host host() const noexcept { return Host(host_); }
    portico_stream* raw() const noexcept { return stream_; }

    // -- attributes (borrowed until the hook returns) --
    std::optional<std::string_view> attr(portico_attr which) const noexcept {
        portico_view v{};
        if (http()->attr_get(stream_, which, &v) != PORTICO_OK) return std::nullopt;
        return to_string_view(v);
    }
    std::optional<std::string_view> method() const noexcept { return attr(PORTICO_ATTR_METHOD); }
    std::optional<std::string_view> path() const noexcept { return attr(PORTICO_ATTR_PATH); }
    std::optional<std::string_view> authority() const noexcept { return attr(PORTICO_ATTR_AUTHORITY); }
    std::optional<uint32_t> status() const noexcept {
        uint32_t status = 0;
        if (http()->status_get(stream_, &status) != PORTICO_OK) return std::nullopt;
        return status;
    }
    Status set_status(uint32_t status) const noexcept { return http()->status_set(stream_, status); }

    // -- headers and bodies --
    Headers request_headers() const noexcept { return Headers(http(), stream_, PORTICO_REQUEST_HEADERS); }
    Headers response_headers() const noexcept { return Headers(http(), stream_, PORTICO_RESPONSE_HEADERS); }
    Body request_body() const noexcept { return Body(http(), stream_, PORTICO_DIR_REQUEST); }
    Body response_body() const noexcept { return Body(http(), stream_, PORTICO_DIR_RESPONSE); }

    // -- flow --
    // Continues a direction this filter paused, exactly once per pause.
    Status resume(portico_direction dir) const noexcept { return http()->resume(stream_, dir); }
    // Answers without the upstream; headers and body are copied. `details` (optional) goes to the log.
    Status send_local_reply(uint32_t status, std::initializer_list<portico_header> headers = {},
                            std::string_view body = {}, const char* details = nullptr) const noexcept {
        return http()->send_local_reply(stream_, status, headers.begin(), headers.size(), body.data(), body.size(),
                                        details);
    }
    // A streamed local reply (a cache hit): headers, then body pieces; PORTICO_E_BACKPRESSURE from send_body means
    // wait for PORTICO_EVENT_WRITABLE.
    Status send_headers(uint32_t status, std::initializer_list<portico_header> headers,
                        bool end_stream) const noexcept {
        return http()->send_headers(stream_, status, headers.begin(), headers.size(), end_stream);
    }
    Status send_headers(uint32_t status, const portico_header* headers, size_t n, bool end_stream) const noexcept {
        return http()->send_headers(stream_, status, headers, n, end_stream);
    }
    Status send_body(std::string_view bytes, bool end_stream) const noexcept {
        return http()->send_body(stream_, bytes.data(), bytes.size(), end_stream);
    }

    // -- time and other threads --
    Status timer_arm(uint64_t ms, uint64_t token) const noexcept { return http()->timer_arm(stream_, ms, token); }
    // Empty when the host refused (check with `if (poster)`).
    Poster poster() const noexcept {
        portico_poster* poster = nullptr;
        if (http()->poster_new(stream_, &poster) != PORTICO_OK) return {};
        return Poster(http(), poster);
    }

private:
    const portico_http_api* http() const noexcept { return host_->http; }

    const portico_host_api* host_;
    portico_stream* stream_;
};

// ------------------------------------------------------------------------------------------------------------
// http_filter_factory<F>: the C tables for a C++ filter class
// ------------------------------------------------------------------------------------------------------------

namespace detail {

struct NoSettings {
    explicit NoSettings(Config&) noexcept {}
};
struct NoWorker {};

template <class F, class = void>
struct settings_of {
    using type = NoSettings;
};
template <class F>
struct settings_of<F, std::void_t<typename F::Settings>> {
    using type = typename F::Settings;
};
template <class F, class = void>
struct has_worker : std::false_type {};
template <class F>
struct has_worker<F, std::void_t<typename F::Worker>> : std::true_type {};
template <class F, class = void>
struct worker_of {
    using type = NoWorker;
};
template <class F>
struct worker_of<F, std::void_t<typename F::Worker>> {
    using type = typename F::Worker;
};
template <class F, class S, class = void>
struct has_wants : std::false_type {};
template <class F, class S>
struct has_wants<F, S, std::void_t<decltype(F::wants(std::declval<const S&>(), std::declval<Stream&>()))>>
    : std::true_type {};

// Which hooks the class has: only those get a slot in the table.
#define PORTICO_SDK_DETECT(hook, ...)       \
    template <class F, class = void>        \
    struct has_##hook : std::false_type {}; \
    template <class F>                      \
    struct has_##hook<F, std::void_t<decltype(std::declval<F&>().hook(__VA_ARGS__))>> : std::true_type {};
PORTICO_SDK_DETECT(on_request_headers, std::declval<Stream&>(), true)
PORTICO_SDK_DETECT(on_request_body, std::declval<Stream&>(), true)
PORTICO_SDK_DETECT(on_response_headers, std::declval<Stream&>(), true)
PORTICO_SDK_DETECT(on_response_body, std::declval<Stream&>(), true)
PORTICO_SDK_DETECT(on_event, std::declval<Stream&>(), portico_event{}, uint64_t{})
PORTICO_SDK_DETECT(on_done, std::declval<Stream&>(), std::declval<const portico_stream_summary&>())
#undef PORTICO_SDK_DETECT

inline void set_error(portico_error* err, const char* message) noexcept {
    if (err != nullptr) std::snprintf(err->message, sizeof err->message, "%s", message);
}

// Runs `fn`; an exception is logged as "<factory>.<hook>: <what>" and turned into `failed`.
template <class R, class Fn>
R guard(const Host& host, const char* factory, const char* hook, R failed, Fn&& fn) noexcept {
#if PORTICO_SDK_EXCEPTIONS
    try {
        return fn();
    } catch (const std::exception& e) {
        host.logf(PORTICO_LOG_ERROR, "%s.%s: exception: %s", factory, hook, e.what());
    } catch (...) {
        host.logf(PORTICO_LOG_ERROR, "%s.%s: unknown exception", factory, hook);
    }
    return failed;
#else
    (void)host, (void)factory, (void)hook, (void)failed;
    return fn();
#endif
}

}  // namespace detail

template <class F>
class HttpFilter {
public:
    using Settings = typename detail::settings_of<F>::type;
    using Worker = typename detail::worker_of<F>::type;
    static constexpr bool has_worker = detail::has_worker<F>::value;
    static_assert(std::is_constructible_v<Settings, Config&>, "F::Settings needs a constructor (portico::Config&)");
    static_assert(!has_worker || std::is_constructible_v<Worker, const Settings&, uint32_t>,
                  "F::Worker needs a constructor (const Settings&, uint32_t worker_index)");
    static_assert((has_worker && std::is_constructible_v<F, const Settings&, Worker&, Stream&>) ||
                      std::is_constructible_v<F, const Settings&, Stream&> || std::is_constructible_v<F, Stream&> ||
                      std::is_default_constructible_v<F>,
                  "F needs a constructor: (const Settings&, Worker&, Stream&), (const Settings&, Stream&), "
                  "(Stream&) or ()");

    static constexpr portico_http_filter_ops make_ops() noexcept {
        portico_http_filter_ops ops{};
        ops.struct_size = sizeof ops;
        ops.stream_new = &stream_new;
        ops.stream_free = &stream_free;
        if constexpr (detail::has_on_request_headers<F>::value) ops.on_request_headers = &on_request_headers;
        if constexpr (detail::has_on_request_body<F>::value) ops.on_request_body = &on_request_body;
        if constexpr (detail::has_on_response_headers<F>::value) ops.on_response_headers = &on_response_headers;
        if constexpr (detail::has_on_response_body<F>::value) ops.on_response_body = &on_response_body;
        if constexpr (detail::has_on_event<F>::value) ops.on_event = &on_event;
        // on_done is always set: it is where a filter that failed to construct is accounted for, harmlessly.
        ops.on_done = &on_done;
        return ops;
    }

    static constexpr portico_factory make_factory(const portico_http_filter_ops* ops) noexcept {
        portico_factory factory{};
        factory.struct_size = sizeof factory;
        factory.kind = PORTICO_KIND_HTTP_FILTER;
        factory.name = F::name;
        factory.config_new = &config_new;
        factory.config_free = &config_free;
        if constexpr (has_worker) {
            factory.worker_init = &worker_init;
            factory.worker_fini = &worker_fini;
        }
        factory.ops = ops;
        return factory;
    }

private:
    // What config_new makes: the host table (for the hooks' Stream and log lines) and the user's Settings.
    struct Holder {
        Holder(const portico_host_api* api, Config& config) : host(api), settings(config) {}
        Host host;
        Settings settings;
    };
    struct Instance {
        Instance(const Holder& h, Worker* worker, Stream& stream) : holder(h), filter(make(h, worker, stream)) {}
        const Holder& holder;
        F filter;
    };

    // Returned by stream_new when the filter could not be made: every hook then answers PORTICO_ACTION_ERROR
    // (NULL would mean "skip this filter", which would fail open).
    static void* failed_instance() noexcept {
        static char marker;
        return &marker;
    }

    static F make(const Holder& holder, Worker* worker, Stream& stream) {
        (void)worker, (void)holder, (void)stream;
        if constexpr (has_worker && std::is_constructible_v<F, const Settings&, Worker&, Stream&>) {
            return F(holder.settings, *worker, stream);
        } else if constexpr (std::is_constructible_v<F, const Settings&, Stream&>) {
            return F(holder.settings, stream);
        } else if constexpr (std::is_constructible_v<F, Stream&>) {
            return F(stream);
        } else {
            return F();
        }
    }

    static portico_status config_new(const portico_host_api* api, void*, const portico_config* raw, void** out,
                                     portico_error* err) noexcept {
        *out = nullptr;
        Config config(api, raw);
#if PORTICO_SDK_EXCEPTIONS
        try {
#endif
            std::unique_ptr<Holder> holder(new Holder(api, config));
            if (!config.ok()) return PORTICO_E_CONFIG;
            *out = holder.release();
            return PORTICO_OK;
#if PORTICO_SDK_EXCEPTIONS
        } catch (const ConfigError& e) {
            detail::set_error(err, e.what());
            return config.error(e.key(), e.what());
        } catch (const std::exception& e) {
            // Reported at the plugin's table in the TOML file: the user sees where, not only what.
            detail::set_error(err, e.what());
            return config.error(nullptr, e.what());
        } catch (...) {
            detail::set_error(err, "unknown exception");
            return config.error(nullptr, "unknown exception while reading the configuration");
        }
#else
        (void)err;
#endif
    }

    static void config_free(void* config) noexcept {
        delete static_cast<Holder*>(config);
    }

    static portico_status worker_init(void* config, uint32_t index, void** out) noexcept {
        auto* holder = static_cast<Holder*>(config);
        *out = nullptr;
        return detail::guard(holder->host, F::name, "worker_init", PORTICO_E_INTERNAL, [&] {
            *out = new Worker(holder->settings, index);
            return PORTICO_OK;
        });
    }

    static void worker_fini(void* worker) noexcept {
        delete static_cast<Worker*>(worker);
    }

    static void* stream_new(void* config, void* worker, portico_stream* s) noexcept {
        auto* holder = static_cast<Holder*>(config);
        Stream stream(holder->host.api(), s);
        return detail::guard(holder->host, F::name, "stream_new", failed_instance(), [&]() -> void* {
            if constexpr (detail::has_wants<F, Settings>::value) {
                if (!F::wants(holder->settings, stream)) return nullptr;
            }
            return new Instance(*holder, static_cast<Worker*>(worker), stream);
        });
    }

    static void stream_free(void* filter) noexcept {
        if (filter != failed_instance()) delete static_cast<Instance*>(filter);
    }

    // The shape of every action hook: the failed marker answers ERROR, the rest runs guarded.
    template <class Fn>
    static portico_action act(void* filter, portico_stream* s, const char* hook, Fn&& fn) noexcept {
        if (filter == failed_instance()) return PORTICO_ACTION_ERROR;
        auto* instance = static_cast<Instance*>(filter);
        Stream stream(instance->holder.host.api(), s);
        return detail::guard(instance->holder.host, F::name, hook, portico_action{PORTICO_ACTION_ERROR},
                             [&]() -> portico_action { return fn(instance->filter, stream); });
    }

    static portico_action on_request_headers(void* filter, portico_stream* s, bool end_stream) noexcept {
        return act(filter, s, "on_request_headers",
                   [&](F& f, Stream& st) { return f.on_request_headers(st, end_stream); });
    }
    static portico_action on_request_body(void* filter, portico_stream* s, bool end_stream) noexcept {
        return act(filter, s, "on_request_body",
                   [&](F& f, Stream& st) { return f.on_request_body(st, end_stream); });
    }
    static portico_action on_response_headers(void* filter, portico_stream* s, bool end_stream) noexcept {
        return act(filter, s, "on_response_headers",
                   [&](F& f, Stream& st) { return f.on_response_headers(st, end_stream); });
    }
    static portico_action on_response_body(void* filter, portico_stream* s, bool end_stream) noexcept {
        return act(filter, s, "on_response_body",
                   [&](F& f, Stream& st) { return f.on_response_body(st, end_stream); });
    }
    static void on_event(void* filter, portico_stream* s, portico_event event, uint64_t token) noexcept {
        if (filter == failed_instance()) return;
        auto* instance = static_cast<Instance*>(filter);
        Stream stream(instance->holder.host.api(), s);
        detail::guard(instance->holder.host, F::name, "on_event", 0, [&] {
            instance->filter.on_event(stream, event, token);
            return 0;
        });
    }
    static void on_done(void* filter, portico_stream* s, const portico_stream_summary* summary) noexcept {
        if constexpr (detail::has_on_done<F>::value) {
            if (filter == failed_instance()) return;
            auto* instance = static_cast<Instance*>(filter);
            Stream stream(instance->holder.host.api(), s);
            detail::guard(instance->holder.host, F::name, "on_done", 0, [&] {
                instance->filter.on_done(stream, *summary);
                return 0;
            });
        } else {
            (void)filter, (void)s, (void)summary;
        }
    }
};

// The tables, as constants: no code runs when the plugin is loaded or listed.
template <class F>
inline constexpr portico_http_filter_ops http_filter_ops = HttpFilter<F>::make_ops();
template <class F>
inline constexpr portico_factory http_filter_factory = HttpFilter<F>::make_factory(&http_filter_ops<F>);

// A descriptor over an array of factories. global_init/global_fini are optional (see abi.h).
template <size_t N>
constexpr portico_plugin_desc plugin_desc(
    const char* name, const char* version, const char* description, const portico_factory* const (&factories)[N],
    decltype(portico_plugin_desc::global_init) global_init = nullptr,
    decltype(portico_plugin_desc::global_fini) global_fini = nullptr) noexcept {
    portico_plugin_desc desc{};
    desc.struct_size = sizeof desc;
    desc.abi_major = PORTICO_ABI_MAJOR;
    desc.abi_minor = PORTICO_ABI_MINOR;
    desc.name = name;
    desc.version = version;
    desc.description = description;
    desc.factories = factories;
    desc.n_factories = static_cast<uint32_t>(N);
    desc.global_init = global_init;
    desc.global_fini = global_fini;
    return desc;
}

}  // namespace portico

// Defines the descriptor and the entry symbol: PORTICO_SDK_PLUGIN("name", "1.0.0", "what it does",
// &portico::http_filter_factory<A>, &portico::http_filter_factory<B>); once per plugin, at namespace scope,
// followed by a semicolon. For global_init/global_fini, build the descriptor with portico::plugin_desc and use
// PORTICO_PLUGIN from abi.h.
#define PORTICO_SDK_PLUGIN(name, version, description, ...)                         \
    namespace {                                                                     \
    constexpr const portico_factory* portico_sdk_factories_[] = {__VA_ARGS__};      \
    constexpr portico_plugin_desc portico_sdk_descriptor_ =                         \
        ::portico::plugin_desc(name, version, description, portico_sdk_factories_); \
    }                                                                               \
    PORTICO_PLUGIN(&portico_sdk_descriptor_)

#endif  // PORTICO_SDK_HPP
