#include "connection.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <cstddef>
#include <new>

#include "context.h"

namespace portico::tls {

namespace {

constexpr size_t kReadChunk = 16 * 1024;  // one record's plaintext: SSL_read never returns more

bool is_ip_address(const std::string& name) {
    unsigned char buffer[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, name.c_str(), buffer) == 1 || inet_pton(AF_INET6, name.c_str(), buffer) == 1;
}

portico_view view_of(const std::string& s) {
    return portico_view{s.data(), s.size()};
}

portico_view view_of(const char* s) {
    return s != nullptr ? portico_view{s, std::char_traits<char>::length(s)} : portico_view{nullptr, 0};
}

}  // namespace

// A source/sink BIO whose bytes are the host's: reads take from the current on_input's input, writes go into
// emit_reserve memory. "Retry" means: no input left, or no room at the host (the record waits inside OpenSSL).
struct HostBio {
    static BIO_METHOD* method() {
        static BIO_METHOD* const made = [] {
            BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "portico host");
            if (m != nullptr && (BIO_meth_set_write(m, write) != 1 || BIO_meth_set_read(m, read) != 1 ||
                                 BIO_meth_set_ctrl(m, ctrl) != 1 || BIO_meth_set_create(m, create) != 1)) {
                BIO_meth_free(m);
                m = nullptr;
            }
            return m;  // one per process, never freed
        }();
        return made;
    }
    static int create(BIO* b) {
        BIO_set_init(b, 1);
        return 1;
    }
    static int read(BIO* b, char* out, int len) {
        BIO_clear_retry_flags(b);
        const int n = static_cast<Connection*>(BIO_get_data(b))->bio_read(out, len);
        if (n < 0) BIO_set_retry_read(b);
        return n;
    }
    static int write(BIO* b, const char* in, int len) {
        BIO_clear_retry_flags(b);
        const int n = static_cast<Connection*>(BIO_get_data(b))->bio_write(in, len);
        if (n < 0) BIO_set_retry_write(b);
        return n;
    }
    static long ctrl(BIO*, int cmd, long, void*) {
        return cmd == BIO_CTRL_FLUSH || cmd == BIO_CTRL_DUP ? 1 : 0;  // nothing is buffered here
    }
};

Connection::Connection(TlsConfig& config, portico_conn* conn, bool server)
    : config_(config), transport_(config.host->transport), conn_(conn), server_(server) {}

Connection::~Connection() {
    if (ssl_ != nullptr && handshake_done_ && !failed_) {
        // Freed without a close_notify from us (the peer closed, the host gave up on an idle connection): mark it
        // shut down quietly, or OpenSSL would treat the session as bad and never resume it.
        SSL_set_quiet_shutdown(ssl_, 1);
        SSL_shutdown(ssl_);
        ERR_clear_error();
    }
    SSL_free(ssl_);  // and its BIO
}

