#include "proxy/session.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "net/socket.h"
#include "proxy/chunk_framing.h"
#include "proxy/router.h"
#include "proxy/worker.h"

namespace portico::proxy {

namespace {

// A session moves at most this many rounds of bytes per wake-up, then yields so one fast transfer cannot starve
// the other connections of its worker.
constexpr int kMaxRounds = 16;
// Resends after a pooled connection turned out closed by the origin (not counted as attempts).
constexpr uint8_t kMaxStaleRetries = 4;
// A client's own request id longer than this is replaced by ours (it goes into logs and upstream requests).
constexpr size_t kMaxRequestIdSize = 128;

http::Limits response_limits(const config::Config& config) {
    http::Limits limits = config.limits.head;
    limits.max_request_line = config.limits.buffer_size;
    limits.max_head_size = config.limits.buffer_size;
    return limits;
}

bool idempotent(http::Method method) {
    switch (method) {
        case http::Method::Get:
        case http::Method::Head:
        case http::Method::Put:
        case http::Method::Delete:
        case http::Method::Options:
        case http::Method::Trace:
            return true;
        default:
            return false;
    }
}

// The decoder needs a whole size line or trailer section in one call, and the session feeds it at most a
// buffer's worth (less the chunk framing): half a buffer for each keeps a legal body from ever stalling.
http::ChunkedDecoder::Limits chunk_limits(const config::Config& config) {
    http::ChunkedDecoder::Limits limits;
    limits.max_line = std::min(limits.max_line, config.limits.buffer_size / 2);
    limits.max_trailer_size = std::min(limits.max_trailer_size, config.limits.buffer_size / 2);
    return limits;
}

}  // namespace

Session::Session(Worker& worker, int fd, std::string client_ip, size_t listener,
                 std::unique_ptr<plugins::TransportConn> transport, bool first_request)
    : worker_(worker),
      fd_(fd),
      listener_(worker.config().listeners[listener]),
      transport_(std::move(transport)),
      first_request_(first_request),
      client_timer_(*this),
      request_parser_(worker.config().limits.head),
      request_chunks_(chunk_limits(worker.config())),
      response_parser_(response_limits(worker.config())),
      response_chunks_(chunk_limits(worker.config())) {
    net::BufferPool& buffers = worker.buffers();
    client_in_.attach(buffers);
    client_out_.body.attach(buffers);
    upstream_in_.attach(buffers);
    upstream_out_.body.attach(buffers);
    client_ip_ = std::move(client_ip);
    if (transport_) transport_->rebind(buffers);
    // Registered after the handover: bytes the client sent meanwhile are reported at once (epoll checks readiness
    // when a socket is added).
    worker.loop().add(fd_, *this, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
    // A new connection must send its first head in time; a handed-over one is idle between requests.
    if (first_request) {
        arm_client(ClientTimer::Header, worker.timers().client_header, true);
    } else {
        arm_client(ClientTimer::Idle, worker.timers().client_idle, true);
    }
}

Session::~Session() {
    close();
}

// ---- events -------------------------------------------------------------------------------------------------

void Session::on_io(uint32_t events) {
    if (closed_) return;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) client_readable_ = true;
    if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) client_hangup_ = true;
    if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) client_writable_ = true;
    if (events == 0) scheduled_ = false;
    drive();
}

void Session::on_upstream_event(upstream::Connection& connection) {
    if (closed_ || &connection != upstream_) return;
    upstream_activity_ = true;
    if (connection.connecting()) {
        if (!connection.writable && !connection.hangup) return;
        int error = connection.finish_connect();
        if (error != 0) {
            upstream_failed(true, strerror(error), 502);
            drive();
            return;
        }
        upstream_connected();
    }
    drive();
}

void Session::on_timeout(net::Timer&) {
    if (closed_) return;
    ClientTimer kind = client_timer_kind_;
    client_timer_kind_ = ClientTimer::None;
    switch (kind) {
        case ClientTimer::Header:
            if (client_in_.empty()) {
                close();  // connected and never said anything
            } else {
                reject_request(408, "request head not received in time");
            }
            break;
        case ClientTimer::Body:
            if (response_state_ == ResponseState::WaitHead) {
                if (worker_.log().debug()) worker_.log().debug("client " + client_ip_ + ": request body timed out");
                respond_error(408, true);
            } else {
                close();
            }
            break;
        default:  // idle keep-alive, stalled send, idle tunnel, lingering close
            close();
            break;
    }
    drive();
}

void Session::on_upstream_timeout(upstream::Connection& connection) {
    if (closed_ || &connection != upstream_) return;
    UpstreamTimer kind = upstream_timer_kind_;
    upstream_timer_kind_ = UpstreamTimer::None;
    switch (kind) {
        case UpstreamTimer::Connect:
            upstream_failed(true, "connect timed out", 504);
            break;
        case UpstreamTimer::Response:
            if (response_state_ == ResponseState::WaitHead) {
                worker_.log().warning("upstream " + pool_->upstream().name + ": " +
                                      pool_->endpoint_text(connection.endpoint()) + ": no response in time");
                report_attempt(PORTICO_LB_TIMEOUT, "no response in time");
                failure_status_ = 504;
                if (may_retry(RetryCause::Timeout)) {
                    replay_request();
                } else {
                    respond_error(504, !request_body_done_);
                }
            } else {
                close();
            }
            break;
        default:  // the response body stalled: the client must see the cut, so the connection closes
            worker_.log().warning("upstream " + pool_->upstream().name + ": response body stalled");
            close();
            break;
    }
    drive();
}

// ---- the pump -----------------------------------------------------------------------------------------------

void Session::drive() {
    activity_ = false;
    upstream_activity_ = false;
    for (int round = 0; !closed_; ++round) {
        if (round == kMaxRounds) {
            if (!scheduled_) {
                scheduled_ = true;
                worker_.loop().schedule(*this);
            }
            break;
        }
        bool progress = read_client();
        progress |= step();
        progress |= flush_upstream();
        progress |= read_upstream();
        progress |= step();
        progress |= flush_client();
        if (!progress) break;
    }
    // Draining found this connection busy (a request, TLS bytes in flight): now it may be idle.
    if (!closed_ && worker_.draining() && idle()) begin_drain();
    if (!closed_) update_timers();
}

