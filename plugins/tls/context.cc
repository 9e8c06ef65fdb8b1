#include "context.h"

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <map>

#include "connection.h"

namespace portico::tls {

namespace {

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};
using BioPtr = std::unique_ptr<BIO, BioFree>;
struct PkeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct ChainFree {
    void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
};
using ChainPtr = std::unique_ptr<STACK_OF(X509), ChainFree>;

portico_status report(const portico_host_api* host, const portico_config* table, const char* key,
                      const std::string& message) {
    return host->config->error(table, key, message.c_str());
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string asn1_time_text(const ASN1_TIME* t) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || ASN1_TIME_print(bio.get(), t) != 1) return "?";
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(len));
}

// A key file must not make OpenSSL prompt on the terminal for a passphrase.
int no_passphrase(char*, int, int, void*) {
    return -1;
}

// The leaf and the chain after it. `error` names the problem; the caller adds the file.
bool load_certificate(const std::string& path, X509Ptr& leaf, ChainPtr& chain, std::string& error) {
    ERR_clear_error();
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) {
        error = "cannot read certificate file " + path + ": " + openssl_errors();
        return false;
    }
    leaf.reset(PEM_read_bio_X509_AUX(bio.get(), nullptr, no_passphrase, nullptr));
    if (!leaf) {
        error = "no PEM certificate in " + path + ": " + openssl_errors();
        return false;
    }
    chain.reset(sk_X509_new_null());
    while (X509* extra = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr))
        sk_X509_push(chain.get(), extra);
    const unsigned long last = ERR_peek_last_error();
    if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
        ERR_clear_error();  // the normal end of the file
    } else if (last != 0) {
        error = "bad certificate in the chain of " + path + ": " + openssl_errors();
        return false;
    }
    return true;
}

bool load_key(const std::string& path, PkeyPtr& key, std::string& error) {
    ERR_clear_error();
    BioPtr bio(BIO_new_file(path.c_str(), "r"));
    if (!bio) {
        error = "cannot read key file " + path + ": " + openssl_errors();
        return false;
    }
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
    if (!key) {
        error =
            "no usable PEM private key in " + path + " (an encrypted key is not supported): " + openssl_errors();
        return false;
    }
    return true;
}

// The names a certificate answers: its SAN DNS names, or its CN when it has none (RFC 6125).
std::vector<std::string> certificate_names(X509* cert) {
    std::vector<std::string> names;
    auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
    if (sans != nullptr) {
        for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
            const GENERAL_NAME* name = sk_GENERAL_NAME_value(sans, i);
            if (name->type != GEN_DNS) continue;
            const ASN1_STRING* dns = name->d.dNSName;
            names.push_back(lower(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(dns)),
                                              static_cast<size_t>(ASN1_STRING_length(dns)))));
        }
        GENERAL_NAMES_free(sans);
    }
    if (names.empty()) {
        X509_NAME* subject = X509_get_subject_name(cert);
        int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
        if (index >= 0) {
            const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index));
            names.push_back(lower(std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)),
                                              static_cast<size_t>(ASN1_STRING_length(cn)))));
        }
    }
    return names;
}

bool valid_name(const std::string& name) {
    if (name.empty() || name.size() > 253) return false;
    size_t start = name.compare(0, 2, "*.") == 0 ? 2 : 0;
    if (start == name.size()) return false;
    for (size_t i = start; i < name.size(); ++i) {
        const char c = name[i];
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) return false;
    }
    return true;
}

void warn_validity(const portico_host_api* host, const std::string& path, X509* cert) {
    if (X509_cmp_current_time(X509_get0_notAfter(cert)) <= 0) {
        log_line(host, PORTICO_LOG_WARNING,
                 "certificate " + path + " EXPIRED on " + asn1_time_text(X509_get0_notAfter(cert)) +
                     ": clients will refuse it; renew it and reload");
    } else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
        log_line(host, PORTICO_LOG_WARNING,
                 "certificate " + path + " is NOT YET VALID: not before " +
                     asn1_time_text(X509_get0_notBefore(cert)) + "; clients will refuse it until then");
    }
}

