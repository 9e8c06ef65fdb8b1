#include <doctest/doctest.h>

#include "proxy/forward_headers.h"

using namespace portico;

namespace {
http::RequestHead request_with(std::vector<http::Header> headers) {
    http::RequestHead request;
    request.method_token = "GET";
    request.method = http::Method::Get;
    request.target = "/p?q=1";
    request.headers = std::move(headers);
    for (const auto& h : request.headers) {
        if (http::equals_ignore_case(h.name, "host")) request.host = h.value;
    }
    return request;
}
}  // namespace

TEST_CASE("upstream request: hop-by-hop and Connection-named fields dropped, forwarding fields added") {
    config::Server server;
    auto request = request_with({{"Host", "example.com"},
                                 {"Connection", "keep-alive, X-Secret"},
                                 {"Keep-Alive", "timeout=5"},
                                 {"X-Secret", "s"},
                                 {"Proxy-Connection", "keep-alive"},
                                 {"TE", "trailers"},
                                 {"X-Forwarded-For", "10.0.0.1"},
                                 {"X-Forwarded-Proto", "https"},
                                 {"Via", "1.0 edge"},
                                 {"Accept", "*/*"}});
    proxy::RequestForwarding forwarding{"127.0.0.1", "http", "abc", "app", &server};
    std::string out;
    proxy::write_upstream_request(request, forwarding, out);
    CHECK(out.rfind("GET /p?q=1 HTTP/1.1\r\n", 0) == 0);
    CHECK(out.find("Host: example.com\r\n") != std::string::npos);
    CHECK(out.find("Accept: */*\r\n") != std::string::npos);
    CHECK(out.find("X-Secret") == std::string::npos);
    CHECK(out.find("Keep-Alive") == std::string::npos);
    CHECK(out.find("Proxy-Connection") == std::string::npos);
    CHECK(out.find("TE:") == std::string::npos);
    CHECK(out.find("Connection:") == std::string::npos);
    CHECK(out.find("X-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n") != std::string::npos);
    CHECK(out.find("X-Forwarded-Proto: http\r\n") != std::string::npos);
    CHECK(out.find("https") == std::string::npos);
    CHECK(out.find("X-Forwarded-Host: example.com\r\n") != std::string::npos);
    CHECK(out.find("Via: 1.0 edge, 1.1 portico\r\n") != std::string::npos);
    CHECK(out.find("X-Request-Id: abc\r\n") != std::string::npos);
    CHECK(out.size() >= 4);
    CHECK(out.substr(out.size() - 4) == "\r\n\r\n");
}

TEST_CASE("client response: Server hidden, framing regenerated, Location naming the endpoint rewritten") {
    config::Server server;
    http::ResponseHead response;
    response.status = 302;
    response.reason = "Found";
    response.content_length = 5;
    response.body = http::BodyKind::ContentLength;
    response.headers = {{"Server", "secret/1.0"},
                        {"X-Powered-By", "PHP"},
                        {"Content-Length", "5"},
                        {"Location", "http://127.0.0.1:9001/next?x"},
                        {"Content-Location", "http://other.example/x"}};
    proxy::ResponseForwarding forwarding;
    forwarding.framing = proxy::ClientFraming::ContentLength;
    forwarding.keep_alive = true;
    forwarding.client_version = http::Version::Http11;
    forwarding.request_id = "id1";
    forwarding.server = &server;
    forwarding.endpoint_authority = "127.0.0.1:9001";
    forwarding.client_scheme = "http";
    forwarding.client_host = "example.com";
    std::string out;
    proxy::write_client_response(response, forwarding, out);
    CHECK(out.rfind("HTTP/1.1 302 Found\r\n", 0) == 0);
    CHECK(out.find("secret") == std::string::npos);
    CHECK(out.find("PHP") == std::string::npos);
    CHECK(out.find("127.0.0.1") == std::string::npos);
    CHECK(out.find("9001") == std::string::npos);
    CHECK(out.find("Location: http://example.com/next?x\r\n") != std::string::npos);
    CHECK(out.find("Content-Location: http://other.example/x\r\n") != std::string::npos);
    CHECK(out.find("Content-Length: 5\r\n") != std::string::npos);
    CHECK(out.find("X-Request-Id: id1\r\n") != std::string::npos);
    CHECK(out.find("Via: 1.1 portico\r\n") != std::string::npos);

    server.pass_server_header = true;
    out.clear();
    proxy::write_client_response(response, forwarding, out);
    CHECK(out.find("Server: secret/1.0\r\n") != std::string::npos);
}

TEST_CASE("error responses are short, framed, and close when asked") {
    std::string out;
    proxy::write_error_response(502, false, false, "", "", out);
    CHECK(out.rfind("HTTP/1.1 502 Bad Gateway\r\n", 0) == 0);
    CHECK(out.find("Connection: close\r\n") != std::string::npos);
    auto body_at = out.find("\r\n\r\n") + 4;
    auto length_at = out.find("Content-Length: ") + 16;
    CHECK(std::stoul(out.substr(length_at)) == out.size() - body_at);
    out.clear();
    proxy::write_error_response(404, true, true, "", "", out);
    CHECK(out.find("Connection: close") == std::string::npos);
    CHECK(out.substr(out.size() - 4) == "\r\n\r\n");  // HEAD: no body
}

TEST_CASE("format_http_date writes an IMF-fixdate (RFC 9110 5.6.7)") {
    std::string out;
    proxy::format_http_date(784111777, out);
    CHECK(out == "Sun, 06 Nov 1994 08:49:37 GMT");
    proxy::format_http_date(0, out);
    CHECK(out == "Thu, 01 Jan 1970 00:00:00 GMT");
}

TEST_CASE("error pages carry the Date they are given") {
    std::string out;
    proxy::write_error_response(502, false, true, "Sun, 06 Nov 1994 08:49:37 GMT", "", out);
    CHECK(out.find("\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n") != std::string::npos);
}
