// A SERVER-role and a CLIENT-role instance of the built plugin, paired through the fake host: handshakes,
// versions, SNI and certificate selection, ALPN, resumption (tickets, session cache, across a reload and a key
// rotation), mTLS, verification of the origin, data both ways under backpressure, close_notify. A raw OpenSSL
// client covers what the plugin's own client cannot do (offer TLS 1.1, ask for an OCSP staple).
#include <doctest/doctest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <cstdio>
#include <string>

#include "fake_host.h"
#include "test_certs.h"

using namespace tlstest;

namespace {

// Owns a config for a test.
struct Config {
    explicit Config(const portico_config& cfg) : value(make_config(cfg)) {}
    ~Config() { free_config(value); }
    Config(const Config&) = delete;
    Config& operator=(const Config&) = delete;
    void* value;
};

std::string organization(const std::string& subject) {
    const size_t at = subject.find("O=");
    if (at == std::string::npos) return "";
    const size_t end = subject.find(',', at);
    return subject.substr(at + 2, end == std::string::npos ? std::string::npos : end - at - 2);
}

// Which certificate (by its O=) the server gave a client, and with which protocol.
std::string served(void* server, portico_config client_cfg, const std::string& sni) {
    client_cfg.set("verify", false);
    Config client(client_cfg);
    Pair pair(server, client.value, sni);
    if (!pair.handshake())
        return "handshake failed: " + pair.client.info().error + " / " + pair.server.info().error;
    return organization(pair.client.info().peer_subject);
}

// A client made with OpenSSL directly, over a BIO pair, against the plugin's server side.
struct RawClient {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    SSL* ssl = nullptr;
    BIO* net = nullptr;

    void start(const char* sni) {
        ssl = SSL_new(ctx);
        BIO* internal = nullptr;
        BIO_new_bio_pair(&internal, 0, &net, 0);
        SSL_set_bio(ssl, internal, internal);
        SSL_set_connect_state(ssl);
        if (sni != nullptr) SSL_set_tlsext_host_name(ssl, sni);
    }
    ~RawClient() {
        SSL_free(ssl);
        BIO_free(net);
        SSL_CTX_free(ctx);
    }
    // Runs the handshake against `server`; true when it completed on this side.
    bool handshake(Side& server) {
        int r = 0;
        for (int round = 0; round < 50; ++round) {
            r = SSL_do_handshake(ssl);
            std::string out(BIO_ctrl_pending(net), '\0');
            if (!out.empty()) BIO_read(net, out.data(), static_cast<int>(out.size()));
            if (!out.empty() && !server.done()) {
                size_t used = 0;
                server.last = ops().on_input(server.transport, &server.conn, out.data(), out.size(), &used, false);
            }
            if (!server.conn.wire.empty()) {
                BIO_write(net, server.conn.wire.data(), static_cast<int>(server.conn.wire.size()));
                server.conn.wire.clear();
            } else if (out.empty()) {
                break;
            }
        }
        ERR_clear_error();
        return r == 1;
    }
};

}  // namespace

TEST_CASE("handshake: TLS 1.3 by default, ALPN http/1.1, handshake_done once, info on both sides") {
    Config server(server_table());
    Config client(client_table());
    const int64_t handshakes = metric("handshakes");
    Pair pair(server.value, client.value, "www.example.com");
    REQUIRE(pair.handshake());
    CHECK(metric("handshakes") == handshakes + 2);  // one per side
    const Info s = pair.server.info();
    const Info c = pair.client.info();
    CHECK(s.version == "TLSv1.3");
    CHECK(c.version == "TLSv1.3");
    CHECK(s.cipher == c.cipher);
    CHECK(s.cipher.rfind("TLS_", 0) == 0);
    CHECK(s.alpn == "http/1.1");
    CHECK(c.alpn == "http/1.1");
    CHECK(s.sni == "www.example.com");
    CHECK(c.sni == "www.example.com");
    CHECK(s.peer_subject.empty());
    CHECK(c.peer_subject.find("CN=example.com") != std::string::npos);
    CHECK_FALSE(s.resumed);
    CHECK(s.error.empty());

    // The host passes its own ALPN list in params: the plugin sends that one.
    Pair listed(server.value, client.value, "example.com", std::string("\x08http/1.1", 9));
    REQUIRE(listed.handshake());
    CHECK(listed.server.info().alpn == "http/1.1");
    // A client offering only another protocol gets no ALPN (and no failure).
    Pair other(server.value, client.value, "example.com", std::string("\x02h2", 3));
    REQUIRE(other.handshake());
    CHECK(other.server.info().alpn.empty());

    // An older host's shorter info struct: nothing is written past its size.
    portico_transport_info small;
    PORTICO_INIT(&small);
    small.struct_size = offsetof(portico_transport_info, version);
    small.version = portico_view{"untouched", 9};
    CHECK(ops().get_info(pair.server.transport, &small) == PORTICO_OK);
    CHECK(std::string(small.version.data, small.version.len) == "untouched");
    CHECK(std::string(small.sni.data, small.sni.len) == "www.example.com");
}

