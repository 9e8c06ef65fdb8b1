#include "upstream/pool.h"

#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "net/socket.h"

namespace portico::upstream {

Connection::Connection(Pool& pool, size_t endpoint, int fd, bool connecting)
    : pool_(pool), endpoint_(endpoint), fd_(fd), connecting_(connecting), timer_(*this) {
    pool_.loop_.add(fd_, *this, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
}

Connection::~Connection() { close(); }

void Connection::close() {
    if (closed_) return;
    closed_ = true;
    timer_.cancel();
    if (!user_) {
        pool_.forget_idle(*this);
        // An idle TLS connection ends cleanly (close_notify), so the origin can tell it from a cut.
        if (transport) {
            transport->shutdown_write();
            transport->flush_now(fd_);
        }
    }
    user_ = nullptr;
    pool_.loop_.remove(fd_);
    ::close(fd_);
    pool_.loop_.retire(this);
}

int Connection::finish_connect() {
    connecting_ = false;
    return net::socket_error(fd_);
}

void Connection::on_io(uint32_t events) {
    if (closed_) return;
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable = true;
    if (events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)) hangup = true;
    if (events & EPOLLOUT) writable = true;
    if (user_) {
        user_->on_upstream_event(*this);
    } else if (readable) {
        // An idle keep-alive connection has nothing to say: the origin closed it or misbehaves.
        close();
    }
}

void Connection::on_timeout(net::Timer&) {
    if (closed_) return;
    if (user_) {
        user_->on_upstream_timeout(*this);
    } else {
        close();  // idle too long
    }
}

Pool::Pool(net::EventLoop& loop, UpstreamState& state, config::Duration idle_timeout)
    : loop_(loop),
      state_(state),
      upstream_(state.config()),
      idle_timers_(&loop.timers(idle_timeout)),
      connect_timers_(&loop.timers(upstream_.connect_timeout)),
      response_timers_(&loop.timers(upstream_.response_timeout)),
      trim_timers_(&loop.timers(kTrimInterval)),
      trim_timer_(*this),
      idle_(upstream_.endpoints.size()) {}

Pool::~Pool() { close_idle(); }

bool Pool::start_balancer(const plugins::BalancerInstance* plugin, unsigned worker_index) {
    balancer_ = std::make_unique<Balancer>(state_, plugin, worker_index, net::monotonic_ms());
    return balancer_->ready();
}

void Pool::set_transport(std::shared_ptr<const plugins::TransportInstance> plugin, unsigned worker_index,
                         net::BufferPool& buffers) {
    transport_ = std::move(plugin);
    worker_index_ = worker_index;
    buffers_ = &buffers;
}

Connection* Pool::acquire(size_t endpoint, ConnectionUser& user) {
    auto& idle = idle_[endpoint];
    if (!idle.empty()) {
        Connection* connection = idle.back();
        idle.pop_back();
        connection->timer_.cancel();
        connection->user_ = &user;
        connection->writable = true;
        return connection;
    }
    std::unique_ptr<plugins::TransportConn> transport;
    if (transport_) {
        // The endpoint's address is the name verified unless the transport's config names one (an address is
        // checked against the certificate's IP SANs and sent as no SNI).
        const Poco::Net::SocketAddress& address = upstream_.endpoints[endpoint].address;
        transport = plugins::TransportConn::make(transport_, worker_index_, PORTICO_ROLE_CLIENT,
                                                 address.host().toString(), endpoint_text(endpoint), *buffers_);
        if (!transport) {
            errno = ENOMEM;  // the plugin logged why; a local failure, not the endpoint's
            return nullptr;
        }
    }
    int fd = net::connect_nonblocking(upstream_.endpoints[endpoint].address);
    if (fd < 0) return nullptr;
    auto* connection = new Connection(*this, endpoint, fd, true);
    connection->transport = std::move(transport);
    connection->user_ = &user;
    return connection;
}

void Pool::release(Connection& connection) {
    connection.user_ = nullptr;
    connection.timer_.cancel();
    ++connection.requests_;
    auto& idle = idle_[connection.endpoint_];
    if (connection.hangup || upstream_.keepalive == 0 || (connection.transport && !connection.transport->idle())) {
        connection.close();
        return;
    }
    connection.readable = false;
    connection.released_ms_ = loop_.now_ms();
    idle.push_back(&connection);
    loop_.arm(connection.timer_, *idle_timers_);
    if (idle.size() > upstream_.keepalive && !trim_timer_.armed()) loop_.arm(trim_timer_, *trim_timers_);
}

void Pool::on_timeout(net::Timer&) {
    int64_t unused_since = loop_.now_ms() - kTrimInterval.count();
    bool over_cap = false;
    for (auto& idle : idle_) {
        // Oldest first: the pool takes from the back, so the front is what traffic has not needed.
        auto end = idle.begin();
        while (idle.end() - end > static_cast<std::ptrdiff_t>(upstream_.keepalive) &&
               (*end)->released_ms_ <= unused_since) {
            ++end;
        }
        // Taken out of the list first, so that close() has nothing to forget.
        std::vector<Connection*> excess(idle.begin(), end);
        idle.erase(idle.begin(), end);
        for (Connection* connection : excess) connection->close();
        over_cap = over_cap || idle.size() > upstream_.keepalive;
    }
    if (over_cap) loop_.arm(trim_timer_, *trim_timers_);
}

void Pool::forget_idle(Connection& connection) {
    auto& idle = idle_[connection.endpoint_];
    auto it = std::find(idle.begin(), idle.end(), &connection);
    if (it != idle.end()) idle.erase(it);
}

void Pool::close_idle() {
    for (auto& idle : idle_) {
        while (!idle.empty()) idle.back()->close();
    }
}

}  // namespace portico::upstream
