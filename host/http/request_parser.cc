#include "http/request_parser.h"

#include <algorithm>
#include <cstring>

#include "http/field_syntax.h"

namespace portico::http {

namespace {

// RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request-line. A few cover clients that
// add CRLF after a POST body; more is not a client talking HTTP.
constexpr size_t kMaxLeadingEmptyLines = 4;

Method method_of(std::string_view token) {
    // Methods are case-sensitive (RFC 9110 9.1); a length switch keeps this to one or two compares.
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
        default:
            break;
    }
    return Method::Other;
}

// RFC 3986 3.2.2 unreserved / sub-delims ('%' of pct-encoded is checked by the caller).
bool is_reg_name_char(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("-._~!$&'()*+,;=").find(c) != std::string_view::npos;
}

bool is_hex(char c) {
    return syntax::kChars.hex[static_cast<unsigned char>(c)] >= 0;
}

// Host = uri-host [ ":" port ] (RFC 9110 7.2), uri-host = IP-literal / IPv4address / reg-name (RFC 3986 3.2.2).
// An empty value is valid (RFC 9110 7.2: the target had no authority). Anything else, such as SP, '/', '@' or a
// second ':', could make the router and the upstream disagree on the host, so it is refused.
bool valid_host(std::string_view host) {
    size_t i = 0;
    if (!host.empty() && host[0] == '[') {
        // IP-literal: IPv6 or IPvFuture; their characters are HEXDIG, ':', '.', 'v' and unreserved/sub-delims.
        size_t close = host.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        for (i = 1; i < close; ++i) {
            if (host[i] != ':' && !is_reg_name_char(host[i])) return false;
        }
        i = close + 1;
    } else {
        while (i < host.size() && host[i] != ':') {
            if (host[i] == '%') {
                if (i + 2 >= host.size() || !is_hex(host[i + 1]) || !is_hex(host[i + 2])) return false;
                i += 3;
                continue;
            }
            if (!is_reg_name_char(host[i])) return false;
            ++i;
        }
    }
    if (i == host.size()) return true;
    if (host[i] != ':') return false;
    // port = *DIGIT (RFC 3986 3.2.3), so "example.com:" is valid; five digits are enough for any port.
    if (host.size() - i - 1 > 5) return false;
    for (++i; i < host.size(); ++i) {
        if (host[i] < '0' || host[i] > '9') return false;
    }
    return true;
}

// request-line = method SP request-target SP HTTP-version CRLF (RFC 9112 3), exactly one SP each.
struct RequestLine {
    std::string_view method_token;
    std::string_view target;
    Method method = Method::Other;
    Version version = Version::Http11;
};

// Checks the request-line at p, which ends at line_end (just past its LF; the CR before it has been checked).
// Returns status 0, or the status and reason to refuse the request with.
ParseError parse_request_line(const char* p, const char* line_end, RequestLine& line) {
    const char* method = p;
    while (syntax::is_token_char(*p)) ++p;  // stops at the CR at the latest, as at every loop here
    if (p == method || (*p != ' ' && *p != '\r')) return {400, "invalid method"};
    if (*p == '\r') return {400, "malformed request line"};
    line.method_token = std::string_view(method, static_cast<size_t>(p - method));
    const char* target = ++p;
    while (syntax::is_target_char(*p)) ++p;
    if (p == target) return {400, "empty request target"};  // includes a doubled SP
    if (*p == '\r') return {400, "missing HTTP version"};   // HTTP/0.9 "GET /" (RFC 9112 2.3)
    if (*p != ' ') return {400, "invalid character in request target"};
    line.target = std::string_view(target, static_cast<size_t>(p - target));
    ++p;
    // HTTP-version = "HTTP" "/" DIGIT "." DIGIT, case-sensitive (RFC 9112 2.3); we speak 1.0 and 1.1 only.
    if (line_end - p != 10 || std::memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != '\r') {
        return {400, "unsupported HTTP version"};
    }
    line.version = p[7] == '1' ? Version::Http11 : Version::Http10;
    line.method = method_of(line.method_token);
    // A reverse proxy does not open tunnels (RFC 9110 9.3.6 makes CONNECT a proxy-only method).
    if (line.method == Method::Connect) return {405, "CONNECT not supported"};
    return {};
}

// Facts gathered from the field lines that decide framing and connection handling.
struct FieldFacts {
    int host_count = 0;
    bool has_content_length = false;
    bool has_transfer_encoding = false;
    int chunked_count = 0;
    bool connection_close = false;
    bool connection_keep_alive = false;
    bool connection_upgrade = false;
    bool has_upgrade = false;
};

}  // namespace

