#include "http/response_parser.h"

#include "http/field_syntax.h"

namespace portico::http {

ParseStatus ResponseParser::parse(const char* data, size_t len, Method request_method, ResponseHead& out) {
    auto fail = [&](const char* reason) {
        error_ = ParseError{502, reason};
        return ParseStatus::Error;
    };

    size_t line_start = 0;
    size_t end = syntax::find_head_end(data, len, scanned_, line_start);
    if (end == SIZE_MAX) return fail("bare LF in response head");
    if (end == 0) {
        scanned_ = line_start;
        if (len > limits_.max_head_size) return fail("response head too large");
        return ParseStatus::Incomplete;
    }
    if (end > limits_.max_head_size) return fail("response head too large");

    // status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 4); a missing SP before an
    // empty reason is tolerated, as most servers produce it.
    const char* line_end = static_cast<const char*>(std::memchr(data, '\r', end));
    if (line_end[1] != '\n') return fail("CR without LF in status line");
    std::string_view line(data, line_end - data);
    if (line.size() < 12 || line.substr(0, 7) != "HTTP/1." || (line[7] != '0' && line[7] != '1') ||
        line[8] != ' ') {
        return fail("malformed status line");
    }
    out.version = line[7] == '1' ? Version::Http11 : Version::Http10;
    int status = 0;
    for (size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') return fail("malformed status code");
        status = status * 10 + (line[i] - '0');
    }
    if (status < 100 || status > 599) return fail("status code out of range");
    out.status = status;
    out.reason = {};
    if (line.size() > 12) {
        if (line[12] != ' ') return fail("malformed status line");
        out.reason = line.substr(13);
        for (unsigned char c : out.reason) {
            if (!syntax::kChars.field_value[c]) return fail("control character in reason phrase");
        }
    }

    out.headers.clear();
    out.content_length = 0;
    bool has_content_length = false;
    bool has_transfer_encoding = false;
    bool final_chunked = false;
    bool connection_close = false, connection_keep_alive = false;

    size_t pos = static_cast<size_t>(line_end - data) + 2;
    while (pos < end - 2) {
        const char* cr = static_cast<const char*>(std::memchr(data + pos, '\r', end - pos));
        std::string_view field_line(data + pos, cr - (data + pos));
        pos = static_cast<size_t>(cr - data) + 2;
        if (data[pos - 1] != '\n') return fail("CR without LF in response head");
        Header header;
        syntax::FieldError field_error = syntax::parse_field_line(field_line, header.name, header.value);
        if (field_error != syntax::FieldError::None) return fail(syntax::describe(field_error));
        if (out.headers.size() == limits_.max_headers) return fail("too many response header fields");
        out.headers.push_back(header);

        std::string_view name = header.name;
        if (equals_ignore_case(name, "content-length")) {
            uint64_t value = 0;
            if (!syntax::parse_content_length(header.value, value)) return fail("invalid Content-Length");
            if (has_content_length && value != out.content_length) return fail("conflicting Content-Length");
            has_content_length = true;
            out.content_length = value;
        } else if (equals_ignore_case(name, "transfer-encoding")) {
            has_transfer_encoding = true;
            // Only the last coding decides the framing (RFC 9112 6.3 rule 4); later fields extend the list.
            syntax::for_each_list_element(header.value, [&](std::string_view coding) {
                final_chunked = equals_ignore_case(coding, "chunked");
            });
        } else if (equals_ignore_case(name, "connection")) {
            syntax::for_each_list_element(header.value, [&](std::string_view token) {
                if (equals_ignore_case(token, "close")) connection_close = true;
                if (equals_ignore_case(token, "keep-alive")) connection_keep_alive = true;
            });
        }
    }

    // Message body length, RFC 9112 6.3.
    if (request_method == Method::Head || status < 200 || status == 204 || status == 304) {
        out.body = BodyKind::None;
    } else if (has_transfer_encoding && has_content_length) {
        return fail("Content-Length with Transfer-Encoding");
    } else if (has_transfer_encoding) {
        if (out.version == Version::Http10) return fail("Transfer-Encoding in an HTTP/1.0 response");
        out.body = final_chunked ? BodyKind::Chunked : BodyKind::UntilClose;
    } else if (has_content_length) {
        out.body = out.content_length == 0 ? BodyKind::None : BodyKind::ContentLength;
    } else {
        out.body = BodyKind::UntilClose;
    }
    if (out.version == Version::Http11) {
        out.keep_alive = !connection_close;
    } else {
        out.keep_alive = connection_keep_alive && !connection_close;
    }
    if (out.body == BodyKind::UntilClose) out.keep_alive = false;
    out.head_size = end;
    return ParseStatus::Complete;
}

}  // namespace portico::http
