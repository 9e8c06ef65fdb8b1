#include "upstream/health_checker.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "http/response_parser.h"
#include "net/socket.h"
#include "plugins/transport_conn.h"

namespace portico::upstream {

// One endpoint's checks: connect, send the GET, read the response head, judge it; then wait for the next interval.
// An upstream with a transport (TLS) is checked through it, as its traffic goes: a check passes only when the
// handshake does.
class HealthChecker::Probe final : public net::IoHandler, public net::TimerClient {
public:
    Probe(net::EventLoop& loop, UpstreamState& state, size_t endpoint,
          std::shared_ptr<const plugins::TransportInstance> transport, net::BufferPool& buffers)
        : loop_(loop),
          state_(state),
          endpoint_(endpoint),
          transport_(std::move(transport)),
          buffers_(buffers),
          check_(state.config().health),
          interval_timers_(loop.timers(check_.interval)),
          timeout_timers_(loop.timers(check_.timeout)),
          interval_timer_(*this),
          timeout_timer_(*this),
          parser_(http::Limits{}) {
        in_.attach(buffers_);
        out_.body.attach(buffers_);
        const std::string& host = check_.host.empty() ? state.text(endpoint) : check_.host;
        down_ = state.endpoint(endpoint).checks_down.load(std::memory_order_relaxed);  // a reload keeps it
        request_ = "GET " + check_.path + " HTTP/1.1\r\nHost: " + host +
                   "\r\nUser-Agent: portico-health-check\r\nConnection: close\r\n\r\n";
    }
    ~Probe() { close_socket(); }

    void start_check() {
        const Poco::Net::SocketAddress& address = state_.config().endpoints[endpoint_].address;
        if (transport_) {
            // No worker: the health thread has no worker state of the plugin's (the ABI says so).
            tls_ = plugins::TransportConn::make(transport_, ~0u, PORTICO_ROLE_CLIENT, address.host().toString(),
                                                state_.text(endpoint_), buffers_);
            if (!tls_) {
                finish(false, "the transport made no connection");
                return;
            }
            out_.reset();
            out_.head = request_;
            readable_ = hangup_ = writable_ = false;
        }
        fd_ = net::connect_nonblocking(address);
        if (fd_ < 0) {
            finish(false, std::strerror(errno));
            return;
        }
        connecting_ = true;
        sent_ = 0;
        received_ = 0;
        parser_.reset();
        loop_.add(fd_, *this, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
        loop_.arm(timeout_timer_, timeout_timers_);
    }

    void on_io(uint32_t events) override {
        if (fd_ < 0) return;
        if (connecting_) {
            if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
            int error = net::socket_error(fd_);
            if (error != 0) {
                finish(false, std::strerror(error));
                return;
            }
            connecting_ = false;
        }
        if (tls_) {
            exchange_tls(events);
            return;
        }
        if (sent_ < request_.size()) {
            ssize_t n = ::send(fd_, request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN) {
                finish(false, std::strerror(errno));
                return;
            }
            if (n > 0) sent_ += static_cast<size_t>(n);
            if (sent_ < request_.size()) return;
        }
        read_response();
    }

    void on_timeout(net::Timer& timer) override {
        if (&timer == &interval_timer_) {
            start_check();
        } else {
            finish(false, "timed out");
        }
    }

private:
    void exchange_tls(uint32_t events) {
        using Result = plugins::TransportConn::Result;
        if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable_ = true;
        if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) hangup_ = true;
        if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable_ = true;
        for (;;) {
            Result wrote = tls_->write(fd_, out_, writable_);
            Result got = wrote == Result::Failed ? Result::Failed : tls_->read(fd_, readable_, hangup_, in_);
            if (got == Result::Failed) {
                finish(false, "TLS: " + tls_->error());
                return;
            }
            // Into the head buffer, as the plain path reads: its size is the head limit.
            size_t n = std::min(in_.size(), buffer_.size() - received_);
            if (n > 0) {
                std::memcpy(buffer_.data() + received_, in_.data(), n);
                received_ += n;
                in_.consume(n);
            }
            if (judge()) return;
            if (received_ == buffer_.size()) {
                finish(false, "response head too large");
                return;
            }
            if (got == Result::Closed) {
                finish(false, "closed before a response");
                return;
            }
            if (wrote == Result::Idle && got == Result::Idle) return;
        }
    }