bool Session::step() {
    if (closed_) return false;
    switch (phase_) {
        case Phase::Head:
            return step_head();
        case Phase::Forward:
            return step_forward();
        case Phase::Tunnel:
            return step_tunnel();
        case Phase::Linger:
            if (client_eof_ && !client_output_pending()) close();  // the client is done, and so are we
            return false;
    }
    return false;
}

// ---- request head -------------------------------------------------------------------------------------------

bool Session::step_head() {
    if (client_in_.empty()) {
        if (client_eof_) close();
        return false;
    }
    switch (request_parser_.parse(client_in_.data(), client_in_.size(), worker_.request_scratch())) {
        case http::ParseStatus::Incomplete:
            if (client_eof_) {
                close();  // the client gave up half-way through a head
            } else if (client_in_.full()) {
                return reject_request(431, "request head larger than the buffer");
            }
            return false;
        case http::ParseStatus::Error:
            return reject_request(request_parser_.error().status, request_parser_.error().reason.data());
        case http::ParseStatus::Complete:
            begin_request();
            return true;
    }
    return false;
}

bool Session::reject_request(int status, const char* why) {
    if (worker_.log().debug()) {  // a flood of bad requests must not cost string building when debug is off
        worker_.log().debug("client " + client_ip_ + ": " + std::to_string(status) + " " + why);
    }
    phase_ = Phase::Forward;
    response_state_ = ResponseState::WaitHead;
    method_ = http::Method::Get;
    version_ = http::Version::Http11;
    request_start_ms_ = worker_.loop().now_ms();
    logged_ = false;
    log_fields_.clear();
    request_id_.clear();
    respond_error(status, true);  // framing is in doubt: never read on from here
    return true;
}

void Session::redirect_to_https(const http::RequestHead& request) {
    std::string_view host = request.host;
    std::string_view target = request.target;
    // The name without its port: "[2001:db8::1]:80" -> "[2001:db8::1]", "example.com:80" -> "example.com".
    size_t colon = host.rfind(':');
    if (colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) host = host.substr(0, colon);
    std::string fields = "Location: https://";
    fields.append(host);
    if (listener_.redirect_https != 443) fields.append(":").append(std::to_string(listener_.redirect_https));
    fields.append(target.empty() || target[0] != '/' ? std::string_view("/") : target).append("\r\n");
    client_in_.consume(request.head_size);  // the views above are not used past here
    request_parser_.reset();
    if (host.empty()) {
        respond_error(400, !request_body_done_);  // nowhere to send it
        return;
    }
    status_ = 308;  // keeps the method and body, unlike 301 (RFC 9110 15.4.9)
    if (!request_body_done_ || worker_.closing()) keep_alive_ = false;
    body_bytes_sent_ = write_error_response(308, method_ == http::Method::Head, keep_alive_, worker_.http_date(),
                                            fields, client_out_.head);
    response_state_ = ResponseState::Done;
}

void Session::begin_request() {
    const config::Config& config = worker_.config();
    http::RequestHead& request = worker_.request_scratch();
    // An absolute-form target names the authority; the Host field is then ignored (RFC 9112 3.2.2). Routing,
    // the upstream's Host and X-Forwarded-Host all follow the target, so proxy and origin agree on the host.
    std::string_view scheme, authority, rest;
    if (http::Method::Connect != request.method && split_absolute_form(request.target, scheme, authority, rest)) {
        if (!http_scheme(scheme) || !valid_authority(authority)) {
            reject_request(400, "absolute-form target that is not http(s)://authority");
            return;
        }
        request.host = authority;
        if (rest.empty() || rest[0] == '#') {
            rest = "/";
        } else if (rest[0] == '?') {
            std::string& origin_form = worker_.target_scratch();  // lives until the head was written, in this call
            origin_form.assign("/").append(rest);
            rest = origin_form;
        }
        request.target = rest;
    }
    first_request_ = false;
    logged_ = false;
    request_start_ms_ = worker_.loop().now_ms();
    method_ = request.method;
    version_ = request.version;
    request_body_ = request.body;
    request_keep_alive_ = request.keep_alive;
    upgrade_requested_ = request.upgrade;
    keep_alive_ = request_keep_alive_ && !worker_.closing();
    status_ = 0;
    body_bytes_sent_ = 0;
    phase_ = Phase::Forward;
    response_state_ = ResponseState::WaitHead;

    std::string_view id = find_header(request, config.server.request_id_header);
    if (!id.empty() && id.size() <= kMaxRequestIdSize) {
        request_id_.assign(id);
    } else {
        request_id_.resize(32);
        worker_.next_request_id(request_id_.data());
    }

    if (worker_.access_log().enabled()) {
        // NUL cannot occur in a parsed head, so it separates the fields kept for the log line.
        log_fields_.assign(request.method_token).push_back('\0');
        log_fields_.append(request.target).push_back('\0');
        log_fields_.append(find_header(request, "referer")).push_back('\0');
        log_fields_.append(find_header(request, "user-agent"));
    }

    request_remaining_ = request.body == http::BodyKind::ContentLength ? request.content_length : 0;
    request_body_total_ = 0;
    request_body_done_ = request.body == http::BodyKind::None;
    request_chunks_.reset();
    host_.assign(request.host);

    // ACME http-01 challenges must be answered over plain HTTP (RFC 8555 8.3): they are routed, not redirected.
    constexpr std::string_view kAcmeChallenge = "/.well-known/acme-challenge/";
    if (listener_.redirect_https != 0 && request.target.substr(0, kAcmeChallenge.size()) != kAcmeChallenge) {
        redirect_to_https(request);
        return;
    }
    route_ = worker_.router().match(request.host, target_path(request.target));
    size_t head_size = request.head_size;
    if (!route_) {
        client_in_.consume(head_size);
        request_parser_.reset();
        respond_error(404, !request_body_done_);
        return;
    }
    if (route_->max_body_size != 0 && request.body == http::BodyKind::ContentLength &&
        request.content_length > route_->max_body_size) {
        client_in_.consume(head_size);
        request_parser_.reset();
        respond_error(413, true);
        return;
    }
    size_t route_index = static_cast<size_t>(route_ - config.routes.data());
    const config::HashKey& hash_key = config.upstreams[route_->upstream_index].hash_key;
    if (hash_key.source != config::HashKey::Source::None)
        compute_hash_key(hash_key, request, client_ip_, hash_key_);
    if (!route_->filters.empty()) {
        begin_filtered_request(request, route_index);
        return;
    }
    pool_ = &worker_.pool(route_->upstream_index);

    upstream_out_.reset();
    RequestForwarding forwarding{client_ip_, transport_ ? "https" : "http", request_id_, pool_->upstream().name,
                                 &config.server};
    write_upstream_request(request, forwarding, upstream_out_.head);
    // From here on the head's views are not used: its bytes leave the buffer.
    client_in_.consume(head_size);
    request_parser_.reset();

    if (request.expect_continue && !request_body_done_ && version_ == http::Version::Http11) {
        client_out_.head.append("HTTP/1.1 100 Continue\r\n\r\n");
    }
    upstream_out_.pass = &client_in_;
    tried_count_ = 0;
    attempts_ = 0;
    failure_status_ = 502;
    request_sent_ = false;
    connect_upstream();
}