Connection* Connection::make(TlsConfig& config, portico_conn* conn, portico_role role,
                             const portico_conn_params* params) {
    const bool server = role == PORTICO_ROLE_SERVER;
    if (role != PORTICO_ROLE_SERVER && role != PORTICO_ROLE_CLIENT) return nullptr;
    if (server != config.server) {
        log_line(config.host, PORTICO_LOG_ERROR,
                 server ? "a tls table without 'certificates' (an upstream's) was used on a listener"
                        : "a tls table with 'certificates' (a listener's) was used for an upstream");
        return nullptr;
    }
    if (config.host->transport == nullptr) return nullptr;
    std::unique_ptr<Connection> c(new (std::nothrow) Connection(config, conn, server));
    if (!c) return nullptr;
    SSL_CTX* ctx = server ? config.server_side.groups[0].ctx.get() : config.client_side.ctx.get();
    c->ssl_ = SSL_new(ctx);
    BIO* bio = c->ssl_ != nullptr && HostBio::method() != nullptr ? BIO_new(HostBio::method()) : nullptr;
    if (bio == nullptr) {
        log_line(config.host, PORTICO_LOG_ERROR, "cannot make a TLS connection: " + openssl_errors());
        return nullptr;
    }
    BIO_set_data(bio, c.get());
    SSL_set_bio(c->ssl_, bio, bio);  // one BIO both ways: the SSL owns it
    SSL_set_app_data(c->ssl_, c.get());
    if (server) {
        SSL_set_accept_state(c->ssl_);
        return c.release();
    }

    SSL_set_connect_state(c->ssl_);
    portico_view sni{};
    portico_view alpn{};
    if (params != nullptr && PORTICO_HAS(params, portico_conn_params, sni)) sni = params->sni;
    if (params != nullptr && PORTICO_HAS(params, portico_conn_params, alpn)) alpn = params->alpn;
    const ClientSide& client = config.client_side;
    c->server_name_ = !client.sni.empty() ? client.sni : std::string(sni.data != nullptr ? sni.data : "", sni.len);
    bool ok = true;
    if (!c->server_name_.empty()) {
        if (is_ip_address(c->server_name_)) {
            // RFC 6066: no SNI for an address; verify it against the certificate's IP SANs.
            if (client.verify)
                ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl_), c->server_name_.c_str()) == 1;
        } else {
            ok = SSL_set_tlsext_host_name(c->ssl_, c->server_name_.c_str()) == 1;
            if (ok && client.verify) {
                SSL_set_hostflags(c->ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
                ok = SSL_set1_host(c->ssl_, c->server_name_.c_str()) == 1;
            }
        }
    }
    const std::string& wire = config.protocol.alpn_wire;
    if (ok && alpn.len > 0) {
        ok = SSL_set_alpn_protos(c->ssl_, reinterpret_cast<const unsigned char*>(alpn.data),
                                 static_cast<unsigned int>(alpn.len)) == 0;
    } else if (ok && !wire.empty()) {
        ok = SSL_set_alpn_protos(c->ssl_, reinterpret_cast<const unsigned char*>(wire.data()),
                                 static_cast<unsigned int>(wire.size())) == 0;
    }
    if (!ok) {
        log_line(config.host, PORTICO_LOG_ERROR,
                 "cannot set up a TLS connection to '" + c->server_name_ + "': " + openssl_errors());
        return nullptr;
    }
    if (client.session_reuse && !c->server_name_.empty()) {
        ClientSide& shared = config.client_side;
        std::lock_guard<std::mutex> lock(shared.mutex);
        auto it = shared.sessions.find(c->server_name_);
        if (it != shared.sessions.end()) SSL_set_session(c->ssl_, it->second);
    }
    return c.release();
}

int Connection::bio_read(char* out, int len) {
    if (input_used_ >= input_len_ || len <= 0) return -1;  // the peer's EOF is judged after the loop, not here
    const size_t n = std::min(static_cast<size_t>(len), input_len_ - input_used_);
    std::memcpy(out, input_ + input_used_, n);
    input_used_ += n;
    return static_cast<int>(n);
}

int Connection::bio_write(const char* in, int len) {
    if (len <= 0) return 0;
    portico_mut_view out{};
    if (conn_ == nullptr || transport_->emit_reserve(conn_, static_cast<size_t>(len), &out) != PORTICO_OK ||
        out.data == nullptr || out.len == 0) {
        emit_refused_ = true;
        return -1;
    }
    const size_t n = std::min(out.len, static_cast<size_t>(len));
    std::memcpy(out.data, in, n);
    transport_->emit_commit(conn_, n);
    return static_cast<int>(n);
}

