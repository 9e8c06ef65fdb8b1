// One TLS connection over memory: the host feeds ciphertext in (on_input) and plaintext out (on_output); the
// connection runs OpenSSL over a BIO of our own that reads straight from the host's input and writes straight into
// the host's memory (transport->emit_reserve / emit_commit), and hands plaintext up (transport->deliver). No buffer
// of ours sits in between: OpenSSL's own record buffers (released while idle, SSL_MODE_RELEASE_BUFFERS) hold what
// a record needs, so an idle connection costs little more than its SSL object and nothing is allocated per byte.
#pragma once

#include <openssl/ssl.h>
#include <portico/abi.h>

#include <string>

#include "config.h"

namespace portico::tls {

class Connection {
public:
    // Null when OpenSSL cannot make the objects, or the role does not match the config's side (logged).
    static Connection* make(TlsConfig& config, portico_conn* conn, portico_role role,
                            const portico_conn_params* params);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    portico_io on_input(const char* data, size_t len, size_t* consumed, bool peer_eof);
    portico_io on_output(const char* data, size_t len, size_t* consumed);
    portico_io on_shutdown();
    portico_status get_info(portico_transport_info* out) const;

    // The name sent (client role) or received (server role); the client session cache's key.
    const std::string& server_name() const { return server_name_; }

private:
    Connection(TlsConfig& config, portico_conn* conn, bool server);

    // The BIO's ends: input from the current on_input call, output into the host's memory.
    friend struct HostBio;
    int bio_read(char* out, int len);
    int bio_write(const char* in, int len);

    // The handshake and the reads of one on_input over input_: WANT_INPUT when it ran out (or the host had no
    // room for what OpenSSL must send first), OK after backpressure, CLOSE or ERROR.
    portico_io read_input();
    // Runs the handshake as far as the bytes allow: 1 done, 0 wants more (input or room), -1 failed.
    int handshake_step();
    void on_handshake_done();
    portico_io fail(const char* what, int ssl_result);
    void log_failure() const;  // error_ at DEBUG, with the peer's address

    TlsConfig& config_;
    const portico_transport_api* transport_;
    portico_conn* conn_;
    const bool server_;
    SSL* ssl_ = nullptr;
    // The input of the current on_input call (none outside it) and how much of it OpenSSL took.
    const char* input_ = nullptr;
    size_t input_len_ = 0;
    size_t input_used_ = 0;
    bool emit_refused_ = false;  // the host had no room: a write waits inside OpenSSL
    bool shutdown_pending_ = false;  // close_notify could not go out yet
    bool handshake_done_ = false;
    bool failed_ = false;
    std::string server_name_;
    std::string peer_subject_;
    std::string error_;
};

}  // namespace portico::tls