// ---- forwarding ---------------------------------------------------------------------------------------------

void Session::connect_upstream() {
    upstream::Balancer& balancer = pool_->balancer();
    for (;;) {
        int64_t now_ms = worker_.loop().now_ms();
        int endpoint = balancer.choose(tried_, tried_count_, attempts_ + 1u, hash_key_, nullptr, now_ms);
        if (endpoint < 0) {
            // Every endpoint is down or ejected (their state changes are logged): 503 now, not a wait. After a
            // failed attempt, its own status (502, 504) tells more, unless that was a response we dropped.
            if (attempts_ == 0 && worker_.log().debug()) {
                worker_.log().debug("upstream " + pool_->upstream().name + ": no endpoint can take requests");
            }
            bool proxy_status = failure_status_ == 502 || failure_status_ == 504;
            respond_error(attempts_ != 0 && proxy_status ? failure_status_ : 503, !request_body_done_);
            return;
        }
        attempt_added_tried_ =
            tried_count_ < std::size(tried_) &&
            std::find(tried_, tried_ + tried_count_, static_cast<uint32_t>(endpoint)) == tried_ + tried_count_;
        if (attempt_added_tried_) tried_[tried_count_++] = static_cast<uint32_t>(endpoint);
        if (attempts_ == 0 && stale_retries_ == 0) pool_->state().count_request(now_ms);
        ++attempts_;
        begin_attempt(static_cast<size_t>(endpoint));
        upstream_ = pool_->acquire(static_cast<size_t>(endpoint), *this);
        if (!upstream_) {
            int error = errno;
            const char* why = strerror(error);
            worker_.log().warning("upstream " + pool_->upstream().name + ": " + pool_->endpoint_text(endpoint) +
                                  ": " + why);
            // Out of descriptors or memory here says nothing about the endpoint.
            if (net::is_local_resource_error(error)) attempt_reported_ = true;
            report_attempt(PORTICO_LB_CONNECT_FAILURE, why);
            end_attempt();
            failure_status_ = 502;
            if (may_retry(RetryCause::ConnectFailure)) continue;
            respond_error(502, !request_body_done_);
            return;
        }
        upstream_eof_ = false;
        upstream_error_ = false;
        upstream_in_.clear();
        response_parser_.reset();
        if (upstream_->connecting()) {
            arm_upstream(UpstreamTimer::Connect, pool_->connect_timers());
        } else {
            upstream_connected();
        }
        return;
    }
}

void Session::upstream_connected() {
    arm_upstream(UpstreamTimer::Response, response_timers());
}

net::TimerQueue& Session::response_timers() {
    net::TimerQueue* per_try = worker_.per_try_timers(static_cast<size_t>(route_ - worker_.config().routes.data()));
    return per_try ? *per_try : pool_->response_timers();
}

void Session::begin_attempt(size_t endpoint) {
    attempt_endpoint_ = static_cast<int>(endpoint);
    attempt_reported_ = false;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    attempt_start_us_ = static_cast<uint64_t>(now.tv_sec) * 1'000'000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
    upstream::EndpointState& e = pool_->state().endpoint(endpoint);
    e.active_requests.fetch_add(1, std::memory_order_relaxed);
    e.requests.fetch_add(1, std::memory_order_relaxed);
}

void Session::report_attempt(portico_lb_outcome outcome, const char* why) {
    if (attempt_endpoint_ < 0 || attempt_reported_) return;
    attempt_reported_ = true;
    timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t now_us = static_cast<uint64_t>(now.tv_sec) * 1'000'000 + static_cast<uint64_t>(now.tv_nsec) / 1000;
    uint64_t latency_us = now_us - attempt_start_us_;
    auto endpoint = static_cast<size_t>(attempt_endpoint_);
    if (outcome == PORTICO_LB_SUCCESS) {
        pool_->state().record_success(endpoint, latency_us);
    } else {
        pool_->state().record_failure(endpoint, why, worker_.loop().now_ms());
    }
    pool_->balancer().on_result(endpoint, outcome, latency_us);
}

void Session::end_attempt() {
    if (attempt_endpoint_ < 0) return;
    pool_->state()
        .endpoint(static_cast<size_t>(attempt_endpoint_))
        .active_requests.fetch_sub(1, std::memory_order_relaxed);
    attempt_endpoint_ = -1;
}

bool Session::may_retry(RetryCause cause) {
    const config::RetryPolicy& policy = route_->retry;
    bool wanted = cause == RetryCause::ConnectFailure ? policy.on_connect_failure
                  : cause == RetryCause::Reset        ? policy.on_reset
                  : cause == RetryCause::Timeout      ? policy.on_timeout
                                                      : true;
    if (!wanted || attempts_ >= policy.attempts) return false;
    if (cause != RetryCause::ConnectFailure) {
        // Nothing reached the origin after a connect failure; otherwise the request is sent again, so it must be
        // whole in our hands (no body streamed) and safe to repeat.
        if (request_body_sent() || (!idempotent(method_) && !policy.non_idempotent)) return false;
    }
    int64_t now_ms = worker_.loop().now_ms();
    if (!pool_->state().try_retry(policy, now_ms)) {
        if (pool_->state().should_log_budget(now_ms)) {
            worker_.log().warning("upstream " + pool_->upstream().name +
                                  ": retry budget exhausted; not retrying (logged once per 10 s)");
        }
        return false;
    }
    return true;
}

