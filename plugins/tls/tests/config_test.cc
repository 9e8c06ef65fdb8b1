// config_new through the built plugin: the keys each side asks for, the defaults, and every refusal, which names
// the key, the file and OpenSSL's reason; expired and not-yet-valid certificates are warnings, not errors.
#include <doctest/doctest.h>

#include <string>

#include "fake_host.h"
#include "test_certs.h"

using namespace tlstest;

namespace {

// config_new must fail with one error at `key` whose message contains every part.
void expect_error(const portico_config& cfg, const std::string& table, const std::string& key,
                  const std::vector<std::string>& parts) {
    config_errors.clear();
    portico_status status = PORTICO_OK;
    void* config = try_config(cfg, &status);
    CHECK(status == PORTICO_E_CONFIG);
    CHECK(config == nullptr);
    if (config != nullptr) free_config(config);
    REQUIRE(config_errors.size() == 1);
    CHECK(config_errors[0].table == table);
    CHECK(config_errors[0].key == key);
    const std::string message = config_errors[0].message;
    CAPTURE(message);
    for (const std::string& part : parts) CHECK(message.find(part) != std::string::npos);
}

}  // namespace

TEST_CASE("descriptor: one TRANSPORT factory `tls` with every hook and a global state") {
    const portico_plugin_desc* desc = descriptor();
    CHECK(desc->struct_size == sizeof(portico_plugin_desc));
    CHECK(desc->abi_major == PORTICO_ABI_MAJOR);
    CHECK(desc->abi_minor == PORTICO_ABI_MINOR);
    CHECK(std::string(desc->name) == "tls");
    CHECK((desc->global_fini != nullptr));
    const portico_factory* f = tls_factory();
    CHECK(std::string(f->name) == "tls");
    CHECK(f->kind == PORTICO_KIND_TRANSPORT);
    const portico_transport_ops& o = ops();
    CHECK(o.struct_size == sizeof(portico_transport_ops));
    CHECK((o.conn_new && o.conn_free && o.on_input && o.on_output && o.on_shutdown && o.get_info));
}

TEST_CASE("config: a listener's table asks for the server keys only, an upstream's for the client keys only") {
    portico_config server = server_table();
    void* config = make_config(server);
    CHECK(server.asked == std::set<std::string>{"certificates", "min_version", "max_version", "ciphers",
                                                "ciphersuites", "groups", "sigalgs", "alpn", "session_tickets",
                                                "ticket_rotation", "session_cache", "session_timeout", "client_ca",
                                                "verify_client"});
    CHECK(server.table_arrays["certificates"][0]->asked == std::set<std::string>{"cert", "key", "ocsp", "names"});
    free_config(config);

    portico_config client = client_table();
    config = make_config(client);
    CHECK(client.asked == std::set<std::string>{"certificates", "min_version", "max_version", "ciphers",
                                                "ciphersuites", "groups", "sigalgs", "alpn", "verify", "ca", "sni",
                                                "cert", "key", "session_reuse", "session_timeout"});
    free_config(config);
}

TEST_CASE("config: a missing certificate or key file names the file and OpenSSL's reason") {
    const Files& f = files();
    portico_config cfg;
    cfg.add("certificates").set("cert", f.missing).set("key", f.rsa_key);
    expect_error(cfg, "certificates[0]", "cert", {f.missing, "No such file or directory", "error:"});

    portico_config key;
    key.add("certificates").set("cert", f.rsa_cert).set("key", f.missing);
    expect_error(key, "certificates[0]", "key", {f.missing, "No such file or directory"});

    portico_config garbage;
    garbage.add("certificates").set("cert", f.garbage).set("key", f.rsa_key);
    expect_error(garbage, "certificates[0]", "cert", {f.garbage, "no PEM certificate", "error:"});
}

TEST_CASE("config: a key that does not match its certificate names both files and OpenSSL's reason") {
    const Files& f = files();
    portico_config values;  // same key type, another key
    values.add("certificates").set("cert", f.default_cert).set("key", f.other_key);
    expect_error(values, "certificates[0]", "key", {f.default_cert, f.other_key, "key values mismatch"});

    portico_config types;  // RSA certificate, ECDSA key
    types.add("certificates").set("cert", f.default_cert).set("key", f.default_key);
    types.add("certificates").set("cert", f.rsa_cert).set("key", f.ecdsa_key);
    expect_error(types, "certificates[1]", "key", {f.rsa_cert, f.ecdsa_key, "mismatch"});
}

TEST_CASE("config: an unreadable CA file is refused with its name and OpenSSL's reason") {
    const Files& f = files();
    portico_config server = server_table();
    server.set("client_ca", f.garbage);
    expect_error(server, "transport", "client_ca", {f.garbage, "error:"});
    server.set("client_ca", f.missing);
    expect_error(server, "transport", "client_ca", {f.missing, "No such file or directory"});

    portico_config client;
    client.set("ca", f.garbage);
    expect_error(client, "transport", "ca", {f.garbage, "error:"});
    client.set("ca", f.missing);
    expect_error(client, "transport", "ca", {f.missing, "No such file"});
}