// Settings both roles apply to every context. Reports at the key that OpenSSL refused.
portico_status apply_protocol(const portico_host_api* host, const portico_config* cfg, SSL_CTX* ctx,
                              const ProtocolSettings& p) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // Partial writes and a moving buffer: a record the host had no room for is finished by the next SSL_write
    // over the same bytes, wherever they are by then. Record buffers are released while a connection is idle.
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    ERR_clear_error();
    if (SSL_CTX_set_min_proto_version(ctx, p.min_version) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, p.max_version) != 1)
        return report(host, cfg, "min_version", "unusable protocol range: " + openssl_errors());
    if (p.min_version < TLS1_2_VERSION) {
        // TLS 1.0 and 1.1 sign with SHA-1, which OpenSSL 3's default security level 1 refuses.
        SSL_CTX_set_security_level(ctx, 0);
    }
    if (SSL_CTX_set_cipher_list(ctx, p.ciphers.c_str()) != 1)
        return report(host, cfg, "ciphers",
                      "OpenSSL accepts no cipher of '" + p.ciphers + "': " + openssl_errors());
    if (SSL_CTX_set_ciphersuites(ctx, p.ciphersuites.c_str()) != 1)
        return report(host, cfg, "ciphersuites",
                      "OpenSSL refuses the TLS 1.3 suites '" + p.ciphersuites + "': " + openssl_errors());
    if (SSL_CTX_set1_groups_list(ctx, p.groups.c_str()) != 1)
        return report(host, cfg, "groups", "OpenSSL refuses the groups '" + p.groups + "': " + openssl_errors());
    if (!p.sigalgs.empty() && SSL_CTX_set1_sigalgs_list(ctx, p.sigalgs.c_str()) != 1)
        return report(host, cfg, "sigalgs",
                      "OpenSSL refuses the signature algorithms '" + p.sigalgs + "': " + openssl_errors());
    return PORTICO_OK;
}

TlsConfig* config_of(SSL* ssl) {
    return static_cast<TlsConfig*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
}

// SNI: switch the connection to the group that answers the name (exact first, then a one-label wildcard), else
// stay on groups[0], the default. Settings other than the certificates are the same in every group's context.
int on_servername(SSL* ssl, int*, void* arg) {
    const auto* config = static_cast<const TlsConfig*>(arg);
    const char* sent = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (sent == nullptr) return SSL_TLSEXT_ERR_OK;
    const ServerSide& server = config->server_side;
    std::string name = lower(sent);
    size_t group = 0;
    auto exact = server.exact.find(name);
    if (exact != server.exact.end()) {
        group = exact->second;
    } else {
        const size_t dot = name.find('.');
        if (dot != std::string::npos && dot > 0) {
            auto wild = server.wildcard.find(name.substr(dot + 1));
            if (wild != server.wildcard.end()) group = wild->second;
        }
    }
    if (group != 0) SSL_set_SSL_CTX(ssl, server.groups[group].ctx.get());
    return SSL_TLSEXT_ERR_OK;
}

int on_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in, unsigned int inlen,
            void* arg) {
    const auto* config = static_cast<const TlsConfig*>(arg);
    const std::string& ours = config->protocol.alpn_wire;
    unsigned char* chosen = nullptr;
    if (SSL_select_next_proto(&chosen, outlen, reinterpret_cast<const unsigned char*>(ours.data()),
                              static_cast<unsigned int>(ours.size()), in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN rather than fail
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
}

int on_status_request(SSL* ssl, void* arg) {
    const auto* config = static_cast<const TlsConfig*>(arg);
    const X509* cert = SSL_get_certificate(ssl);
    for (const auto& entry : config->server_side.ocsp) {
        if (entry.first.get() != cert) continue;
        auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(entry.second.size()));
        if (copy == nullptr) return SSL_TLSEXT_ERR_NOACK;
        std::memcpy(copy, entry.second.data(), entry.second.size());
        SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(entry.second.size()));
        return SSL_TLSEXT_ERR_OK;
    }
    return SSL_TLSEXT_ERR_NOACK;
}

