#include "proxy/forward_headers.h"

#include <array>
#include <charconv>
#include <cstdio>
#include <ctime>

#include "http/status.h"

namespace portico::proxy {

namespace {

using http::equals_ignore_case;

// Tokens listed in Connection fields: those fields are hop-by-hop too (RFC 9110 7.6.1).
struct ConnectionTokens {
    std::array<std::string_view, 16> tokens;
    size_t count = 0;

    template <typename Headers>
    explicit ConnectionTokens(const Headers& headers) {
        for (const auto& header : headers) {
            if (!equals_ignore_case(header.name, "connection")) continue;
            std::string_view list = header.value;
            while (!list.empty() && count < tokens.size()) {
                size_t comma = list.find(',');
                std::string_view token = list.substr(0, comma);
                while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
                while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
                if (!token.empty()) tokens[count++] = token;
                if (comma == std::string_view::npos) break;
                list.remove_prefix(comma + 1);
            }
        }
    }

    bool contains(std::string_view name) const {
        for (size_t i = 0; i < count; ++i) {
            if (equals_ignore_case(tokens[i], name)) return true;
        }
        return false;
    }
};

bool is_hop_by_hop(std::string_view name) {
    static constexpr std::string_view kHopByHop[] = {
        "connection", "keep-alive", "proxy-connection", "te", "transfer-encoding", "upgrade",
        "content-length",  // regenerated from the framing we choose
    };
    for (auto hop : kHopByHop) {
        if (equals_ignore_case(name, hop)) return true;
    }
    return false;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
}

void append_number(std::string& out, uint64_t value) {
    char digits[24];
    auto result = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, result.ptr - digits);
}

// Appends every value of the fields called `name`, each followed by ", ".
void append_list(std::string& out, const std::vector<http::Header>& headers, std::string_view name) {
    for (const auto& header : headers) {
        if (equals_ignore_case(header.name, name) && !header.value.empty()) out.append(header.value).append(", ");
    }
}

// See ResponseForwarding::endpoint_authority.
void append_location(std::string& out, std::string_view name, std::string_view value,
                     const ResponseForwarding& forwarding) {
    constexpr std::string_view kHttp = "http://";
    std::string_view authority = forwarding.endpoint_authority;
    size_t prefix = kHttp.size() + authority.size();
    bool names_endpoint = !authority.empty() && value.size() >= prefix &&
                          equals_ignore_case(value.substr(0, kHttp.size()), kHttp) &&
                          equals_ignore_case(value.substr(kHttp.size(), authority.size()), authority) &&
                          (value.size() == prefix || value[prefix] == '/' || value[prefix] == '?');
    if (!names_endpoint) {
        append_field(out, name, value);
        return;
    }
    out.append(name).append(": ");
    if (!forwarding.client_host.empty()) {
        out.append(forwarding.client_scheme).append("://").append(forwarding.client_host);
    }
    std::string_view rest = value.substr(prefix);
    if (rest.empty() || rest[0] != '/') out.push_back('/');
    out.append(rest).append("\r\n");
}

std::string_view version_text(http::Version version) {
    return version == http::Version::Http10 ? "1.0" : "1.1";
}

}  // namespace

std::string_view find_header(const http::RequestHead& request, std::string_view name) {
    for (const auto& header : request.headers) {
        if (equals_ignore_case(header.name, name)) return header.value;
    }
    return {};
}

void write_upstream_request(const http::RequestHead& request, const RequestForwarding& forwarding,
                            std::string& out) {
    const config::Server& server = *forwarding.server;
    ConnectionTokens connection_tokens(request.headers);
    out.append(request.method_token).append(" ").append(request.target).append(" HTTP/1.1\r\n");
    // One Host, first: the request's (from its Host field or its absolute-form target), or our fallback.
    append_field(out, "Host", request.host.empty() ? forwarding.fallback_host : request.host);

    bool has_request_id = false;
    for (const auto& header : request.headers) {
        std::string_view name = header.name;
        if (is_hop_by_hop(name) || connection_tokens.contains(name) || equals_ignore_case(name, "host")) continue;
        // Ours replace X-Forwarded-Proto/-Host; X-Forwarded-For and Via are extended below; Expect:
        // 100-continue is answered by the proxy itself.
        if (equals_ignore_case(name, "x-forwarded-for") || equals_ignore_case(name, "x-forwarded-proto") ||
            equals_ignore_case(name, "x-forwarded-host") || equals_ignore_case(name, "via") ||
            equals_ignore_case(name, "expect")) {
            continue;
        }
        if (equals_ignore_case(name, server.request_id_header)) has_request_id = true;
        append_field(out, name, header.value);
    }

    // Several X-Forwarded-For or Via fields form one list in order (RFC 9110 5.3); we append to it.
    out.append("X-Forwarded-For: ");
    append_list(out, request.headers, "x-forwarded-for");
    out.append(forwarding.client_ip).append("\r\n");
    append_field(out, "X-Forwarded-Proto", forwarding.scheme);
    if (!request.host.empty()) append_field(out, "X-Forwarded-Host", request.host);
    out.append("Via: ");
    append_list(out, request.headers, "via");
    out.append(version_text(request.version)).append(" ").append(server.via_name).append("\r\n");
    if (!has_request_id) append_field(out, server.request_id_header, forwarding.request_id);

    switch (request.body) {
        case http::BodyKind::ContentLength:
            out.append("Content-Length: ");
            append_number(out, request.content_length);
            out.append("\r\n");
            break;
        case http::BodyKind::Chunked:
            out.append("Transfer-Encoding: chunked\r\n");
            break;
        default:
            // Methods whose requests usually carry a body say "no body" explicitly (RFC 9110 8.6).
            if (request.method == http::Method::Post || request.method == http::Method::Put ||
                request.method == http::Method::Patch) {
                out.append("Content-Length: 0\r\n");
            }
            break;
    }
    if (request.upgrade) {
        out.append("Connection: upgrade\r\n");
        std::string_view upgrade = find_header(request, "upgrade");
        append_field(out, "Upgrade", upgrade);
    }
    out.append("\r\n");
}

