#include "proxy/worker.h"

#include <ctime>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/socket.h"
#include "plugins/plugin_set.h"
#include "proxy/session.h"

namespace portico::proxy {

namespace {
// Lingering close: how long we keep draining a client's unread bytes after our last response (as nginx's
// lingering_time, shorter).
constexpr std::chrono::milliseconds kLingerTime{2000};
// After EMFILE/ENFILE, wait this long before accepting again instead of spinning on a full table.
constexpr std::chrono::milliseconds kAcceptRetry{100};
// Free buffer blocks a worker keeps for reuse; beyond this they go back to the allocator, so a burst of
// connections does not pin its peak memory.
constexpr size_t kMaxFreeBuffers = 256;
}  // namespace

// One listening socket of this worker.
class Worker::Acceptor final : public net::IoHandler, public net::TimerClient {
public:
    Acceptor(Worker& worker, int fd, size_t listener)
        : worker_(worker),
          fd_(fd),
          listener_(listener),
          transport_(worker.plugin_set_ ? worker.plugin_set_->listener_transport(listener) : nullptr),
          retry_(*this) {
        worker_.loop_.add(fd_, *this, EPOLLIN | EPOLLET);
    }
    ~Acceptor() { close(); }

    void on_io(uint32_t) override { accept_all(); }
    void on_timeout(net::Timer&) override { accept_all(); }

    void close() {
        if (fd_ < 0) return;
        retry_.cancel();
        worker_.loop_.remove(fd_);
        ::close(fd_);
        fd_ = -1;
    }

    void accept_all() {
        while (fd_ >= 0) {
            uint32_t limit = worker_.config_.limits.max_connections;
            if (limit != 0 && worker_.session_count_ >= limit) {
                worker_.accept_paused_ = true;  // resumed when a session closes
                return;
            }
            sockaddr_storage peer{};
            socklen_t length = sizeof peer;
            int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED) continue;
                if (errno == EAGAIN) return;
                worker_.log_.error(std::string("accept: ") + strerror(errno));
                if (net::is_local_resource_error(errno)) {
                    worker_.loop_.arm(retry_, worker_.loop_.timers(kAcceptRetry));
                }
                return;
            }
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            std::string ip = net::peer_ip(peer);
            std::unique_ptr<plugins::TransportConn> transport;
            if (transport_) {
                transport = plugins::TransportConn::make(transport_, worker_.index_, PORTICO_ROLE_SERVER, {}, ip,
                                                         worker_.buffers_);
                if (!transport) {  // the plugin logged why (out of memory, most likely)
                    ::close(fd);
                    continue;
                }
            }
            worker_.add_session(new Session(worker_, fd, std::move(ip), listener_, std::move(transport), true));
        }
    }

private:
    Worker& worker_;
    int fd_;
    size_t listener_;
    std::shared_ptr<const plugins::TransportInstance> transport_;  // null: plain TCP
    net::Timer retry_;
};

Worker::Worker(const config::Config& config, unsigned index, std::vector<int> listen_fds, AccessLog& access_log,
               upstream::UpstreamStates& upstreams, plugins::PluginSet* plugin_set)
    : config_(config),
      index_(index),
      plugin_set_(plugin_set),
      log_(Poco::Logger::get("portico")),
      buffers_(config.limits.buffer_size, kMaxFreeBuffers),
      router_(config.routes),
      access_log_(access_log),
      random_(std::random_device{}()) {
    const config::Timeouts& t = config.timeouts;
    timers_ =
        SessionTimers{&loop_.timers(t.client_header), &loop_.timers(t.client_body), &loop_.timers(t.client_idle),
                      &loop_.timers(t.client_send),   &loop_.timers(t.tunnel_idle), &loop_.timers(kLingerTime),
                      &loop_.timers(t.upstream_read), &loop_.timers(t.filter_pause)};
    for (const auto& route : config.routes) {
        auto per_try = route.retry.per_try_timeout;
        per_try_timers_.push_back(per_try.count() > 0 ? &loop_.timers(per_try) : nullptr);
    }
    for (size_t u = 0; u < upstreams.size(); ++u) {
        pools_.push_back(std::make_unique<upstream::Pool>(loop_, *upstreams[u], t.upstream_idle));
        if (plugin_set_ != nullptr) {
            if (auto transport = plugin_set_->upstream_transport(u))
                pools_.back()->set_transport(std::move(transport), index_, buffers_);
        }
    }
    for (size_t l = 0; l < listen_fds.size(); ++l)
        acceptors_.push_back(std::make_unique<Acceptor>(*this, listen_fds[l], l));
}