int Connection::handshake_step() {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    if (r == 1) return 1;
    const int e = SSL_get_error(ssl_, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

void Connection::on_handshake_done() {
    handshake_done_ = true;
    if (server_) {
        const char* name = SSL_get_servername(ssl_, TLSEXT_NAMETYPE_host_name);
        if (name != nullptr) server_name_ = name;
    }
    if (X509* peer = SSL_get0_peer_certificate(ssl_)) {
        BIO* bio = BIO_new(BIO_s_mem());
        if (bio != nullptr && X509_NAME_print_ex(bio, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253) >= 0) {
            char* data = nullptr;
            const long len = BIO_get_mem_data(bio, &data);
            peer_subject_.assign(data, static_cast<size_t>(len));
        }
        BIO_free(bio);
    }
    if (!server_ && config_.client_side.session_reuse && SSL_session_reused(ssl_) == 1 &&
        SSL_version(ssl_) < TLS1_3_VERSION) {
        // A TLS 1.2 resumption that renewed the ticket replaced the session without telling the new-session
        // callback, and OpenSSL marked the old one unusable: remember the new one.
        if (SSL_SESSION* session = SSL_get1_session(ssl_); remember_client_session(ssl_, session) != 1)
            SSL_SESSION_free(session);
    }
    if (config_.handshakes != nullptr) config_.host->core->metric_add(config_.handshakes, 1);
    if (config_.resumptions != nullptr && SSL_session_reused(ssl_) == 1)
        config_.host->core->metric_add(config_.resumptions, 1);
    transport_->handshake_done(conn_);
}

void Connection::log_failure() const {
    const portico_host_api* host = config_.host;
    if (config_.failures != nullptr) host->core->metric_add(config_.failures, 1);
    if (host->core == nullptr || host->core->log_enabled == nullptr ||
        !host->core->log_enabled(host->plugin, PORTICO_LOG_DEBUG))
        return;  // nothing built for a line nobody reads
    portico_view peer{};
    std::string who = "?";
    if (transport_->peer_address != nullptr && transport_->peer_address(conn_, &peer) == PORTICO_OK &&
        peer.data != nullptr)
        who.assign(peer.data, peer.len);
    log_line(host, PORTICO_LOG_DEBUG, "TLS with " + who + " failed: " + error_);
}

portico_io Connection::fail(const char* what, int) {
    failed_ = true;
    error_ = std::string(what) + ": " + openssl_errors();
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) error_ += std::string(" (certificate: ") + X509_verify_cert_error_string(verify) + ")";
    log_failure();  // the alert went out through the BIO already (if the host had room)
    return PORTICO_IO_ERROR;
}

portico_io Connection::on_input(const char* data, size_t len, size_t* consumed, bool peer_eof) {
    *consumed = 0;
    if (failed_) return PORTICO_IO_ERROR;
    input_ = data;
    input_len_ = data != nullptr ? len : 0;
    input_used_ = 0;
    const portico_io io = read_input();
    *consumed = input_used_;
    const bool all_used = input_used_ == input_len_;
    input_ = nullptr;
    input_len_ = input_used_ = 0;
    if (io != PORTICO_IO_WANT_INPUT) return io;
    if (peer_eof && all_used) {
        if (!handshake_done_) {
            failed_ = true;
            error_ = "the peer closed the connection during the handshake";
            log_failure();
            return PORTICO_IO_ERROR;
        }
        // Without close_notify: HTTP's framing tells whether a body was cut short; get_info's `error` says it
        // was not a clean close (a close-delimited body must not be taken as whole, RFC 9112 9.8).
        error_ = "the peer closed the connection without close_notify";
        return PORTICO_IO_CLOSE;
    }
    return all_used ? PORTICO_IO_WANT_INPUT : PORTICO_IO_OK;
}

portico_io Connection::read_input() {
    char plaintext[kReadChunk];
    for (;;) {
        if (!handshake_done_) {
            const int r = handshake_step();
            if (r < 0) return fail("handshake", r);
            if (r == 0) return PORTICO_IO_WANT_INPUT;  // more input, or room at the host (on_output(NULL, 0))
            on_handshake_done();
            continue;
        }
        ERR_clear_error();
        const int n = SSL_read(ssl_, plaintext, sizeof plaintext);
        if (n > 0) {
            const portico_status status = transport_->deliver(conn_, plaintext, static_cast<size_t>(n));
            if (status == PORTICO_E_BACKPRESSURE) return PORTICO_IO_OK;  // taken; read on at the next on_input
            if (status == PORTICO_E_CLOSED) return PORTICO_IO_CLOSE;
            if (status != PORTICO_OK) {
                failed_ = true;
                error_ = "the host refused decrypted bytes";
                return PORTICO_IO_ERROR;
            }
            continue;
        }
        const int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) return PORTICO_IO_WANT_INPUT;
        if (e == SSL_ERROR_ZERO_RETURN) {
            // close_notify. TLS 1.2 wants ours at once (RFC 5246 7.2.1); TLS 1.3 closes one direction only (RFC 8446
            // 6.1): the peer may still read our response, and ours goes out with on_shutdown.
            if (SSL_version(ssl_) < TLS1_3_VERSION) SSL_shutdown(ssl_);
            ERR_clear_error();
            return PORTICO_IO_CLOSE;
        }
        return fail("read", n);
    }
}