TEST_CASE("config: bad values are refused at their key") {
    const Files& f = files();
    struct Case {
        const char* key;
        std::string value;
        const char* contains;
    };
    const Case cases[] = {
        {"min_version", "SSLv3", "must be \"TLSv1\""},
        {"max_version", "TLSv1.4", "must be \"TLSv1\""},
        {"ciphers", "NOPE-NOTHING", "OpenSSL accepts no cipher"},
        {"ciphersuites", "TLS_NOPE", "OpenSSL refuses the TLS 1.3 suites"},
        {"groups", "nocurve", "OpenSSL refuses the groups"},
        {"verify_client", "maybe", "\"off\", \"optional\" or \"require\""},
        {"verify_client", "require", "needs 'client_ca'"},
    };
    for (const Case& c : cases) {
        const std::string key = c.key;
        CAPTURE(key);
        portico_config cfg = server_table();
        cfg.set(c.key, c.value);
        expect_error(cfg, "transport", c.key, {c.contains});
    }
    portico_config order = server_table();
    order.set("min_version", "TLSv1.3").set("max_version", "TLSv1.2");
    expect_error(order, "transport", "min_version", {"above"});
    portico_config alpn = server_table();
    alpn.list("alpn", {"h2", "http/1.1"});
    expect_error(alpn, "transport", "alpn", {"only \"http/1.1\""});
    portico_config rotation = server_table();
    rotation.duration("ticket_rotation", "10s");
    expect_error(rotation, "transport", "ticket_rotation", {"from 1m to 7d"});
    portico_config cache = server_table();
    cache.set("session_cache", int64_t{-1});
    expect_error(cache, "transport", "session_cache", {"0 (off)"});
    portico_config empty;
    empty.table_arrays["certificates"];
    expect_error(empty, "transport", "certificates", {"at least one"});
    portico_config no_key;
    no_key.add("certificates").set("cert", f.rsa_cert);
    expect_error(no_key, "certificates[0]", "key", {"needs 'key'"});
    portico_config twice;  // two RSA certificates for the same names
    twice.add("certificates").set("cert", f.rsa_cert).set("key", f.rsa_key);
    twice.add("certificates").set("cert", f.rsa_cert).set("key", f.rsa_key);
    expect_error(twice, "certificates[1]", "cert", {"same key type", "one RSA and one ECDSA"});
    portico_config bad_name;
    bad_name.add("certificates").set("cert", f.rsa_cert).set("key", f.rsa_key).list("names", {"bad name!"});
    expect_error(bad_name, "certificates[0]", "names", {"'bad name!'"});
    portico_config half_client;
    half_client.set("cert", f.client_cert);
    expect_error(half_client, "transport", "key", {"both 'cert' and 'key'"});
    portico_config ocsp = server_table();
    ocsp.table_arrays["certificates"][1]->set("ocsp", f.garbage);
    expect_error(ocsp, "certificates[1]", "ocsp", {f.garbage, "no DER OCSP response"});
}

TEST_CASE("config: an expired or not yet valid certificate is a loud warning naming the file and the date") {
    const Files& f = files();
    log_lines.clear();
    portico_config cfg;
    cfg.add("certificates").set("cert", f.expired_cert).set("key", f.expired_key);
    cfg.add("certificates").set("cert", f.future_cert).set("key", f.future_key);
    void* config = make_config(cfg);
    CHECK(config_errors.empty());
    CHECK(logged(PORTICO_LOG_WARNING, {f.expired_cert, "EXPIRED on", " GMT"}));
    CHECK(logged(PORTICO_LOG_WARNING, {f.future_cert, "NOT YET VALID", "not before", " GMT"}));
    CHECK_FALSE(logged(PORTICO_LOG_WARNING, {f.default_cert}));
    free_config(config);
}

TEST_CASE("config: a listener's table cannot make upstream connections, nor the reverse") {
    void* server = make_config(server_table());
    void* client = make_config(client_table());
    portico_conn conn;
    log_lines.clear();
    CHECK(ops().conn_new(server, nullptr, &conn, PORTICO_ROLE_CLIENT, nullptr) == nullptr);
    CHECK(ops().conn_new(client, nullptr, &conn, PORTICO_ROLE_SERVER, nullptr) == nullptr);
    CHECK(ops().conn_new(client, nullptr, &conn, 77, nullptr) == nullptr);
    CHECK(logged(PORTICO_LOG_ERROR, {"used for an upstream"}));
    CHECK(logged(PORTICO_LOG_ERROR, {"used on a listener"}));
    free_config(server);
    free_config(client);
}