int on_ticket_key(SSL* ssl, unsigned char* key_name, unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
                  int enc) {
    TlsConfig* config = config_of(ssl);
    if (config == nullptr || !config->server_side.tickets) return enc == 1 ? -1 : 0;
    const int result = config->server_side.tickets->seal_or_open(key_name, iv, cipher, mac, enc);
    // TLS 1.3 tickets are for one use (RFC 8446, C.4): OpenSSL sends a new one after a resumption only when asked
    // to renew, and its client forgets the one it used.
    if (enc == 0 && result == 1 && SSL_version(ssl) >= TLS1_3_VERSION) return 2;
    return result;
}

}  // namespace

int remember_client_session(SSL* ssl, SSL_SESSION* session) {
    auto* conn = static_cast<Connection*>(SSL_get_app_data(ssl));
    TlsConfig* config = config_of(ssl);
    if (conn == nullptr || config == nullptr || conn->server_name().empty()) return 0;
    ClientSide& client = config->client_side;
    std::lock_guard<std::mutex> lock(client.mutex);
    auto it = client.sessions.find(conn->server_name());
    if (it != client.sessions.end()) {
        SSL_SESSION_free(it->second);
        it->second = session;
        return 1;
    }
    if (client.sessions.size() >= kMaxClientSessions) return 0;
    client.sessions.emplace(conn->server_name(), session);
    return 1;  // we keep the reference
}

namespace {

int on_new_client_session(SSL* ssl, SSL_SESSION* session) {
    return remember_client_session(ssl, session);
}

// The session id context: sessions resume only into a listener of the same certificates and client-CA policy
// (also across a reload that kept them, since the ticket keys are kept).
std::string session_id_context(const ServerSpec& spec) {
    std::string material = "portico-tls";
    for (const CertificateSpec& c : spec.certificates) material += "\n" + c.cert;
    material += "\n" + spec.client_ca + "\n" + std::to_string(static_cast<int>(spec.verify_client));
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
    return std::string(reinterpret_cast<const char*>(digest), SSL_MAX_SID_CTX_LENGTH);
}

// Everything but the certificates, for one server context.
portico_status setup_server_context(const portico_host_api* host, GlobalState* global, const portico_config* cfg,
                                    const ServerSpec& spec, const std::string& sid_ctx, TlsConfig& out,
                                    SSL_CTX* ctx) {
    SSL_CTX_set_app_data(ctx, &out);
    portico_status status = apply_protocol(host, cfg, ctx, out.protocol);
    if (status != PORTICO_OK) return status;
    SSL_CTX_set_dh_auto(ctx, 1);
    SSL_CTX_set_session_id_context(ctx, reinterpret_cast<const unsigned char*>(sid_ctx.data()),
                                   static_cast<unsigned int>(sid_ctx.size()));
    if (spec.session_cache > 0) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_sess_set_cache_size(ctx, spec.session_cache);
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    }
    SSL_CTX_set_timeout(ctx, static_cast<long>(std::max<uint64_t>(1, spec.session_timeout_ms / 1000)));
    if (spec.session_tickets) {
        if (!out.server_side.tickets) {
            const uint64_t rotation_ns = spec.ticket_rotation_ms * 1'000'000;
            uint64_t (*now)() = host->core != nullptr ? host->core->now_ns : nullptr;
            out.server_side.tickets = global != nullptr ? global->tickets.ring(rotation_ns, now)
                                                        : std::make_shared<TicketKeyRing>(rotation_ns, now);
        }
        SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, on_ticket_key);
    } else {
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    if (!out.protocol.alpn_wire.empty()) SSL_CTX_set_alpn_select_cb(ctx, on_alpn, &out);
    SSL_CTX_set_tlsext_servername_callback(ctx, on_servername);
    SSL_CTX_set_tlsext_servername_arg(ctx, &out);
    SSL_CTX_set_tlsext_status_cb(ctx, on_status_request);
    SSL_CTX_set_tlsext_status_arg(ctx, &out);

    if (spec.verify_client != VerifyClient::Off) {
        ERR_clear_error();
        if (SSL_CTX_load_verify_locations(ctx, spec.client_ca.c_str(), nullptr) != 1)
            return report(host, cfg, "client_ca",
                          "cannot load the client CA file " + spec.client_ca + ": " + openssl_errors());
        STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(spec.client_ca.c_str());
        if (names == nullptr)
            return report(host, cfg, "client_ca",
                          "no CA certificate names in " + spec.client_ca + ": " + openssl_errors());
        SSL_CTX_set_client_CA_list(ctx, names);
        int mode = SSL_VERIFY_PEER;
        if (spec.verify_client == VerifyClient::Require) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
        SSL_CTX_set_verify(ctx, mode, nullptr);
    }
    return PORTICO_OK;
}

