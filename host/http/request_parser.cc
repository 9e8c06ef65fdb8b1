#include "http/request_parser.h"

#include <algorithm>

#include "http/field_syntax.h"

namespace portico::http {

namespace {

// RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request line; we ignore a few.
constexpr size_t kMaxLeadingEmptyLines = 4;

Method method_of(std::string_view token) {
    switch (token.size()) {
        case 3:
            if (token == "GET") return Method::Get;
            if (token == "PUT") return Method::Put;
            break;
        case 4:
            if (token == "HEAD") return Method::Head;
            if (token == "POST") return Method::Post;
            break;
        case 5:
            if (token == "PATCH") return Method::Patch;
            if (token == "TRACE") return Method::Trace;
            break;
        case 6:
            if (token == "DELETE") return Method::Delete;
            break;
        case 7:
            if (token == "OPTIONS") return Method::Options;
            if (token == "CONNECT") return Method::Connect;
            break;
    }
    return Method::Other;
}

// Host = uri-host [ ":" port ] (RFC 9110 7.2): reg-name, IPv4 or an IP-literal in brackets.
bool valid_host(std::string_view host) {
    for (unsigned char c : host) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::string_view("-._~!$&'()*+,;=%:[]").find(static_cast<char>(c)) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

}  // namespace

ParseStatus RequestParser::parse(const char* data, size_t len, RequestHead& out) {
    auto fail = [&](int status, const char* reason) {
        error_ = ParseError{status, reason};
        return ParseStatus::Error;
    };

    size_t start = 0;
    while (start + 1 < len && data[start] == '\r' && data[start + 1] == '\n') {
        start += 2;
        if (start > 2 * kMaxLeadingEmptyLines) return fail(400, "too many empty lines before the request");
    }
    if (start < len && data[start] == '\n') return fail(400, "bare LF in head");
    if (start == len || (start + 1 == len && data[start] == '\r')) return ParseStatus::Incomplete;

    size_t line_start = 0;
    size_t end = syntax::find_head_end(data, len, std::max(scanned_, start), line_start);
    if (end == SIZE_MAX) return fail(400, "bare LF in head");
    if (end == 0) {
        scanned_ = line_start;
        // Limits apply while the head is still arriving, so a slow or endless head is refused early.
        if (line_start == start && len - start > limits_.max_request_line) return fail(414, "request line too long");
        if (len - start > limits_.max_head_size) return fail(431, "request head too large");
        return ParseStatus::Incomplete;
    }
    if (end - start > limits_.max_head_size) return fail(431, "request head too large");

    // Request line: method SP request-target SP HTTP-version CRLF (RFC 9112 3), single spaces only.
    const char* line_end = static_cast<const char*>(std::memchr(data + start, '\r', end - start));
    if (line_end[1] != '\n') return fail(400, "CR without LF in request line");
    std::string_view line(data + start, line_end - (data + start));
    if (line.size() > limits_.max_request_line) return fail(414, "request line too long");
    size_t sp1 = line.find(' ');
    if (sp1 == std::string_view::npos) return fail(400, "malformed request line");
    out.method_token = line.substr(0, sp1);
    if (!syntax::is_token(out.method_token)) return fail(400, "invalid method");
    size_t sp2 = line.find(' ', sp1 + 1);
    if (sp2 == std::string_view::npos) return fail(400, "missing HTTP version");  // HTTP/0.9 style
    out.target = line.substr(sp1 + 1, sp2 - sp1 - 1);
    if (out.target.empty()) return fail(400, "empty request target");
    for (unsigned char c : out.target) {
        if (!syntax::kChars.target[c]) return fail(400, "invalid character in request target");
    }
    std::string_view version = line.substr(sp2 + 1);
    if (version == "HTTP/1.1") {
        out.version = Version::Http11;
    } else if (version == "HTTP/1.0") {
        out.version = Version::Http10;
    } else {
        return fail(400, "unsupported HTTP version");
    }
    out.method = method_of(out.method_token);
    if (out.method == Method::Connect) return fail(405, "CONNECT not supported");

    // Field lines.
    out.headers.clear();
    out.host = {};
    out.body = BodyKind::None;
    out.content_length = 0;
    out.keep_alive = out.version == Version::Http11;
    out.expect_continue = false;
    out.upgrade = false;
    bool has_content_length = false;
    bool has_transfer_encoding = false;
    bool chunked = false;
    bool connection_close = false, connection_keep_alive = false, connection_upgrade = false;
    bool has_upgrade_field = false;
    int host_count = 0;

    size_t pos = static_cast<size_t>(line_end - data) + 2;
    while (pos < end - 2) {
        const char* cr = static_cast<const char*>(std::memchr(data + pos, '\r', end - pos));
        std::string_view field_line(data + pos, cr - (data + pos));
        pos = static_cast<size_t>(cr - data) + 2;
        if (data[pos - 1] != '\n') return fail(400, "CR without LF in head");
        Header header;
        syntax::FieldError field_error = syntax::parse_field_line(field_line, header.name, header.value);
        if (field_error != syntax::FieldError::None) return fail(400, syntax::describe(field_error));
        if (out.headers.size() == limits_.max_headers) return fail(431, "too many header fields");
        out.headers.push_back(header);

        std::string_view name = header.name;
        if (equals_ignore_case(name, "host")) {
            if (++host_count > 1) return fail(400, "more than one Host field");
            if (!valid_host(header.value)) return fail(400, "invalid Host");
            out.host = header.value;
        } else if (equals_ignore_case(name, "content-length")) {
            uint64_t value = 0;
            if (!syntax::parse_content_length(header.value, value)) return fail(400, "invalid Content-Length");
            // Repeated identical values are one value (RFC 9110 8.6); differing ones are a smuggling attempt.
            if (has_content_length && value != out.content_length) return fail(400, "conflicting Content-Length");
            has_content_length = true;
            out.content_length = value;
        } else if (equals_ignore_case(name, "transfer-encoding")) {
            if (has_transfer_encoding) return fail(400, "repeated Transfer-Encoding");
            has_transfer_encoding = true;
            int codings = 0;
            bool only_chunked = true;
            syntax::for_each_list_element(header.value, [&](std::string_view coding) {
                ++codings;
                if (!equals_ignore_case(coding, "chunked")) only_chunked = false;
            });
            // We decode nothing but chunked in requests: one coding, and it must be chunked (RFC 9112 6.1).
            if (codings != 1 || !only_chunked) return fail(400, "unsupported Transfer-Encoding");
            chunked = true;
        } else if (equals_ignore_case(name, "connection")) {
            syntax::for_each_list_element(header.value, [&](std::string_view token) {
                if (equals_ignore_case(token, "close")) connection_close = true;
                if (equals_ignore_case(token, "keep-alive")) connection_keep_alive = true;
                if (equals_ignore_case(token, "upgrade")) connection_upgrade = true;
            });
        } else if (equals_ignore_case(name, "expect")) {
            if (equals_ignore_case(header.value, "100-continue")) out.expect_continue = true;
        } else if (equals_ignore_case(name, "upgrade")) {
            has_upgrade_field = true;
        }
    }

    if (out.version == Version::Http11 && host_count == 0) return fail(400, "missing Host");
    if (has_transfer_encoding && has_content_length) return fail(400, "Content-Length with Transfer-Encoding");
    if (has_transfer_encoding && out.version == Version::Http10) return fail(400, "Transfer-Encoding in HTTP/1.0");
    if (chunked) {
        out.body = BodyKind::Chunked;
    } else if (has_content_length && out.content_length > 0) {
        out.body = BodyKind::ContentLength;
    }
    if (out.version == Version::Http11) {
        out.keep_alive = !connection_close;
    } else {
        out.keep_alive = connection_keep_alive && !connection_close;
    }
    out.upgrade = connection_upgrade && has_upgrade_field;
    out.head_size = end;
    return ParseStatus::Complete;
}

}  // namespace portico::http