portico_io Connection::on_output(const char* data, size_t len, size_t* consumed) {
    *consumed = 0;
    if (failed_) return PORTICO_IO_ERROR;
    emit_refused_ = false;
    if (!handshake_done_) {
        // The client speaks first: the host's first on_output (possibly empty) sends the ClientHello. A handshake
        // flight the host had no room for goes on here too.
        const int r = handshake_step();
        if (r < 0) return fail("handshake", r);
        if (r == 0) return PORTICO_IO_WANT_INPUT;
        on_handshake_done();
    }
    if (shutdown_pending_) {
        ERR_clear_error();
        const int r = SSL_shutdown(ssl_);
        if (r >= 0 || SSL_get_error(ssl_, r) != SSL_ERROR_WANT_WRITE) shutdown_pending_ = false;
        ERR_clear_error();
        return PORTICO_IO_OK;
    }
    // A record OpenSSL could not hand over waits inside it: the host offers the same bytes again (moving buffer
    // allowed), and the next SSL_write finishes it first.
    size_t offset = 0;
    while (offset < len && data != nullptr) {
        ERR_clear_error();
        const int n = SSL_write(ssl_, data + offset, static_cast<int>(std::min(len - offset, kReadChunk)));
        if (n > 0) {
            offset += static_cast<size_t>(n);
            continue;
        }
        const int e = SSL_get_error(ssl_, n);
        if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) break;
        *consumed = offset;
        return fail("write", n);
    }
    *consumed = offset;
    return PORTICO_IO_OK;
}

portico_io Connection::on_shutdown() {
    if (!failed_ && handshake_done_) {
        ERR_clear_error();
        emit_refused_ = false;
        const int r = SSL_shutdown(ssl_);
        if (r < 0 && emit_refused_) shutdown_pending_ = true;  // sent by a later on_output
        ERR_clear_error();
    }
    return PORTICO_IO_CLOSE;
}

portico_status Connection::get_info(portico_transport_info* out) const {
    if (out == nullptr || out->struct_size < offsetof(portico_transport_info, sni)) return PORTICO_E_BAD_ARG;
#define PORTICO_TLS_PUT(field, value) \
    if (PORTICO_HAS(out, portico_transport_info, field)) out->field = (value)
    PORTICO_TLS_PUT(error, view_of(error_));
    if (!handshake_done_) {
        PORTICO_TLS_PUT(sni, view_of(server_name_));
        return PORTICO_OK;
    }
    const unsigned char* alpn = nullptr;
    unsigned int alpn_len = 0;
    SSL_get0_alpn_selected(ssl_, &alpn, &alpn_len);
    PORTICO_TLS_PUT(sni, view_of(server_name_));
    PORTICO_TLS_PUT(alpn, (portico_view{reinterpret_cast<const char*>(alpn), alpn_len}));
    PORTICO_TLS_PUT(version, view_of(SSL_get_version(ssl_)));
    PORTICO_TLS_PUT(cipher, view_of(SSL_get_cipher_name(ssl_)));
    PORTICO_TLS_PUT(peer_subject, view_of(peer_subject_));
    PORTICO_TLS_PUT(resumed, SSL_session_reused(ssl_) == 1);
#undef PORTICO_TLS_PUT
    return PORTICO_OK;
}

}  // namespace portico::tls