TEST_CASE("data: plaintext both ways, large transfers, backpressure on deliver") {
    Config server(server_table());
    Config client(client_table());
    Pair pair(server.value, client.value);
    REQUIRE(pair.handshake());
    REQUIRE(pair.send(pair.client, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"));
    CHECK(pair.server.received == "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n");
    REQUIRE(pair.send(pair.server, "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"));
    CHECK(pair.client.received == "HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n");

    std::string big(3 * 1024 * 1024 + 17, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
    pair.server.received.clear();
    pair.client.received.clear();
    pair.server.conn.deliver_limit = 20000;
    pair.client.conn.deliver_limit = 7000;
    REQUIRE(pair.send(pair.client, big));
    REQUIRE(pair.send(pair.server, big));
    CHECK(pair.server.received.size() == big.size());
    CHECK(pair.server.received == big);
    CHECK(pair.client.received == big);
    CHECK(pair.server.conn.backpressure_hits > 50);
    CHECK(pair.client.conn.backpressure_hits > 100);
    CHECK_FALSE(pair.server.done());

    // All ciphertext offered at once while the reader is stalled: the plugin takes one record, and the rest is
    // offered again.
    pair.server.conn.deliver_limit = 1;
    size_t used = 0;
    REQUIRE(ops().on_output(pair.client.transport, &pair.client.conn, big.data(), 200000, &used) == PORTICO_IO_OK);
    CHECK(used == 200000);
    const std::string wire = pair.client.conn.wire;
    pair.client.conn.wire.clear();
    size_t in = 0;
    CHECK(ops().on_input(pair.server.transport, &pair.server.conn, wire.data(), wire.size(), &in, false) ==
          PORTICO_IO_OK);
    CHECK(in < wire.size());
    CHECK(in <= 16384 + 256);  // one record and its overhead
    CHECK(pair.server.conn.plaintext.size() <= 16384);
}

TEST_CASE("data: emit refused by the host: nothing is lost, the output waits in the plugin") {
    Config server(server_table());
    Config client(client_table());
    Pair pair(server.value, client.value);
    REQUIRE(pair.handshake());
    pair.client.conn.refuse_emit = true;
    size_t used = 0;
    const std::string message(50000, 'x');
    CHECK(ops().on_output(pair.client.transport, &pair.client.conn, message.data(), message.size(), &used) ==
          PORTICO_IO_OK);
    CHECK(used < message.size());
    CHECK(pair.client.conn.wire.empty());
    pair.client.conn.refuse_emit = false;
    REQUIRE(pair.send(pair.client, message.substr(used)));
    CHECK(pair.server.received == message);
}

TEST_CASE("versions: TLS 1.2 and 1.3 each negotiated when forced; a range without overlap fails") {
    Config server(server_table());
    portico_config twelve = client_table();
    twelve.set("max_version", "TLSv1.2");
    Config client12(twelve);
    Pair pair12(server.value, client12.value);
    REQUIRE(pair12.handshake());
    CHECK(pair12.server.info().version == "TLSv1.2");
    CHECK(pair12.server.info().cipher == "ECDHE-ECDSA-AES128-GCM-SHA256");
    CHECK(pair12.server.info().alpn == "http/1.1");

    portico_config thirteen = client_table();
    thirteen.set("min_version", "1.3");
    Config client13(thirteen);
    Pair pair13(server.value, client13.value);
    REQUIRE(pair13.handshake());
    CHECK(pair13.client.info().version == "TLSv1.3");

    portico_config only12 = server_table();
    only12.set("max_version", "TLSv1.2");
    Config server12(only12);
    Pair none(server12.value, client13.value);
    CHECK_FALSE(none.handshake());
    CHECK(none.server.last == PORTICO_IO_ERROR);
    CHECK(none.server.info().error.find("unsupported protocol") != std::string::npos);
}

TEST_CASE("versions: a TLS 1.1 client is refused by default") {
    Config server(server_table());
    Side side;
    side.transport = ops().conn_new(server.value, nullptr, &side.conn, PORTICO_ROLE_SERVER, nullptr);
    REQUIRE(side.transport != nullptr);
    RawClient raw;
    SSL_CTX_set_security_level(raw.ctx, 0);
    SSL_CTX_set_min_proto_version(raw.ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(raw.ctx, TLS1_1_VERSION);
    raw.start("example.com");
    log_lines.clear();
    const int64_t failures = metric("handshake_failures");
    CHECK_FALSE(raw.handshake(side));
    CHECK(metric("handshake_failures") == failures + 1);
    CHECK(side.last == PORTICO_IO_ERROR);
    CHECK(side.conn.handshakes == 0);
    const std::string error = side.info().error;
    CAPTURE(error);
    CHECK(error.find("unsupported protocol") != std::string::npos);
    // The reason is in the debug log too, with the peer's address.
    CHECK(logged(PORTICO_LOG_DEBUG, {"192.0.2.7:40000", "unsupported protocol"}));
    // Once failed, it stays failed.
    size_t used = 0;
    CHECK(ops().on_input(side.transport, &side.conn, "x", 1, &used, false) == PORTICO_IO_ERROR);
    ops().conn_free(side.transport);

    // min_version = "TLSv1.1" lets it in.
    portico_config old = server_table();
    old.set("min_version", "TLSv1.1");
    Config lenient(old);
    Side accepted;
    accepted.transport = ops().conn_new(lenient.value, nullptr, &accepted.conn, PORTICO_ROLE_SERVER, nullptr);
    RawClient raw11;
    SSL_CTX_set_security_level(raw11.ctx, 0);
    SSL_CTX_set_max_proto_version(raw11.ctx, TLS1_1_VERSION);
    raw11.start("example.com");
    CHECK(raw11.handshake(accepted));
    CHECK(accepted.info().version == "TLSv1.1");
    ops().conn_free(accepted.transport);
}

TEST_CASE("sni: exact, wildcard, CN-only, explicit names, case, and the first certificate as the default") {
    Config server(server_table());
    const portico_config ecdsa_first = client_table();
    struct Case {
        const char* sni;
        const char* organization;
    };
    const Case cases[] = {
        {"example.com", "ecdsa"},        // both certificates answer; the client prefers ECDSA
        {"www.example.com", "ecdsa"},    // *.example.com
        {"WWW.Example.COM", "ecdsa"},    // names compare case-insensitively
        {"a.b.example.com", "default"},  // a wildcard covers one label only
        {"cn-only.test", "cn-only"},     // no SAN: the CN
        {"explicit.test", "other"},      // `names` given explicitly ...
        {"other.test", "default"},       // ... replace the certificate's own
        {"default.test", "default"},    {"unknown.org", "default"}, {"", "default"},  // no SNI at all
    };
    for (const Case& c : cases) {
        const std::string sni = c.sni;
        CAPTURE(sni);
        CHECK(served(server.value, ecdsa_first, sni) == c.organization);
    }
}

TEST_CASE("certificates: an ECDSA-only client gets the ECDSA certificate, an RSA-only one the RSA certificate") {
    Config server(server_table());
    struct Case {
        const char* key;
        const char* value;
        const char* max_version;
        const char* organization;
    };
    const Case cases[] = {
        {"ciphers", "ECDHE-ECDSA-AES128-GCM-SHA256", "TLSv1.2", "ecdsa"},
        {"ciphers", "ECDHE-RSA-AES128-GCM-SHA256", "TLSv1.2", "rsa"},
        {"sigalgs", "ECDSA+SHA256", "TLSv1.3", "ecdsa"},
        {"sigalgs", "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384", "TLSv1.3", "rsa"},
        {"sigalgs", "RSA+SHA256", "TLSv1.2", "rsa"},
    };
    for (const Case& c : cases) {
        const std::string value = c.value;
        CAPTURE(value);
        portico_config client = client_table();
        client.set(c.key, c.value).set("max_version", c.max_version);
        CHECK(served(server.value, client, "example.com") == c.organization);
    }
}

TEST_CASE("resumption: tickets in TLS 1.3 and 1.2, across a reload and a key rotation") {
    for (const char* version : {"TLSv1.3", "TLSv1.2"}) {
        const std::string v = version;
        CAPTURE(v);
        Config server(server_table());
        portico_config client_cfg = client_table();
        client_cfg.set("max_version", version);
        Config client(client_cfg);
        auto connect = [&](void* server_config) {
            Pair pair(server_config, client.value);
            REQUIRE(pair.handshake());
            REQUIRE(pair.send(pair.server, "hello"));  // TLS 1.3 tickets arrive after the handshake
            CHECK(pair.server.info().resumed == pair.client.info().resumed);
            return pair.client.info().resumed;
        };
        CHECK_FALSE(connect(server.value));
        const int64_t resumptions = metric("resumptions");
        CHECK(connect(server.value));
        CHECK(metric("resumptions") == resumptions + 2);  // one per side
        CHECK(connect(server.value));

        // A reload: a new config from the same table, the old one freed. The ticket keys live in the global state.
        {
            Config reloaded(server_table());
            CHECK(connect(reloaded.value));
        }
        // A rotation: the previous key still opens the ticket (and a new one is issued).
        clock_ns += 12ull * 3600 * 1'000'000'000;
        CHECK(connect(server.value));
        CHECK(connect(server.value));
        // Three rotations later the key that sealed the client's ticket is gone: a full handshake.
        clock_ns += 3 * 12ull * 3600 * 1'000'000'000;
        CHECK_FALSE(connect(server.value));
        CHECK(connect(server.value));
    }
}

TEST_CASE("resumption: the server-side session cache with tickets off; none with both off") {
    for (const char* version : {"TLSv1.3", "TLSv1.2"}) {
        const std::string v = version;
        CAPTURE(v);
        portico_config cached = server_table();
        cached.set("session_tickets", false);
        Config server(cached);
        portico_config off = server_table();
        off.set("session_tickets", false).set("session_cache", int64_t{0});
        Config server_off(off);
        portico_config client_cfg = client_table();
        client_cfg.set("max_version", version);
        auto connect = [&](void* server_config, void* client_config) {
            Pair pair(server_config, client_config);
            REQUIRE(pair.handshake());
            REQUIRE(pair.send(pair.server, "hello"));
            return pair.server.info().resumed;
        };
        Config client(client_cfg);
        CHECK_FALSE(connect(server.value, client.value));
        CHECK(connect(server.value, client.value));
        Config client2(client_cfg);
        CHECK_FALSE(connect(server_off.value, client2.value));
        CHECK_FALSE(connect(server_off.value, client2.value));
    }
}

TEST_CASE("mtls: a good client certificate is accepted, none is refused when required") {
    const Files& f = files();
    portico_config required = server_table();
    required.set("client_ca", f.ca_cert).set("verify_client", "require");
    Config server(required);

    portico_config with_cert = client_table();
    with_cert.set("cert", f.client_cert).set("key", f.client_key);
    Config good(with_cert);
    Pair ok(server.value, good.value);
    REQUIRE(ok.handshake());
    CHECK(ok.server.info().peer_subject == "CN=client one,O=client");

    for (const char* version : {"TLSv1.3", "TLSv1.2"}) {
        const std::string v = version;
        CAPTURE(v);
        portico_config bare = client_table();
        bare.set("max_version", version);
        Config none(bare);
        Pair refused(server.value, none.value);
        CHECK_FALSE(refused.handshake());
        CHECK(refused.server.last == PORTICO_IO_ERROR);
        CHECK(refused.server.conn.handshakes == 0);
        const std::string error = refused.server.info().error;
        CAPTURE(error);
        CHECK(error.find("did not return a certificate") != std::string::npos);
        CHECK(refused.client.done());  // the alert reached the client
    }

    // A certificate from a CA the listener does not trust is refused too.
    portico_config rogue = client_table();
    rogue.set("cert", f.rogue_cert).set("key", f.rogue_key);
    Config untrusted(rogue);
    Pair bad(server.value, untrusted.value);
    CHECK_FALSE(bad.handshake());
    CHECK(bad.server.info().error.find("certificate verify failed") != std::string::npos);

    // optional: no certificate is fine.
    portico_config optional = server_table();
    optional.set("client_ca", f.ca_cert).set("verify_client", "optional");
    Config lenient(optional);
    Config none(client_table());
    Pair anonymous(lenient.value, none.value);
    REQUIRE(anonymous.handshake());
    CHECK(anonymous.server.info().peer_subject.empty());
}

TEST_CASE("client role: the origin's certificate and name are verified") {
    const Files& f = files();
    Config server(server_table());
    Config client(client_table());
    for (const char* name : {"example.com", "www.example.com", "default.test"}) {
        const std::string sni = name;
        CAPTURE(sni);
        Pair pair(server.value, client.value, sni);
        CHECK(pair.handshake());
    }

    Pair wrong_name(server.value, client.value, "unknown.org");  // the default certificate answers
    CHECK_FALSE(wrong_name.handshake());
    CHECK(wrong_name.client.last == PORTICO_IO_ERROR);
    CHECK(wrong_name.client.conn.handshakes == 0);
    std::string error = wrong_name.client.info().error;
    CAPTURE(error);
    CHECK(error.find("certificate verify failed") != std::string::npos);
    CHECK(error.find("hostname mismatch") != std::string::npos);

    portico_config stranger = client_table();
    stranger.set("ca", f.other_ca_cert);
    Config unknown_ca(stranger);
    Pair unknown(server.value, unknown_ca.value);
    CHECK_FALSE(unknown.handshake());
    error = unknown.client.info().error;
    CHECK(error.find("unable to get local issuer certificate") != std::string::npos);

    // `sni` in the table overrides the host's name; `verify = false` accepts anything.
    portico_config named = client_table();
    named.set("sni", "www.example.com");
    Config by_table(named);
    Pair overridden(server.value, by_table.value, "unknown.org");
    REQUIRE(overridden.handshake());
    CHECK(overridden.server.info().sni == "www.example.com");
    portico_config trusting;
    trusting.set("verify", false);
    Config blind(trusting);
    Pair anything(server.value, blind.value, "unknown.org");
    CHECK(anything.handshake());
}

TEST_CASE("close: on_shutdown sends close_notify; TLS 1.2 answers at once, TLS 1.3 closes one direction") {
    Config server(server_table());
    Config client(client_table());
    Pair pair(server.value, client.value);
    REQUIRE(pair.handshake());
    REQUIRE(pair.send(pair.client, "bye"));
    CHECK(ops().on_shutdown(pair.client.transport, &pair.client.conn) == PORTICO_IO_CLOSE);
    CHECK_FALSE(pair.client.conn.wire.empty());
    pair.pump();
    CHECK(pair.server.last == PORTICO_IO_CLOSE);
    CHECK(pair.server.info().error.empty());  // a clean close
    CHECK(pair.client.last != PORTICO_IO_CLOSE);  // TLS 1.3: the server may still answer...
    REQUIRE(pair.send(pair.server, "still here"));
    CHECK(pair.client.received.find("still here") != std::string::npos);
    CHECK(ops().on_shutdown(pair.server.transport, &pair.server.conn) == PORTICO_IO_CLOSE);
    pair.pump();
    CHECK(pair.client.last == PORTICO_IO_CLOSE);  // ...and its close_notify comes with its on_shutdown

    portico_config twelve = client_table();
    twelve.set("max_version", "TLSv1.2");
    Config client12(twelve);
    Pair pair12(server.value, client12.value);
    REQUIRE(pair12.handshake());
    CHECK(ops().on_shutdown(pair12.client.transport, &pair12.client.conn) == PORTICO_IO_CLOSE);
    pair12.pump();
    CHECK(pair12.server.last == PORTICO_IO_CLOSE);
    CHECK(pair12.client.last == PORTICO_IO_CLOSE);  // TLS 1.2: the server's close_notify came back at once

    // A peer that closes TCP mid-handshake is an error; after the handshake, a close.
    log_lines.clear();
    Pair early(server.value, client.value);
    size_t used = 0;
    ops().on_output(early.client.transport, &early.client.conn, nullptr, 0, &used);
    const std::string hello = early.client.conn.wire.substr(0, 20);
    CHECK(ops().on_input(early.server.transport, &early.server.conn, hello.data(), hello.size(), &used, true) ==
          PORTICO_IO_ERROR);
    CHECK(early.server.info().error.find("during the handshake") != std::string::npos);
    CHECK(logged(PORTICO_LOG_DEBUG, {"192.0.2.7:40000", "during the handshake"}));
    Pair late(server.value, client.value);
    REQUIRE(late.handshake());
    CHECK(ops().on_input(late.server.transport, &late.server.conn, nullptr, 0, &used, true) == PORTICO_IO_CLOSE);
    CHECK(late.server.info().error == "the peer closed the connection without close_notify");
}

TEST_CASE("ocsp: the configured response is stapled for the certificate it belongs to") {
    const Files& f = files();
    portico_config cfg = server_table();
    cfg.table_arrays["certificates"][1]->set("ocsp", f.rsa_ocsp);  // the RSA certificate
    Config server(cfg);
    for (const bool rsa : {true, false}) {
        CAPTURE(rsa);
        Side side;
        side.transport = ops().conn_new(server.value, nullptr, &side.conn, PORTICO_ROLE_SERVER, nullptr);
        RawClient raw;
        SSL_CTX_set1_sigalgs_list(raw.ctx, rsa ? "rsa_pss_rsae_sha256" : "ECDSA+SHA256");
        raw.start("example.com");
        SSL_set_tlsext_status_type(raw.ssl, TLSEXT_STATUSTYPE_ocsp);
        REQUIRE(raw.handshake(side));
        const unsigned char* staple = nullptr;
        const long len = SSL_get_tlsext_status_ocsp_resp(raw.ssl, &staple);
        if (rsa) {
            REQUIRE(len > 0);
            CHECK(std::string(reinterpret_cast<const char*>(staple), static_cast<size_t>(len)) ==
                  read_file(f.rsa_ocsp));
        } else {
            CHECK(len <= 0);
        }
        ops().conn_free(side.transport);
    }
}

TEST_CASE("data: a handshake flight larger than the plugin's buffer is taken in one on_input") {
    const Files& f = files();
    std::string chain = read_file(f.ecdsa_cert);
    for (int i = 0; i < 60; ++i) chain += read_file(f.ca_cert);  // ~40 KiB of certificates
    const std::string path = f.dir + "/long-chain.pem";
    {
        FILE* out = std::fopen(path.c_str(), "w");
        REQUIRE(out != nullptr);
        std::fwrite(chain.data(), 1, chain.size(), out);
        std::fclose(out);
    }
    portico_config cfg;
    cfg.add("certificates").set("cert", path).set("key", f.ecdsa_key);
    Config server(cfg);
    Config client(client_table());
    Pair pair(server.value, client.value);
    size_t used = 0;
    ops().on_output(pair.client.transport, &pair.client.conn, nullptr, 0, &used);
    const std::string hello = pair.client.conn.wire;
    pair.client.conn.wire.clear();
    CHECK(ops().on_input(pair.server.transport, &pair.server.conn, hello.data(), hello.size(), &used, false) ==
          PORTICO_IO_WANT_INPUT);
    CHECK(used == hello.size());
    const std::string flight = pair.server.conn.wire;
    pair.server.conn.wire.clear();
    REQUIRE(flight.size() > 17 * 1024);
    CHECK(ops().on_input(pair.client.transport, &pair.client.conn, flight.data(), flight.size(), &used, false) ==
          PORTICO_IO_WANT_INPUT);
    CHECK(used == flight.size());
    CHECK(pair.client.conn.handshakes == 1);
    pair.pump();
    CHECK(pair.server.conn.handshakes == 1);
}
