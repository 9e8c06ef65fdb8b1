// Strict response-head parser (host/http/response_parser.*): status line, field syntax, framing per RFC 9112 6.3,
// connection reuse, limits. Every refusal is a 502 for the client.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "http/response_parser.h"

using namespace portico::http;

namespace {

struct Outcome {
    ParseStatus status = ParseStatus::Incomplete;
    ParseError error;
};

Outcome parse_whole(std::string_view text, ResponseHead& head, Method method = Method::Get,
                    const Limits& limits = {}) {
    ResponseParser parser(limits);
    Outcome outcome;
    outcome.status = parser.parse(text.data(), text.size(), method, head);
    outcome.error = parser.error();
    return outcome;
}

Outcome parse_bytewise(std::string_view text, ResponseHead& head, size_t* calls = nullptr,
                       Method method = Method::Get, const Limits& limits = {}) {
    ResponseParser parser(limits);
    Outcome outcome;
    for (size_t len = 1; len <= text.size(); ++len) {
        outcome.status = parser.parse(text.data(), len, method, head);
        if (calls != nullptr) *calls = len;
        if (outcome.status != ParseStatus::Incomplete) break;
    }
    outcome.error = parser.error();
    return outcome;
}

void expect_rejected(std::string_view text, std::string_view reason = {}, Method method = Method::Get,
                     const Limits& limits = {}) {
    INFO("response: " << std::string(text));
    ResponseHead head;
    Outcome whole = parse_whole(text, head, method, limits);
    REQUIRE(whole.status == ParseStatus::Error);
    CHECK(whole.error.status == 502);
    if (!reason.empty()) CHECK(whole.error.reason == reason);
    ResponseHead head2;
    Outcome bytewise = parse_bytewise(text, head2, nullptr, method, limits);
    REQUIRE(bytewise.status == ParseStatus::Error);
    CHECK(bytewise.error.status == 502);
    CHECK(bytewise.error.reason == whole.error.reason);
}

ResponseHead expect_complete(std::string_view text, Method method = Method::Get, const Limits& limits = {}) {
    INFO("response: " << std::string(text));
    ResponseHead head;
    Outcome whole = parse_whole(text, head, method, limits);
    INFO("error: " << whole.error.reason);
    REQUIRE(whole.status == ParseStatus::Complete);
    return head;
}

// A string literal with its embedded NULs.
template <size_t N>
std::string bytes(const char (&literal)[N]) {
    return std::string(literal, N - 1);
}

std::string response(std::string_view status_line, std::string_view fields = {}) {
    return std::string(status_line) + "\r\n" + std::string(fields) + "\r\n";
}

bool same_head(const ResponseHead& a, const ResponseHead& b) {
    if (a.headers.size() != b.headers.size()) return false;
    for (size_t i = 0; i < a.headers.size(); ++i) {
        if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
    }
    return a.version == b.version && a.status == b.status && a.reason == b.reason && a.body == b.body &&
           a.content_length == b.content_length && a.keep_alive == b.keep_alive && a.head_size == b.head_size;
}

}  // namespace

TEST_CASE("response: a simple 200 gives views into the buffer") {
    const std::string text = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello";
    ResponseHead head = expect_complete(text);
    CHECK(head.version == Version::Http11);
    CHECK(head.status == 200);
    CHECK(head.reason == "OK");
    REQUIRE(head.headers.size() == 2);
    CHECK(head.headers[0].name == "Content-Type");
    CHECK(head.headers[0].value == "text/plain");
    CHECK(head.headers[1].name == "Content-Length");
    CHECK(head.headers[1].value == "5");
    CHECK(head.body == BodyKind::ContentLength);
    CHECK(head.content_length == 5);
    CHECK(head.keep_alive);
    CHECK(head.head_size == text.size() - 5);
    CHECK(head.reason.data() == text.data() + 13);
}

