// One TLS connection over memory: the host feeds ciphertext in (on_input) and plaintext out (on_output); the
// connection runs OpenSSL over a BIO pair and hands plaintext up (transport->deliver) and ciphertext down
// (transport->emit_reserve / emit_commit) straight into host memory. The BIO pair has fixed 17 KiB buffers each way
// (one full record), so a connection's memory is bounded and nothing is allocated per byte.
#pragma once

#include <openssl/ssl.h>
#include <portico/abi.h>

#include <string>

#include "config.h"

namespace portico::tls {

class Connection {
public:
    static constexpr size_t kBioBuffer = 17 * 1024;

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

    // Moves ciphertext OpenSSL wrote into the pair out to the host. False when the host refused memory.
    bool flush();
    // Runs the handshake as far as the bytes allow: 1 done, 0 wants more (input or room), -1 failed.
    int handshake_step();
    void on_handshake_done();
    portico_io fail(const char* what, int ssl_result);
    void log_failure() const;  // error_ at DEBUG, with the peer's address
    // Feeds input into the pair as far as it has room.
    void feed(const char* data, size_t len, size_t& offset);

    TlsConfig& config_;
    const portico_transport_api* transport_;
    portico_conn* conn_;
    const bool server_;
    SSL* ssl_ = nullptr;
    BIO* network_ = nullptr;  // our end of the pair; OpenSSL holds the other
    bool handshake_done_ = false;
    bool failed_ = false;
    std::string server_name_;
    std::string peer_subject_;
    std::string error_;
};

}  // namespace portico::tls
