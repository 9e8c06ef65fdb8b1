// The filters of one stream (one request and its response), run as two pipelines: the request goes through the
// route's filters in list order, the response in reverse. Each filter is a stage holding what reached it and
// has not passed on; a stage passes headers and bytes to the next when its hook says CONTINUE (or when the
// filter resumes). A local reply made by filter k enters the response pipeline at k-1, so only the filters
// before k see it. The session feeds the first stage, takes from the last (the "output"), and never blocks on
// a filter: a paused stage simply holds its bytes, within the limits below.
#pragma once

#include <portico/abi.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/event_loop.h"
#include "net/timer.h"
#include "plugins/plugin_set.h"
#include "proxy/body_queue.h"
#include "proxy/header_map.h"

namespace Poco {
class Logger;
}

namespace portico::proxy {

// What the chain needs from the session that runs it.
class ChainOwner {
public:
    // State changed outside the session's own drive (a timer, a post, a resume from on_event): drive soon.
    virtual void chain_wake() = 0;

protected:
    ~ChainOwner() = default;
};

struct StreamAttributes {
    std::string method, path, authority, scheme, protocol, client_address, route, upstream, request_id;
    bool tls = false;  // the PORTICO_ATTR_TLS_* below exist (empty: e.g. no client certificate)
    std::string tls_sni, tls_version, tls_cipher, tls_peer_subject;
};

enum class ChainFailure : uint8_t {
    None,
    HookFailed,        // a fail-closed filter's hook failed -> 500
    RequestTooLarge,   // filters held more request body than filter_buffer -> 413
    ResponseTooLarge,  // ... of the response -> 500
    PauseTimeout,      // a paused filter did not resume within timeouts.filter_pause -> 504
};

class FilterChain;

// A weak, thread-safe way back to one filter of a stream (portico_poster).
struct PosterTarget {
    std::mutex mutex;
    class FilterSlot* slot = nullptr;  // null once the stream ended
    net::EventLoop* loop = nullptr;
};

// One filter of one stream. Its address is the portico_stream* that filter's hooks receive.
class FilterSlot final : public net::TimerClient {
public:
    enum Dir { Request = 0, Response = 1 };
    struct Stage {
        BodyQueue pending;          // bytes that reached this filter and did not pass on
        bool headers_here = false;  // the headers have reached this filter and wait here
        bool headers_seen = false;  // its headers hook ran
        bool end_here = false;      // the end of the body has reached this filter
        bool end_seen = false;      // its body hook saw end_stream
        bool fresh = false;         // bytes arrived since its body hook last ran
        bool held = false;          // a hook said STOP*: nothing passes until CONTINUE or resume
        bool paused = false;        // ... and it waits for resume() (STOP or STOP_NO_BUFFER)
        bool no_buffer = false;     // STOP_NO_BUFFER: the source is not read meanwhile
        bool resume_requested = false;
    };

    FilterSlot(FilterChain& chain, size_t index, const plugins::FilterInstance& instance);
    void on_timeout(net::Timer& timer) override;

    FilterChain& chain;
    size_t index;
    const plugins::FilterInstance& instance;
    void* state = nullptr;  // stream_new's result; null = this filter sits this stream out
    Stage stage[2];
    bool replied = false;  // it made a local reply: no more hooks but on_done
    net::Timer timer;
    uint64_t timer_token = 0;
    std::shared_ptr<PosterTarget> poster_target;  // made on the first poster_new
};

class FilterChain final : public net::TimerClient {
public:
    using Dir = FilterSlot::Dir;

    FilterChain(ChainOwner& owner, const std::vector<std::shared_ptr<plugins::FilterInstance>>& filters,
                unsigned worker_index, net::EventLoop& loop, Poco::Logger& log, uint64_t buffer_limit,
                size_t stream_buffer, net::TimerQueue& pause_timers);
    ~FilterChain();
    FilterChain(const FilterChain&) = delete;
    FilterChain& operator=(const FilterChain&) = delete;

    StreamAttributes attributes;
    HeaderMap request_headers;
    HeaderMap response_headers;
    uint32_t status = 0;
    // Set by the session once it wrote a direction's headers out: from then on they are read-only.
    bool headers_sent[2] = {false, false};

    // The session feeds a direction: begin (headers are in the map; `has_body` false = headers only), bytes,
    // then the end. Runs the filters as far as they go.
    void begin(Dir dir, bool has_body);
    void feed(Dir dir, const char* data, size_t n);
    void feed_end(Dir dir);
    // True when the session may decode and feed more body bytes of this direction.
    bool accepts_input(Dir dir) const;
    // Runs pending work (resumes, fresh bytes). Returns true when anything moved.
    bool run(Dir dir);