bool Session::request_body_sent() const {
    return request_body_ != http::BodyKind::None ||
           (chain_ && (filtered_->request_out_declared != 0 || filtered_->request_out_chunked));
}

void Session::replay_request() {
    release_upstream(false);
    upstream_in_.clear();
    response_parser_.reset();
    upstream_out_.head_sent = 0;
    request_sent_ = false;
    connect_upstream();
}

void Session::upstream_failed(bool connect_failure, const char* why, int final_status) {
    const upstream::Connection& failed = *upstream_;
    worker_.log().warning("upstream " + pool_->upstream().name + ": " + pool_->endpoint_text(failed.endpoint()) +
                          ": " + why);
    failure_status_ = final_status;
    // A pooled connection the origin closed before answering most likely timed out there just as our request
    // went out: no verdict on the endpoint, and a replayable request is sent again without counting an attempt
    // (the same endpoint may be chosen).
    if (!connect_failure && failed.reused()) {
        attempt_reported_ = true;
        bool replayable = response_state_ == ResponseState::WaitHead && upstream_in_.empty() &&
                          !request_body_sent() && idempotent(method_);
        if (replayable && stale_retries_ < kMaxStaleRetries) {
            ++stale_retries_;
            --attempts_;
            if (attempt_added_tried_) --tried_count_;  // it was the last one added
            replay_request();
            return;
        }
    } else {
        report_attempt(connect_failure ? PORTICO_LB_CONNECT_FAILURE : PORTICO_LB_RESET, why);
    }
    if (!may_retry(connect_failure ? RetryCause::ConnectFailure : RetryCause::Reset)) {
        release_upstream(false);
        upstream_in_.clear();
        respond_error(final_status, !request_body_done_);
        return;
    }
    if (connect_failure) {
        release_upstream(false);
        upstream_in_.clear();
        connect_upstream();
    } else {
        replay_request();
    }
}

bool Session::step_forward() {
    if (chain_) return step_filtered();
    bool progress = false;
    if (!request_body_done_) {
        progress |= pump_request_body();
        if (closed_ || phase_ != Phase::Forward) return true;
    }
    if (upstream_ && response_state_ == ResponseState::WaitHead && !upstream_->connecting() &&
        (upstream_eof_ || upstream_error_) && upstream_in_.empty()) {
        upstream_failed(false, upstream_error_ ? "connection reset before a response" : "closed before a response",
                        502);
        return true;
    }
    if (response_state_ == ResponseState::WaitHead && upstream_ && !upstream_in_.empty()) {
        progress |= parse_response_head();
        if (closed_ || phase_ != Phase::Forward) return true;
    }
    if (response_state_ == ResponseState::Body) progress |= pump_response_body();
    if (!closed_ && response_state_ == ResponseState::Done && client_out_.empty()) {
        finish_request();
        return true;
    }
    return progress;
}

bool Session::pump_request_body() {
    if (request_body_ == http::BodyKind::ContentLength) {
        size_t available = client_in_.size() - upstream_out_.pass_limit;
        size_t n = static_cast<size_t>(std::min<uint64_t>(available, request_remaining_));
        if (n == 0) {
            if (client_eof_) close();  // the client left before sending its whole body
            return false;
        }
        upstream_out_.pass_limit += n;
        request_remaining_ -= n;
        if (request_remaining_ == 0) request_body_done_ = true;
        return true;
    }

    bool progress = false;
    while (!request_body_done_) {
        size_t room = upstream_out_.body.writable();
        if (room < 2 * kChunkOverhead || client_in_.empty()) break;
        size_t len = std::min(client_in_.size(), room - kChunkOverhead);
        auto result = request_chunks_.feed(client_in_.data(), len);
        if (result.status == http::ChunkedDecoder::Status::Error) {
            if (worker_.log().debug()) {
                worker_.log().debug("client " + client_ip_ + ": bad chunked body: " + std::string(result.error));
            }
            respond_error(400, true);
            return true;
        }
        if (result.status == http::ChunkedDecoder::Status::Data) {
            request_body_total_ += result.data.size();
            if (route_->max_body_size != 0 && request_body_total_ > route_->max_body_size) {
                respond_error(413, true);
                return true;
            }
            append_chunk(upstream_out_.body, result.data.data(), result.data.size());
        } else if (result.status == http::ChunkedDecoder::Status::Done) {
            upstream_out_.tail.assign("0\r\n").append(result.trailers).append("\r\n");
            request_body_done_ = true;
        }
        client_in_.consume(result.consumed);
        if (result.consumed == 0) break;
        progress = true;
        if (result.status == http::ChunkedDecoder::Status::NeedMore) break;
    }
    if (!progress && !request_body_done_ && client_eof_) close();
    return progress;
}