void write_client_response(const http::ResponseHead& response, const ResponseForwarding& forwarding,
                           std::string& out) {
    const config::Server& server = *forwarding.server;
    ConnectionTokens connection_tokens(response.headers);
    bool is_upgrade = response.status == 101;
    out.append("HTTP/1.1 ");
    append_number(out, static_cast<uint64_t>(response.status));
    out.append(" ").append(response.reason.empty() ? http::reason_phrase(response.status) : response.reason);
    out.append("\r\n");

    bool has_request_id = false;
    bool has_date = false;
    for (const auto& header : response.headers) {
        std::string_view name = header.name;
        if (equals_ignore_case(name, "date")) has_date = true;
        // A response to HEAD or a 304 keeps the Content-Length the origin sent: it describes the entity.
        bool keep_length = forwarding.framing == ClientFraming::None && equals_ignore_case(name, "content-length") &&
                           response.status != 204 && response.status >= 200;
        if (!keep_length && (is_hop_by_hop(name) || connection_tokens.contains(name))) continue;
        if (!server.pass_server_header &&
            (equals_ignore_case(name, "server") || equals_ignore_case(name, "x-powered-by"))) {
            continue;
        }
        if (equals_ignore_case(name, "via")) continue;
        if (!forwarding.hsts.empty() && equals_ignore_case(name, "strict-transport-security")) continue;
        if (equals_ignore_case(name, server.request_id_header)) has_request_id = true;
        if (equals_ignore_case(name, "location") || equals_ignore_case(name, "content-location")) {
            append_location(out, name, header.value, forwarding);
            continue;
        }
        append_field(out, name, header.value);
    }
    if (!has_date && !forwarding.date.empty() && response.status >= 200) append_field(out, "Date", forwarding.date);
    out.append("Via: ");
    append_list(out, response.headers, "via");
    out.append(version_text(response.version)).append(" ").append(server.via_name).append("\r\n");
    if (!has_request_id && !forwarding.request_id.empty() && response.status >= 200) {
        append_field(out, server.request_id_header, forwarding.request_id);
    }
    if (!forwarding.hsts.empty() && response.status >= 200)
        append_field(out, "Strict-Transport-Security", forwarding.hsts);

    switch (forwarding.framing) {
        case ClientFraming::ContentLength:
            out.append("Content-Length: ");
            append_number(out, response.content_length);
            out.append("\r\n");
            break;
        case ClientFraming::Chunked:
            out.append("Transfer-Encoding: chunked\r\n");
            break;
        default:
            break;
    }
    if (is_upgrade) {
        out.append("Connection: upgrade\r\n");
        for (const auto& header : response.headers) {
            if (equals_ignore_case(header.name, "upgrade")) append_field(out, "Upgrade", header.value);
        }
    } else if (response.status >= 200) {
        if (!forwarding.keep_alive) {
            out.append("Connection: close\r\n");
        } else if (forwarding.client_version == http::Version::Http10) {
            out.append("Connection: keep-alive\r\n");
        }
    }
    out.append("\r\n");
}

void format_http_date(int64_t unix_seconds, std::string& out) {
    static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = static_cast<time_t>(unix_seconds);
    struct tm tm;
    gmtime_r(&t, &tm);
    char text[40];
    int n = std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                          kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    out.assign(text, n > 0 ? static_cast<size_t>(n) : 0);
}

size_t write_error_response(int status, bool head_request, bool keep_alive, std::string_view date,
                            std::string_view extra_fields, std::string& out) {
    std::string_view reason = http::reason_phrase(status);
    std::string body;
    body.append("<!DOCTYPE html>\n<html><head><title>");
    append_number(body, static_cast<uint64_t>(status));
    body.append(" ").append(reason).append("</title></head>\n<body><h1>");
    append_number(body, static_cast<uint64_t>(status));
    body.append(" ").append(reason).append("</h1></body></html>\n");

    out.append("HTTP/1.1 ");
    append_number(out, static_cast<uint64_t>(status));
    out.append(" ").append(reason).append("\r\n");
    out.append("Content-Type: text/html; charset=utf-8\r\nContent-Length: ");
    append_number(out, body.size());
    out.append("\r\nCache-Control: no-store\r\n");
    if (!date.empty()) append_field(out, "Date", date);
    out.append(extra_fields);
    out.append(keep_alive ? "" : "Connection: close\r\n");
    out.append("\r\n");
    if (head_request) return 0;
    out.append(body);
    return body.size();
}

}  // namespace portico::proxy
