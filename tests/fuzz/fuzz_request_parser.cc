// libFuzzer target for the head parsers (RequestParser, and ResponseParser, which shares its scanner and field
// syntax). Besides crashes and sanitizer reports it checks properties, and aborts when one does not hold:
//  - fed all at once, fed a byte at a time and fed in two reads, a head gets the same answer (same status, same
//    error, same head), and Complete comes exactly when its last byte arrives;
//  - a Complete head is well-formed: views inside the head, names are tokens, values trimmed and free of CR/LF/NUL,
//    framing fields consistent.
// Each input runs with the default limits and with small ones, so the limit paths are reached too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "http/request_parser.h"
#include "http/response_parser.h"

using namespace portico::http;

namespace {

#define FUZZ_CHECK(condition)                                                                  \
    do {                                                                                       \
        if (!(condition)) {                                                                    \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (0)

bool inside(std::string_view view, const char* data, size_t size) {
    return view.empty() || (view.data() >= data && view.data() + view.size() <= data + size);
}

bool is_tchar(unsigned char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    for (const char* s = "!#$%&'*+-.^_`|~"; *s != '\0'; ++s) {
        if (c == static_cast<unsigned char>(*s)) return true;
    }
    return false;
}

void check_headers(const std::vector<Header>& headers, const char* data, size_t head_size, size_t max_headers) {
    FUZZ_CHECK(headers.size() <= max_headers);
    for (const Header& header : headers) {
        FUZZ_CHECK(!header.name.empty());
        FUZZ_CHECK(inside(header.name, data, head_size));
        FUZZ_CHECK(inside(header.value, data, head_size));
        for (unsigned char c : header.name) FUZZ_CHECK(is_tchar(c));
        for (unsigned char c : header.value) FUZZ_CHECK(c == '\t' || (c >= 0x20 && c != 0x7f));
        if (!header.value.empty()) {
            FUZZ_CHECK(header.value.front() != ' ' && header.value.front() != '\t');
            FUZZ_CHECK(header.value.back() != ' ' && header.value.back() != '\t');
        }
    }
}

bool same_headers(const std::vector<Header>& a, const std::vector<Header>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].name != b[i].name || a[i].value != b[i].value) return false;
    }
    return true;
}

bool same_request(const RequestHead& a, const RequestHead& b) {
    return same_headers(a.headers, b.headers) && a.method_token == b.method_token && a.method == b.method &&
           a.target == b.target && a.version == b.version && a.body == b.body &&
           a.content_length == b.content_length && a.host == b.host && a.keep_alive == b.keep_alive &&
           a.expect_continue == b.expect_continue && a.upgrade == b.upgrade && a.head_size == b.head_size;
}

bool same_response(const ResponseHead& a, const ResponseHead& b) {
    return same_headers(a.headers, b.headers) && a.version == b.version && a.status == b.status &&
           a.reason == b.reason && a.body == b.body && a.content_length == b.content_length &&
           a.keep_alive == b.keep_alive && a.head_size == b.head_size;
}

void check_request(const RequestHead& head, const char* data, size_t size, const Limits& limits) {
    FUZZ_CHECK(head.head_size >= 16 && head.head_size <= size);  // "A / HTTP/1.0\r\n\r\n" is the shortest
    FUZZ_CHECK(data[head.head_size - 1] == '\n' && data[head.head_size - 2] == '\r');
    FUZZ_CHECK(!head.method_token.empty() && !head.target.empty());
    FUZZ_CHECK(inside(head.method_token, data, head.head_size) && inside(head.target, data, head.head_size));
    FUZZ_CHECK(inside(head.host, data, head.head_size));
    FUZZ_CHECK(head.method != Method::Connect);
    for (unsigned char c : head.target) FUZZ_CHECK(c > 0x20 && c < 0x7f);
    check_headers(head.headers, data, head.head_size, limits.max_headers);
    FUZZ_CHECK(head.body != BodyKind::UntilClose);
    FUZZ_CHECK((head.body == BodyKind::ContentLength) == (head.content_length > 0));
    FUZZ_CHECK(head.content_length <= static_cast<uint64_t>(INT64_MAX));
    if (head.body == BodyKind::Chunked) FUZZ_CHECK(head.version == Version::Http11);
    if (head.version == Version::Http10) FUZZ_CHECK(!head.upgrade);
}