bool Session::parse_response_head() {
    http::ResponseHead& response = worker_.response_scratch();
    auto status = response_parser_.parse(upstream_in_.data(), upstream_in_.size(), method_, response);
    if (status == http::ParseStatus::Incomplete) {
        if (upstream_eof_ || upstream_error_ || upstream_in_.full()) {
            worker_.log().warning("upstream " + pool_->upstream().name + ": incomplete response head");
            report_attempt(PORTICO_LB_RESET, "incomplete response head");
            respond_error(502, !request_body_done_);
            return true;
        }
        return false;
    }
    if (status == http::ParseStatus::Error) {
        worker_.log().warning("upstream " + pool_->upstream().name +
                              ": invalid response: " + std::string(response_parser_.error().reason));
        report_attempt(PORTICO_LB_RESET, "invalid response");
        respond_error(502, !request_body_done_);
        return true;
    }

    int code = response.status;
    bool unusable = (response.other_transfer_coding && response.body != http::BodyKind::None) ||
                    (code == 101 && !upgrade_requested_);  // both answered with 502 below
    if (unusable) {
        report_attempt(PORTICO_LB_RESET, "unusable response");
    } else if (code >= 200 || code == 101) {
        bool server_error = code >= 500;
        std::string why = "status " + std::to_string(code);
        report_attempt(server_error ? PORTICO_LB_HTTP_5XX : PORTICO_LB_SUCCESS, why.c_str());
        const auto& retry_on = route_->retry.statuses;
        if (std::find(retry_on.begin(), retry_on.end(), code) != retry_on.end() && may_retry(RetryCause::Status)) {
            worker_.log().information("upstream " + pool_->upstream().name + ": " +
                                      pool_->endpoint_text(upstream_->endpoint()) + ": " + why + "; retrying");
            failure_status_ = code;
            replay_request();
            return true;
        }
    }
    if (response.other_transfer_coding && response.body != http::BodyKind::None) {
        worker_.log().warning("upstream " + pool_->upstream().name +
                              ": transfer coding other than chunked (the body could not be re-framed)");
        respond_error(502, true);
        return true;
    }
    if (code == 101) {
        if (!upgrade_requested_) {
            worker_.log().warning("upstream " + pool_->upstream().name + ": 101 to a request that asked for none");
            respond_error(502, true);
            return true;
        }
        write_client_response(response, response_forwarding(ClientFraming::None, false), client_out_.head);
        upstream_in_.consume(response.head_size);
        status_ = 101;
        end_chain(PORTICO_DONE_COMPLETE);  // filters see the upgrade's heads, not the tunnel
        phase_ = Phase::Tunnel;
        upstream_->timer().cancel();
        upstream_timer_kind_ = UpstreamTimer::None;
        client_out_.pass = &upstream_in_;
        upstream_out_.pass = &client_in_;
        return true;
    }
    if (code < 200) {
        // Interim responses (103 Early Hints, a stray 100) go to HTTP/1.1 clients; the final one follows.
        if (version_ == http::Version::Http11) {
            write_client_response(response, response_forwarding(ClientFraming::None, true), client_out_.head);
        }
        upstream_in_.consume(response.head_size);
        response_parser_.reset();
        return true;
    }
    if (chain_) {
        start_filtered_response();
    } else {
        start_response_body();
    }
    return true;
}

ResponseForwarding Session::response_forwarding(ClientFraming framing, bool keep_alive) const {
    ResponseForwarding forwarding;
    forwarding.framing = framing;
    forwarding.keep_alive = keep_alive;
    forwarding.client_version = version_;
    forwarding.request_id = request_id_;
    forwarding.server = &worker_.config().server;
    forwarding.endpoint_authority = pool_->endpoint_text(upstream_->endpoint());
    forwarding.client_scheme = transport_ ? "https" : "http";
    forwarding.hsts = listener_.hsts;
    forwarding.client_host = host_;
    forwarding.date = worker_.http_date();
    return forwarding;
}

void Session::start_response_body() {
    const http::ResponseHead& response = worker_.response_scratch();
    status_ = response.status;
    response_body_ = response.body;
    bool http11 = version_ == http::Version::Http11;
    switch (response.body) {
        case http::BodyKind::None:
            client_framing_ = ClientFraming::None;
            break;
        case http::BodyKind::ContentLength:
            client_framing_ = ClientFraming::ContentLength;
            response_remaining_ = response.content_length;
            break;
        case http::BodyKind::Chunked:
        case http::BodyKind::UntilClose:
            // Re-framing a close-delimited body as chunked keeps an HTTP/1.1 client's connection open.
            client_framing_ = http11 ? ClientFraming::Chunked : ClientFraming::UntilClose;
            break;
    }
    if (client_framing_ == ClientFraming::UntilClose || !request_body_done_ || client_eof_ || worker_.closing()) {
        keep_alive_ = false;
    }
    upstream_reusable_ = response.keep_alive;
    write_client_response(response, response_forwarding(client_framing_, keep_alive_), client_out_.head);
    upstream_in_.consume(response.head_size);
    response_parser_.reset();
    response_chunks_.reset();
    client_out_.pass = &upstream_in_;
    response_state_ = ResponseState::Body;
    if (response.body == http::BodyKind::None) {
        response_complete();
    } else {
        arm_upstream(UpstreamTimer::Read, *worker_.timers().upstream_read);
    }
}

bool Session::pump_response_body() {
    bool upstream_done = upstream_eof_ || upstream_error_;
    switch (response_body_) {
        case http::BodyKind::ContentLength: {
            size_t available = upstream_in_.size() - client_out_.pass_limit;
            size_t n = static_cast<size_t>(std::min<uint64_t>(available, response_remaining_));
            client_out_.pass_limit += n;
            response_remaining_ -= n;
            body_bytes_sent_ += n;
            if (response_remaining_ == 0) {
                response_complete();
                return true;
            }
            if (n == 0 && upstream_done) {
                response_truncated_ = true;
                response_complete();
                return true;
            }
            return n > 0;
        }
        case http::BodyKind::Chunked: {
            bool progress = false;
            while (response_state_ == ResponseState::Body) {
                size_t room = client_out_.body.writable();
                if (room < 2 * kChunkOverhead || upstream_in_.empty()) break;
                size_t len = std::min(upstream_in_.size(), room - kChunkOverhead);
                auto result = response_chunks_.feed(upstream_in_.data(), len);
                if (result.status == http::ChunkedDecoder::Status::Error) {
                    worker_.log().warning("upstream " + pool_->upstream().name +
                                          ": bad chunked body: " + std::string(result.error));
                    response_truncated_ = true;
                    response_complete();
                    return true;
                }
                if (result.status == http::ChunkedDecoder::Status::Data) {
                    if (client_framing_ == ClientFraming::Chunked) {
                        append_chunk(client_out_.body, result.data.data(), result.data.size());
                    } else {
                        client_out_.body.append(result.data.data(), result.data.size());  // HTTP/1.0 client
                    }
                    body_bytes_sent_ += result.data.size();
                } else if (result.status == http::ChunkedDecoder::Status::Done) {
                    if (client_framing_ == ClientFraming::Chunked) {
                        client_out_.tail.assign("0\r\n").append(result.trailers).append("\r\n");
                    }
                    upstream_in_.consume(result.consumed);
                    response_complete();
                    return true;
                }
                upstream_in_.consume(result.consumed);
                if (result.consumed == 0) break;
                progress = true;
                if (result.status == http::ChunkedDecoder::Status::NeedMore) break;
            }
            if (!progress && upstream_done && response_state_ == ResponseState::Body) {
                response_truncated_ = true;
                response_complete();
                return true;
            }
            return progress;
        }
        case http::BodyKind::UntilClose: {
            bool progress = false;
            if (client_framing_ == ClientFraming::Chunked) {
                while (!upstream_in_.empty()) {
                    size_t room = client_out_.body.writable();
                    if (room < 2 * kChunkOverhead) break;
                    size_t n = std::min(upstream_in_.size(), room - kChunkOverhead);
                    append_chunk(client_out_.body, upstream_in_.data(), n);
                    upstream_in_.consume(n);
                    body_bytes_sent_ += n;
                    progress = true;
                }
            } else {
                size_t n = upstream_in_.size() - client_out_.pass_limit;
                client_out_.pass_limit += n;
                body_bytes_sent_ += n;
                progress = n > 0;
            }
            if (upstream_done && upstream_in_.size() == client_out_.pass_limit) {
                // A reset is not a clean end: the client must not take a cut body for a whole one.
                if (upstream_error_) {
                    response_truncated_ = true;
                } else if (client_framing_ == ClientFraming::Chunked) {
                    client_out_.tail.assign("0\r\n\r\n");
                }
                response_complete();
                return true;
            }
            return progress;
        }
        case http::BodyKind::None:
            break;
    }
    return false;
}

