// Building the SSL_CTXs of a configuration, and the OpenSSL callbacks they carry (SNI, ALPN, OCSP stapling,
// session tickets, client-side session reuse). config.cc reads the keys into the specs below; this file turns them
// into contexts and reports a bad file at its key with the file's name and OpenSSL's reason.
#pragma once

#include <portico/abi.h>

#include <string>
#include <vector>

#include "config.h"

namespace portico::tls {

// One `certificates` entry, as read.
struct CertificateSpec {
    const portico_config* table = nullptr;  // where its errors are reported
    std::string cert;                       // `cert`: PEM, the leaf first, then its chain
    std::string key;                        // `key`: PEM (unencrypted)
    std::string ocsp;                       // `ocsp`: a DER OCSP response to staple, optional
    std::vector<std::string> names;         // `names`: replaces the certificate's own SAN/CN names
};

struct ServerSpec {
    std::vector<CertificateSpec> certificates;
    bool session_tickets = true;
    uint64_t ticket_rotation_ms = kDefaultTicketRotationMs;
    int64_t session_cache = kDefaultSessionCache;
    uint64_t session_timeout_ms = kDefaultSessionTimeoutMs;
    std::string client_ca;
    VerifyClient verify_client = VerifyClient::Off;
};

struct ClientSpec {
    std::string ca;    // `ca`: PEM bundle; empty: the system's default store
    std::string cert;  // `cert` / `key`: a client certificate, optional
    std::string key;
    uint64_t session_timeout_ms = kDefaultSessionTimeoutMs;
};

// Builds out.server_side (out.protocol already read). Errors go to `cfg` (or the entry's table) at the key.
portico_status build_server(const portico_host_api* host, GlobalState* global, const portico_config* cfg,
                            const ServerSpec& spec, TlsConfig& out);
portico_status build_client(const portico_host_api* host, const portico_config* cfg, const ClientSpec& spec,
                            TlsConfig& out);

// Keeps `session` (taking the reference, returns 1) as the one to resume for the connection's server name.
int remember_client_session(SSL* ssl, SSL_SESSION* session);

// OpenSSL's error queue as text ("error:80000002:system library::No such file or directory; ..."), emptied.
std::string openssl_errors();

// Logs a line through host->core->log when that level is enabled.
void log_line(const portico_host_api* host, portico_log_level level, const std::string& line);

}  // namespace portico::tls
