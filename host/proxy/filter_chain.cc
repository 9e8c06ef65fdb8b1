#include "proxy/filter_chain.h"

#include <Poco/Logger.h>

#include <algorithm>

#include "http/field_syntax.h"
#include "http/message.h"

namespace portico::proxy {

namespace {

constexpr size_t kOutput = SIZE_MAX;

const char* action_name(portico_action action) {
    switch (action) {
        case PORTICO_ACTION_CONTINUE:
            return "CONTINUE";
        case PORTICO_ACTION_STOP:
            return "STOP";
        case PORTICO_ACTION_STOP_AND_BUFFER:
            return "STOP_AND_BUFFER";
        case PORTICO_ACTION_STOP_NO_BUFFER:
            return "STOP_NO_BUFFER";
        case PORTICO_ACTION_ERROR:
            return "ERROR";
        default:
            return "an unknown action";
    }
}

}  // namespace

// Plugin timers come in any duration, and the loop keeps one O(1) queue per distinct duration: rounding up to
// 4 significant bits keeps the number of queues small (8 per power of two), each timer at most 12.5% late.

int64_t plugin_timer_bucket_ms(uint64_t ms) {
    if (ms < 16) return static_cast<int64_t>(ms);
    int shift = 0;
    uint64_t top = ms;
    while (top >= 16) {
        top >>= 1;
        ++shift;
    }
    uint64_t rounded = top << shift;
    if (rounded < ms) rounded = (top + 1) << shift;
    return static_cast<int64_t>(std::min<uint64_t>(rounded, uint64_t{1} << 40));
}

FilterSlot::FilterSlot(FilterChain& owner, size_t slot_index, const plugins::FilterInstance& filter)
    : chain(owner), index(slot_index), instance(filter), timer(*this) {}

void FilterSlot::on_timeout(net::Timer&) {
    chain.deliver_event(*this, PORTICO_EVENT_TIMER, timer_token);
}

FilterChain::FilterChain(ChainOwner& owner, const std::vector<std::shared_ptr<plugins::FilterInstance>>& filters,
                         unsigned worker_index, net::EventLoop& loop, Poco::Logger& log, uint64_t buffer_limit,
                         size_t stream_buffer, net::TimerQueue& pause_timers)
    : owner_(owner),
      worker_index_(worker_index),
      loop_(loop),
      log_(log),
      buffer_limit_(buffer_limit == 0 ? UINT64_MAX : buffer_limit),
      stream_buffer_(stream_buffer),
      pause_timers_(pause_timers),
      pause_timer_(*this) {
    slots_.reserve(filters.size());
    for (size_t i = 0; i < filters.size(); ++i) {
        slots_.push_back(std::make_unique<FilterSlot>(*this, i, *filters[i]));
    }
    // stream_new in list order; a filter that returns null sits this stream out.
    for (auto& slot : slots_) {
        const plugins::FilterInstance& filter = slot->instance;
        if (!filter.ops->stream_new) continue;
        void* worker_state =
            worker_index < filter.worker_state.size() ? filter.worker_state[worker_index] : nullptr;
        in_hook_ = slot.get();
        slot->state = filter.ops->stream_new(filter.config, worker_state, to_stream(slot.get()));
        in_hook_ = nullptr;
    }
    flow_[Dir::Response].entry = slots_.size();
}

FilterChain::~FilterChain() {
    if (!finished_) finish(PORTICO_DONE_RESET, status, 0, 0);
}

// ---- stage order --------------------------------------------------------------------------------------------

size_t FilterChain::first(Dir dir) const {
    if (dir == Dir::Request) return slots_.empty() ? kOutput : 0;
    size_t entry = flow_[Dir::Response].entry;
    return entry == 0 ? kOutput : entry - 1;
}

size_t FilterChain::next(Dir dir, size_t index) const {
    if (dir == Dir::Request) return index + 1 < slots_.size() ? index + 1 : kOutput;
    return index == 0 ? kOutput : index - 1;
}

BodyQueue& FilterChain::entry_queue(Dir dir) {
    size_t index = first(dir);
    return index == kOutput ? flow_[dir].output : slots_[index]->stage[dir].pending;
}

// ---- feeding ------------------------------------------------------------------------------------------------

void FilterChain::begin(Dir dir, bool has_body) {
    Flow& flow = flow_[dir];
    flow.begun = true;
    flow.has_body = has_body;
    size_t index = first(dir);
    if (index == kOutput) {
        flow.headers_out = true;
        flow.end_out = !has_body;
    } else {
        FilterSlot::Stage& stage = slots_[index]->stage[dir];
        stage.headers_here = true;
        stage.end_here = !has_body;
    }
    if (!in_hook_) run(dir);  // a reply made inside a hook runs when that hook has returned
}

void FilterChain::feed(Dir dir, const char* data, size_t n) {
    if (n == 0 || finished_) return;
    entry_queue(dir).append(data, n);
    size_t index = first(dir);
    if (index != kOutput) slots_[index]->stage[dir].fresh = true;
}

void FilterChain::feed_end(Dir dir) {
    size_t index = first(dir);
    if (index == kOutput) {
        flow_[dir].end_out = true;
    } else {
        slots_[index]->stage[dir].end_here = true;
    }
}

uint64_t FilterChain::held_bytes(Dir dir) const {
    uint64_t total = flow_[dir].output.size();
    for (const auto& slot : slots_) total += slot->stage[dir].pending.size();
    return total;
}

// Bytes a filter holds on purpose (STOP*): limited by the route's filter_buffer.
uint64_t FilterChain::kept_bytes(Dir dir) const {
    uint64_t total = 0;
    for (const auto& slot : slots_) {
        if (slot->stage[dir].held) total += slot->stage[dir].pending.size();
    }
    return total;
}

// Bytes on their way through (not held): limited to about one socket buffer, which is the backpressure.
uint64_t FilterChain::flowing_bytes(Dir dir) const {
    return held_bytes(dir) - kept_bytes(dir);
}

bool FilterChain::accepts_input(Dir dir) const {
    if (finished_ || failure_ != ChainFailure::None) return false;
    if (dir == Dir::Request && local_reply()) return false;
    for (const auto& slot : slots_) {
        if (slot->stage[dir].no_buffer) return false;
    }
    // What a filter holds on purpose grows up to the route's filter_buffer (run() answers 413 / 500 past it);
    // what flows is kept to about one socket buffer.
    return flowing_bytes(dir) < stream_buffer_;
}

// ---- running ------------------------------------------------------------------------------------------------

bool FilterChain::run(Dir dir) {
    if (finished_ || failure_ != ChainFailure::None || !flow_[dir].begun || in_hook_) return false;
    if (dir == Dir::Request && local_reply()) return false;
    bool progress = false;
    bool again = true;
    while (again && failure_ == ChainFailure::None) {
        again = false;
        for (size_t index = first(dir); index != kOutput; index = next(dir, index)) {
            if (run_stage(dir, index)) {
                progress = true;
                again = true;  // something moved downstream (or a reply started): look again from the start
                break;
            }
            if (failure_ != ChainFailure::None) break;
        }
    }
    if (kept_bytes(dir) > buffer_limit_ && failure_ == ChainFailure::None) {
        fail(dir == Dir::Request ? ChainFailure::RequestTooLarge : ChainFailure::ResponseTooLarge,
             "filters held more than the route's filter_buffer");
    }
    if (dir == Dir::Response && reply_writable_wanted_ && flowing_bytes(dir) <= stream_buffer_ / 2) {
        reply_writable_wanted_ = false;
        deliver_event(*slots_[reply_from_], PORTICO_EVENT_WRITABLE, 0);
    }
    update_pause_timer();
    return progress;
}

// One stage's pending work. Returns true when it passed anything on or changed the flow.
bool FilterChain::run_stage(Dir dir, size_t index) {
    FilterSlot& slot = *slots_[index];
    FilterSlot::Stage& stage = slot.stage[dir];
    bool active = slot.state != nullptr && !slot.replied;

    if (stage.resume_requested) {
        stage.resume_requested = false;
        stage.held = stage.paused = stage.no_buffer = false;
        bool unseen = stage.fresh || (stage.end_here && !stage.end_seen && stage.headers_seen);
        pass_on(dir, index, /*body=*/!unseen || !active);
        return true;
    }
    if (!stage.headers_here && !stage.headers_seen) return false;  // nothing has reached it yet
    if (!active) {
        if (stage.headers_here || !stage.pending.empty() || (stage.end_here && !stage.end_seen)) {
            stage.headers_seen = true;
            pass_on(dir, index, true);
            return true;
        }
        return false;
    }

    size_t reply_before = reply_from_;
    if (stage.headers_here && !stage.headers_seen) {
        stage.headers_seen = true;
        bool headers_only = !flow_[dir].has_body;
        portico_action action;
        if (!call_headers(dir, slot, headers_only, action)) return settle_failed_call(dir, index);
        if (reply_from_ != reply_before) return true;
        if (headers_only) stage.end_seen = true;
        // A headers-only message has no body to buffer: STOP_AND_BUFFER then means CONTINUE.
        if (action == PORTICO_ACTION_CONTINUE || (action == PORTICO_ACTION_STOP_AND_BUFFER && headers_only)) {
            // Only the headers: bytes already here still go through this filter's body hook.
            pass_on(dir, index, /*body=*/headers_only);
            return true;
        }
        stage.held = true;
        // STOP_AND_BUFFER: the headers wait here while the body hook sees the body and decides (a CONTINUE
        // from it passes both). Any other stop waits for resume().
        stage.paused = action != PORTICO_ACTION_STOP_AND_BUFFER;
        if (action == PORTICO_ACTION_STOP_NO_BUFFER) stage.no_buffer = true;
        return false;
    }
    if (stage.paused) return false;
    bool body_news = stage.fresh || (stage.end_here && !stage.end_seen);
    if (!body_news) return false;
    stage.fresh = false;
    stage.end_seen = stage.end_here;
    portico_action action;
    if (!call_body(dir, slot, stage.end_here, action)) return settle_failed_call(dir, index);
    if (reply_from_ != reply_before) return true;
    switch (action) {
        case PORTICO_ACTION_CONTINUE:
            pass_on(dir, index, true);
            return true;
        case PORTICO_ACTION_STOP_AND_BUFFER:
            stage.held = true;
            return false;
        case PORTICO_ACTION_STOP_NO_BUFFER:
            stage.no_buffer = true;
            [[fallthrough]];
        default:  // STOP
            stage.held = true;
            stage.paused = true;
            return false;
    }
}

// After a failed hook: fail-closed has failed the chain; fail-open lets the filter sit the stream out.
bool FilterChain::settle_failed_call(Dir dir, size_t index) {
    if (failure_ != ChainFailure::None) return false;
    pass_on(dir, index, true);
    return true;
}

// Moves the headers (if held here) and, with `body`, every pending byte and the end (if it arrived) to the next
// stage. Without `body` the bytes stay for this filter's body hook, which has not seen them yet.
void FilterChain::pass_on(Dir dir, size_t index, bool body) {
    FilterSlot::Stage& stage = slots_[index]->stage[dir];
    size_t to = next(dir, index);
    Flow& flow = flow_[dir];
    bool headers = stage.headers_here;
    stage.headers_here = false;
    if (!body) {
        if (!stage.pending.empty()) stage.fresh = true;
        if (to == kOutput) {
            if (headers) flow.headers_out = true;
        } else if (headers) {
            slots_[to]->stage[dir].headers_here = true;
        }
        return;
    }
    stage.held = false;
    stage.fresh = false;
    bool end = stage.end_here;
    if (end) stage.end_seen = true;
    if (to == kOutput) {
        if (headers) flow.headers_out = true;
        flow.output.splice(stage.pending);
        if (end) flow.end_out = true;
        return;
    }
    FilterSlot::Stage& target = slots_[to]->stage[dir];
    if (headers) target.headers_here = true;  // headers always lead their body
    if (!stage.pending.empty()) {
        target.pending.splice(stage.pending);
        target.fresh = true;
    }
    if (end) target.end_here = true;
}

bool FilterChain::call_headers(Dir dir, FilterSlot& slot, bool end_stream, portico_action& action) {
    const portico_http_filter_ops& ops = *slot.instance.ops;
    return call_hook(dir == Dir::Request ? ops.on_request_headers : ops.on_response_headers,
                     dir == Dir::Request ? "on_request_headers" : "on_response_headers", slot, end_stream, action);
}

bool FilterChain::call_body(Dir dir, FilterSlot& slot, bool end_stream, portico_action& action) {
    const portico_http_filter_ops& ops = *slot.instance.ops;
    return call_hook(dir == Dir::Request ? ops.on_request_body : ops.on_response_body,
                     dir == Dir::Request ? "on_request_body" : "on_response_body", slot, end_stream, action);
}

// A missing hook is a CONTINUE; false when the hook failed (see hook_failed).
bool FilterChain::call_hook(Hook hook, const char* name, FilterSlot& slot, bool end_stream,
                            portico_action& action) {
    if (!hook) {
        action = PORTICO_ACTION_CONTINUE;
        return true;
    }
    in_hook_ = &slot;
    action = hook(slot.state, to_stream(&slot), end_stream);
    in_hook_ = nullptr;
    if (action <= PORTICO_ACTION_STOP_NO_BUFFER) return true;
    return hook_failed(slot, name, action);
}

// A hook returned ERROR (or garbage). fail-open: log and carry on as if it said CONTINUE.
bool FilterChain::hook_failed(FilterSlot& slot, const char* hook, portico_action action) {
    const plugins::FilterInstance& filter = slot.instance;
    std::string line = "filter " + filter.label + ": " + hook + " returned " + action_name(action);
    if (filter.fail_open) {
        log_.warning(line + "; on_error = \"fail-open\": continuing without it");
        slot.replied = true;  // a filter that failed once sits the rest of this stream out
        return false;
    }
    log_.error(line + "; failing the request");
    fail(ChainFailure::HookFailed, line);
    return false;
}

void FilterChain::fail(ChainFailure failure, std::string detail) {
    if (failure_ != ChainFailure::None) return;
    failure_ = failure;
    failure_detail_ = std::move(detail);
    pause_timer_.cancel();
}

// ---- pause deadline -----------------------------------------------------------------------------------------

void FilterChain::update_pause_timer() {
    bool waiting = false;
    for (const auto& slot : slots_) {
        if (slot->stage[Dir::Request].paused || slot->stage[Dir::Response].paused) waiting = true;
    }
    if (waiting && failure_ == ChainFailure::None && !finished_) {
        if (!pause_timer_.armed()) loop_.arm(pause_timer_, pause_timers_);
    } else {
        pause_timer_.cancel();
    }
}

void FilterChain::on_timeout(net::Timer&) {
    if (finished_) return;
    fail(ChainFailure::PauseTimeout,
         "a filter paused the stream and did not resume it within timeouts.filter_pause");
    owner_.chain_wake();
}

// ---- calls from filters -------------------------------------------------------------------------------------

portico_status FilterChain::resume(FilterSlot& slot, Dir dir) {
    if (finished_) return PORTICO_E_CLOSED;
    FilterSlot::Stage& stage = slot.stage[dir];
    if (!stage.held) return PORTICO_E_WRONG_PHASE;
    stage.resume_requested = true;
    owner_.chain_wake();  // also from a hook of the other direction, whose run does not look at this one
    return PORTICO_OK;
}

void FilterChain::reset_response() {
    for (auto& slot : slots_) slot->stage[Dir::Response] = FilterSlot::Stage();
    flow_[Dir::Response] = Flow();
}

portico_status FilterChain::local_reply(FilterSlot& slot, uint32_t code, const portico_header* headers, size_t n,
                                        const char* body, size_t body_len, bool end_stream, const char* details) {
    if (finished_ || failure_ != ChainFailure::None) return PORTICO_E_CLOSED;
    if (local_reply() || headers_sent[Dir::Response] || slot.replied) return PORTICO_E_WRONG_PHASE;
    if (code < 200 || code > 999) return PORTICO_E_BAD_ARG;
    // The response pipeline restarts at this filter: the ones before it must not have seen a response yet.
    for (size_t i = 0; i < slot.index; ++i) {
        if (slots_[i]->stage[Dir::Response].headers_seen) return PORTICO_E_WRONG_PHASE;
    }
    bool bodiless = code == 204 || code == 304;
    if (bodiless && (body_len > 0 || !end_stream)) return PORTICO_E_BAD_ARG;
    HeaderMap map;
    for (size_t i = 0; i < n; ++i) {
        std::string_view name(headers[i].name.data, headers[i].name.len);
        std::string_view value(headers[i].value.data, headers[i].value.len);
        if (!valid_field_name(name) || !valid_field_value(value) || host_owned_field(name))
            return PORTICO_E_BAD_ARG;
        if (http::equals_ignore_case(name, "content-length")) {
            // Only one, a number, and for a whole reply exactly its body's length: never a framing lie.
            uint64_t length = 0;
            if (!http::syntax::parse_decimal(value, length) || map.contains("content-length") ||
                (end_stream && length != body_len)) {
                return PORTICO_E_BAD_ARG;
            }
        }
        map.add(name, value);
    }
    if (details && log_.debug())
        log_.debug("filter " + slot.instance.label + ": local reply " + std::to_string(code) + ": " + details);
    reset_response();
    reply_from_ = slot.index;
    slot.replied = true;
    // Request hooks stop for everyone: the request will not reach an upstream.
    for (auto& other : slots_) other->stage[Dir::Request].paused = other->stage[Dir::Request].no_buffer = false;
    status = code;
    response_headers = std::move(map);
    bool has_body = body_len > 0 || !end_stream;
    if (!bodiless && !response_headers.contains("content-length") && end_stream) {
        response_headers.set("Content-Length", std::to_string(body_len));
    }
    Flow& flow = flow_[Dir::Response];
    flow.entry = slot.index;
    reply_streaming_ = !end_stream;
    begin(Dir::Response, has_body);
    if (body_len > 0) feed(Dir::Response, body, body_len);
    if (end_stream && has_body) feed_end(Dir::Response);
    if (!in_hook_) owner_.chain_wake();
    return PORTICO_OK;
}

portico_status FilterChain::local_body(FilterSlot& slot, const char* data, size_t n, bool end_stream) {
    if (finished_) return PORTICO_E_CLOSED;
    if (!reply_streaming_ || reply_from_ != slot.index) return PORTICO_E_WRONG_PHASE;
    feed(Dir::Response, data, n);
    if (end_stream) {
        feed_end(Dir::Response);
        reply_streaming_ = false;
    }
    if (!in_hook_) owner_.chain_wake();
    if (flowing_bytes(Dir::Response) > stream_buffer_) {
        reply_writable_wanted_ = true;
        return PORTICO_E_BACKPRESSURE;
    }
    return PORTICO_OK;
}

portico_status FilterChain::check_growth(Dir dir) {
    // A sanity cap on what one hook may add; the filter_buffer itself is checked when the hook returns.
    return held_bytes(dir) > buffer_limit_ + 4 * stream_buffer_ ? PORTICO_E_LIMIT : PORTICO_OK;
}

void FilterChain::deliver_event(FilterSlot& slot, portico_event event, uint64_t token) {
    if (finished_ || !slot.state || slot.instance.ops->on_event == nullptr) return;
    in_hook_ = &slot;
    slot.instance.ops->on_event(slot.state, to_stream(&slot), event, token);
    in_hook_ = nullptr;
    owner_.chain_wake();
}

// ---- the end ------------------------------------------------------------------------------------------------

void FilterChain::finish(portico_done_reason reason, uint32_t final_status, uint64_t request_bytes,
                         uint64_t response_bytes) {
    if (finished_) return;
    finished_ = true;
    pause_timer_.cancel();
    portico_stream_summary summary;
    PORTICO_INIT(&summary);
    summary.reason = reason;
    summary.status = final_status;
    summary.request_body_bytes = request_bytes;
    summary.response_body_bytes = response_bytes;
    for (auto& slot : slots_) {
        slot->timer.cancel();
        if (slot->poster_target) {
            std::lock_guard<std::mutex> lock(slot->poster_target->mutex);
            slot->poster_target->slot = nullptr;
        }
        if (!slot->state) continue;
        const portico_http_filter_ops& ops = *slot->instance.ops;
        in_hook_ = slot.get();
        if (ops.on_done) ops.on_done(slot->state, to_stream(slot.get()), &summary);
        if (ops.stream_free) ops.stream_free(slot->state);
        in_hook_ = nullptr;
        slot->state = nullptr;
    }
}

}  // namespace portico::proxy
