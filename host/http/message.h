// HTTP/1.1 message heads as the codec sees them: views into the caller's buffer.
// This layer knows nothing of sockets (see STYLE.md: http/ never includes net/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace portico::http {

enum class Method : uint8_t { Get, Head, Post, Put, Patch, Delete, Options, Connect, Trace, Other };

enum class Version : uint8_t { Http10, Http11 };

// How the body of a message is delimited (RFC 9112 section 6).
enum class BodyKind : uint8_t {
    None,           // no body at all
    ContentLength,  // exactly content_length bytes
    Chunked,        // chunked transfer coding, ends with the last chunk and trailers
    UntilClose,     // responses only: the body ends when the upstream closes
};

struct Header {
    std::string_view name;   // as received (case preserved), token characters only
    std::string_view value;  // leading and trailing whitespace stripped
};

struct Limits {
    size_t max_request_line = 8 * 1024;  // exceeded -> 414
    size_t max_head_size = 16 * 1024;    // whole head incl. request line -> 431
    size_t max_headers = 100;            // field count -> 431
};

struct RequestHead {
    std::string_view method_token;
    Method method = Method::Other;
    std::string_view target;  // request-target exactly as received
    Version version = Version::Http11;
    std::vector<Header> headers;  // every field line, in order

    BodyKind body = BodyKind::None;  // None, ContentLength or Chunked for requests
    uint64_t content_length = 0;
    std::string_view host;   // value of the single Host field ("" for HTTP/1.0 without Host)
    bool keep_alive = true;  // from version and Connection
    bool expect_continue = false;  // Expect: 100-continue
    bool upgrade = false;          // Connection: upgrade and an Upgrade field are both present
    size_t head_size = 0;          // bytes of the head including the blank line
};

struct ResponseHead {
    Version version = Version::Http11;
    int status = 0;
    std::string_view reason;
    std::vector<Header> headers;

    BodyKind body = BodyKind::None;
    uint64_t content_length = 0;
    bool keep_alive = true;  // the upstream connection may be reused after this response
    // Transfer-Encoding names a coding other than chunked ("gzip, chunked"): framing is still known, but a proxy
    // that re-frames the body would drop that coding, so the session refuses such a response (as nginx does).
    bool other_transfer_coding = false;
    size_t head_size = 0;
};

inline bool equals_ignore_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

}  // namespace portico::http
