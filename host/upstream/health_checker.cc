#include "upstream/health_checker.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "http/response_parser.h"
#include "net/socket.h"

namespace portico::upstream {

// One endpoint's checks: connect, send the GET, read the response head, judge it; then wait for the next interval.
class HealthChecker::Probe final : public net::IoHandler, public net::TimerClient {
public:
    Probe(net::EventLoop& loop, UpstreamState& state, size_t endpoint)
        : loop_(loop),
          state_(state),
          endpoint_(endpoint),
          check_(state.config().health),
          interval_timers_(loop.timers(check_.interval)),
          timeout_timers_(loop.timers(check_.timeout)),
          interval_timer_(*this),
          timeout_timer_(*this),
          parser_(http::Limits{}) {
        const std::string& host = check_.host.empty() ? state.text(endpoint) : check_.host;
        down_ = state.endpoint(endpoint).checks_down.load(std::memory_order_relaxed);  // a reload keeps it
        request_ = "GET " + check_.path + " HTTP/1.1\r\nHost: " + host +
                   "\r\nUser-Agent: portico-health-check\r\nConnection: close\r\n\r\n";
    }
    ~Probe() { close_socket(); }

    void start_check() {
        fd_ = net::connect_nonblocking(state_.config().endpoints[endpoint_].address);
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
        if (fd_ < 0) return;
        loop_.remove(fd_);
        ::close(fd_);
        fd_ = -1;
    }

    net::EventLoop& loop_;
    UpstreamState& state_;
    size_t endpoint_;
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

HealthChecker::HealthChecker(UpstreamStates& upstreams) {
    for (auto& state : upstreams) {
        if (!state->config().health.enabled) continue;
        for (size_t i = 0; i < state->size(); ++i) probes_.push_back(std::make_unique<Probe>(loop_, *state, i));
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