ParseStatus RequestParser::parse(const char* data, size_t len, RequestHead& out) {
    auto fail = [this](int status, std::string_view reason) {
        error_ = ParseError{status, reason};
        scanned_ = 0;
        return ParseStatus::Error;
    };

    // Empty lines before the request-line (RFC 9112 2.2). They are cheap to skip again on every call.
    size_t start = 0;
    while (start + 1 < len && data[start] == '\r' && data[start + 1] == '\n') {
        start += 2;
        if (start > 2 * kMaxLeadingEmptyLines) return fail(400, "too many empty lines before request");
    }
    if (start == len || (start + 1 == len && data[start] == '\r')) return ParseStatus::Incomplete;

    // Find the end of the head. Bytes past start + max_head_size cannot belong to an acceptable head, so the scan
    // never looks at them: fed all at once or a byte at a time, the same input gets the same answer.
    //
    // scanned_ stays at `start` until the request-line's LF has been seen (its length decides 414), then it is
    // the offset up to which every LF is known to be preceded by CR and no empty line ends the head yet. A new
    // call resumes there, so the head is scanned once however it is split into reads.
    const size_t window = std::min(len, start + limits_.max_head_size);
    bool request_line_seen = scanned_ > start;
    size_t pos = std::max(scanned_, start);
    size_t end = 0;
    RequestLine line;
    const char* line_end = nullptr;  // set when the request-line was checked in this call
    while (pos < window) {
        const void* found = std::memchr(data + pos, '\n', window - pos);
        if (found == nullptr) break;
        const size_t lf = static_cast<size_t>(static_cast<const char*>(found) - data);
        // RFC 9112 2.2 allows a recipient to take a bare LF as a line end; a proxy must not, as the next hop may
        // see a different message in the same bytes.
        const bool crlf = lf > start && data[lf - 1] == '\r';
        if (!request_line_seen) {
            if (lf - start - (crlf ? 1 : 0) > limits_.max_request_line) return fail(414, "request line too long");
            if (!crlf) return fail(400, "bare LF in head");
            // Checked as soon as it is complete: an HTTP/0.9 client never sends an empty line, and a bad request
            // should not make us buffer its head first.
            request_line_seen = true;
            line_end = data + lf + 1;
            const ParseError bad = parse_request_line(data + start, line_end, line);
            if (bad.status != 0) return fail(bad.status, bad.reason);
        } else if (!crlf) {
            return fail(400, "bare LF in head");
        } else if (data[lf - 2] == '\n') {
            end = lf + 1;  // CR LF right after the previous line's LF: the empty line that ends the head
            break;
        }
        pos = lf + 1;
    }
    if (end == 0) {
        if (!request_line_seen && window > start) {
            // Refuse an endless request-line now rather than when the buffer is full. A final CR may be the
            // first half of its CRLF, so it does not count yet.
            const size_t seen = window - start - (data[window - 1] == '\r' ? 1 : 0);
            if (seen > limits_.max_request_line) return fail(414, "request line too long");
        }
        if (len - start >= limits_.max_head_size) return fail(431, "request head too large");
        scanned_ = request_line_seen ? window : start;
        return ParseStatus::Incomplete;
    }
    scanned_ = 0;  // a call with the same bytes parses them again; reset() is still how a caller moves on

    if (line_end == nullptr) {
        // Checked by an earlier call; parsing it again is cheaper than keeping its parts in the parser.
        line_end = static_cast<const char*>(std::memchr(data + start, '\n', end - start)) + 1;
        const ParseError bad = parse_request_line(data + start, line_end, line);
        if (bad.status != 0) return fail(bad.status, bad.reason);
    }
    out.method_token = line.method_token;
    out.method = line.method;
    out.target = line.target;
    out.version = line.version;
    const char* p = line_end;
    const char* const head_end = data + end;

    // RFC 9112 2.2: whitespace between the start-line and the first field line must be rejected (or the line
    // ignored); taking it as a field would let a different parser see a different header.
    if (syntax::is_ows(*p)) return fail(400, "whitespace after request line");

    out.headers.clear();
    out.host = {};
    out.content_length = 0;
    out.expect_continue = false;
    FieldFacts facts;
    const char* last = head_end - 2;  // the CR of the empty line
    while (p < last) {
        if (out.headers.size() == limits_.max_headers) return fail(431, "too many header fields");
        Header field;
        std::string_view why;
        p = syntax::parse_field_line(p, field, why);
        if (p == nullptr) return fail(400, why);
        out.headers.push_back(field);

        // Dispatch on length first: most fields are none of these and cost one switch.
        std::string_view name = field.name;
        switch (name.size()) {
            case 4:
                if (equals_ignore_case(name, "host")) {
                    // RFC 9112 3.2: more than one Host or an invalid one must get 400.
                    if (++facts.host_count > 1) return fail(400, "more than one Host field");
                    if (!valid_host(field.value)) return fail(400, "invalid Host");
                    out.host = field.value;
                }
                break;
            case 6:
                if (equals_ignore_case(name, "expect") && equals_ignore_case(field.value, "100-continue")) {
                    out.expect_continue = true;
                }
                break;
            case 7:
                if (equals_ignore_case(name, "upgrade")) facts.has_upgrade = true;
                break;
            case 10:
                if (equals_ignore_case(name, "connection")) {
                    syntax::for_each_list_element(field.value, [&facts](std::string_view option) {
                        if (equals_ignore_case(option, "close")) facts.connection_close = true;
                        if (equals_ignore_case(option, "keep-alive")) facts.connection_keep_alive = true;
                        if (equals_ignore_case(option, "upgrade")) facts.connection_upgrade = true;
                    });
                }
                break;
            case 14:
                if (equals_ignore_case(name, "content-length")) {
                    // RFC 9110 8.6 lets a recipient merge identical repeats; we refuse any repeat, so no two
                    // parsers on the path can ever pick different lengths (RFC 9112 6.3 rule 5, 11.2).
                    if (facts.has_content_length) return fail(400, "multiple Content-Length fields");
                    if (!syntax::parse_decimal(field.value, out.content_length)) {
                        return fail(400, "invalid Content-Length");
                    }
                    facts.has_content_length = true;
                }
                break;
            case 17:
                if (equals_ignore_case(name, "transfer-encoding")) {
                    // We decode no coding but chunked, and chunked exactly once, as the final coding (RFC 9112
                    // 6.1, 7): anything else is 400, since we cannot find where the body ends (RFC 9112 6.3).
                    facts.has_transfer_encoding = true;
                    bool other = false;
                    syntax::for_each_list_element(field.value, [&facts, &other](std::string_view coding) {
                        if (equals_ignore_case(coding, "chunked")) {
                            ++facts.chunked_count;
                        } else {
                            other = true;
                        }
                    });
                    if (other) return fail(400, "unsupported transfer coding");
                    if (facts.chunked_count > 1) return fail(400, "chunked applied more than once");
                }
                break;
            default:
                break;
        }
    }

    if (out.version == Version::Http11 && facts.host_count == 0) return fail(400, "missing Host");
    // RFC 9112 6.1: a server may reject CL with TE, and must close after such a request; rejecting is simpler and
    // the classic request-smuggling shape is refused at the door.
    if (facts.has_transfer_encoding && facts.has_content_length) {
        return fail(400, "Content-Length with Transfer-Encoding");
    }
    // RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
    if (facts.has_transfer_encoding && out.version == Version::Http10) {
        return fail(400, "Transfer-Encoding in HTTP/1.0");
    }
    if (facts.has_transfer_encoding && facts.chunked_count == 0) return fail(400, "empty Transfer-Encoding");

    if (facts.has_transfer_encoding) {
        out.body = BodyKind::Chunked;
    } else if (out.content_length > 0) {
        out.body = BodyKind::ContentLength;
    } else {
        out.body = BodyKind::None;  // RFC 9112 6.3 rule 7: neither field means no body
    }
    // RFC 9112 9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive" (RFC 9112 C.2.2).
    if (out.version == Version::Http11) {
        out.keep_alive = !facts.connection_close;
    } else {
        out.keep_alive = facts.connection_keep_alive && !facts.connection_close;
    }
    // RFC 9110 7.8: Upgrade is only meaningful when listed in Connection, and is ignored in an HTTP/1.0 request.
    out.upgrade = facts.has_upgrade && facts.connection_upgrade && out.version == Version::Http11;
    out.head_size = end;
    return ParseStatus::Complete;
}

}  // namespace portico::http