TEST_CASE("response: status line forms") {
    SUBCASE("reason phrases") {
        CHECK(expect_complete(response("HTTP/1.1 404 Not Found")).reason == "Not Found");
        CHECK(expect_complete(response("HTTP/1.1 200 \t odd\treason ")).reason == "\t odd\treason ");
        CHECK(expect_complete(response("HTTP/1.1 200 Caf\xc3\xa9")).reason == "Caf\xc3\xa9");
    }
    SUBCASE("empty reason, with or without its SP") {
        const std::string text_with_sp = response("HTTP/1.1 204 ");
        ResponseHead with_sp = expect_complete(text_with_sp);
        CHECK(with_sp.status == 204);
        CHECK(with_sp.reason.empty());
        CHECK(with_sp.head_size == text_with_sp.size());
        const std::string text_without_sp = response("HTTP/1.1 204");
        ResponseHead without_sp = expect_complete(text_without_sp);
        CHECK(without_sp.status == 204);
        CHECK(without_sp.reason.empty());
    }
    SUBCASE("HTTP/1.0") {
        ResponseHead head = expect_complete(response("HTTP/1.0 200 OK", "Content-Length: 1\r\n"));
        CHECK(head.version == Version::Http10);
        CHECK(head.status == 200);
    }
    SUBCASE("status code range 100..599") {
        CHECK(expect_complete(response("HTTP/1.1 100 Continue")).status == 100);
        CHECK(expect_complete(response("HTTP/1.1 599 Whatever")).status == 599);
        expect_rejected(response("HTTP/1.1 099 Low"), "status code out of range");
        expect_rejected(response("HTTP/1.1 600 High"), "status code out of range");
        expect_rejected(response("HTTP/1.1 000 Zero"), "status code out of range");
    }
}

TEST_CASE("response: malformed status lines") {
    const char* lines[] = {
        "HTTP/1.1 20 OK",   "HTTP/1.1 2000 OK",    "HTTP/1.1 20x OK",     "HTTP/1.1  200 OK", "HTTP/2 200 OK",
        "HTTP/2.0 200 OK",  "HTTP/1.2 200 OK",     "http/1.1 200 OK",     "HTTP/1.1 200OK",   "HTTP/1.1\t200 OK",
        "ICY 200 OK",       "HTTP/1.1 -20 OK",     "HTTP/1.1 +20 OK",     "HTTP/1.1",         "",
        " HTTP/1.1 200 OK", "HTTP/1.1 200 OK\x01", "HTTP/1.1 200 O\x7fK", "HTTP/1.1 200 OK\r"};
    for (const char* line : lines) {
        INFO("status line '" << line << "'");
        expect_rejected(response(line));
    }
    expect_rejected(bytes("HTTP/1.1 200 O\0K\r\n\r\n"));
}

