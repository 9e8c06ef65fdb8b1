// Once against the real thing: `openssl s_client` over a TCP socket on loopback, with the plugin's server side
// behind a tiny socket loop standing in for the host. Skipped when the openssl command is not installed.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "fake_host.h"
#include "test_certs.h"

using namespace tlstest;

TEST_CASE("interop: openssl s_client verifies the plugin's certificate, sends, and sees close_notify") {
    if (std::system("command -v openssl >/dev/null 2>&1") != 0) {
        MESSAGE("the openssl command is not installed: skipped");
        return;
    }
    const Files& f = files();
    const int listener = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(listener >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t address_len = sizeof address;
    REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(listen(listener, 1) == 0);
    REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&address), &address_len) == 0);
    const std::string port = std::to_string(ntohs(address.sin_port));

    const std::string command = "printf 'ping\\n' | timeout 10 openssl s_client -connect 127.0.0.1:" + port +
                                " -servername www.example.com -verify_hostname www.example.com -CAfile " +
                                f.ca_cert + " -verify_return_error -alpn http/1.1 -quiet 2>&1";
    FILE* client = popen(command.c_str(), "r");
    REQUIRE(client != nullptr);

    pollfd waiting{listener, POLLIN, 0};
    REQUIRE(poll(&waiting, 1, 5000) == 1);
    const int fd = accept(listener, nullptr, nullptr);
    close(listener);
    REQUIRE(fd >= 0);

    portico_config cfg = server_table();
    void* config = make_config(cfg);
    Side server;
    server.transport = ops().conn_new(config, nullptr, &server.conn, PORTICO_ROLE_SERVER, nullptr);
    REQUIRE(server.transport != nullptr);
    auto write_wire = [&] {
        size_t sent = 0;
        while (sent < server.conn.wire.size()) {
            const ssize_t n = write(fd, server.conn.wire.data() + sent, server.conn.wire.size() - sent);
            if (n <= 0) break;
            sent += static_cast<size_t>(n);
        }
        server.conn.wire.clear();
    };
    bool answered = false;
    for (int round = 0; round < 200 && !answered; ++round) {
        pollfd readable{fd, POLLIN, 0};
        if (poll(&readable, 1, 5000) != 1) break;
        char buffer[16384];
        const ssize_t n = read(fd, buffer, sizeof buffer);
        if (n <= 0) break;
        server.inbox.append(buffer, static_cast<size_t>(n));
        size_t used = 0;
        server.last =
            ops().on_input(server.transport, &server.conn, server.inbox.data(), server.inbox.size(), &used, false);
        server.inbox.erase(0, used);
        write_wire();
        if (server.done()) break;
        if (server.conn.plaintext.find("ping\n") != std::string::npos) {
            size_t consumed = 0;
            ops().on_output(server.transport, &server.conn, "pong\n", 5, &consumed);
            CHECK(consumed == 5);
            CHECK(ops().on_shutdown(server.transport, &server.conn) == PORTICO_IO_CLOSE);
            write_wire();
            answered = true;
        }
    }
    const Info info = server.info();
    close(fd);
    std::string output;
    char line[512];
    while (std::fgets(line, sizeof line, client) != nullptr) output += line;
    const int status = pclose(client);
    CAPTURE(output);
    CHECK(answered);
    CHECK(server.conn.handshakes == 1);
    CHECK(info.sni == "www.example.com");
    CHECK(info.alpn == "http/1.1");
    CHECK(info.version == "TLSv1.3");
    CHECK(output.find("pong") != std::string::npos);
    CHECK(output.find("verify error") == std::string::npos);
    CHECK(status == 0);
    ops().conn_free(server.transport);
    free_config(config);
}