    void read_response() {
        for (;;) {
            if (received_ == buffer_.size()) {
                finish(false, "response head too large");
                return;
            }
            ssize_t n = ::recv(fd_, buffer_.data() + received_, buffer_.size() - received_, 0);
            if (n < 0) {
                if (errno != EAGAIN) finish(false, std::strerror(errno));
                return;
            }
            received_ += static_cast<size_t>(n);
            if (judge()) return;
            if (n == 0) {
                finish(false, "closed before a response");
                return;
            }
        }
    }

    // Parses what has arrived; true when the check is decided. Interim responses (1xx but 101) are skipped, and
    // what follows them in the buffer is parsed at once: no more bytes may come for it.
    bool judge() {
        for (;;) {
            http::ResponseHead head;
            auto status = parser_.parse(buffer_.data(), received_, http::Method::Get, head);
            if (status == http::ParseStatus::Incomplete) return false;
            if (status == http::ParseStatus::Error) {
                finish(false, "invalid response: " + std::string(parser_.error().reason));
                return true;
            }
            if (head.status < 200 && head.status != 101) {
                std::memmove(buffer_.data(), buffer_.data() + head.head_size, received_ - head.head_size);
                received_ -= head.head_size;
                parser_.reset();
                continue;
            }
            bool pass = static_cast<unsigned>(head.status) >= check_.status_min &&
                        static_cast<unsigned>(head.status) <= check_.status_max;
            finish(pass, "status " + std::to_string(head.status));
            return true;
        }
    }

    void finish(bool pass, const std::string& why) {
        close_socket();
        timeout_timer_.cancel();
        if (pass) {
            failures_ = 0;
            ++passes_;
            if (down_ && passes_ >= check_.rise) {
                down_ = false;
                state_.set_checked(endpoint_, true, std::to_string(passes_) + " passed checks", net::monotonic_ms());
            }
        } else {
            passes_ = 0;
            ++failures_;
            if (!down_ && failures_ >= check_.fall) {
                down_ = true;
                state_.set_checked(endpoint_, false, std::to_string(failures_) + " failed checks: " + why,
                                   net::monotonic_ms());
            }
        }
        loop_.arm(interval_timer_, interval_timers_);
    }

    void close_socket() {
        tls_.reset();
        in_.clear();
        in_.release_if_empty();
        if (fd_ < 0) return;
        loop_.remove(fd_);
        ::close(fd_);
        fd_ = -1;
    }

    net::EventLoop& loop_;
    UpstreamState& state_;
    size_t endpoint_;
    std::shared_ptr<const plugins::TransportInstance> transport_;  // null: plain
    net::BufferPool& buffers_;
    std::unique_ptr<plugins::TransportConn> tls_;  // the current check's, over a transport
    net::Outbound out_;
    net::Buffer in_;
    bool readable_ = false;
    bool hangup_ = false;
    bool writable_ = false;
    const config::HealthCheck& check_;
    net::TimerQueue& interval_timers_;
    net::TimerQueue& timeout_timers_;
    net::Timer interval_timer_;
    net::Timer timeout_timer_;
    http::ResponseParser parser_;
    std::string request_;
    std::array<char, 4096> buffer_;
    size_t received_ = 0;
    size_t sent_ = 0;
    int fd_ = -1;
    bool connecting_ = false;
    bool down_ = false;  // starts UP (unless a reload says otherwise): traffic flows until checks say otherwise
    unsigned passes_ = 0;
    unsigned failures_ = 0;
};

HealthChecker::HealthChecker(UpstreamStates& upstreams, const plugins::PluginSet* plugins) {
    for (size_t u = 0; u < upstreams.size(); ++u) {
        UpstreamState& state = *upstreams[u];
        if (!state.config().health.enabled) continue;
        auto transport = plugins != nullptr ? plugins->upstream_transport(u) : nullptr;
        for (size_t i = 0; i < state.size(); ++i)
            probes_.push_back(std::make_unique<Probe>(loop_, state, i, transport, buffers_));
    }
}

HealthChecker::~HealthChecker() { stop(); }

void HealthChecker::start() {
    if (probes_.empty()) return;
    // Posted, so that the checks start inside the loop, where its clock runs (timers are armed from it).
    loop_.post([this] {
        for (auto& probe : probes_) probe->start_check();
    });
    thread_ = std::thread([this] {
        loop_.run();
        probes_.clear();  // sockets closed on the loop's thread
    });
}

void HealthChecker::stop() {
    if (!thread_.joinable()) return;
    loop_.post([this] { loop_.stop(); });
    thread_.join();
}

}  // namespace portico::upstream