void Session::response_complete() {
    response_state_ = ResponseState::Done;
    bool reusable = upstream_reusable_ && !response_truncated_ && request_sent_ && upstream_out_.empty() &&
                    !upstream_eof_ && !upstream_error_ && upstream_in_.size() == client_out_.pass_limit &&
                    response_body_ != http::BodyKind::UntilClose;
    release_upstream(reusable);
    if (response_truncated_) {
        worker_.log().warning("upstream " + pool_->upstream().name + ": response cut short; closing the client");
        keep_alive_ = false;
    }
}

void Session::release_upstream(bool reusable) {
    end_attempt();
    if (!upstream_) return;
    upstream_->timer().cancel();
    upstream_timer_kind_ = UpstreamTimer::None;
    if (reusable) {
        pool_->release(*upstream_);
    } else {
        upstream_->close();
    }
    upstream_ = nullptr;
}

void Session::finish_request() {
    end_chain(PORTICO_DONE_COMPLETE);
    log_access();
    if (!keep_alive_) {
        close_after_response();
        return;
    }
    reset_request();
    phase_ = Phase::Head;
    if (worker_.handing_over() && idle()) hand_over();
}

void Session::close_after_response() {
    // Unread bytes from the client would turn our close into a reset that can destroy the response in flight
    // (RFC 9112 9.6): shut down our side and drain theirs for a while first.
    // Over TLS the response may still be ciphertext in the transport, and a close_notify is due: linger too.
    if (transport_ || (!client_eof_ && (!client_in_.empty() || !request_body_done_))) {
        start_linger();
    } else {
        close();
    }
}

void Session::respond_error(int status, bool close_after, portico_done_reason reason) {
    bool response_begun = chain_ ? filtered_->client_head_written : response_state_ != ResponseState::WaitHead;
    if (response_begun || phase_ == Phase::Tunnel) {
        end_chain(reason);
        close();  // the response has begun: the cut is the only signal left
        return;
    }
    status_ = status;  // before on_done, which reports it
    end_chain(reason);
    release_upstream(false);
    if (close_after || !request_body_done_ || worker_.closing()) keep_alive_ = false;
    std::string hsts;
    if (!listener_.hsts.empty()) hsts.append("Strict-Transport-Security: ").append(listener_.hsts).append("\r\n");
    body_bytes_sent_ = write_error_response(status, method_ == http::Method::Head, keep_alive_, worker_.http_date(),
                                            hsts, client_out_.head);
    upstream_out_.pass_limit = 0;
    response_state_ = ResponseState::Done;
    phase_ = Phase::Forward;
}

// ---- tunnel -------------------------------------------------------------------------------------------------

bool Session::step_tunnel() {
    // Both directions go straight from one socket's input buffer to the other socket.
    upstream_out_.pass_limit = client_in_.size();
    client_out_.pass_limit = upstream_in_.size();
    bool progress = false;
    if (client_eof_ && client_in_.empty() && !upstream_shut_ && upstream_) {
        upstream_shut_ = true;
        shut_upstream_write();
        progress = true;
    }
    if ((upstream_eof_ || upstream_error_) && client_out_.empty() && !client_shut_) {
        client_shut_ = true;
        shut_client_write();
        progress = true;
    }
    if (closed_) return false;
    bool flushed = !client_output_pending() && !upstream_output_pending();
    if (flushed && ((client_shut_ && upstream_shut_) || (upstream_error_ && client_shut_))) {
        status_ = 101;
        close();
        return false;
    }
    return progress;
}

// ---- socket I/O ---------------------------------------------------------------------------------------------

bool Session::read_client() {
    if (closed_ || client_eof_) return false;
    if (!client_readable_ && !(transport_ && transport_->wants_read() && phase_ != Phase::Linger)) return false;
    if (phase_ == Phase::Linger) {
        char discard[4096];
        for (;;) {
            ssize_t n = ::recv(fd_, discard, sizeof discard, 0);
            if (n > 0) continue;
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 && errno == EAGAIN) {
                client_readable_ = false;
                return false;
            }
            if (n == 0 && client_output_pending()) {  // a half-close: it may still read what is queued
                client_readable_ = false;
                client_eof_ = true;
                return true;
            }
            close();  // EOF or error: the client is done
            return false;
        }
    }
    if (transport_) return read_client_transport();
    switch (net::receive(fd_, client_in_, client_readable_, client_hangup_)) {
        case net::Received::Data:
            activity_ = true;
            return true;
        case net::Received::Eof:
            client_eof_ = true;
            return true;
        case net::Received::Error:
            close();  // reset by the client
            return false;
        default:
            return false;
    }
}

