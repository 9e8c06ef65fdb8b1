#include "plugins/transport_conn.h"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/socket.h"

namespace portico::plugins {

namespace {

// A TLS record carries at most 16 KiB: small pieces (a head, a short body) are gathered into one record's worth,
// so a 1 KiB response is one record rather than three.
constexpr size_t kRecordSize = 16 * 1024;
// Plaintext a plugin may deliver past BACKPRESSURE before the host calls it broken (the tls plugin stops at once,
// after at most one record).
constexpr size_t kMaxOverflow = 64 * 1024;

std::string view_text(const portico_view& view) {
    return view.data != nullptr ? std::string(view.data, view.len) : std::string();
}

}  // namespace

// The C entry points: each finds its TransportConn behind the handle.
struct TransportCalls {
    static TransportConn* of(portico_conn* c) { return static_cast<TransportConn*>(c); }
    static portico_status deliver(portico_conn* c, const char* data, size_t len) {
        return c == nullptr ? PORTICO_E_BAD_ARG : of(c)->deliver(data, len);
    }
    static portico_status emit_reserve(portico_conn* c, size_t, portico_mut_view* out) {
        return c == nullptr || out == nullptr ? PORTICO_E_BAD_ARG : of(c)->reserve(out);
    }
    static portico_status emit_commit(portico_conn* c, size_t n) {
        return c == nullptr ? PORTICO_E_BAD_ARG : of(c)->commit(n);
    }
    static portico_status handshake_done(portico_conn* c) {
        return c == nullptr ? PORTICO_E_BAD_ARG : of(c)->on_handshake_done();
    }
    static portico_status peer_address(portico_conn* c, portico_view* out) {
        if (c == nullptr || out == nullptr) return PORTICO_E_BAD_ARG;
        out->data = of(c)->peer_.data();
        out->len = of(c)->peer_.size();
        return PORTICO_OK;
    }
};

const portico_transport_api* transport_api() {
    static const portico_transport_api table = [] {
        portico_transport_api t;
        PORTICO_INIT(&t);
        t.deliver = TransportCalls::deliver;
        t.emit_reserve = TransportCalls::emit_reserve;
        t.emit_commit = TransportCalls::emit_commit;
        t.handshake_done = TransportCalls::handshake_done;
        t.peer_address = TransportCalls::peer_address;
        return t;
    }();
    return &table;
}

TransportConn::TransportConn(std::shared_ptr<const TransportInstance> instance, std::string peer,
                             net::BufferPool& buffers)
    : instance_(std::move(instance)), peer_(std::move(peer)) {
    rebind(buffers);
}

std::unique_ptr<TransportConn> TransportConn::make(std::shared_ptr<const TransportInstance> instance,
                                                   unsigned worker, portico_role role, std::string_view sni,
                                                   std::string peer, net::BufferPool& buffers) {
    std::unique_ptr<TransportConn> conn(new TransportConn(std::move(instance), std::move(peer), buffers));
    const TransportInstance& in = *conn->instance_;
    portico_conn_params params;
    PORTICO_INIT(&params);
    params.sni = portico_view{sni.data(), sni.size()};
    void* state = worker < in.worker_state.size() ? in.worker_state[worker] : nullptr;
    conn->conn_ = in.ops->conn_new(in.config, state, conn.get(), role, &params);
    if (conn->conn_ == nullptr) return nullptr;
    return conn;
}

TransportConn::~TransportConn() {
    if (conn_ != nullptr && instance_->ops->conn_free != nullptr) instance_->ops->conn_free(conn_);
}

void TransportConn::release_buffers() {
    wire_in_.release_if_empty();
    wire_out_.release_if_empty();
}

void TransportConn::rebind(net::BufferPool& buffers) {
    wire_in_.attach(buffers);
    wire_out_.attach(buffers);
}

// A connection that never said anything counts as idle too: shutdown must not wait for it, and a reload may
// hand it over (its handshake has not begun).
bool TransportConn::idle() const {
    return (handshake_done_ || !received_) && !failed_ && !eof_ && !peer_closed_ && !fin_pending_ &&
           wire_in_.empty() && wire_out_.empty() && overflow_.empty() && !paused_ && !need_output_;
}

// ---- host calls ---------------------------------------------------------------------------------------------

portico_status TransportConn::deliver(const char* data, size_t len) {
    if (plain_ == nullptr) return PORTICO_E_WRONG_PHASE;  // only from inside on_input
    if (len == 0) return PORTICO_OK;
    if (data == nullptr) return PORTICO_E_BAD_ARG;
    delivered_ += len;
    size_t fits = overflow_.empty() ? std::min(len, plain_->writable()) : 0;
    if (fits > 0) {
        std::memcpy(plain_->write_ptr(), data, fits);
        plain_->commit(fits);
    }
    if (fits < len) {
        if (overflow_.size() + (len - fits) > kMaxOverflow) {
            error_ = "the plugin delivered past backpressure (more than 64 KiB)";
            plugin_broke_ = true;
            return PORTICO_E_LIMIT;
        }
        overflow_.append(data + fits, len - fits);
    }
    if (!overflow_.empty() || plain_->writable() == 0) {
        paused_ = true;
        return PORTICO_E_BACKPRESSURE;
    }
    return PORTICO_OK;
}

// Whatever room wire_out_ has, even less than asked: the plugin keeps the rest of a record and is called again
// (need_output_) once the socket took these bytes.
portico_status TransportConn::reserve(portico_mut_view* out) {
    size_t room = wire_out_.writable();
    if (room == 0) {
        need_output_ = true;
        out->data = nullptr;
        out->len = 0;
        return PORTICO_E_BACKPRESSURE;
    }
    out->data = wire_out_.write_ptr();
    out->len = room;
    reserved_ = room;
    return PORTICO_OK;
}

portico_status TransportConn::commit(size_t n) {
    if (n > reserved_) return PORTICO_E_BAD_ARG;  // never past what emit_reserve handed out
    reserved_ = 0;
    wire_out_.commit(n);
    return PORTICO_OK;
}

portico_status TransportConn::on_handshake_done() {
    handshake_done_ = true;
    if (instance_->ops->get_info == nullptr) return PORTICO_OK;
    portico_transport_info info;
    PORTICO_INIT(&info);
    if (instance_->ops->get_info(conn_, &info) != PORTICO_OK) return PORTICO_OK;
    info_.sni = view_text(info.sni);
    info_.alpn = view_text(info.alpn);
    info_.version = view_text(info.version);
    info_.cipher = view_text(info.cipher);
    info_.peer_subject = view_text(info.peer_subject);
    info_.resumed = info.resumed;
    return PORTICO_OK;
}

// ---- reading ------------------------------------------------------------------------------------------------

TransportConn::Result TransportConn::fail(std::string why) {
    failed_ = true;
    if (error_.empty()) error_ = std::move(why);
    return Result::Failed;
}

void TransportConn::note_plugin_error() {
    if (instance_->ops->get_info == nullptr) return;
    portico_transport_info info;
    PORTICO_INIT(&info);
    if (instance_->ops->get_info(conn_, &info) == PORTICO_OK && info.error.len > 0) error_ = view_text(info.error);
}

TransportConn::Result TransportConn::read(int fd, bool& readable, bool hangup, net::Buffer& plain) {
    if (failed_) return Result::Failed;
    if (peer_closed_) return Result::Closed;
    bool progress = false;
    if (!overflow_.empty()) {
        size_t n = std::min(plain.writable(), overflow_.size());
        if (n == 0) return Result::Idle;
        std::memcpy(plain.write_ptr(), overflow_.data(), n);
        plain.commit(n);
        overflow_.erase(0, n);
        if (!overflow_.empty()) return Result::Progress;
        progress = true;
    }
    if (readable && !eof_) {
        switch (net::receive(fd, wire_in_, readable, hangup)) {
            case net::Received::Data:
                received_ = true;
                progress = true;
                break;
            case net::Received::Eof:
                eof_ = true;
                progress = true;
                break;
            case net::Received::Error:
                return fail(std::string("read: ") + strerror(errno));
            default:
                break;
        }
    }
    if (paused_ && plain.writable() == 0) return progress ? Result::Progress : Result::Idle;
    if (wire_in_.empty() && !eof_ && !paused_) {
        wire_in_.release_if_empty();
        return progress ? Result::Progress : Result::Idle;
    }
    paused_ = false;
    plain_ = &plain;
    delivered_ = 0;
    size_t consumed = 0;
    portico_io io = instance_->ops->on_input(conn_, this, wire_in_.data(), wire_in_.size(), &consumed, eof_);
    plain_ = nullptr;
    wire_in_.consume(std::min(consumed, wire_in_.size()));
    wire_in_.release_if_empty();
    progress = progress || consumed > 0 || delivered_ > 0;
    if (io == PORTICO_IO_ERROR || plugin_broke_) {
        if (!plugin_broke_) note_plugin_error();
        return fail("the transport failed");
    }
    if (io == PORTICO_IO_CLOSE || (eof_ && wire_in_.empty() && !paused_)) {
        peer_closed_ = true;
        // The plugin names an unclean close in get_info's error (docs/plugin-abi.md).
        note_plugin_error();
        closed_cleanly_ = io == PORTICO_IO_CLOSE && error_.empty();
        return Result::Closed;
    }
    return progress ? Result::Progress : Result::Idle;
}

// ---- writing ------------------------------------------------------------------------------------------------

TransportConn::Result TransportConn::write(int fd, net::Outbound& out, bool& writable) {
    if (failed_) return Result::Failed;
    bool progress = false;
    for (;;) {
        if (!wire_out_.empty()) {
            if (!writable) break;
            ssize_t n;
            do {
                n = ::send(fd, wire_out_.data(), wire_out_.size(), MSG_NOSIGNAL);
            } while (n < 0 && errno == EINTR);
            if (n < 0) {
                if (errno == EAGAIN) {
                    writable = false;
                    break;
                }
                return fail(std::string("write: ") + strerror(errno));
            }
            wire_out_.consume(static_cast<size_t>(n));
            progress = true;
            if (!wire_out_.empty()) {
                writable = false;  // the socket buffer is full; EPOLLOUT will say when not
                break;
            }
            wire_out_.release_if_empty();
        }
        if (need_output_) {  // the rest of a record (or an alert) waited for room
            need_output_ = false;
            size_t none = 0;
            if (instance_->ops->on_output(conn_, this, nullptr, 0, &none) == PORTICO_IO_ERROR) {
                note_plugin_error();
                return fail("the transport failed");
            }
            if (!wire_out_.empty()) continue;
        }
        if (fin_pending_) {
            if (!fin_sent_ && wire_out_.empty()) {
                ::shutdown(fd, SHUT_WR);
                fin_sent_ = true;
                progress = true;
            }
            break;
        }
        iovec iov[4];
        size_t total = 0;
        int count = out.pieces(iov, total);
        if (count == 0) break;
        const char* data = static_cast<const char*>(iov[0].iov_base);
        size_t len = iov[0].iov_len;
        if (count > 1 && len < kRecordSize) {
            thread_local char gathered[kRecordSize];
            len = 0;
            for (int i = 0; i < count && len < kRecordSize; ++i) {
                size_t part = std::min(iov[i].iov_len, kRecordSize - len);
                std::memcpy(gathered + len, iov[i].iov_base, part);
                len += part;
            }
            data = gathered;
        }
        size_t consumed = 0;
        portico_io io = instance_->ops->on_output(conn_, this, data, len, &consumed);
        if (io == PORTICO_IO_ERROR) {
            note_plugin_error();
            return fail("the transport failed");
        }
        consumed = std::min(consumed, len);
        out.advance(consumed);
        progress = progress || consumed > 0;
        if (io == PORTICO_IO_CLOSE) fin_pending_ = true;
        if (consumed == 0 && wire_out_.empty() && !need_output_) break;  // the handshake waits for the peer
    }
    return progress ? Result::Progress : Result::Idle;
}

void TransportConn::shutdown_write(bool notify) {
    if (fin_pending_) return;
    fin_pending_ = true;
    if (notify && !failed_ && handshake_done_ && instance_->ops->on_shutdown != nullptr)
        instance_->ops->on_shutdown(conn_, this);
}

void TransportConn::flush_now(int fd) {
    if (need_output_ && !failed_) {
        need_output_ = false;
        size_t none = 0;
        instance_->ops->on_output(conn_, this, nullptr, 0, &none);
    }
    if (wire_out_.empty()) return;
    ssize_t n = ::send(fd, wire_out_.data(), wire_out_.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) wire_out_.consume(static_cast<size_t>(n));
}

}  // namespace portico::plugins
