#include "config.h"

#include <string>

#include "context.h"

namespace portico::tls {

namespace {

// A reader over one table: each getter leaves `out` alone when the key is absent and turns a host error into
// PORTICO_E_CONFIG (the host has reported it already).
class Reader {
public:
    Reader(const portico_config_api& api, const portico_config* cfg) : api_(api), cfg_(cfg) {}

    portico_status string(const char* key, std::string& out) const {
        portico_view view{};
        portico_status status = api_.get_string(cfg_, key, &view);
        if (status == PORTICO_OK) out.assign(view.data, view.len);
        return status == PORTICO_E_NOT_FOUND ? PORTICO_OK : status;
    }
    portico_status boolean(const char* key, bool& out) const {
        portico_status status = api_.get_bool(cfg_, key, &out);
        return status == PORTICO_E_NOT_FOUND ? PORTICO_OK : status;
    }
    portico_status duration_ms(const char* key, uint64_t& out) const {
        portico_status status = api_.get_duration_ms(cfg_, key, &out);
        return status == PORTICO_E_NOT_FOUND ? PORTICO_OK : status;
    }
    portico_status integer(const char* key, int64_t& out) const {
        portico_status status = api_.get_int(cfg_, key, &out);
        return status == PORTICO_E_NOT_FOUND ? PORTICO_OK : status;
    }
    // An array of strings; `given` says whether the key was there (an empty array is given).
    portico_status strings(const char* key, std::vector<std::string>& out, bool& given) const {
        size_t n = 0;
        portico_status status = api_.array_len(cfg_, key, &n);
        given = status == PORTICO_OK;
        if (status != PORTICO_OK) return status == PORTICO_E_NOT_FOUND ? PORTICO_OK : status;
        out.clear();
        for (size_t i = 0; i < n; ++i) {
            portico_view view{};
            if ((status = api_.array_string(cfg_, key, i, &view)) != PORTICO_OK) return status;
            out.emplace_back(view.data, view.len);
        }
        return PORTICO_OK;
    }
    portico_status error(const char* key, const std::string& message) const {
        return api_.error(cfg_, key, message.c_str());
    }
    const portico_config* table() const { return cfg_; }

private:
    const portico_config_api& api_;
    const portico_config* cfg_;
};

#define PORTICO_TLS_TRY(expr)                      \
    do {                                           \
        const portico_status status_ = (expr);     \
        if (status_ != PORTICO_OK) return status_; \
    } while (0)

bool parse_version(const std::string& text, int& out) {
    struct Name {
        const char* a;
        const char* b;
        int version;
    };
    static const Name kNames[] = {{"TLSv1", "1.0", TLS1_VERSION},
                                  {"TLSv1.1", "1.1", TLS1_1_VERSION},
                                  {"TLSv1.2", "1.2", TLS1_2_VERSION},
                                  {"TLSv1.3", "1.3", TLS1_3_VERSION}};
    for (const Name& name : kNames) {
        if (text == name.a || text == name.b) {
            out = name.version;
            return true;
        }
    }
    return false;
}

portico_status read_protocol(const Reader& r, ProtocolSettings& p) {
    for (const char* key : {"min_version", "max_version"}) {
        std::string text;
        PORTICO_TLS_TRY(r.string(key, text));
        if (text.empty()) continue;
        int version = 0;
        if (!parse_version(text, version))
            return r.error(key, std::string("'") + key +
                                    "' must be \"TLSv1\", \"TLSv1.1\", \"TLSv1.2\" or \"TLSv1.3\", not \"" + text +
                                    "\"");
        (std::string(key) == "min_version" ? p.min_version : p.max_version) = version;
    }
    if (p.min_version > p.max_version) return r.error("min_version", "'min_version' is above 'max_version'");
    // TLS 1.0 and 1.1 have none of the intermediate ciphers (all AEAD): a lower min_version brings the CBC ones
    // of Mozilla's "old" profile along, unless `ciphers` says otherwise.
    p.ciphers =
        p.min_version < TLS1_2_VERSION ? std::string(kDefaultCiphers) + ":" + kLegacyCiphers : kDefaultCiphers;
    p.ciphersuites = kDefaultCiphersuites;
    p.groups = kDefaultGroups;
    PORTICO_TLS_TRY(r.string("ciphers", p.ciphers));
    PORTICO_TLS_TRY(r.string("ciphersuites", p.ciphersuites));
    PORTICO_TLS_TRY(r.string("groups", p.groups));
    PORTICO_TLS_TRY(r.string("sigalgs", p.sigalgs));

    std::vector<std::string> alpn{"http/1.1"};
    bool given = false;
    PORTICO_TLS_TRY(r.strings("alpn", alpn, given));
    p.alpn_wire.clear();
    for (const std::string& protocol : alpn) {
        // The host speaks HTTP/1.1 only for now: advertising h2 would make clients send frames it cannot read.
        if (protocol != "http/1.1")
            return r.error("alpn", "'alpn' may list only \"http/1.1\" for now (the host speaks HTTP/1.1), not \"" +
                                       protocol + "\"");
        p.alpn_wire += static_cast<char>(protocol.size());
        p.alpn_wire += protocol;
    }
    return PORTICO_OK;
}

portico_status read_certificates(const portico_host_api* host, const Reader& r, size_t n, ServerSpec& spec) {
    const portico_config_api& api = *host->config;
    if (n == 0) return r.error("certificates", "'certificates' needs at least one { cert = ..., key = ... }");
    for (size_t i = 0; i < n; ++i) {
        const portico_config* table = nullptr;
        PORTICO_TLS_TRY(api.array_table(r.table(), "certificates", i, &table));
        Reader entry(api, table);
        CertificateSpec cert;
        cert.table = table;
        PORTICO_TLS_TRY(entry.string("cert", cert.cert));
        PORTICO_TLS_TRY(entry.string("key", cert.key));
        PORTICO_TLS_TRY(entry.string("ocsp", cert.ocsp));
        bool given = false;
        PORTICO_TLS_TRY(entry.strings("names", cert.names, given));
        if (cert.cert.empty()) return entry.error("cert", "each certificate needs 'cert' (a PEM file)");
        if (cert.key.empty()) return entry.error("key", "each certificate needs 'key' (a PEM file)");
        if (given && cert.names.empty())
            return entry.error("names", "'names' must not be empty (leave it out to use the certificate's names)");
        spec.certificates.push_back(std::move(cert));
    }
    return PORTICO_OK;
}

portico_status read_server(const portico_host_api* host, GlobalState* global, const Reader& r, size_t n,
                           TlsConfig& out) {
    ServerSpec spec;
    PORTICO_TLS_TRY(read_certificates(host, r, n, spec));
    PORTICO_TLS_TRY(r.boolean("session_tickets", spec.session_tickets));
    PORTICO_TLS_TRY(r.duration_ms("ticket_rotation", spec.ticket_rotation_ms));
    if (spec.ticket_rotation_ms < 60'000 || spec.ticket_rotation_ms > 7 * 24 * 3'600'000ull)
        return r.error("ticket_rotation", "'ticket_rotation' must be a duration from 1m to 7d (default \"12h\")");
    PORTICO_TLS_TRY(r.integer("session_cache", spec.session_cache));
    if (spec.session_cache < 0 || spec.session_cache > 10'000'000)
        return r.error("session_cache",
                       "'session_cache' is a number of sessions from 0 (off) to 10000000 (default 20480)");
    PORTICO_TLS_TRY(r.duration_ms("session_timeout", spec.session_timeout_ms));
    if (spec.session_timeout_ms < 1000 || spec.session_timeout_ms > 7 * 24 * 3'600'000ull)
        return r.error("session_timeout", "'session_timeout' must be a duration from 1s to 7d (default \"1h\")");
    PORTICO_TLS_TRY(r.string("client_ca", spec.client_ca));
    std::string verify = spec.client_ca.empty() ? "off" : "require";
    PORTICO_TLS_TRY(r.string("verify_client", verify));
    if (verify == "off") {
        spec.verify_client = VerifyClient::Off;
    } else if (verify == "optional") {
        spec.verify_client = VerifyClient::Optional;
    } else if (verify == "require") {
        spec.verify_client = VerifyClient::Require;
    } else {
        return r.error("verify_client",
                       "'verify_client' must be \"off\", \"optional\" or \"require\", not \"" + verify + "\"");
    }
    if (spec.verify_client != VerifyClient::Off && spec.client_ca.empty())
        return r.error("verify_client", "'verify_client' = \"" + verify + "\" needs 'client_ca' (a PEM file)");
    return build_server(host, global, r.table(), spec, out);
}

portico_status read_client(const portico_host_api* host, const Reader& r, TlsConfig& out) {
    ClientSpec spec;
    PORTICO_TLS_TRY(r.boolean("verify", out.client_side.verify));
    PORTICO_TLS_TRY(r.string("ca", spec.ca));
    PORTICO_TLS_TRY(r.string("sni", out.client_side.sni));
    PORTICO_TLS_TRY(r.string("cert", spec.cert));
    PORTICO_TLS_TRY(r.string("key", spec.key));
    PORTICO_TLS_TRY(r.boolean("session_reuse", out.client_side.session_reuse));
    PORTICO_TLS_TRY(r.duration_ms("session_timeout", spec.session_timeout_ms));
    if (spec.cert.empty() != spec.key.empty())
        return r.error(spec.key.empty() ? "key" : "cert", "a client certificate needs both 'cert' and 'key'");
    return build_client(host, r.table(), spec, out);
}

}  // namespace

portico_status read_config(const portico_host_api* host, GlobalState* global, const portico_config* cfg,
                           TlsConfig& out) {
    out.host = host;
    Reader r(*host->config, cfg);
    PORTICO_TLS_TRY(read_protocol(r, out.protocol));
    size_t n = 0;
    const portico_status status = host->config->array_len(cfg, "certificates", &n);
    if (status != PORTICO_OK && status != PORTICO_E_NOT_FOUND) return status;
    out.server = status == PORTICO_OK;
    return out.server ? read_server(host, global, r, n, out) : read_client(host, r, out);
}

}  // namespace portico::tls