void check_response(const ResponseHead& head, const char* data, size_t size, const Limits& limits, Method method) {
    FUZZ_CHECK(head.head_size >= 16 && head.head_size <= size && head.head_size <= limits.max_head_size);
    FUZZ_CHECK(head.status >= 100 && head.status <= 599);
    FUZZ_CHECK(inside(head.reason, data, head.head_size));
    check_headers(head.headers, data, head.head_size, limits.max_headers);
    if (method == Method::Head || head.status < 200 || head.status == 204 || head.status == 304) {
        FUZZ_CHECK(head.body == BodyKind::None);
    }
    if (head.body == BodyKind::ContentLength) FUZZ_CHECK(head.content_length > 0);
    if (head.body == BodyKind::UntilClose) FUZZ_CHECK(!head.keep_alive);
}

// How a test feeds the input: `first` bytes, then `step` more per call, the whole input last.
struct Feeding {
    size_t first;
    size_t step;
};

// Feeds growing prefixes of the input until an answer other than Incomplete; `stopped_at` is the last length fed.
template <typename Parse>
ParseStatus feed_growing(size_t size, Feeding feeding, size_t& stopped_at, Parse&& parse) {
    size_t len = feeding.first;
    while (true) {
        const ParseStatus status = parse(len);
        stopped_at = len;
        if (status != ParseStatus::Incomplete || len == size) return status;
        len = std::min(size, len + feeding.step);
    }
}

// A byte at a time (bounded, so large inputs stay fast), then in two reads split where the input says.
void feedings(size_t size, size_t split, Feeding out[2]) {
    const size_t step = size <= 4096 ? 1 : size / 1024;
    out[0] = Feeding{step, step};
    out[1] = Feeding{split, size};
}

void fuzz_requests(const char* data, size_t size, const Limits& limits, size_t split) {
    RequestParser whole_parser(limits);
    RequestHead whole;
    const ParseStatus expected = whole_parser.parse(data, size, whole);
    if (expected == ParseStatus::Complete) check_request(whole, data, size, limits);
    if (expected == ParseStatus::Error) {
        const int status = whole_parser.error().status;
        FUZZ_CHECK(status == 400 || status == 405 || status == 414 || status == 431);
        FUZZ_CHECK(!whole_parser.error().reason.empty());
    }

    if (size == 0) return;
    Feeding ways[2];
    feedings(size, split, ways);
    for (const Feeding& way : ways) {
        RequestParser parser(limits);
        RequestHead head;
        size_t stopped_at = 0;
        const ParseStatus got =
            feed_growing(size, way, stopped_at, [&](size_t len) { return parser.parse(data, len, head); });
        FUZZ_CHECK(got == expected);
        if (got == ParseStatus::Complete) {
            FUZZ_CHECK(same_request(whole, head));
            if (way.step == 1) FUZZ_CHECK(stopped_at == head.head_size);  // not a byte later, not a byte early
        }
        if (got == ParseStatus::Error) {
            FUZZ_CHECK(parser.error().status == whole_parser.error().status);
            FUZZ_CHECK(parser.error().reason == whole_parser.error().reason);
        }
    }
}

void fuzz_responses(const char* data, size_t size, const Limits& limits, Method method, size_t split) {
    ResponseParser whole_parser(limits);
    ResponseHead whole;
    const ParseStatus expected = whole_parser.parse(data, size, method, whole);
    if (expected == ParseStatus::Complete) check_response(whole, data, size, limits, method);
    if (expected == ParseStatus::Error) FUZZ_CHECK(whole_parser.error().status == 502);

    if (size == 0) return;
    Feeding ways[2];
    feedings(size, split, ways);
    for (const Feeding& way : ways) {
        ResponseParser parser(limits);
        ResponseHead head;
        size_t stopped_at = 0;
        const ParseStatus got =
            feed_growing(size, way, stopped_at, [&](size_t len) { return parser.parse(data, len, method, head); });
        FUZZ_CHECK(got == expected);
        if (got == ParseStatus::Complete) {
            FUZZ_CHECK(same_response(whole, head));
            if (way.step == 1) FUZZ_CHECK(stopped_at == head.head_size);
        }
        if (got == ParseStatus::Error) FUZZ_CHECK(parser.error().reason == whole_parser.error().reason);
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    const char* data = reinterpret_cast<const char*>(bytes);
    // A split point that depends on the input, so the fuzzer can steer it.
    size_t split = 0;
    for (size_t i = 0; i < size; ++i) split = split * 31 + bytes[i];
    split = size == 0 ? 0 : 1 + split % size;

    Limits small;
    small.max_request_line = 48;
    small.max_head_size = 160;
    small.max_headers = 5;

    fuzz_requests(data, size, Limits{}, split);
    fuzz_requests(data, size, small, split);
    fuzz_responses(data, size, Limits{}, Method::Get, split);
    fuzz_responses(data, size, small, Method::Head, split);
    return 0;
}
