#include "http/response_parser.h"

#include <algorithm>
#include <cstring>

#include "http/field_syntax.h"

namespace portico::http {

namespace {

// Facts gathered from the field lines that decide framing and connection reuse.
struct FieldFacts {
    bool has_content_length = false;
    bool has_transfer_encoding = false;
    int coding_count = 0;
    int chunked_count = 0;
    bool final_chunked = false;
    bool connection_close = false;
    bool connection_keep_alive = false;
};

// Content-Length in a response: RFC 9110 8.6 lets a recipient take a list or repeated fields of one identical
// value as that value; any invalid or differing value is unrecoverable framing (RFC 9112 6.3 rule 5).
bool merge_content_length(std::string_view value, FieldFacts& facts, uint64_t& length) {
    size_t rest = 0;
    while (true) {
        size_t comma = value.find(',', rest);
        uint64_t parsed = 0;
        std::string_view element = syntax::trim_ows(value.substr(rest, comma - rest));
        if (!syntax::parse_decimal(element, parsed)) return false;
        if (facts.has_content_length && parsed != length) return false;
        facts.has_content_length = true;
        length = parsed;
        if (comma == std::string_view::npos) return true;
        rest = comma + 1;
    }
}

}  // namespace

ParseStatus ResponseParser::parse(const char* data, size_t len, Method request_method, ResponseHead& out) {
    // Whatever is wrong with an upstream's response, the client gets 502 (RFC 9110 15.6.3).
    auto fail = [this](std::string_view reason) {
        error_ = ParseError{502, reason};
        scanned_ = 0;
        return ParseStatus::Error;
    };

    // Same scan as the request parser, without the leading empty lines RFC 9112 2.2 grants to requests only.
    // scanned_ is where the previous call stopped: every LF before it is preceded by CR and ends no head.
    const size_t window = std::min(len, limits_.max_head_size);
    size_t pos = scanned_;
    size_t end = 0;
    while (pos < window) {
        const void* found = std::memchr(data + pos, '\n', window - pos);
        if (found == nullptr) break;
        const size_t lf = static_cast<size_t>(static_cast<const char*>(found) - data);
        if (lf == 0 || data[lf - 1] != '\r') return fail("bare LF in response head");
        if (lf == 1 || data[lf - 2] == '\n') {
            end = lf + 1;
            break;
        }
        pos = lf + 1;
    }
    if (end == 0) {
        if (len >= limits_.max_head_size) return fail("response head too large");
        scanned_ = window;
        return ParseStatus::Incomplete;
    }
    scanned_ = 0;

    // status-line = HTTP-version SP status-code SP [ reason-phrase ] CRLF (RFC 9112 4). Many servers leave out
    // the SP before an empty reason, and nothing depends on it, so "HTTP/1.1 204" is accepted too.
    const char* p = data;
    if (end < 16 || std::memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1') || p[8] != ' ') {
        return fail("malformed status line");
    }
    out.version = p[7] == '1' ? Version::Http11 : Version::Http10;
    int status = 0;
    for (int i = 9; i < 12; ++i) {
        if (p[i] < '0' || p[i] > '9') return fail("malformed status code");
        status = status * 10 + (p[i] - '0');
    }
    if (status < 100) return fail("status code out of range");  // RFC 9110 15: 100..599
    if (status > 599) return fail("status code out of range");
    out.status = status;
    p += 12;
    const char* reason = p;
    if (*p == ' ') {
        reason = ++p;
        while (syntax::is_field_value_char(*p)) ++p;  // reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )
    }
    if (p[0] != '\r' || p[1] != '\n') return fail("malformed status line");
    out.reason = std::string_view(reason, static_cast<size_t>(p - reason));
    p += 2;
    if (syntax::is_ows(*p)) return fail("whitespace after status line");  // RFC 9112 2.2

    out.headers.clear();
    out.content_length = 0;
    out.other_transfer_coding = false;
    FieldFacts facts;
    const char* last = data + end - 2;  // the CR of the empty line
    while (p < last) {
        if (out.headers.size() == limits_.max_headers) return fail("too many response header fields");
        Header field;
        std::string_view why;
        p = syntax::parse_field_line(p, field, why);
        if (p == nullptr) return fail(why);
        out.headers.push_back(field);

        std::string_view name = field.name;
        if (name.size() == 14 && equals_ignore_case(name, "content-length")) {
            if (!merge_content_length(field.value, facts, out.content_length)) {
                return fail("invalid or conflicting Content-Length");
            }
        } else if (name.size() == 17 && equals_ignore_case(name, "transfer-encoding")) {
            facts.has_transfer_encoding = true;
            // Repeated fields form one list; only its final coding decides the framing (RFC 9112 6.3 rule 4).
            syntax::for_each_list_element(field.value, [&facts](std::string_view coding) {
                ++facts.coding_count;
                facts.final_chunked = equals_ignore_case(coding, "chunked");
                if (facts.final_chunked) ++facts.chunked_count;
            });
        } else if (name.size() == 10 && equals_ignore_case(name, "connection")) {
            syntax::for_each_list_element(field.value, [&facts](std::string_view option) {
                if (equals_ignore_case(option, "close")) facts.connection_close = true;
                if (equals_ignore_case(option, "keep-alive")) facts.connection_keep_alive = true;
            });
        }
    }

    // Message body length, RFC 9112 6.3, in the order of its rules.
    if (request_method == Method::Head || status < 200 || status == 204 || status == 304) {
        out.body = BodyKind::None;  // rules 1 and 2 (a CONNECT 2xx cannot occur: we never send CONNECT)
    } else if (facts.has_transfer_encoding) {
        // Rule 3: CL with TE is a smuggling shape; we refuse rather than drop the CL. RFC 9112 6.1: TE in an
        // HTTP/1.0 message means faulty framing. Chunked more than once is forbidden (RFC 9112 6.1).
        if (facts.has_content_length) return fail("Content-Length with Transfer-Encoding");
        if (out.version == Version::Http10) return fail("Transfer-Encoding in HTTP/1.0 response");
        if (facts.coding_count == 0) return fail("empty Transfer-Encoding");
        if (facts.chunked_count > 1) return fail("chunked applied more than once");
        out.body = facts.final_chunked ? BodyKind::Chunked : BodyKind::UntilClose;  // rule 4
        out.other_transfer_coding = facts.coding_count > facts.chunked_count;
    } else if (facts.has_content_length) {
        out.body = out.content_length == 0 ? BodyKind::None : BodyKind::ContentLength;  // rule 6
    } else {
        out.body = BodyKind::UntilClose;  // rule 8
    }
    if (out.version == Version::Http11) {
        out.keep_alive = !facts.connection_close;  // RFC 9112 9.3
    } else {
        out.keep_alive = facts.connection_keep_alive && !facts.connection_close;
    }
    if (out.body == BodyKind::UntilClose) out.keep_alive = false;  // the close is the end of the body
    out.head_size = end;
    return ParseStatus::Complete;
}

}  // namespace portico::http
