// One client connection and the requests on it, in order: read a head, route it, forward it to an upstream
// connection, stream the bodies both ways, and go back for the next request. A session is driven by readiness
// events of its two sockets; `drive()` moves bytes until nothing more can move, so each event costs one pass.
#pragma once

#include <sys/socket.h>

#include <memory>
#include <string>

#include "http/chunked_decoder.h"
#include "http/request_parser.h"
#include "http/response_parser.h"
#include "net/buffer.h"
#include "net/outbound.h"
#include "net/event_loop.h"
#include "net/timer.h"
#include "plugins/transport_conn.h"
#include "proxy/filter_chain.h"
#include "proxy/forward_headers.h"
#include "proxy/hash_key.h"
#include "upstream/pool.h"

namespace portico::proxy {

class Worker;

using net::Outbound;

class Session final : public net::IoHandler,
                      public net::TimerClient,
                      public net::Retirable,
                      public upstream::ConnectionUser,
                      public ChainOwner {
public:
    // A client connection on config.listeners[listener], through `transport` when the listener has one (TLS).
    // `first_request`: a new connection; false for one another worker handed over (a reload), idle between
    // requests.
    Session(Worker& worker, int fd, std::string client_ip, size_t listener,
            std::unique_ptr<plugins::TransportConn> transport, bool first_request);
    ~Session() override;

    void on_io(uint32_t events) override;
    void on_timeout(net::Timer& timer) override;
    void on_upstream_event(upstream::Connection& connection) override;
    void on_upstream_timeout(upstream::Connection& connection) override;
    void chain_wake() override;

    // Worker shutdown: close now if idle, otherwise after the current response. For a reload: idle connections
    // are handed over to the new generation now, busy ones after their response.
    void begin_drain();
    void close();

    Session* prev = nullptr;  // the worker's list
    Session* next = nullptr;

private:

    enum class Phase : uint8_t { Head, Forward, Tunnel, Linger };
    enum class ResponseState : uint8_t { WaitHead, Body, Done };
    enum class ClientTimer : uint8_t { None, Idle, Header, Body, Send, Tunnel, Linger };
    enum class UpstreamTimer : uint8_t { None, Connect, Response, Read };
    enum class RetryCause : uint8_t { ConnectFailure, Reset, Timeout, Status };

    void drive();
    bool step();

    // Reading a request head.
    bool step_head();
    void begin_request();
    bool reject_request(int status, const char* why);
    // A plain listener with redirect_https: every request gets a 308 to the same place over HTTPS.
    void redirect_to_https(const http::RequestHead& request);

    // Forwarding one request and its response.
    bool step_forward();
    void connect_upstream();
    void upstream_connected();
    void upstream_failed(bool connect_failure, const char* why, int final_status);
    // One attempt on one endpoint: counted active from begin to end, its outcome reported once to the shared
    // state (passive health) and the balancer.
    void begin_attempt(size_t endpoint);
    void report_attempt(portico_lb_outcome outcome, const char* why);
    void end_attempt();
    // The route's retry policy and the upstream's budget allow another attempt for this cause.
    bool may_retry(RetryCause cause);
    // Sends the request again, to the endpoint the balancer chooses next (a retryable request is only its head).
    void replay_request();
    // The request has a body (client's or filters'): it cannot be sent again.
    bool request_body_sent() const;
    net::TimerQueue& response_timers();
    bool pump_request_body();
    bool parse_response_head();
    void start_response_body();
    ResponseForwarding response_forwarding(ClientFraming framing, bool keep_alive) const;
    bool pump_response_body();
    void response_complete();
    void release_upstream(bool reusable);
    void finish_request();
    void close_after_response();
    // Leaves the worker without closing the socket, and passes it to the new generation (a reload).
    void hand_over();
    bool idle() const;
    size_t listener_index() const;
    // An error page, or the cut when the response has begun; filters get on_done(reason).
    void respond_error(int status, bool close_after, portico_done_reason reason = PORTICO_DONE_ERROR);

    // Routes with filters (session_filtered.cc): the same steps with a FilterChain between the two sides.
    void begin_filtered_request(const http::RequestHead& request, size_t route_index);
    bool step_filtered();
    bool feed_request_body();
    void write_filtered_upstream_head();
    bool encode_request_body();
    void start_filtered_response();
    bool feed_response_body();
    bool write_filtered_client_head();
    bool encode_response_body();
    bool filtered_failure();
    void end_chain(portico_done_reason reason);

    // The upgraded tunnel after 101.
    bool step_tunnel();

    // I/O.
    bool read_client();
    bool read_client_transport();
    bool flush_client();
    // Ends our direction of a socket after what is queued for it (TLS: close_notify first).
    void shut_client_write();
    void shut_upstream_write();
    // Bytes for the client (the upstream) wait, before or after the transport.
    bool client_output_pending() const;
    bool upstream_output_pending() const;
    // The upstream's transport failed: during the handshake a failed connect (retried elsewhere), after it a reset.
    void upstream_transport_failed();
    bool read_upstream();
    bool flush_upstream();
    ssize_t write_outbound(int fd, Outbound& out);

    void update_timers();
    void arm_client(ClientTimer kind, net::TimerQueue* queue, bool rearm);
    void arm_upstream(UpstreamTimer kind, net::TimerQueue& queue);
    void start_linger();
    void log_access();
    void reset_request();

    Worker& worker_;
    int fd_;
    const config::Listener& listener_;
    std::unique_ptr<plugins::TransportConn> transport_;  // null on plain listeners
    bool closed_ = false;
    bool scheduled_ = false;
    Phase phase_ = Phase::Head;

    // Client socket readiness (edge-triggered) and state.
    bool client_readable_ = false;
    bool client_writable_ = true;
    bool client_eof_ = false;
    bool client_hangup_ = false;  // epoll saw RDHUP/HUP: the peer closed, read until EOF
    bool activity_ = false;           // bytes moved on the client socket during this drive
    bool upstream_activity_ = false;  // bytes moved on the upstream socket during this drive
    bool first_request_ = true;       // nothing received yet: the header timeout runs, not the idle one
    bool logged_ = true;              // the current request has its access-log line
    bool client_shut_ = false;        // tunnel: we sent FIN to the client
    bool upstream_shut_ = false;      // tunnel: we sent FIN to the upstream
    bool keep_alive_ = true;      // the client connection stays open after this response
    ClientTimer client_timer_kind_ = ClientTimer::None;
    net::Timer client_timer_;

    net::Buffer client_in_;
    Outbound client_out_;
    net::Buffer upstream_in_;
    Outbound upstream_out_;

    // The current request.
    http::RequestParser request_parser_;
    http::Method method_ = http::Method::Get;
    http::Version version_ = http::Version::Http11;
    http::BodyKind request_body_ = http::BodyKind::None;
    bool request_keep_alive_ = true;
    bool upgrade_requested_ = false;
    bool request_body_done_ = true;
    uint64_t request_remaining_ = 0;
    uint64_t request_body_total_ = 0;  // decoded chunked bytes, for the route's max_body_size
    http::ChunkedDecoder request_chunks_;
    const config::Route* route_ = nullptr;
    upstream::Pool* pool_ = nullptr;
    std::string request_id_;
    int64_t request_start_ms_ = 0;

    // The upstream side of the current request.
    upstream::Connection* upstream_ = nullptr;
    UpstreamTimer upstream_timer_kind_ = UpstreamTimer::None;
    bool upstream_eof_ = false;
    bool upstream_error_ = false;
    bool request_sent_ = false;   // the whole request reached the upstream socket
    uint32_t tried_[10];          // as many as retry.attempts allows
    uint8_t tried_count_ = 0;
    uint8_t attempts_ = 0;        // counted against the route's retry.attempts
    uint8_t stale_retries_ = 0;   // pooled connections the origin had closed: not the endpoint's fault
    bool attempt_reported_ = false;
    bool attempt_added_tried_ = false;  // this attempt's endpoint was new to tried_
    bool retrying_ = false;       // holds a slot of the upstream's retry budget
    int attempt_endpoint_ = -1;   // the current attempt's endpoint, -1 between attempts
    uint64_t attempt_start_us_ = 0;
    int failure_status_ = 502;
    std::string hash_key_;        // for consistent-hashing balancers, when the upstream has a hash_key

    // The response.
    http::ResponseParser response_parser_;
    http::BodyKind response_body_ = http::BodyKind::None;
    ResponseState response_state_ = ResponseState::WaitHead;
    ClientFraming client_framing_ = ClientFraming::None;
    bool upstream_reusable_ = false;
    bool response_truncated_ = false;
    uint64_t response_remaining_ = 0;
    http::ChunkedDecoder response_chunks_;
    int status_ = 0;
    uint64_t body_bytes_sent_ = 0;

    // The filters of the current request, on routes that have any (null otherwise: the fast path), and the
    // session's state for them, allocated with them so that the fast path and idle connections do not carry it.
    std::unique_ptr<FilterChain> chain_;
    struct Filtered {
        std::string upstream_request_line;  // "GET /x HTTP/1.1\r\n", to write the head after the filters
        std::string request_trailers;       // chunked request trailers, passed on unchanged
        std::string response_trailers;
        bool upstream_requested = false;    // the filtered request head went to an upstream (or never will)
        bool continue_pending = false;      // Expect: 100-continue, answered when the filters pass the request
        bool request_out_done = false;      // the whole filtered request body went into upstream_out_
        bool client_head_written = false;   // the filtered response head went into client_out_
        bool client_body_done = false;      // ... and its whole body
        bool request_out_chunked = false;
        uint64_t request_out_declared = 0;  // Content-Length the filtered request (response) was sent with
        uint64_t request_out_sent = 0;
        uint64_t response_out_declared = 0;
        uint64_t response_out_sent = 0;
    };
    std::unique_ptr<Filtered> filtered_;

    // Kept for the access log only when it is on (the request head's views do not outlive forwarding).
    std::string log_fields_;
    std::string client_ip_;
    std::string host_;  // the client's Host, for rewriting Location
};

}  // namespace portico::proxy