Worker::~Worker() {
    join();
    close_all();
}

void Worker::start() {
    thread_ = std::thread([this] { run(); });
}

void Worker::join() {
    if (thread_.joinable()) thread_.join();
}

void Worker::run() {
    // Plugins' per-worker state is made on the thread that will use it. A worker that cannot have it must not
    // serve short of a filter: it says so through ready(), and the main thread stops the start.
    std::vector<std::string> plugin_errors;
    bool ok = plugin_set_ == nullptr || plugin_set_->worker_init(index_, plugin_errors);
    for (const std::string& error : plugin_errors) log_.critical(error);
    for (size_t u = 0; ok && u < pools_.size(); ++u) {
        const plugins::BalancerInstance* balancer = plugin_set_ ? plugin_set_->upstream_balancer(u) : nullptr;
        if (!pools_[u]->start_balancer(balancer, index_)) {
            log_.critical("upstream " + pools_[u]->upstream().name + ": balancer " + balancer->label +
                          ": lb_new failed on worker " + std::to_string(index_));
            ok = false;
        }
    }
    ready_.set_value(ok);
    if (ok) {
        try {
            loop_.run();
        } catch (const std::exception& error) {
            log_.critical("worker " + std::to_string(index_) + ": " + error.what());
        }
    }
    close_all();
    // Connections a reload handed over while the loop was ending go on to the newest worker, or are closed.
    if (handoff_ != nullptr) handoff_->retire(this);
    draining_ = true;
    loop_.run_posted();
    for (auto& pool : pools_) pool->stop_balancer();
    if (plugin_set_ != nullptr) plugin_set_->worker_fini(index_);
    finished_ = true;
}

void Worker::drain(bool hand_over) {
    loop_.post([this, hand_over] { begin_drain(hand_over); });
}

void Worker::adopt(HandedOver connection) {
    // std::function needs a copyable task: the connection rides in a shared holder.
    auto held = std::make_shared<HandedOver>(std::move(connection));
    loop_.post([this, held] {
        // Draining too (another reload came): on to the newest, or closed when there is none.
        if (draining_ || finished_) {
            if (handoff_ == nullptr || !handoff_->pass(*held)) ::close(held->fd);
            return;
        }
        add_session(new Session(*this, held->fd, std::move(held->client_ip), held->listener,
                                std::move(held->transport), false));
    });
}

void Worker::add_session(Session* session) {
    session->next = sessions_;
    if (sessions_) sessions_->prev = session;
    sessions_ = session;
    ++session_count_;
}

void Worker::stop_now() {
    loop_.post([this] {
        close_all();
        loop_.stop();
    });
}

void Worker::begin_drain(bool hand_over) {
    draining_ = true;
    hand_over_ = hand_over && handoff_ != nullptr;
    for (auto& acceptor : acceptors_) acceptor->close();
    for (Session* session = sessions_; session;) {
        Session* next = session->next;  // begin_drain may close (and unlink) the session
        session->begin_drain();
        session = next;
    }
    for (auto& pool : pools_) pool->close_idle();
    if (session_count_ == 0) loop_.stop();
}

void Worker::close_all() {
    for (auto& acceptor : acceptors_) acceptor->close();
    while (sessions_) sessions_->close();
    for (auto& pool : pools_) pool->close_idle();
}

void Worker::session_closed(Session& session) {
    if (session.prev) {
        session.prev->next = session.next;
    } else {
        sessions_ = session.next;
    }
    if (session.next) session.next->prev = session.prev;
    session.prev = session.next = nullptr;
    --session_count_;
    if (accept_paused_ && !draining_) {
        accept_paused_ = false;
        for (auto& acceptor : acceptors_) acceptor->accept_all();
    }
    if (draining_ && session_count_ == 0) loop_.stop();
}

std::string_view Worker::http_date() {
    int64_t second = static_cast<int64_t>(::time(nullptr));
    if (second != date_second_) {
        date_second_ = second;
        format_http_date(second, date_text_);
    }
    return date_text_;
}

void Worker::next_request_id(char out[32]) {
    static const char kHex[] = "0123456789abcdef";
    uint64_t parts[2] = {random_(), random_()};
    for (int i = 0; i < 32; ++i) {
        out[i] = kHex[(parts[i / 16] >> ((i % 16) * 4)) & 15];
    }
}

}  // namespace portico::proxy