portico_status read_ocsp(const portico_host_api* host, const CertificateSpec& spec, std::string& der) {
    ERR_clear_error();
    BioPtr bio(BIO_new_file(spec.ocsp.c_str(), "rb"));
    if (!bio)
        return report(host, spec.table, "ocsp",
                      "cannot read OCSP response file " + spec.ocsp + ": " + openssl_errors());
    OCSP_RESPONSE* response = d2i_OCSP_RESPONSE_bio(bio.get(), nullptr);
    if (response == nullptr)
        return report(host, spec.table, "ocsp", "no DER OCSP response in " + spec.ocsp + ": " + openssl_errors());
    const int status = OCSP_response_status(response);
    unsigned char* buffer = nullptr;
    const int len = i2d_OCSP_RESPONSE(response, &buffer);
    OCSP_RESPONSE_free(response);
    if (len <= 0) return report(host, spec.table, "ocsp", "cannot encode " + spec.ocsp + ": " + openssl_errors());
    der.assign(reinterpret_cast<const char*>(buffer), static_cast<size_t>(len));
    OPENSSL_free(buffer);
    if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL)
        log_line(host, PORTICO_LOG_WARNING,
                 "OCSP response " + spec.ocsp + " is not a successful one (" + OCSP_response_status_str(status) +
                     "); it is stapled anyway, clients may ignore it");
    return PORTICO_OK;
}

}  // namespace

std::string openssl_errors() {
    std::string text;
    int count = 0;
    while (unsigned long code = ERR_get_error()) {
        if (++count > 4) continue;  // drain the rest, report the first few
        char line[256];
        ERR_error_string_n(code, line, sizeof line);
        if (!text.empty()) text += "; ";
        text += line;
    }
    return text.empty() ? "no reason given by OpenSSL" : text;
}

void log_line(const portico_host_api* host, portico_log_level level, const std::string& line) {
    if (host == nullptr || host->core == nullptr || host->core->log == nullptr) return;
    if (host->core->log_enabled != nullptr && !host->core->log_enabled(host->plugin, level)) return;
    host->core->log(host->plugin, level, line.data(), line.size());
}

portico_status build_server(const portico_host_api* host, GlobalState* global, const portico_config* cfg,
                            const ServerSpec& spec, TlsConfig& out) {
    ServerSide& server = out.server_side;
    server.verify_client = spec.verify_client;
    const std::string sid_ctx = session_id_context(spec);
    std::map<std::vector<std::string>, size_t> group_of_names;   // sorted names -> group
    std::vector<std::vector<std::pair<int, size_t>>> key_types;  // per group: (key type, entry index)

    for (size_t i = 0; i < spec.certificates.size(); ++i) {
        const CertificateSpec& entry = spec.certificates[i];
        X509Ptr leaf;
        ChainPtr chain;
        PkeyPtr key;
        std::string error;
        if (!load_certificate(entry.cert, leaf, chain, error)) return report(host, entry.table, "cert", error);
        if (!load_key(entry.key, key, error)) return report(host, entry.table, "key", error);
        ERR_clear_error();
        if (X509_check_private_key(leaf.get(), key.get()) != 1)
            return report(
                host, entry.table, "key",
                "the key " + entry.key + " does not match the certificate " + entry.cert + ": " + openssl_errors());
        warn_validity(host, entry.cert, leaf.get());

        std::vector<std::string> names = entry.names.empty() ? certificate_names(leaf.get()) : entry.names;
        for (std::string& name : names) name = lower(name);
        for (const std::string& name : names) {
            if (!valid_name(name))
                return report(
                    host, entry.table, entry.names.empty() ? "cert" : "names",
                    "'" + name + "' (of " + entry.cert + ") is not a host name or a wildcard like '*.example.com'");
        }
        std::vector<std::string> sorted = names;
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());

        auto found = group_of_names.find(sorted);
        size_t group;
        if (found == group_of_names.end()) {
            group = server.groups.size();
            group_of_names.emplace(sorted, group);
            CertificateGroup made;
            made.names = sorted;
            made.ctx.reset(SSL_CTX_new(TLS_server_method()));
            if (!made.ctx) return report(host, entry.table, "cert", "SSL_CTX_new: " + openssl_errors());
            portico_status status = setup_server_context(host, global, cfg, spec, sid_ctx, out, made.ctx.get());
            if (status != PORTICO_OK) return status;
            server.groups.push_back(std::move(made));
            key_types.emplace_back();
            for (const std::string& name : sorted) {
                if (name.compare(0, 2, "*.") == 0)
                    server.wildcard.emplace(name.substr(2), group);  // the first group to name it keeps it
                else
                    server.exact.emplace(name, group);
            }
        } else {
            group = found->second;
        }
        const int type = EVP_PKEY_get_base_id(key.get());
        for (const auto& seen : key_types[group]) {
            if (seen.first == type)
                return report(host, entry.table, "cert",
                              entry.cert + " has the same key type (" + OBJ_nid2sn(type) + ") and names as " +
                                  spec.certificates[seen.second].cert +
                                  "; one certificate per key type and name set (e.g. one RSA and one ECDSA)");
        }
        key_types[group].emplace_back(type, i);
        ERR_clear_error();
        if (SSL_CTX_use_cert_and_key(server.groups[group].ctx.get(), leaf.get(), key.get(), chain.get(), 1) != 1)
            return report(host, entry.table, "cert",
                          "OpenSSL refuses " + entry.cert + " with " + entry.key + ": " + openssl_errors());
        if (!entry.ocsp.empty()) {
            std::string der;
            portico_status status = read_ocsp(host, entry, der);
            if (status != PORTICO_OK) return status;
            X509_up_ref(leaf.get());
            server.ocsp.emplace_back(X509Ptr(leaf.get()), std::move(der));
        }
    }
    return PORTICO_OK;
}

