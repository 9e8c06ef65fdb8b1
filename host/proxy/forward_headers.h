// Rewrites message heads as they cross the proxy (RFC 9110 7.6): hop-by-hop fields and those named in
// Connection are dropped, framing is regenerated, X-Forwarded-*, Via and the request id are added, and the
// origin's Server / X-Powered-By are hidden unless configured.
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"
#include "http/message.h"

namespace portico::proxy {

struct RequestForwarding {
    std::string_view client_ip;
    std::string_view scheme;        // "http" or "https"
    std::string_view request_id;    // generated or taken from the request
    std::string_view fallback_host; // Host to send when an HTTP/1.0 client sent none
    const config::Server* server;
};

// Appends the upstream request head (always HTTP/1.1) for `request` to `out`.
void write_upstream_request(const http::RequestHead& request, const RequestForwarding& forwarding,
                            std::string& out);

// How the proxy frames the response body it sends to the client.
enum class ClientFraming : uint8_t { None, ContentLength, Chunked, UntilClose };

struct ResponseForwarding {
    ClientFraming framing;
    bool keep_alive;                // tell the client whether the connection stays open
    http::Version client_version;
    std::string_view request_id;    // added when the origin sent none
    const config::Server* server;
    // Location and Content-Location naming the endpoint ("http://127.0.0.1:9001/x") are rewritten to the
    // address the client used (client_scheme://client_host/x), as nginx's default proxy_redirect, so redirects
    // never reveal a backend.
    std::string_view endpoint_authority;
    std::string_view client_scheme;
    std::string_view client_host;
    // An IMF-fixdate added when the origin sent no Date (RFC 9110 6.6.1: a recipient with a clock MUST add one
    // to a response it forwards); empty adds nothing.
    std::string_view date;
    // The listener's Strict-Transport-Security value (replacing the origin's); empty adds nothing.
    std::string_view hsts;
};

// Appends the head of the response to the client to `out`.
void write_client_response(const http::ResponseHead& response, const ResponseForwarding& forwarding,
                           std::string& out);

// The request id the client sent in `header_name`, or "" if none.
std::string_view find_header(const http::RequestHead& request, std::string_view name);

// A complete short error response the proxy itself makes (never naming a backend), with `extra_fields` (whole
// "Name: value\r\n" lines: Location, Strict-Transport-Security) in its head. Returns the body size.
size_t write_error_response(int status, bool head_request, bool keep_alive, std::string_view date,
                            std::string_view extra_fields, std::string& out);

// "Sun, 06 Nov 1994 08:49:37 GMT" (RFC 9110 5.6.7) for `unix_seconds`, into `out` (29 characters).
void format_http_date(int64_t unix_seconds, std::string& out);

}  // namespace portico::proxy
