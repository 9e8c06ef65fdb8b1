// One connection's transport (TLS) between a host-owned socket and HTTP. Ciphertext read from the socket collects in
// wire_in_ and goes to the plugin's on_input; the plaintext it delivers goes into the caller's buffer, and what does
// not fit waits in overflow_ (one record at most: the plugin is told to hold back). Plaintext to send goes through
// on_output, and the ciphertext it emits collects in wire_out_ on its way to the socket.
//
// The wire buffers come from the worker's buffer pool and go back whenever they are empty, so an idle keep-alive
// connection holds none and can move to another worker at a reload (rebind). The plugin's config stays alive as
// long as a connection made from it (the instance is shared), so a connection carried across a reload keeps the
// certificates it was accepted with.
#pragma once

#include <portico/abi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/buffer.h"
#include "net/outbound.h"
#include "plugins/plugin_set.h"

// The ABI's opaque handle: a TransportConn is one.
struct portico_conn {};

namespace portico::plugins {

// What the handshake settled, copied when it finished (filters read it as PORTICO_ATTR_TLS_*).
struct TransportInfo {
    std::string sni, alpn, version, cipher, peer_subject;
    bool resumed = false;
};

class TransportConn final : public portico_conn {
public:
    enum class Result : uint8_t {
        Idle,      // nothing moved
        Progress,  // bytes moved (either side of the plugin)
        Closed,    // the peer closed (closed_cleanly() says how); what was delivered before stays delivered
        Failed,    // the transport failed (handshake, bad record, socket error): error() says why
    };

    // `worker` indexes the instance's worker states (past the end: none, e.g. the health-check thread). `sni` is
    // the server name to send and verify (CLIENT role). Null when the plugin made no connection (it logged why).
    static std::unique_ptr<TransportConn> make(std::shared_ptr<const TransportInstance> instance, unsigned worker,
                                               portico_role role, std::string_view sni, std::string peer,
                                               net::BufferPool& buffers);
    ~TransportConn();
    TransportConn(const TransportConn&) = delete;
    TransportConn& operator=(const TransportConn&) = delete;

    // Reads what the socket has (once) and runs it through the plugin into `plain`. `readable` is the socket's
    // edge-triggered readiness, cleared when it is drained; `hangup` as epoll reported it.
    Result read(int fd, bool& readable, bool hangup, net::Buffer& plain);
    // Sends pending ciphertext, then encrypts and sends `out`'s bytes until the socket or the plugin blocks.
    Result write(int fd, net::Outbound& out, bool& writable);
    // The end of our direction: close_notify (unless `notify` is false: a cut the peer must not take for a clean
    // end), then a FIN once every byte before it is out (write()).
    void shutdown_write(bool notify = true);
    // Before a close: one non-blocking attempt to send what is pending (an alert, a close_notify).
    void flush_now(int fd);

    // read() has something to do though the socket is not readable: plaintext waits for room.
    bool wants_read() const { return !overflow_.empty() || paused_; }
    // write() has something to do though the Outbound is empty.
    bool wants_write() const { return !wire_out_.empty() || need_output_ || (fin_pending_ && !fin_sent_); }
    // Nothing buffered anywhere and the handshake done: the connection may be pooled, or handed over.
    bool idle() const;
    // A handed-over idle connection: its (empty) buffers go back to the old worker's pool on the old worker's
    // thread (release_buffers), and it takes the new worker's (rebind) on the new one.
    void release_buffers();
    void rebind(net::BufferPool& buffers);

    bool handshake_done() const { return handshake_done_; }
    // After Closed: the peer said close_notify (false: only the TCP connection ended).
    bool closed_cleanly() const { return closed_cleanly_; }
    const TransportInfo& info() const { return info_; }
    // Why the transport failed, as the plugin says it ("handshake: ... certificate verify failed").
    const std::string& error() const { return error_; }
    // The failure was the plugin's own (it broke the ABI's contract), not the peer's: worth a warning.
    bool plugin_broke() const { return plugin_broke_; }
    const std::string& label() const { return instance_->label; }

private:
    friend struct TransportCalls;
    TransportConn(std::shared_ptr<const TransportInstance> instance, std::string peer, net::BufferPool& buffers);

    Result fail(std::string why);
    void note_plugin_error();

    // The host calls of portico_transport_api.
    portico_status deliver(const char* data, size_t len);
    portico_status reserve(portico_mut_view* out);
    portico_status commit(size_t n);
    portico_status on_handshake_done();

    std::shared_ptr<const TransportInstance> instance_;
    void* conn_ = nullptr;  // the plugin's
    std::string peer_;      // "192.0.2.1", for the plugin's log lines
    net::Buffer wire_in_;
    net::Buffer wire_out_;
    std::string overflow_;              // delivered plaintext that did not fit the caller's buffer
    net::Buffer* plain_ = nullptr;      // the caller's buffer, during on_input only
    size_t delivered_ = 0;              // bytes delivered during the current on_input
    bool paused_ = false;               // deliver said BACKPRESSURE: on_input is owed a call
    bool need_output_ = false;          // emit_reserve found wire_out_ full: on_output is owed a call
    bool fin_pending_ = false;          // shutdown_write was asked
    bool fin_sent_ = false;
    bool eof_ = false;                  // the socket said EOF
    bool peer_closed_ = false;
    bool failed_ = false;
    bool plugin_broke_ = false;         // the plugin broke the contract (delivered past backpressure)
    bool closed_cleanly_ = false;
    bool received_ = false;             // any byte came from the peer
    size_t reserved_ = 0;               // room handed out by the last emit_reserve
    bool handshake_done_ = false;
    TransportInfo info_;
    std::string error_;
};

// The portico_transport_api table the host gives every plugin.
const portico_transport_api* transport_api();

}  // namespace portico::plugins