bool Session::read_client_transport() {
    if (client_in_.writable() == 0) return false;
    switch (transport_->read(fd_, client_readable_, client_hangup_, client_in_)) {
        case plugins::TransportConn::Result::Progress:
            activity_ = true;
            return true;
        case plugins::TransportConn::Result::Idle:
            return false;
        case plugins::TransportConn::Result::Closed:
            client_eof_ = true;
            return true;
        case plugins::TransportConn::Result::Failed:
            // A failed handshake or a bad record is the client's (the plugin logs it at debug level); a broken
            // plugin is the operator's to hear about.
            if (transport_->plugin_broke()) {
                worker_.log().warning("listener " + listener_.name + ": transport " + transport_->label() + ": " +
                                      transport_->error() + "; connection closed");
            }
            break;
    }
    close();
    return false;
}

bool Session::flush_client() {
    if (closed_ || !client_writable_) return false;
    if (transport_) {
        if (client_out_.empty() && !transport_->wants_write()) return false;
        switch (transport_->write(fd_, client_out_, client_writable_)) {
            case plugins::TransportConn::Result::Progress:
                activity_ = true;
                return true;
            case plugins::TransportConn::Result::Failed:
                close();  // the client is gone
                return false;
            default:
                return false;
        }
    }
    if (client_out_.empty()) return false;
    ssize_t n = write_outbound(fd_, client_out_);
    if (n > 0) {
        activity_ = true;
        return true;
    }
    if (n < 0 && errno != EAGAIN) close();  // the client is gone
    return false;
}

bool Session::read_upstream() {
    if (closed_ || !upstream_ || upstream_->connecting() || upstream_eof_ || upstream_error_) return false;
    if (plugins::TransportConn* transport = upstream_->transport.get()) {
        if (!upstream_->readable && !transport->wants_read()) return false;
        if (upstream_in_.writable() == 0) return false;
        switch (transport->read(upstream_->fd(), upstream_->readable, upstream_->hangup, upstream_in_)) {
            case plugins::TransportConn::Result::Progress:
                upstream_activity_ = true;
                if (upstream_timer_kind_ == UpstreamTimer::Read) {
                    arm_upstream(UpstreamTimer::Read, *worker_.timers().upstream_read);
                }
                return true;
            case plugins::TransportConn::Result::Idle:
                return false;
            case plugins::TransportConn::Result::Closed:
                // Without close_notify the end is not certain: a close-delimited body then counts as cut.
                if (transport->closed_cleanly()) {
                    upstream_eof_ = true;
                } else {
                    upstream_error_ = true;
                }
                return true;
            case plugins::TransportConn::Result::Failed:
                upstream_transport_failed();
                return true;
        }
        return false;
    }
    if (!upstream_->readable) return false;
    switch (net::receive(upstream_->fd(), upstream_in_, upstream_->readable, upstream_->hangup)) {
        case net::Received::Data:
            upstream_activity_ = true;
            if (upstream_timer_kind_ == UpstreamTimer::Read) {
                arm_upstream(UpstreamTimer::Read, *worker_.timers().upstream_read);
            }
            return true;
        case net::Received::Eof:
            upstream_eof_ = true;
            return true;
        case net::Received::Error:
            upstream_error_ = true;
            return true;
        default:
            return false;
    }
}

void Session::upstream_transport_failed() {
    std::string why = "TLS: " + upstream_->transport->error();
    if (!upstream_->transport->handshake_done()) {
        // Nothing of the request reached the origin: a failed connect (logged there, retried on another endpoint,
        // counted against this one), not a reset.
        upstream_failed(true, why.c_str(), 502);
        return;
    }
    worker_.log().warning("upstream " + pool_->upstream().name + ": " + pool_->endpoint_text(upstream_->endpoint()) +
                          ": " + why);
    upstream_error_ = true;
}

bool Session::flush_upstream() {
    if (closed_ || !upstream_ || upstream_->connecting() || !upstream_->writable || upstream_error_) return false;
    bool sent = false;
    if (plugins::TransportConn* transport = upstream_->transport.get()) {
        if (upstream_out_.empty() && !transport->wants_write()) return false;
        switch (transport->write(upstream_->fd(), upstream_out_, upstream_->writable)) {
            case plugins::TransportConn::Result::Failed:
                upstream_transport_failed();
                return true;
            case plugins::TransportConn::Result::Progress:
                sent = true;
                break;
            default:
                break;
        }
    } else if (!upstream_out_.empty()) {
        ssize_t n = write_outbound(upstream_->fd(), upstream_out_);
        if (n < 0 && errno != EAGAIN) {
            upstream_error_ = true;
            return true;
        }
        sent = n > 0;
    }
    if (!sent) return false;
    upstream_activity_ = true;
    if (phase_ == Phase::Forward && !request_sent_) {
        if (request_body_done_ && (!chain_ || filtered_->request_out_done) && upstream_out_.empty()) {
            request_sent_ = true;
        }
        // The response timeout runs from the last byte of the request we managed to send (over TLS: from the
        // first handshake bytes, so the handshake is bounded too).
        arm_upstream(UpstreamTimer::Response, response_timers());
    }
    return true;
}

void Session::shut_client_write() {
    if (transport_) {
        // After a cut response no close_notify: it would tell a client reading to the close that it has it all.
        transport_->shutdown_write(!response_truncated_);
        flush_client();
    } else {
        ::shutdown(fd_, SHUT_WR);
    }
}

void Session::shut_upstream_write() {
    if (upstream_->transport) {
        upstream_->transport->shutdown_write();
        flush_upstream();
    } else {
        ::shutdown(upstream_->fd(), SHUT_WR);
    }
}

bool Session::client_output_pending() const {
    return !client_out_.empty() || (transport_ && transport_->wants_write());
}

bool Session::upstream_output_pending() const {
    return upstream_ && !upstream_error_ &&
           (!upstream_out_.empty() || (upstream_->transport && upstream_->transport->wants_write()));
}

