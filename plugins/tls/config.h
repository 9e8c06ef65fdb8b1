// The tls factory's configuration: one per `transport = { use = "tls", ... }` of a listener or an upstream, read
// once on the main thread and shared read-only by every worker's connections. Everything is built here (the
// SSL_CTXs with their certificates, CAs, ciphers, callbacks), so a reload, which calls config_new again, picks up
// new files, and a bad file stops `portico -t` with the file's name and OpenSSL's reason.
//
// Which side a table configures is read from it: a table with `certificates` is a listener's (SERVER role), one
// without is an upstream's (CLIENT role). Each side asks only for its own keys, so a client key in a listener's
// table (or the reverse) is an "unknown key" error from the host.
#pragma once

#include <openssl/ssl.h>
#include <portico/abi.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "ticket_keys.h"

namespace portico::tls {

struct SslCtxFree {
    void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;

struct X509Free {
    void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

enum class VerifyClient { Off, Optional, Require };

// Settings both roles share.
struct ProtocolSettings {
    int min_version = TLS1_2_VERSION;  // `min_version`
    int max_version = TLS1_3_VERSION;  // `max_version`
    std::string ciphers;               // `ciphers` (TLS 1.2 and below)
    std::string ciphersuites;          // `ciphersuites` (TLS 1.3)
    std::string groups;                // `groups` (key exchange)
    std::string sigalgs;               // `sigalgs` (empty: OpenSSL's list)
    std::string alpn_wire;             // `alpn`, in wire format ("\x08http/1.1")
};

// Certificates answering the same names: one SSL_CTX holding each key type side by side (an RSA and an ECDSA
// certificate), so OpenSSL gives each client the one it supports.
struct CertificateGroup {
    std::vector<std::string> names;  // lower case; "*.example.com" for a wildcard
    SslCtxPtr ctx;
};

struct ServerSide {
    std::vector<CertificateGroup> groups;               // groups[0] answers clients without SNI or a known name
    std::unordered_map<std::string, size_t> exact;      // "www.example.com" -> group
    std::unordered_map<std::string, size_t> wildcard;   // "example.com" (from "*.example.com") -> group
    std::vector<std::pair<X509Ptr, std::string>> ocsp;  // certificate -> stapled DER response
    std::shared_ptr<TicketKeyRing> tickets;             // null: tickets off (`session_tickets = false`)
    VerifyClient verify_client = VerifyClient::Off;
};

struct ClientSide {
    SslCtxPtr ctx;
    bool verify = true;         // `verify`
    std::string sni;            // `sni`: overrides the host's params->sni
    bool session_reuse = true;  // `session_reuse`
    // The last session per server name, for resumption to the upstream. THREAD any (workers share the config).
    std::mutex mutex;
    std::unordered_map<std::string, SSL_SESSION*> sessions;
};

struct TlsConfig {
    const portico_host_api* host = nullptr;
    bool server = false;
    ProtocolSettings protocol;
    ServerSide server_side;
    ClientSide client_side;
    // Counters "tls_handshakes", "tls_handshake_failures", "tls_resumptions" (both roles together); null when
    // the host has no metrics.
    portico_metric* handshakes = nullptr;
    portico_metric* failures = nullptr;
    portico_metric* resumptions = nullptr;

    TlsConfig() = default;
    TlsConfig(const TlsConfig&) = delete;
    TlsConfig& operator=(const TlsConfig&) = delete;
    ~TlsConfig();
};

// The process-wide state global_init makes: the host (for the clock) and the ticket key rings.
struct GlobalState {
    const portico_host_api* host = nullptr;
    TicketKeyStore tickets;
};

// Defaults, as the README states them.
inline constexpr char kDefaultCiphers[] =  // Mozilla "intermediate" (v5.7), TLS 1.2
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"
    "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305";
inline constexpr char kLegacyCiphers[] =  // added when min_version is below TLSv1.2 (Mozilla "old")
    "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA:ECDHE-RSA-AES256-SHA";
inline constexpr char kDefaultCiphersuites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
inline constexpr char kDefaultGroups[] = "X25519:prime256v1:secp384r1";
inline constexpr uint64_t kDefaultTicketRotationMs = 12ull * 3600 * 1000;
inline constexpr int64_t kDefaultSessionCache = 20480;
inline constexpr uint64_t kDefaultSessionTimeoutMs = 3600 * 1000;
inline constexpr size_t kMaxClientSessions = 1024;  // server names remembered per upstream config

// Reads `cfg` and builds the contexts. On a problem reports it through host->config->error (at the key, naming
// the file and OpenSSL's reason) and returns PORTICO_E_CONFIG. `global` may be null (a ring of its own is made).
portico_status read_config(const portico_host_api* host, GlobalState* global, const portico_config* cfg,
                           TlsConfig& out);

}  // namespace portico::tls