    // What came out of the last filter of a direction.
    bool begun(Dir dir) const { return flow_[dir].begun; }
    bool headers_out(Dir dir) const { return flow_[dir].headers_out; }
    bool has_body(Dir dir) const { return flow_[dir].has_body; }
    BodyQueue& output(Dir dir) { return flow_[dir].output; }
    bool end_out(Dir dir) const { return flow_[dir].end_out; }

    // A filter answered locally: the session drops the upstream and sends the response pipeline's output.
    bool local_reply() const { return reply_from_ != kNoReply; }
    ChainFailure failure() const { return failure_; }
    const std::string& failure_detail() const { return failure_detail_; }

    // on_done for every filter, then stream_free. Once; the destructor calls it with RESET if nobody did.
    void finish(portico_done_reason reason, uint32_t status, uint64_t request_bytes, uint64_t response_bytes);
    bool finished() const { return finished_; }

    void on_timeout(net::Timer& timer) override;  // the pause deadline

    // For the host API (filter_api.cc), on the worker thread.
    FilterSlot* slot(size_t index) { return slots_[index].get(); }
    portico_status resume(FilterSlot& slot, Dir dir);
    portico_status local_reply(FilterSlot& slot, uint32_t status, const portico_header* headers, size_t n,
                               const char* body, size_t body_len, bool end_stream, const char* details);
    portico_status local_body(FilterSlot& slot, const char* data, size_t n, bool end_stream);
    portico_status check_growth(Dir dir);  // after a filter appended: PORTICO_E_LIMIT past the buffer limit
    void deliver_event(FilterSlot& slot, portico_event event, uint64_t token);
    bool in_hook() const { return in_hook_ != nullptr; }
    FilterSlot* hook_slot() const { return in_hook_; }
    net::EventLoop& loop() { return loop_; }
    unsigned worker_index() const { return worker_index_; }
    Poco::Logger& log() { return log_; }

private:
    static constexpr size_t kNoReply = SIZE_MAX;
    struct Flow {
        bool begun = false;
        bool has_body = false;
        bool headers_out = false;
        bool end_out = false;
        BodyQueue output;
        size_t entry = 0;  // stage index the direction enters at (response: count, or the replying filter)
    };

    // Stage order: request 0..n-1, response entry-1..0. next() of the last stage is "output" (npos).
    size_t first(Dir dir) const;
    size_t next(Dir dir, size_t index) const;
    bool run_stage(Dir dir, size_t index);
    bool settle_failed_call(Dir dir, size_t index);
    void pass_on(Dir dir, size_t index, bool body);
    bool call_headers(Dir dir, FilterSlot& slot, bool end_stream, portico_action& action);
    bool call_body(Dir dir, FilterSlot& slot, bool end_stream, portico_action& action);
    using Hook = portico_action (*)(void*, portico_stream*, bool);
    bool call_hook(Hook hook, const char* name, FilterSlot& slot, bool end_stream, portico_action& action);
    bool hook_failed(FilterSlot& slot, const char* hook, portico_action action);
    void fail(ChainFailure failure, std::string detail);
    uint64_t held_bytes(Dir dir) const;
    uint64_t kept_bytes(Dir dir) const;
    uint64_t flowing_bytes(Dir dir) const;
    void update_pause_timer();
    void reset_response();
    BodyQueue& entry_queue(Dir dir);

    ChainOwner& owner_;
    std::vector<std::unique_ptr<FilterSlot>> slots_;
    unsigned worker_index_;
    net::EventLoop& loop_;
    Poco::Logger& log_;
    uint64_t buffer_limit_;  // route filter_buffer
    size_t stream_buffer_;   // how much may sit in the chain when nobody holds on purpose
    net::TimerQueue& pause_timers_;
    net::Timer pause_timer_;
    Flow flow_[2];
    size_t reply_from_ = kNoReply;
    bool reply_streaming_ = false;  // send_headers without end: send_body follows
    bool reply_writable_wanted_ = false;
    ChainFailure failure_ = ChainFailure::None;
    std::string failure_detail_;
    FilterSlot* in_hook_ = nullptr;
    bool finished_ = false;
};

// Plugin timer durations rounded so the loop needs few timer queues (see filter_chain.cc).
int64_t plugin_timer_bucket_ms(uint64_t ms);

// The stream handle a filter sees, and back.
inline portico_stream* to_stream(FilterSlot* slot) {
    return reinterpret_cast<portico_stream*>(slot);
}
inline FilterSlot* to_slot(portico_stream* stream) {
    return reinterpret_cast<FilterSlot*>(stream);
}

}  // namespace portico::proxy
