// Strict request-head parser (host/http/request_parser.*): every refusal of RFC 9112/9110 we implement, with its
// status, and the positive rules (views, framing, keep-alive, limits, incremental feeding).
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "http/request_parser.h"

using namespace portico::http;

namespace {

std::string printable(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        if (c == '\r') {
            out += "\\r";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20 || c >= 0x7f) {
            const char* digits = "0123456789abcdef";
            out += "\\x";
            out += digits[c >> 4];
            out += digits[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

struct Outcome {
    ParseStatus status = ParseStatus::Incomplete;
    ParseError error;
};

// All bytes in one call.
Outcome parse_whole(std::string_view text, RequestHead& head, const Limits& limits = {}) {
    RequestParser parser(limits);
    Outcome outcome;
    outcome.status = parser.parse(text.data(), text.size(), head);
    outcome.error = parser.error();
    return outcome;
}

// One more byte per call, as a slow client would send it, until the parser stops saying Incomplete.
Outcome parse_bytewise(std::string_view text, RequestHead& head, size_t* calls = nullptr,
                       const Limits& limits = {}) {
    RequestParser parser(limits);
    Outcome outcome;
    for (size_t len = 1; len <= text.size(); ++len) {
        outcome.status = parser.parse(text.data(), len, head);
        if (calls != nullptr) *calls = len;
        if (outcome.status != ParseStatus::Incomplete) break;
    }
    outcome.error = parser.error();
    return outcome;
}

// The request is refused with `status` (and `reason` if given), fed whole and fed a byte at a time.
void expect_rejected(std::string_view text, int status, std::string_view reason = {}, const Limits& limits = {}) {
    INFO("request: " << printable(text));
    RequestHead head;
    Outcome whole = parse_whole(text, head, limits);
    REQUIRE(whole.status == ParseStatus::Error);
    CHECK(whole.error.status == status);
    if (!reason.empty()) CHECK(whole.error.reason == reason);

    RequestHead head2;
    Outcome bytewise = parse_bytewise(text, head2, nullptr, limits);
    REQUIRE(bytewise.status == ParseStatus::Error);
    CHECK(bytewise.error.status == status);
    CHECK(bytewise.error.reason == whole.error.reason);
}

// The request is accepted whole; returns the head (views into `text`).
RequestHead expect_complete(std::string_view text, const Limits& limits = {}) {
    INFO("request: " << printable(text));
    RequestHead head;
    Outcome whole = parse_whole(text, head, limits);
    INFO("error: " << whole.error.status << " " << whole.error.reason);
    REQUIRE(whole.status == ParseStatus::Complete);
    return head;
}

// A string literal with its embedded NULs.
template <size_t N>
std::string bytes(const char (&literal)[N]) {
    return std::string(literal, N - 1);
}

std::string with_host(std::string_view request_line, std::string_view fields = {}) {
    return std::string(request_line) + "\r\nHost: example.com\r\n" + std::string(fields) + "\r\n";
}

std::string_view find(const RequestHead& head, std::string_view name) {
    for (const Header& header : head.headers) {
        if (equals_ignore_case(header.name, name)) return header.value;
    }
    return "<absent>";
}

bool same_head(const RequestHead& a, const RequestHead& b) {
    if (a.headers.size() != b.headers.size()) return false;
    for (size_t i = 0; i < a.headers.size(); ++i) {
        if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
    }
    return a.method_token == b.method_token && a.method == b.method && a.target == b.target &&
           a.version == b.version && a.body == b.body && a.content_length == b.content_length && a.host == b.host &&
           a.keep_alive == b.keep_alive && a.expect_continue == b.expect_continue && a.upgrade == b.upgrade &&
           a.head_size == b.head_size;
}

}  // namespace

TEST_CASE("request: a simple GET gives views into the buffer") {
    const std::string text =
        "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: test/1.0\r\n"
        "Accept: */*\r\n\r\n";
    RequestHead head = expect_complete(text);
    CHECK(head.method == Method::Get);
    CHECK(head.method_token == "GET");
    CHECK(head.target == "/index.html?q=1");
    CHECK(head.version == Version::Http11);
    REQUIRE(head.headers.size() == 3);
    CHECK(head.headers[0].name == "Host");
    CHECK(head.headers[0].value == "example.com");
    CHECK(head.headers[1].name == "User-Agent");
    CHECK(head.headers[1].value == "test/1.0");
    CHECK(head.headers[2].name == "Accept");
    CHECK(head.headers[2].value == "*/*");
    CHECK(head.host == "example.com");
    CHECK(head.body == BodyKind::None);
    CHECK(head.content_length == 0);
    CHECK(head.keep_alive);
    CHECK_FALSE(head.expect_continue);
    CHECK_FALSE(head.upgrade);
    CHECK(head.head_size == text.size());
    // Zero-copy: the views point into the caller's buffer.
    CHECK(head.target.data() == text.data() + 4);
    CHECK(head.host.data() == text.data() + text.find("example.com"));
}

TEST_CASE("request: method tokens map to methods, case-sensitively") {
    struct Case {
        const char* token;
        Method method;
    };
    const Case cases[] = {
        {"GET", Method::Get},         {"HEAD", Method::Head},      {"POST", Method::Post},
        {"PUT", Method::Put},         {"PATCH", Method::Patch},    {"DELETE", Method::Delete},
        {"OPTIONS", Method::Options}, {"TRACE", Method::Trace},    {"PURGE", Method::Other},
        {"get", Method::Other},       {"M-SEARCH", Method::Other}, {"X!#$%&'*+-.^_`|~9", Method::Other},
        {"GETS", Method::Other},      {"DELETES", Method::Other},  {"OPTION", Method::Other},
    };
    for (const Case& c : cases) {
        const std::string text = with_host(std::string(c.token) + " / HTTP/1.1");
        INFO("method " << c.token);
        RequestHead head = expect_complete(text);
        CHECK(head.method == c.method);
        CHECK(head.method_token == c.token);
    }
}

TEST_CASE("request: CONNECT is refused with 405") {
    expect_rejected("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405,
                    "CONNECT not supported");
}

TEST_CASE("request: field values are trimmed of OWS, inner whitespace and obs-text kept") {
    const std::string text =
        "GET / HTTP/1.1\r\nHost:example.com\r\nX-A:   spaced  value \t \r\nX-Empty:\r\n"
        "X-Ws: \t \r\nX-Tab:a\tb\r\nX-Obs: caf\xc3\xa9\r\n\r\n";
    RequestHead head = expect_complete(text);
    CHECK(head.host == "example.com");
    CHECK(find(head, "x-a") == "spaced  value");
    CHECK(find(head, "X-Empty") == "");
    CHECK(find(head, "X-Ws") == "");
    CHECK(find(head, "X-Tab") == "a\tb");
    CHECK(find(head, "X-Obs") == "caf\xc3\xa9");
}

TEST_CASE("request: HTTP/1.0 without Host is fine, host is empty") {
    RequestHead head = expect_complete("GET / HTTP/1.0\r\n\r\n");
    CHECK(head.version == Version::Http10);
    CHECK(head.host.empty());
    CHECK(head.headers.empty());
    CHECK_FALSE(head.keep_alive);
    CHECK(head.head_size == 18);
}

TEST_CASE("request: leading empty lines are skipped and counted in head_size") {
    const std::string text = "\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    RequestHead head = expect_complete(text);
    CHECK(head.method == Method::Get);
    CHECK(head.head_size == text.size());
    CHECK(head.target == "/");

    SUBCASE("five are too many") {
        expect_rejected("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400,
                        "too many empty lines before request");
    }
    SUBCASE("only empty lines so far is incomplete") {
        RequestParser parser(Limits{});
        RequestHead scratch;
        CHECK(parser.parse("\r\n\r", 3, scratch) == ParseStatus::Incomplete);
        CHECK(parser.parse("\r\n\r\n", 4, scratch) == ParseStatus::Incomplete);
    }
    SUBCASE("a bare LF is not an empty line") {
        expect_rejected("\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400);
    }
}

TEST_CASE("request: pipelined requests, head_size is exact") {
    const std::string text =
        "POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
        "GET /b HTTP/1.1\r\nHost: b\r\n\r\n"
        "GET /c HTTP/1.1\r\nHost: c\r\nConnection: close\r\n\r\n";
    RequestParser parser(Limits{});
    RequestHead head;
    REQUIRE(parser.parse(text.data(), text.size(), head) == ParseStatus::Complete);
    CHECK(head.target == "/a");
    CHECK(head.body == BodyKind::ContentLength);
    CHECK(head.content_length == 5);
    size_t offset = head.head_size;
    CHECK(text.substr(offset, 5) == "hello");
    offset += head.content_length;

    parser.reset();
    REQUIRE(parser.parse(text.data() + offset, text.size() - offset, head) == ParseStatus::Complete);
    CHECK(head.target == "/b");
    CHECK(head.host == "b");
    CHECK(head.headers.size() == 1);  // the vector was cleared, not appended to
    CHECK(head.body == BodyKind::None);
    CHECK(head.content_length == 0);
    CHECK(head.keep_alive);
    offset += head.head_size;

    parser.reset();
    REQUIRE(parser.parse(text.data() + offset, text.size() - offset, head) == ParseStatus::Complete);
    CHECK(head.target == "/c");
    CHECK_FALSE(head.keep_alive);
    CHECK(offset + head.head_size == text.size());
}

TEST_CASE("request: a reused RequestHead carries nothing over") {
    const std::string first =
        "POST /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nConnection: upgrade\r\n"
        "Upgrade: h2c\r\nContent-Length: 10\r\n\r\n";
    const std::string second = "GET /y HTTP/1.0\r\n\r\n";
    RequestParser parser(Limits{});
    RequestHead head;
    REQUIRE(parser.parse(first.data(), first.size(), head) == ParseStatus::Complete);
    CHECK(head.expect_continue);
    CHECK(head.upgrade);
    CHECK(head.content_length == 10);
    parser.reset();
    REQUIRE(parser.parse(second.data(), second.size(), head) == ParseStatus::Complete);
    CHECK(head.headers.empty());
    CHECK(head.host.empty());
    CHECK_FALSE(head.expect_continue);
    CHECK_FALSE(head.upgrade);
    CHECK(head.content_length == 0);
    CHECK(head.body == BodyKind::None);
    CHECK(head.version == Version::Http10);
    CHECK(head.method == Method::Get);
}

TEST_CASE("request: incomplete heads") {
    const std::string text = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    RequestParser parser(Limits{});
    RequestHead head;
    for (size_t len = 0; len < text.size(); ++len) {
        INFO("len " << len);
        CHECK(parser.parse(text.data(), len, head) == ParseStatus::Incomplete);
    }
    CHECK(parser.parse(text.data(), text.size(), head) == ParseStatus::Complete);
    // Calling again with the same bytes gives the same answer.
    CHECK(parser.parse(text.data(), text.size(), head) == ParseStatus::Complete);
    CHECK(head.head_size == text.size());
}

TEST_CASE("request: byte-at-a-time feeding gives the same head as all at once") {
    const std::string requests[] = {
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "\r\n\r\nPOST /upload?x=1 HTTP/1.1\r\nHost: upload.example:8080\r\nTransfer-Encoding: chunked\r\n"
        "Expect: 100-continue\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
        "PUT /r HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 123\r\nX-Tab:\tv\t\r\n\r\n",
        "GET /chat HTTP/1.1\r\nHost: [::1]:443\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n",
    };
    for (const std::string& text : requests) {
        INFO("request: " << printable(text));
        RequestHead whole;
        REQUIRE(parse_whole(text, whole).status == ParseStatus::Complete);
        RequestHead bytewise;
        size_t calls = 0;
        REQUIRE(parse_bytewise(text, bytewise, &calls).status == ParseStatus::Complete);
        CHECK(calls == text.size());  // Complete exactly when the last byte arrives, not before
        CHECK(same_head(whole, bytewise));

        // Every split into two reads, too.
        for (size_t split = 1; split < text.size(); ++split) {
            RequestParser parser(Limits{});
            RequestHead head;
            REQUIRE(parser.parse(text.data(), split, head) == ParseStatus::Incomplete);
            REQUIRE(parser.parse(text.data(), text.size(), head) == ParseStatus::Complete);
            CHECK(same_head(whole, head));
        }
    }
}

TEST_CASE("request: keep-alive follows the version and Connection") {
    CHECK(expect_complete("GET / HTTP/1.1\r\nHost: a\r\n\r\n").keep_alive);
    CHECK_FALSE(expect_complete("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").keep_alive);
    CHECK_FALSE(expect_complete("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, CLOSE\r\n\r\n").keep_alive);
    CHECK_FALSE(
        expect_complete("GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: Close\r\n\r\n").keep_alive);
    CHECK(expect_complete("GET / HTTP/1.1\r\nHost: a\r\nConnection: closed, x-close\r\n\r\n").keep_alive);
    CHECK(expect_complete("GET / HTTP/1.1\r\nHost: a\r\nX-Connection: close\r\n\r\n").keep_alive);
    CHECK_FALSE(expect_complete("GET / HTTP/1.0\r\n\r\n").keep_alive);
    CHECK(expect_complete("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    CHECK(expect_complete("GET / HTTP/1.0\r\nConnection: foo,,  keep-alive ,\r\n\r\n").keep_alive);
    CHECK_FALSE(
        expect_complete("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n").keep_alive);
}

TEST_CASE("request: Expect: 100-continue") {
    CHECK(expect_complete(with_host("POST / HTTP/1.1", "Expect: 100-continue\r\nContent-Length: 1\r\n"))
              .expect_continue);
    CHECK(expect_complete(with_host("POST / HTTP/1.1", "expect:  100-Continue \r\n")).expect_continue);
    CHECK_FALSE(expect_complete(with_host("POST / HTTP/1.1", "Expect: 200-ok\r\n")).expect_continue);
    CHECK_FALSE(expect_complete(with_host("POST / HTTP/1.1", "X-Expect: 100-continue\r\n")).expect_continue);
}

TEST_CASE("request: upgrade needs Connection: upgrade and an Upgrade field, in HTTP/1.1") {
    CHECK(expect_complete(with_host("GET / HTTP/1.1", "Connection: Upgrade\r\nUpgrade: websocket\r\n")).upgrade);
    CHECK(expect_complete(with_host("GET / HTTP/1.1", "Upgrade: websocket\r\nConnection: keep-alive, upgrade\r\n"))
              .upgrade);
    CHECK_FALSE(expect_complete(with_host("GET / HTTP/1.1", "Upgrade: websocket\r\n")).upgrade);
    CHECK_FALSE(expect_complete(with_host("GET / HTTP/1.1", "Connection: upgrade\r\n")).upgrade);
    CHECK_FALSE(expect_complete("GET / HTTP/1.0\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n").upgrade);
}

TEST_CASE("request: body framing") {
    SUBCASE("no framing fields: no body") {
        RequestHead head = expect_complete(with_host("POST / HTTP/1.1"));
        CHECK(head.body == BodyKind::None);
        CHECK(head.content_length == 0);
    }
    SUBCASE("Content-Length") {
        RequestHead head = expect_complete(with_host("POST / HTTP/1.1", "Content-Length: 42\r\n"));
        CHECK(head.body == BodyKind::ContentLength);
        CHECK(head.content_length == 42);
    }
    SUBCASE("Content-Length: 0 is no body") {
        RequestHead head = expect_complete(with_host("POST / HTTP/1.1", "Content-Length: 0\r\n"));
        CHECK(head.body == BodyKind::None);
        CHECK(head.content_length == 0);
    }
    SUBCASE("leading zeros are digits") {
        CHECK(expect_complete(with_host("POST / HTTP/1.1", "Content-Length: 007\r\n")).content_length == 7);
        CHECK(expect_complete(with_host("POST / HTTP/1.1", "Content-Length: 00000000000000000000000012\r\n"))
                  .content_length == 12);
    }
    SUBCASE("the largest Content-Length is 2^63-1") {
        RequestHead head = expect_complete(with_host("POST / HTTP/1.1", "Content-Length: 9223372036854775807\r\n"));
        CHECK(head.body == BodyKind::ContentLength);
        CHECK(head.content_length == 9223372036854775807ULL);
    }
    SUBCASE("chunked") {
        RequestHead head = expect_complete(with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\n"));
        CHECK(head.body == BodyKind::Chunked);
        CHECK(expect_complete(with_host("POST / HTTP/1.1", "transfer-encoding:  Chunked \r\n")).body ==
              BodyKind::Chunked);
        CHECK(expect_complete(with_host("POST / HTTP/1.1", "Transfer-Encoding: , chunked,\r\n")).body ==
              BodyKind::Chunked);
    }
}

TEST_CASE("request: Host syntax") {
    const char* good[] = {
        "example.com",           "EXAMPLE.com:8080",      "127.0.0.1", "127.0.0.1:80",  "[::1]", "[::1]:8443",
        "[v1.fe80::a+en1]",      "xn--bcher-kva.example", "a_b-c~d",   "ex%41mple.com", "",      "host:",
        "sub!$&'()*+,;=.example"};
    for (const char* host : good) {
        const std::string text = "GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n";
        INFO("host " << host);
        CHECK(expect_complete(text).host == host);
    }
    const char* bad[] = {"exa mple.com",
                         "example.com/path",
                         "user@example.com",
                         "example.com:80:80",
                         "example.com:8o",
                         "[::1",
                         "[]",
                         "[::1]x",
                         "ex%zzmple",
                         "ex%4",
                         "example.com:123456",
                         "exa\"mple",
                         "a\\b",
                         "a<b>",
                         "caf\xc3\xa9.example",
                         "a#b",
                         "a?b",
                         "::1"};
    for (const char* host : bad) {
        expect_rejected("GET / HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n", 400, "invalid Host");
    }
}

TEST_CASE("request: limits, exactly at the boundary and one over") {
    Limits limits;
    limits.max_request_line = 64;
    limits.max_head_size = 256;
    limits.max_headers = 4;

    SUBCASE("request line") {
        // "GET " + target + " HTTP/1.1" is 13 bytes besides the target.
        const std::string at_limit = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1";
        REQUIRE(at_limit.size() == 64);
        expect_complete(at_limit + "\r\nHost: a\r\n\r\n", limits);
        const std::string over = "GET /" + std::string(64 - 13, 'a') + " HTTP/1.1";
        expect_rejected(over + "\r\nHost: a\r\n\r\n", 414, "request line too long", limits);
    }
    SUBCASE("an endless request line is refused before its end arrives") {
        RequestParser parser(limits);
        RequestHead head;
        const std::string line = "GET /" + std::string(200, 'a');
        CHECK(parser.parse(line.data(), 64, head) == ParseStatus::Incomplete);
        CHECK(parser.parse(line.data(), 65, head) == ParseStatus::Error);
        CHECK(parser.error().status == 414);
        // A CR that may start the CRLF right after the 64th byte is not yet too long.
        RequestParser parser2(limits);
        const std::string at_limit = "GET /" + std::string(64 - 14, 'a') + " HTTP/1.1\r";
        CHECK(parser2.parse(at_limit.data(), at_limit.size(), head) == ParseStatus::Incomplete);
        const std::string still_no_lf = at_limit + "x";
        CHECK(parser2.parse(still_no_lf.data(), still_no_lf.size(), head) == ParseStatus::Error);
        CHECK(parser2.error().status == 414);
    }
    SUBCASE("head size") {
        // Pad a field so the head is exactly 256 bytes, CRLF CRLF included.
        const std::string prefix = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: ";
        const std::string at_limit = prefix + std::string(256 - prefix.size() - 4, 'p') + "\r\n\r\n";
        REQUIRE(at_limit.size() == 256);
        CHECK(expect_complete(at_limit, limits).head_size == 256);
        // Leading empty lines do not count towards the limit (they count in head_size).
        CHECK(expect_complete("\r\n" + at_limit, limits).head_size == 258);
        const std::string over = prefix + std::string(256 - prefix.size() - 3, 'p') + "\r\n\r\n";
        expect_rejected(over, 431, "request head too large", limits);
    }
    SUBCASE("an endless head is refused before its end arrives") {
        RequestParser parser(limits);
        RequestHead head;
        const std::string text = "GET / HTTP/1.1\r\nHost: a\r\nX-Pad: " + std::string(400, 'p');
        CHECK(parser.parse(text.data(), 255, head) == ParseStatus::Incomplete);
        CHECK(parser.parse(text.data(), 256, head) == ParseStatus::Error);
        CHECK(parser.error().status == 431);
        // Bytes past the limit are never needed: a huge buffer gets the same answer.
        expect_rejected(text + "\r\n\r\n", 431, "request head too large", limits);
    }
    SUBCASE("field count") {
        const std::string four = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
        CHECK(expect_complete(four, limits).headers.size() == 4);
        expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", 431,
                        "too many header fields", limits);
    }
    SUBCASE("defaults: 8 KiB request line, 16 KiB head, 100 fields") {
        const Limits defaults;
        const std::string long_target = "GET /" + std::string(8 * 1024 - 14, 'a') + " HTTP/1.1";
        REQUIRE(long_target.size() == defaults.max_request_line);
        expect_complete(long_target + "\r\nHost: a\r\n\r\n");
        expect_rejected("GET /" + std::string(8 * 1024, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n", 414);
        std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
        for (int i = 1; i < 100; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
        CHECK(expect_complete(many + "\r\n").headers.size() == 100);
        expect_rejected(many + "X-100: v\r\n\r\n", 431);
        expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(16 * 1024, 'v') + "\r\n\r\n", 431);
    }
}

TEST_CASE("request: bare LF is refused anywhere in the head") {
    expect_rejected("GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare LF in head");
    expect_rejected("GET / HTTP/1.1\r\nHost: a\n\r\n", 400, "bare LF in head");
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\n\n", 400, "bare LF in head");
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\nb\r\n\r\n", 400, "bare LF in head");
    expect_rejected("GET / HTTP/1.0\n\n", 400, "bare LF in head");
    SUBCASE("detected before the head is complete") {
        RequestParser parser(Limits{});
        RequestHead head;
        const std::string text = "GET / HTTP/1.1\r\nX: 1\n";
        CHECK(parser.parse(text.data(), text.size(), head) == ParseStatus::Error);
        CHECK(parser.error().status == 400);
    }
}

TEST_CASE("request: control characters") {
    SUBCASE("NUL") {
        expect_rejected(bytes("GET /a\0b HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "invalid character in request target");
        expect_rejected(bytes("G\0T / HTTP/1.1\r\nHost: a\r\n\r\n"), 400, "invalid method");
        expect_rejected(bytes("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n"), 400,
                        "invalid character in field value");
        expect_rejected(bytes("GET / HTTP/1.1\r\nHost: a\r\nX\0Y: ab\r\n\r\n"), 400,
                        "invalid character in field name");
        expect_rejected(bytes("GET / HTTP/1.1\0\r\nHost: a\r\n\r\n"), 400, "unsupported HTTP version");
    }
    SUBCASE("other CTLs and DEL in field values") {
        for (int c : {0x01, 0x08, 0x0b, 0x0c, 0x1b, 0x1f, 0x7f}) {
            std::string text = "GET / HTTP/1.1\r\nHost: a\r\nX: a?b\r\n\r\n";
            text[text.find('?')] = static_cast<char>(c);
            INFO("char " << c);
            expect_rejected(text, 400, "invalid character in field value");
        }
    }
    SUBCASE("a bare CR") {
        expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, "invalid character in field value");
        expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\r\n\r\n", 400, "invalid character in field value");
        expect_rejected("GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400, "unsupported HTTP version");
        expect_rejected("\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method");
    }
    SUBCASE("HTAB is fine inside a value, nowhere else") {
        CHECK(find(expect_complete("GET / HTTP/1.1\r\nHost: a\r\nX: a\tb\r\n\r\n"), "X") == "a\tb");
        expect_rejected("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method");
        expect_rejected("GET /\tHTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid character in request target");
        expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX\t: b\r\n\r\n", 400, "whitespace before colon");
    }
}

TEST_CASE("request: field line syntax") {
    SUBCASE("obs-fold") {
        expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", 400, "obs-fold not allowed");
        expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", 400, "obs-fold not allowed");
    }
    SUBCASE("whitespace between the request line and the first field") {
        expect_rejected("GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, "whitespace after request line");
        expect_rejected("GET / HTTP/1.1\r\n\tHost: a\r\n\r\n", 400, "whitespace after request line");
    }
    SUBCASE("whitespace before the colon") {
        expect_rejected("GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "whitespace before colon");
        expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 5\r\n\r\n", 400, "whitespace before colon");
    }
    SUBCASE("empty field name") {
        expect_rejected("GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", 400, "empty field name");
    }
    SUBCASE("non-token characters in a name") {
        for (const char* name : {"X(Y", "X@Y", "X/Y", "X\"Y", "X[Y", "X{Y", "X=Y", "X,Y", "Caf\xc3\xa9"}) {
            INFO("name " << name);
            expect_rejected("GET / HTTP/1.1\r\nHost: a\r\n" + std::string(name) + ": b\r\n\r\n", 400,
                            "invalid character in field name");
        }
    }
    SUBCASE("no colon") {
        expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nJustAName\r\n\r\n", 400, "field line without colon");
    }
}

TEST_CASE("request: request line syntax") {
    SUBCASE("method") {
        expect_rejected("G(ET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method");
        expect_rejected("GET\x7f / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method");
        expect_rejected(" GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "invalid method");
        expect_rejected("GET\r\nHost: a\r\n\r\n", 400, "malformed request line");
    }
    SUBCASE("target") {
        expect_rejected("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "empty request target");
        expect_rejected("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "unsupported HTTP version");
        for (int c : {0x01, 0x1f, 0x7f, 0x80, 0xc3, 0xff}) {
            std::string text = "GET /a?b HTTP/1.1\r\nHost: a\r\n\r\n";
            text[text.find('?')] = static_cast<char>(c);
            INFO("char " << c);
            expect_rejected(text, 400, "invalid character in request target");
        }
    }
    SUBCASE("HTTP/0.9 style, no version") {
        expect_rejected("GET /\r\n\r\n", 400, "missing HTTP version");
        expect_rejected("GET / \r\nHost: a\r\n\r\n", 400, "unsupported HTTP version");
    }
    SUBCASE("versions other than HTTP/1.0 and HTTP/1.1") {
        for (const char* version : {"HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "http/1.1", "HTTP/1.1 ", "HTTP/1.10",
                                    "HTTP/1", "HTTP/11", " HTTP/1.1", "HTTP/1.1x", "HTTPS/1.1", "HTTP/3"}) {
            INFO("version '" << version << "'");
            expect_rejected("GET / " + std::string(version) + "\r\nHost: a\r\n\r\n", 400,
                            "unsupported HTTP version");
        }
    }
}

TEST_CASE("request: a bad request line is refused as soon as it is complete") {
    // An HTTP/0.9 client sends "GET /\r\n" and waits: it must get its 400 without an empty line ever coming.
    struct Case {
        const char* line;
        int status;
    };
    for (const Case& c : {Case{"GET /\r\n", 400}, Case{"GE(T / HTTP/1.1\r\n", 400}, Case{"GET / HTTP/2.0\r\n", 400},
                          Case{"CONNECT a:443 HTTP/1.1\r\n", 405}}) {
        INFO(printable(c.line));
        RequestParser parser(Limits{});
        RequestHead head;
        const std::string_view line = c.line;
        CHECK(parser.parse(line.data(), line.size() - 1, head) == ParseStatus::Incomplete);
        CHECK(parser.parse(line.data(), line.size(), head) == ParseStatus::Error);
        CHECK(parser.error().status == c.status);
    }
    SUBCASE("a good one waits for the rest of the head") {
        RequestParser parser(Limits{});
        RequestHead head;
        const std::string text = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        CHECK(parser.parse(text.data(), 16, head) == ParseStatus::Incomplete);
        CHECK(parser.parse(text.data(), text.size(), head) == ParseStatus::Complete);
        CHECK(head.method == Method::Get);
        CHECK(head.target == "/");
        CHECK(head.version == Version::Http11);
    }
}

TEST_CASE("request: Host must be there once in HTTP/1.1") {
    expect_rejected("GET / HTTP/1.1\r\n\r\n", 400, "missing Host");
    expect_rejected("GET / HTTP/1.1\r\nX-Host: a\r\n\r\n", 400, "missing Host");
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "more than one Host field");
    expect_rejected("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, "more than one Host field");
    expect_rejected("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", 400, "more than one Host field");
}

TEST_CASE("request: Content-Length errors") {
    for (const char* value : {"abc", "-1", "+5", "5 5", "0x10", "1.5", "", "5,", ",5", "1e3", "5;", "\xd9\xa5"}) {
        INFO("Content-Length '" << value << "'");
        expect_rejected(with_host("POST / HTTP/1.1", "Content-Length: " + std::string(value) + "\r\n"), 400,
                        "invalid Content-Length");
    }
    SUBCASE("overflow past 2^63-1") {
        expect_rejected(with_host("POST / HTTP/1.1", "Content-Length: 9223372036854775808\r\n"), 400,
                        "invalid Content-Length");
        expect_rejected(with_host("POST / HTTP/1.1", "Content-Length: 18446744073709551616\r\n"), 400,
                        "invalid Content-Length");
        expect_rejected(with_host("POST / HTTP/1.1", "Content-Length: 99999999999999999999999\r\n"), 400,
                        "invalid Content-Length");
    }
    SUBCASE("repeated, even with the same value (our choice, see docs/http-parsing.md)") {
        expect_rejected(with_host("POST / HTTP/1.1", "Content-Length: 5\r\nContent-Length: 6\r\n"), 400,
                        "multiple Content-Length fields");
        expect_rejected(with_host("POST / HTTP/1.1", "Content-Length: 5\r\ncontent-length: 5\r\n"), 400,
                        "multiple Content-Length fields");
        expect_rejected(with_host("POST / HTTP/1.1", "Content-Length: 5, 5\r\n"), 400, "invalid Content-Length");
        expect_rejected(with_host("POST / HTTP/1.1", "Content-Length: 5, 6\r\n"), 400, "invalid Content-Length");
    }
}

TEST_CASE("request: Transfer-Encoding errors") {
    SUBCASE("with Content-Length, in either order") {
        expect_rejected(with_host("POST / HTTP/1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"), 400,
                        "Content-Length with Transfer-Encoding");
        expect_rejected(with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\nContent-Length: 0\r\n"), 400,
                        "Content-Length with Transfer-Encoding");
    }
    SUBCASE("in HTTP/1.0") {
        expect_rejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                        "Transfer-Encoding in HTTP/1.0");
    }
    SUBCASE("codings other than chunked") {
        for (const char* value : {"gzip", "gzip, chunked", "chunked, gzip", "identity", "chunked;q=1", "chunked x",
                                  "x-chunked", "deflate,chunked"}) {
            INFO("Transfer-Encoding '" << value << "'");
            expect_rejected(with_host("POST / HTTP/1.1", "Transfer-Encoding: " + std::string(value) + "\r\n"), 400,
                            "unsupported transfer coding");
        }
        expect_rejected(with_host("POST / HTTP/1.1", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"),
                        400, "unsupported transfer coding");
    }
    SUBCASE("chunked twice") {
        expect_rejected(with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked, chunked\r\n"), 400,
                        "chunked applied more than once");
        expect_rejected(
            with_host("POST / HTTP/1.1", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"), 400,
            "chunked applied more than once");
    }
    SUBCASE("empty") {
        expect_rejected(with_host("POST / HTTP/1.1", "Transfer-Encoding: \r\n"), 400, "empty Transfer-Encoding");
        expect_rejected(with_host("POST / HTTP/1.1", "Transfer-Encoding: ,\r\n"), 400, "empty Transfer-Encoding");
    }
}

TEST_CASE("request: error() and reset()") {
    RequestParser parser(Limits{});
    RequestHead head;
    const std::string bad = "GET / HTTP/1.1\r\n\r\n";
    REQUIRE(parser.parse(bad.data(), bad.size(), head) == ParseStatus::Error);
    CHECK(parser.error().status == 400);
    CHECK(parser.error().reason == "missing Host");
    parser.reset();
    CHECK(parser.error().status == 0);
    CHECK(parser.error().reason.empty());
    const std::string good = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    CHECK(parser.parse(good.data(), good.size(), head) == ParseStatus::Complete);
}