ssize_t Session::write_outbound(int fd, Outbound& out) {
    iovec iov[4];
    size_t total = 0;
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = static_cast<size_t>(out.pieces(iov, total));
    ssize_t n;
    do {
        n = ::sendmsg(fd, &message, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    bool& writable = (fd == fd_) ? client_writable_ : upstream_->writable;
    if (n < 0) {
        if (errno == EAGAIN) writable = false;
        return n;
    }
    if (static_cast<size_t>(n) < total) writable = false;  // the socket buffer is full; EPOLLOUT will say when not
    out.advance(static_cast<size_t>(n));
    return n;
}

// ---- timers -------------------------------------------------------------------------------------------------

void Session::update_timers() {
    const SessionTimers& timers = worker_.timers();
    switch (phase_) {
        case Phase::Head:
            if (client_output_pending() && !client_writable_) {
                // The end of the last response is still on its way (TLS: ciphertext after the plaintext was taken).
                arm_client(ClientTimer::Send, timers.client_send, activity_);
            } else if (client_in_.empty() && !first_request_) {
                arm_client(ClientTimer::Idle, timers.client_idle, false);
            } else {
                arm_client(ClientTimer::Header, timers.client_header, false);
            }
            break;
        case Phase::Forward:
            if (client_output_pending() && !client_writable_) {
                arm_client(ClientTimer::Send, timers.client_send, activity_);
            } else if (!request_body_done_ && client_in_.size() == upstream_out_.pass_limit &&
                       upstream_out_.body.writable() > 2 * kChunkOverhead) {
                arm_client(ClientTimer::Body, timers.client_body, activity_);
            } else {
                arm_client(ClientTimer::None, nullptr, false);
            }
            break;
        case Phase::Tunnel:
            arm_client(ClientTimer::Tunnel, timers.tunnel_idle, activity_ || upstream_activity_);
            break;
        case Phase::Linger:
            // The linger clock starts once everything (TLS: the last records, close_notify, the FIN) is out.
            if (client_output_pending()) {
                arm_client(ClientTimer::Send, timers.client_send, activity_);
            } else {
                arm_client(ClientTimer::Linger, timers.linger, false);
            }
            break;
    }
}

void Session::arm_client(ClientTimer kind, net::TimerQueue* queue, bool rearm) {
    if (kind == ClientTimer::None) {
        client_timer_.cancel();
        client_timer_kind_ = kind;
        return;
    }
    if (kind != client_timer_kind_ || rearm || !client_timer_.armed()) {
        worker_.loop().arm(client_timer_, *queue);
        client_timer_kind_ = kind;
    }
}

void Session::arm_upstream(UpstreamTimer kind, net::TimerQueue& queue) {
    upstream_timer_kind_ = kind;
    worker_.loop().arm(upstream_->timer(), queue);
}

// ---- endings ------------------------------------------------------------------------------------------------

void Session::start_linger() {
    phase_ = Phase::Linger;
    release_upstream(false);
    client_in_.clear();
    shut_client_write();
    if (closed_) return;
    arm_client(ClientTimer::Linger, worker_.timers().linger, true);
}

size_t Session::listener_index() const {
    return static_cast<size_t>(&listener_ - worker_.config().listeners.data());
}

bool Session::idle() const {
    return phase_ == Phase::Head && client_in_.empty() && client_out_.empty() && (!transport_ || transport_->idle());
}

void Session::begin_drain() {
    if (worker_.handing_over()) {
        if (idle()) hand_over();  // a busy one follows after its response (finish_request)
    } else if (idle()) {
        close();
    } else {
        keep_alive_ = false;
    }
}

void Session::hand_over() {
    if (closed_) return;
    closed_ = true;
    client_timer_.cancel();
    worker_.loop().remove(fd_);
    if (scheduled_) worker_.loop().unschedule(*this);
    worker_.session_closed(*this);
    worker_.loop().retire(this);
    if (transport_) transport_->release_buffers();  // this worker's blocks stay with this worker
    HandedOver connection{fd_, std::move(client_ip_), listener_index(), std::move(transport_)};
    if (worker_.handoff() == nullptr || !worker_.handoff()->pass(connection)) ::close(fd_);
}

void Session::reset_request() {
    chain_.reset();
    filtered_.reset();
    client_out_.reset();
    upstream_out_.reset();
    upstream_in_.clear();
    response_state_ = ResponseState::WaitHead;
    client_framing_ = ClientFraming::None;
    status_ = 0;
    body_bytes_sent_ = 0;
    request_body_done_ = true;
    request_remaining_ = 0;
    response_remaining_ = 0;
    response_truncated_ = false;
    request_sent_ = false;
    upstream_eof_ = false;
    upstream_error_ = false;
    route_ = nullptr;
    pool_ = nullptr;
    tried_count_ = 0;
    attempts_ = 0;
    stale_retries_ = 0;
    hash_key_.clear();
    // Idle keep-alive connections hold no buffer memory.
    client_out_.body.release_if_empty();
    upstream_out_.body.release_if_empty();
    upstream_in_.release_if_empty();
    client_in_.release_if_empty();
}

void Session::log_access() {
    if (logged_) return;
    logged_ = true;
    AccessLog& log = worker_.access_log();
    if (!log.enabled()) return;
    std::string_view fields[4];
    std::string_view rest = log_fields_;
    for (auto& field : fields) {
        size_t end = rest.find('\0');
        field = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
    }
    AccessRecord record;
    record.client_ip = client_ip_;
    record.method = fields[0].empty() ? std::string_view("-") : fields[0];
    record.target = fields[1].empty() ? std::string_view("-") : fields[1];
    record.protocol = version_ == http::Version::Http10 ? "HTTP/1.0" : "HTTP/1.1";
    record.status = status_;
    record.bytes_sent = body_bytes_sent_;
    record.referer = fields[2];
    record.user_agent = fields[3];
    record.request_id = request_id_;
    record.upstream = pool_ ? std::string_view(pool_->upstream().name) : std::string_view();
    record.duration_us = (worker_.loop().now_ms() - request_start_ms_) * 1000;
    log.write(record);
}

void Session::close() {
    if (closed_) return;
    if (phase_ == Phase::Forward && !logged_) {
        if (status_ == 0) status_ = 499;  // the client left before the response (nginx's convention)
        log_access();
    }
    closed_ = true;
    release_upstream(false);
    end_chain(PORTICO_DONE_RESET);
    client_timer_.cancel();
    worker_.loop().remove(fd_);
    if (transport_) transport_->flush_now(fd_);  // an alert, a close_notify: best effort
    ::close(fd_);
    if (scheduled_) worker_.loop().unschedule(*this);
    worker_.session_closed(*this);
    worker_.loop().retire(this);
}

}  // namespace portico::proxy