TEST_CASE("response: field syntax is as strict as for requests") {
    expect_rejected("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "bare LF in response head");
    expect_rejected("HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n", "bare LF in response head");
    expect_rejected("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n", "bare LF in response head");
    expect_rejected(response("HTTP/1.1 200 OK", "X: a\r\n b\r\n"), "obs-fold not allowed");
    expect_rejected(response("HTTP/1.1 200 OK", " X: a\r\n"), "whitespace after status line");
    expect_rejected(response("HTTP/1.1 200 OK", "X : a\r\n"), "whitespace before colon");
    expect_rejected(response("HTTP/1.1 200 OK", ": a\r\n"), "empty field name");
    expect_rejected(response("HTTP/1.1 200 OK", "X(Y: a\r\n"), "invalid character in field name");
    expect_rejected(response("HTTP/1.1 200 OK", "NoColon\r\n"), "field line without colon");
    expect_rejected(response("HTTP/1.1 200 OK", "X: a\x01z\r\n"), "invalid character in field value");
    expect_rejected(response("HTTP/1.1 200 OK", "X: a\rz\r\n"), "invalid character in field value");
    expect_rejected(response("HTTP/1.1 200 OK", "X: a\x7f\r\n"), "invalid character in field value");
    expect_rejected(bytes("HTTP/1.1 200 OK\r\nX: a\0z\r\n\r\n"), "invalid character in field value");
    // Values are trimmed; HTAB and obs-text are fine inside.
    const std::string text = response("HTTP/1.1 200 OK", "X-A: \t a\tb\xff \t\r\nX-Empty:\r\n");
    ResponseHead head = expect_complete(text);
    REQUIRE(head.headers.size() == 2);
    CHECK(head.headers[0].value == "a\tb\xff");
    CHECK(head.headers[1].value == "");
}

TEST_CASE("response: framing per RFC 9112 6.3") {
    SUBCASE("responses to HEAD have no body, whatever the fields say") {
        ResponseHead head = expect_complete(response("HTTP/1.1 200 OK", "Content-Length: 100\r\n"), Method::Head);
        CHECK(head.body == BodyKind::None);
        CHECK(head.content_length == 100);  // still reported: the client of a HEAD wants to see it
        CHECK(head.keep_alive);
        CHECK(expect_complete(response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n"), Method::Head).body ==
              BodyKind::None);
        CHECK(expect_complete(response("HTTP/1.1 200 OK"), Method::Head).body == BodyKind::None);
        CHECK(expect_complete(response("HTTP/1.1 200 OK"), Method::Head).keep_alive);
    }
    SUBCASE("1xx, 204 and 304 have no body, whatever the fields say") {
        for (const char* line :
             {"HTTP/1.1 100 Continue", "HTTP/1.1 101 Switching Protocols", "HTTP/1.1 103 Early Hints",
              "HTTP/1.1 204 No Content", "HTTP/1.1 304 Not Modified"}) {
            INFO(line);
            ResponseHead head =
                expect_complete(response(line, "Content-Length: 10\r\nTransfer-Encoding: chunked\r\n"));
            CHECK(head.body == BodyKind::None);
            CHECK(head.keep_alive);
            CHECK(expect_complete(response(line)).body == BodyKind::None);
            CHECK(expect_complete(response(line)).keep_alive);
        }
    }
    SUBCASE("chunked as the final coding") {
        CHECK(expect_complete(response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n")).body ==
              BodyKind::Chunked);
        CHECK(expect_complete(response("HTTP/1.1 200 OK", "Transfer-Encoding: gzip, Chunked\r\n")).body ==
              BodyKind::Chunked);
        ResponseHead head = expect_complete(
            response("HTTP/1.1 200 OK", "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n"));
        CHECK(head.body == BodyKind::Chunked);
        CHECK(head.keep_alive);
        CHECK(head.other_transfer_coding);
        CHECK_FALSE(expect_complete(response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n")).other_transfer_coding);
    }
    SUBCASE("another final coding: until close") {
        for (const char* value : {"gzip", "chunked, gzip", "identity", "chunked;x=1"}) {
            INFO(value);
            ResponseHead head =
                expect_complete(response("HTTP/1.1 200 OK", "Transfer-Encoding: " + std::string(value) + "\r\n"));
            CHECK(head.body == BodyKind::UntilClose);
            CHECK_FALSE(head.keep_alive);
        }
        ResponseHead head = expect_complete(
            response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"));
        CHECK(head.body == BodyKind::UntilClose);
    }
    SUBCASE("Content-Length") {
        ResponseHead head = expect_complete(response("HTTP/1.1 200 OK", "Content-Length: 1234\r\n"));
        CHECK(head.body == BodyKind::ContentLength);
        CHECK(head.content_length == 1234);
        CHECK(head.keep_alive);
        ResponseHead empty = expect_complete(response("HTTP/1.1 200 OK", "Content-Length: 0\r\n"));
        CHECK(empty.body == BodyKind::None);
        CHECK(empty.content_length == 0);
        CHECK(empty.keep_alive);
        CHECK(expect_complete(response("HTTP/1.1 200 OK", "Content-Length: 9223372036854775807\r\n"))
                  .content_length == 9223372036854775807ULL);
    }
    SUBCASE("identical repeated Content-Length values are one value (RFC 9110 8.6)") {
        ResponseHead list = expect_complete(response("HTTP/1.1 200 OK", "Content-Length: 5, 5\r\n"));
        CHECK(list.body == BodyKind::ContentLength);
        CHECK(list.content_length == 5);
        ResponseHead fields =
            expect_complete(response("HTTP/1.1 200 OK", "Content-Length: 5\r\ncontent-length: 05\r\n"));
        CHECK(fields.body == BodyKind::ContentLength);
        CHECK(fields.content_length == 5);
    }
    SUBCASE("neither: until close") {
        ResponseHead head = expect_complete(response("HTTP/1.1 200 OK"));
        CHECK(head.body == BodyKind::UntilClose);
        CHECK_FALSE(head.keep_alive);
        CHECK(expect_complete(response("HTTP/1.0 200 OK", "Connection: keep-alive\r\n")).body ==
              BodyKind::UntilClose);
        CHECK_FALSE(expect_complete(response("HTTP/1.0 200 OK", "Connection: keep-alive\r\n")).keep_alive);
    }
}

TEST_CASE("response: framing errors") {
    SUBCASE("Content-Length with Transfer-Encoding") {
        expect_rejected(response("HTTP/1.1 200 OK", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"),
                        "Content-Length with Transfer-Encoding");
        expect_rejected(response("HTTP/1.1 200 OK", "Transfer-Encoding: gzip\r\nContent-Length: 5\r\n"),
                        "Content-Length with Transfer-Encoding");
    }
    SUBCASE("Transfer-Encoding in HTTP/1.0") {
        expect_rejected(response("HTTP/1.0 200 OK", "Transfer-Encoding: chunked\r\n"),
                        "Transfer-Encoding in HTTP/1.0 response");
    }
    SUBCASE("chunked twice") {
        expect_rejected(response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked, chunked\r\n"),
                        "chunked applied more than once");
        expect_rejected(response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
                        "chunked applied more than once");
    }
    SUBCASE("empty Transfer-Encoding") {
        expect_rejected(response("HTTP/1.1 200 OK", "Transfer-Encoding:\r\n"), "empty Transfer-Encoding");
    }
    SUBCASE("invalid or differing Content-Length") {
        for (const char* value :
             {"", "abc", "-1", "+1", "0x5", "5 5", "5,", "5, 6", "9223372036854775808", "99999999999999999999"}) {
            INFO("Content-Length '" << value << "'");
            expect_rejected(response("HTTP/1.1 200 OK", "Content-Length: " + std::string(value) + "\r\n"),
                            "invalid or conflicting Content-Length");
        }
        expect_rejected(response("HTTP/1.1 200 OK", "Content-Length: 5\r\nContent-Length: 6\r\n"),
                        "invalid or conflicting Content-Length");
        // Even where the status means no body: the field is forwarded, so it must be sound.
        expect_rejected(response("HTTP/1.1 304 Not Modified", "Content-Length: x\r\n"),
                        "invalid or conflicting Content-Length");
    }
}

TEST_CASE("response: connection reuse") {
    CHECK(expect_complete(response("HTTP/1.1 200 OK", "Content-Length: 0\r\n")).keep_alive);
    CHECK_FALSE(
        expect_complete(response("HTTP/1.1 200 OK", "Content-Length: 0\r\nConnection: close\r\n")).keep_alive);
    CHECK_FALSE(
        expect_complete(response("HTTP/1.1 200 OK", "Content-Length: 0\r\nConnection: x, Close\r\n")).keep_alive);
    CHECK_FALSE(expect_complete(response("HTTP/1.0 200 OK", "Content-Length: 0\r\n")).keep_alive);
    CHECK(
        expect_complete(response("HTTP/1.0 200 OK", "Content-Length: 0\r\nConnection: Keep-Alive\r\n")).keep_alive);
    CHECK_FALSE(
        expect_complete(response("HTTP/1.0 200 OK", "Content-Length: 0\r\nConnection: keep-alive, close\r\n"))
            .keep_alive);
    CHECK(expect_complete(response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\n")).keep_alive);
    CHECK_FALSE(expect_complete(response("HTTP/1.1 200 OK", "Transfer-Encoding: chunked\r\nConnection: close\r\n"))
                    .keep_alive);
}

TEST_CASE("response: incremental feeding gives the same head") {
    const std::string responses[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
        "HTTP/1.1 204\r\n\r\n",
        "HTTP/1.0 302 Found\r\nLocation: /x\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: \t y \r\n\r\n",
    };
    for (const std::string& text : responses) {
        INFO(text);
        ResponseHead whole;
        REQUIRE(parse_whole(text, whole).status == ParseStatus::Complete);
        ResponseHead bytewise;
        size_t calls = 0;
        REQUIRE(parse_bytewise(text, bytewise, &calls).status == ParseStatus::Complete);
        CHECK(calls == text.size());
        CHECK(same_head(whole, bytewise));
        for (size_t split = 0; split < text.size(); ++split) {
            ResponseParser parser(Limits{});
            ResponseHead head;
            REQUIRE(parser.parse(text.data(), split, Method::Get, head) == ParseStatus::Incomplete);
            REQUIRE(parser.parse(text.data(), text.size(), Method::Get, head) == ParseStatus::Complete);
            CHECK(same_head(whole, head));
        }
    }
}

TEST_CASE("response: a 1xx then the final response, parser reset between") {
    const std::string text = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok";
    ResponseParser parser(Limits{});
    ResponseHead head;
    REQUIRE(parser.parse(text.data(), text.size(), Method::Post, head) == ParseStatus::Complete);
    CHECK(head.status == 100);
    CHECK(head.body == BodyKind::None);
    CHECK(head.head_size == 25);
    parser.reset();
    const size_t offset = head.head_size;
    REQUIRE(parser.parse(text.data() + offset, text.size() - offset, Method::Post, head) == ParseStatus::Complete);
    CHECK(head.status == 201);
    CHECK(head.reason == "Created");
    CHECK(head.headers.size() == 1);
    CHECK(head.body == BodyKind::ContentLength);
    CHECK(text.substr(offset + head.head_size) == "ok");
}

TEST_CASE("response: leading empty lines are not skipped") {
    expect_rejected("\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "malformed status line");
}

TEST_CASE("response: limits") {
    Limits limits;
    limits.max_head_size = 128;
    limits.max_headers = 3;
    SUBCASE("head size") {
        const std::string prefix = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nX-Pad: ";
        const std::string at_limit = prefix + std::string(128 - prefix.size() - 4, 'p') + "\r\n\r\n";
        REQUIRE(at_limit.size() == 128);
        CHECK(expect_complete(at_limit, Method::Get, limits).head_size == 128);
        const std::string over = prefix + std::string(128 - prefix.size() - 3, 'p') + "\r\n\r\n";
        expect_rejected(over, "response head too large", Method::Get, limits);

        ResponseParser parser(limits);
        ResponseHead head;
        const std::string endless = prefix + std::string(1000, 'p');
        CHECK(parser.parse(endless.data(), 127, Method::Get, head) == ParseStatus::Incomplete);
        CHECK(parser.parse(endless.data(), 128, Method::Get, head) == ParseStatus::Error);
        CHECK(parser.error().status == 502);
    }
    SUBCASE("field count") {
        CHECK(expect_complete(response("HTTP/1.1 200 OK", "A: 1\r\nB: 2\r\nContent-Length: 0\r\n"), Method::Get,
                              limits)
                  .headers.size() == 3);
        expect_rejected(response("HTTP/1.1 200 OK", "A: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n"),
                        "too many response header fields", Method::Get, limits);
    }
}

TEST_CASE("response: a reused ResponseHead carries nothing over") {
    ResponseParser parser(Limits{});
    ResponseHead head;
    const std::string first = "HTTP/1.1 200 OK\r\nContent-Length: 7\r\nX: y\r\n\r\n";
    const std::string second = "HTTP/1.0 204\r\n\r\n";
    REQUIRE(parser.parse(first.data(), first.size(), Method::Get, head) == ParseStatus::Complete);
    parser.reset();
    REQUIRE(parser.parse(second.data(), second.size(), Method::Get, head) == ParseStatus::Complete);
    CHECK(head.headers.empty());
    CHECK(head.content_length == 0);
    CHECK(head.reason.empty());
    CHECK(head.version == Version::Http10);
    CHECK(head.status == 204);
    CHECK(head.body == BodyKind::None);
    CHECK(head.head_size == second.size());
}