portico_status build_client(const portico_host_api* host, const portico_config* cfg, const ClientSpec& spec,
                            TlsConfig& out) {
    ClientSide& client = out.client_side;
    client.ctx.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX* ctx = client.ctx.get();
    if (ctx == nullptr) return report(host, cfg, nullptr, "SSL_CTX_new: " + openssl_errors());
    SSL_CTX_set_app_data(ctx, &out);
    portico_status status = apply_protocol(host, cfg, ctx, out.protocol);
    if (status != PORTICO_OK) return status;
    ERR_clear_error();
    if (!spec.ca.empty()) {
        if (SSL_CTX_load_verify_locations(ctx, spec.ca.c_str(), nullptr) != 1)
            return report(host, cfg, "ca", "cannot load the CA file " + spec.ca + ": " + openssl_errors());
    } else if (client.verify && SSL_CTX_set_default_verify_paths(ctx) != 1) {
        return report(host, cfg, "verify", "cannot load the system's CA store: " + openssl_errors());
    }
    SSL_CTX_set_verify(ctx, client.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    if (!spec.cert.empty()) {
        X509Ptr leaf;
        ChainPtr chain;
        PkeyPtr key;
        std::string error;
        if (!load_certificate(spec.cert, leaf, chain, error)) return report(host, cfg, "cert", error);
        if (!load_key(spec.key, key, error)) return report(host, cfg, "key", error);
        ERR_clear_error();
        if (X509_check_private_key(leaf.get(), key.get()) != 1)
            return report(
                host, cfg, "key",
                "the key " + spec.key + " does not match the certificate " + spec.cert + ": " + openssl_errors());
        warn_validity(host, spec.cert, leaf.get());
        if (SSL_CTX_use_cert_and_key(ctx, leaf.get(), key.get(), chain.get(), 1) != 1)
            return report(host, cfg, "cert",
                          "OpenSSL refuses " + spec.cert + " with " + spec.key + ": " + openssl_errors());
    }
    if (client.session_reuse) {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, on_new_client_session);
        SSL_CTX_set_timeout(ctx, static_cast<long>(std::max<uint64_t>(1, spec.session_timeout_ms / 1000)));
    } else {
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    }
    return PORTICO_OK;
}

TlsConfig::~TlsConfig() {
    for (auto& entry : client_side.sessions) SSL_SESSION_free(entry.second);
}

}  // namespace portico::tls
