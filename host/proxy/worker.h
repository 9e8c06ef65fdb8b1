// A worker: one thread, one event loop, its own listening sockets (SO_REUSEPORT), its own upstream pools and
// buffers. Nothing on the request path is shared with another worker, so nothing there locks.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <Poco/Logger.h>

#include "config/config.h"
#include "http/message.h"
#include "net/buffer.h"
#include "net/event_loop.h"
#include "proxy/access_log.h"
#include "proxy/handoff.h"
#include "proxy/router.h"
#include "upstream/pool.h"

namespace portico::plugins {
class PluginSet;
}

namespace portico::proxy {

class Session;

// Timer queues a session uses, looked up once per worker.
struct SessionTimers {
    net::TimerQueue* client_header;
    net::TimerQueue* client_body;
    net::TimerQueue* client_idle;
    net::TimerQueue* client_send;
    net::TimerQueue* tunnel_idle;
    net::TimerQueue* linger;
    net::TimerQueue* upstream_read;
    net::TimerQueue* filter_pause;
};

class Worker {
public:
    // listen_fds[i] is this worker's socket for config.listeners[i]; the worker owns and closes them.
    // `upstreams` (one per config.upstreams entry) and `plugin_set` (may be null) outlive the worker; the
    // plugins' worker_init / worker_fini and the balancers' lb_new / lb_free run on the worker's thread.
    Worker(const config::Config& config, unsigned index, std::vector<int> listen_fds, AccessLog& access_log,
           upstream::UpstreamStates& upstreams, plugins::PluginSet* plugin_set = nullptr);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    void start();
    // After start(): true once the worker is set up (its plugins' worker_init passed), false if it gave up.
    std::future<bool> ready() { return ready_.get_future(); }
    // Thread-safe. Stop accepting; let in-flight requests finish, then the thread ends. Idle connections are
    // closed, or with `hand_over` (a reload) passed through the handoff to the new generation's worker, and
    // busy ones passed on after their response.
    void drain(bool hand_over = false);
    // Thread-safe: a client connection from a worker of an older generation (a reload), idle between requests.
    void adopt(HandedOver connection);
    // The handoff of this worker's index (set before start; may stay null: no handover).
    void set_handoff(std::shared_ptr<Handoff> handoff) { handoff_ = std::move(handoff); }
    Handoff* handoff() const { return handoff_.get(); }
    // Thread-safe. Close everything now.
    void stop_now();
    void join();
    bool finished() const { return finished_.load(); }

    // For sessions, on the worker's thread.
    const config::Config& config() const { return config_; }
    net::EventLoop& loop() { return loop_; }
    net::BufferPool& buffers() { return buffers_; }
    upstream::Pool& pool(size_t upstream_index) { return *pools_[upstream_index]; }
    const Router& router() const { return router_; }
    // The loaded plugins and each route's filters (set by the constructor's caller; null in unit tests).
    plugins::PluginSet* plugin_set() const { return plugin_set_; }
    unsigned index() const { return index_; }
    const SessionTimers& timers() const { return timers_; }
    // The queue of config.routes[route_index]'s retry.per_try_timeout; null when it has none.
    net::TimerQueue* per_try_timers(size_t route_index) const { return per_try_timers_[route_index]; }
    AccessLog& access_log() { return access_log_; }
    Poco::Logger& log() { return log_; }
    bool draining() const { return draining_; }
    // Draining to exit: responses end their connections. (Draining for a reload hands connections over instead.)
    bool closing() const { return draining_ && !hand_over_; }
    bool handing_over() const { return draining_ && hand_over_; }
    // Now as an IMF-fixdate for Date fields, formatted at most once a second.
    std::string_view http_date();
    // 32 hex digits, unique in practice (random 128 bits from a per-worker generator).
    void next_request_id(char out[32]);
    void add_session(Session* session);  // a new session (accepted or handed over) joins the list
    void session_closed(Session& session);

    // Parsed heads are used only within the call that parses them (the session copies what it keeps), so one
    // of each per worker serves every session and an idle connection carries none.
    http::RequestHead& request_scratch() { return request_scratch_; }
    http::ResponseHead& response_scratch() { return response_scratch_; }
    // A request target the session had to rewrite ("http://h?q" -> "/?q"), used within the same call.
    std::string& target_scratch() { return target_scratch_; }

private:
    class Acceptor;
    void run();
    void accept_ready();
    void begin_drain(bool hand_over);
    void close_all();

    const config::Config& config_;
    unsigned index_;
    plugins::PluginSet* plugin_set_ = nullptr;
    Poco::Logger& log_;
    net::EventLoop loop_;
    net::BufferPool buffers_;
    Router router_;
    SessionTimers timers_;
    std::vector<net::TimerQueue*> per_try_timers_;  // by route index, looked up once
    AccessLog& access_log_;
    std::vector<std::unique_ptr<upstream::Pool>> pools_;
    std::vector<std::unique_ptr<Acceptor>> acceptors_;
    Session* sessions_ = nullptr;  // intrusive list, for drain and shutdown
    size_t session_count_ = 0;
    bool draining_ = false;
    bool hand_over_ = false;
    std::shared_ptr<Handoff> handoff_;
    bool accept_paused_ = false;
    std::mt19937_64 random_;
    int64_t date_second_ = -1;
    std::string date_text_;
    http::RequestHead request_scratch_;
    http::ResponseHead response_scratch_;
    std::string target_scratch_;
    std::thread thread_;
    std::promise<bool> ready_;
    std::atomic<bool> finished_{false};

    friend class Session;
};

}  // namespace portico::proxy
