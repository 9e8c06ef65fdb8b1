// Chunked transfer coding decoder (host/http/chunked_decoder.*): reassembly however the input is split, chunk
// extensions, trailers, limits and every refusal of RFC 9112 7.1.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "http/chunked_decoder.h"

using portico::http::ChunkedDecoder;
using Status = ChunkedDecoder::Status;

namespace {

struct Decoded {
    Status status = Status::NeedMore;  // the last status: Done, Error, or NeedMore when the input ran out
    std::string body;
    std::string trailers;
    std::string error;
    size_t consumed = 0;
    int pieces = 0;  // Data results
};

// Feeds `input` in one buffer, advancing by `consumed`, as the proxy does with a full socket buffer.
Decoded decode(std::string_view input, const ChunkedDecoder::Limits& limits = {}) {
    ChunkedDecoder decoder(limits);
    Decoded out;
    size_t pos = 0;
    while (true) {
        ChunkedDecoder::Result r = decoder.feed(input.data() + pos, input.size() - pos);
        REQUIRE(r.consumed <= input.size() - pos);
        pos += r.consumed;
        out.status = r.status;
        if (r.status == Status::Data) {
            REQUIRE_FALSE(r.data.empty());
            // The data is a view of the input, and the last bytes consumed.
            REQUIRE(r.data.data() + r.data.size() == input.data() + pos);
            out.body.append(r.data);
            ++out.pieces;
            continue;
        }
        if (r.status == Status::Done) out.trailers = std::string(r.trailers);
        if (r.status == Status::Error) {
            out.error = std::string(r.error);
            CHECK_FALSE(r.error.empty());
        }
        break;
    }
    out.consumed = pos;
    return out;
}

// Feeds `input` in pieces of the given sizes (cycled), keeping unconsumed bytes in a buffer like a connection does.
Decoded decode_in_pieces(std::string_view input, const size_t* sizes, size_t count,
                         const ChunkedDecoder::Limits& limits = {}) {
    ChunkedDecoder decoder(limits);
    Decoded out;
    std::string buffer;
    size_t fed = 0;
    for (size_t turn = 0; fed < input.size(); ++turn) {
        const size_t n = std::min(sizes[turn % count], input.size() - fed);
        buffer.append(input.substr(fed, n));
        fed += n;
        while (true) {
            ChunkedDecoder::Result r = decoder.feed(buffer.data(), buffer.size());
            REQUIRE(r.consumed <= buffer.size());
            out.status = r.status;
            if (r.status == Status::Data) {
                REQUIRE_FALSE(r.data.empty());
                out.body.append(r.data);
                ++out.pieces;
            } else if (r.status == Status::Done) {
                out.trailers = std::string(r.trailers);
            } else if (r.status == Status::Error) {
                out.error = std::string(r.error);
            }
            buffer.erase(0, r.consumed);
            out.consumed += r.consumed;
            if (r.status != Status::Data) break;
        }
        if (out.status == Status::Done || out.status == Status::Error) break;
    }
    return out;
}

Decoded decode_bytewise(std::string_view input, const ChunkedDecoder::Limits& limits = {}) {
    const size_t one = 1;
    return decode_in_pieces(input, &one, 1, limits);
}

void expect_error(std::string_view input, std::string_view reason, const ChunkedDecoder::Limits& limits = {}) {
    INFO("input: " << std::string(input));
    Decoded whole = decode(input, limits);
    CHECK(whole.status == Status::Error);
    CHECK(whole.error == reason);
    Decoded bytewise = decode_bytewise(input, limits);
    CHECK(bytewise.status == Status::Error);
    CHECK_FALSE(bytewise.error.empty());
}

Decoded expect_done(std::string_view input, const ChunkedDecoder::Limits& limits = {}) {
    INFO("input: " << std::string(input));
    Decoded whole = decode(input, limits);
    INFO("error: " << whole.error);
    REQUIRE(whole.status == Status::Done);
    return whole;
}

}  // namespace

TEST_CASE("chunked: a simple body") {
    const std::string input = "5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n";
    Decoded d = expect_done(input);
    CHECK(d.body == "hello, world");
    CHECK(d.trailers.empty());
    CHECK(d.consumed == input.size());
    CHECK(d.pieces == 2);
}

TEST_CASE("chunked: an empty body") {
    Decoded d = expect_done("0\r\n\r\n");
    CHECK(d.body.empty());
    CHECK(d.pieces == 0);
    CHECK(d.consumed == 5);
    CHECK(expect_done("000\r\n\r\n").consumed == 7);
}

TEST_CASE("chunked: hex sizes, either case, leading zeros") {
    const std::string sixteen(16, 'x');
    const std::string thirty_one(31, 'y');
    const std::string body_a(10, 'a');
    const std::string input = "10\r\n" + sixteen + "\r\n1F\r\n" + thirty_one + "\r\na\r\n" + body_a +
                              "\r\n00000000000000000000001\r\nz\r\n0\r\n\r\n";
    Decoded d = expect_done(input);
    CHECK(d.body == sixteen + thirty_one + body_a + "z");
    CHECK(d.consumed == input.size());
}

TEST_CASE("chunked: the largest size is 2^63-1") {
    ChunkedDecoder decoder;
    const std::string line = "7fffffffffffffff\r\nabc";
    ChunkedDecoder::Result r = decoder.feed(line.data(), line.size());
    REQUIRE(r.status == Status::Data);
    CHECK(r.data == "abc");
    CHECK(r.consumed == line.size());
    ChunkedDecoder decoder2;
    const std::string padded = "00007FFFFFFFFFFFFFFF\r\n";
    CHECK(decoder2.feed(padded.data(), padded.size()).status == Status::NeedMore);
}

TEST_CASE("chunked: size errors") {
    for (const char* line : {"-5", "+5", " 5", "0x5", "5x", "g", "", "5 5", "\t5", "5\t\t", "5 ", "\xef\xbc\x95"}) {
        INFO("size line '" << line << "'");
        Decoded d = decode(std::string(line) + "\r\nhello\r\n0\r\n\r\n");
        CHECK(d.status == Status::Error);
        CHECK(decode_bytewise(std::string(line) + "\r\nhello\r\n0\r\n\r\n").status == Status::Error);
    }
    expect_error("x\r\n", "invalid chunk size");
    expect_error("5x\r\nhello\r\n", "invalid chunk size");
    expect_error("0x5\r\nhello\r\n", "invalid chunk size");
    expect_error("5 \r\nhello\r\n", "whitespace at end of chunk size line");
}

TEST_CASE("chunked: sizes that overflow") {
    expect_error("8000000000000000\r\n", "chunk size too large");   // 2^63
    expect_error("ffffffffffffffff\r\n", "chunk size too large");   // 2^64-1
    expect_error("10000000000000000\r\n", "chunk size too large");  // 17 significant digits
    expect_error("100000000000000000000005\r\n", "chunk size too large");
    // Refused as soon as the digits overflow, before the line ends.
    ChunkedDecoder decoder;
    const std::string digits = "80000000000000000";
    CHECK(decoder.feed(digits.data(), 15).status == Status::NeedMore);
    CHECK(decoder.feed(digits.data(), 16).status == Status::Error);
}

TEST_CASE("chunked: extensions") {
    SUBCASE("valid forms are accepted and skipped") {
        for (const char* ext :
             {";a", ";a=b", ";a=b;c", ";a=\"\"", ";a=\"quoted \\\" \\\\ str\"", " ; a = b ; c", "\t;\ta\t=\t\"x\"",
              ";a=\"x;y=z\"", ";!#$%&'*+-.^_`|~=token", ";a=\"\tobs\xff\"", ";a;b;c;d"}) {
            INFO("extension '" << ext << "'");
            const std::string input = "5" + std::string(ext) + "\r\nhello\r\n0" + std::string(ext) + "\r\n\r\n";
            Decoded d = expect_done(input);
            CHECK(d.body == "hello");
            CHECK(d.consumed == input.size());
            Decoded bytewise = decode_bytewise(input);
            CHECK(bytewise.status == Status::Done);
            CHECK(bytewise.body == "hello");
        }
    }
    SUBCASE("invalid forms are refused") {
        for (const char* ext :
             {";", ";=b", ";a=", ";a=\"unterminated", ";a b", ";a=b c", ";a=\"x\x01\"", ";a ", ";a=@", ";a=\"x\"y",
              ";a==b", ";;a", ";a=b;", "; ", ";a=\"x\\", ";a=\"\x7f\"", ";a=\"x\\\x01\"", ";a,b", ";a=b,c"}) {
            INFO("extension '" << ext << "'");
            const std::string input = "5" + std::string(ext) + "\r\nhello\r\n0\r\n\r\n";
            Decoded d = decode(input);
            CHECK(d.status == Status::Error);
            CHECK(decode_bytewise(input).status == Status::Error);
        }
        expect_error("5;a=\"x\r\nhello\r\n0\r\n\r\n", "unterminated quoted string in chunk extension");
        expect_error("5;a=b c\r\nhello\r\n0\r\n\r\n", "invalid chunk extension");
        expect_error("5;a \r\nhello\r\n0\r\n\r\n", "whitespace at end of chunk size line");
    }
}

TEST_CASE("chunked: size line length limit, at the boundary and one over") {
    ChunkedDecoder::Limits limits;
    limits.max_line = 32;
    const std::string at_limit = "5;e=" + std::string(28, 'v');
    REQUIRE(at_limit.size() == 32);
    CHECK(expect_done(at_limit + "\r\nhello\r\n0\r\n\r\n", limits).body == "hello");
    CHECK(decode_bytewise(at_limit + "\r\nhello\r\n0\r\n\r\n", limits).body == "hello");
    expect_error(at_limit + "v\r\nhello\r\n0\r\n\r\n", "chunk size line too long", limits);

    SUBCASE("refused before the line ends") {
        ChunkedDecoder decoder(limits);
        const std::string endless = "5;e=" + std::string(100, 'v');
        CHECK(decoder.feed(endless.data(), 33).status == Status::NeedMore);
        CHECK(decoder.feed(endless.data(), 33).consumed == 0);
        ChunkedDecoder::Result r = decoder.feed(endless.data(), 34);
        CHECK(r.status == Status::Error);
        CHECK(r.error == "chunk size line too long");
    }
    SUBCASE("many leading zeros are bounded by the line limit too") {
        expect_error(std::string(40, '0') + "5\r\nhello\r\n0\r\n\r\n", "chunk size line too long", limits);
    }
}

TEST_CASE("chunked: CRLF after the data") {
    expect_error("5\r\nhelloX\r\n0\r\n\r\n", "missing CRLF after chunk data");
    expect_error("3\r\nhello\r\n0\r\n\r\n", "missing CRLF after chunk data");  // longer than declared
    expect_error("6\r\nhello\r\n0\r\n\r\n", "missing CRLF after chunk data");  // shorter than declared
    expect_error("5\r\nhello\n0\r\n\r\n", "missing CRLF after chunk data");    // bare LF
    expect_error("5\r\nhello\rX0\r\n\r\n", "missing CRLF after chunk data");   // bare CR
    expect_error("5\r\nhello0\r\n\r\n", "missing CRLF after chunk data");
    expect_error("5\r\nhelloX\n0\r\n\r\n", "missing CRLF after chunk data");
    SUBCASE("a wrong byte is refused without waiting for the next") {
        ChunkedDecoder decoder;
        const std::string input = "5\r\nhelloX";
        ChunkedDecoder::Result r = decoder.feed(input.data(), input.size());
        REQUIRE(r.status == Status::Data);
        r = decoder.feed(input.data() + r.consumed, input.size() - r.consumed);
        CHECK(r.status == Status::Error);
        CHECK(r.error == "missing CRLF after chunk data");
    }
    SUBCASE("a lone CR waits for its LF") {
        ChunkedDecoder decoder;
        const std::string input = "5\r\nhello\r";
        ChunkedDecoder::Result r = decoder.feed(input.data(), input.size());
        REQUIRE(r.status == Status::Data);
        CHECK(r.consumed == 8);
        r = decoder.feed(input.data() + 8, 1);
        CHECK(r.status == Status::NeedMore);
        CHECK(r.consumed == 0);
        const std::string rest = "\r\n0\r\n\r\n";
        r = decoder.feed(rest.data(), rest.size());
        CHECK(r.status == Status::Done);
        CHECK(r.consumed == rest.size());
    }
}

TEST_CASE("chunked: bare LF in a size line") {
    expect_error("5\nhello\r\n0\r\n\r\n", "bare LF in chunk size line");
    expect_error("5;a=b\nhello\r\n0\r\n\r\n", "bare LF in chunk size line");
    expect_error("5\r\nhello\r\n0\n\r\n", "bare LF in chunk size line");
    expect_error("\n", "bare LF in chunk size line");
}

TEST_CASE("chunked: trailers") {
    SUBCASE("returned as raw field lines") {
        const std::string input = "3\r\nabc\r\n0\r\nX-Checksum: 1234\r\nX-Other:\tv \r\n\r\n";
        Decoded d = expect_done(input);
        CHECK(d.body == "abc");
        CHECK(d.trailers == "X-Checksum: 1234\r\nX-Other:\tv \r\n");
        CHECK(d.consumed == input.size());
        Decoded bytewise = decode_bytewise(input);
        CHECK(bytewise.status == Status::Done);
        CHECK(bytewise.trailers == d.trailers);
        CHECK(bytewise.consumed == input.size());
    }
    SUBCASE("the trailers view points into the input") {
        ChunkedDecoder decoder;
        const std::string input = "0\r\nA: b\r\n\r\n";
        ChunkedDecoder::Result r = decoder.feed(input.data(), input.size());
        REQUIRE(r.status == Status::Done);
        CHECK(r.trailers == "A: b\r\n");
        CHECK(r.trailers.data() == input.data() + 3);
    }
    SUBCASE("invalid field lines") {
        expect_error("0\r\nX: a\r\n b\r\n\r\n", "obs-fold not allowed");
        expect_error("0\r\n X: a\r\n\r\n", "obs-fold not allowed");
        expect_error("0\r\nX : a\r\n\r\n", "whitespace before colon");
        expect_error("0\r\nNoColon\r\n\r\n", "field line without colon");
        expect_error("0\r\n: a\r\n\r\n", "empty field name");
        expect_error("0\r\nX(: a\r\n\r\n", "invalid character in field name");
        expect_error("0\r\nX: a\x01\r\n\r\n", "invalid character in field value");
        expect_error("0\r\nX: a\rb\r\n\r\n", "invalid character in field value");
        expect_error(std::string("0\r\nX: a\0\r\n\r\n", 12), "invalid character in field value");
        expect_error("0\r\nX: a\n\r\n", "bare LF in trailer section");
        expect_error("0\r\n\n", "bare LF in trailer section");
        expect_error("0\r\nX: a\r\n\n", "bare LF in trailer section");
    }
    SUBCASE("an invalid line is refused before the section ends") {
        ChunkedDecoder decoder;
        const std::string input = "0\r\nBad Name: x\r\n";
        ChunkedDecoder::Result r = decoder.feed(input.data(), input.size());
        CHECK(r.status == Status::Error);
    }
}

TEST_CASE("chunked: trailer section size limit, at the boundary and one over") {
    ChunkedDecoder::Limits limits;
    limits.max_trailer_size = 64;
    // The section counts its field lines and the final CRLF.
    const std::string field_at_limit = "X: " + std::string(64 - 7, 't') + "\r\n";
    REQUIRE(field_at_limit.size() + 2 == 64);
    Decoded d = expect_done("0\r\n" + field_at_limit + "\r\n", limits);
    CHECK(d.trailers == field_at_limit);
    CHECK(decode_bytewise("0\r\n" + field_at_limit + "\r\n", limits).trailers == field_at_limit);
    const std::string over = "X: " + std::string(64 - 6, 't') + "\r\n";
    expect_error("0\r\n" + over + "\r\n", "trailer section too large", limits);

    SUBCASE("refused as soon as the limit is reached without an end") {
        ChunkedDecoder decoder(limits);
        const std::string input = "0\r\n" + over;  // its final CR LF is at bytes 64 and 65 of the section
        ChunkedDecoder::Result r = decoder.feed(input.data(), 3 + 63);
        CHECK(r.status == Status::NeedMore);
        CHECK(r.consumed == 3);
        r = decoder.feed(input.data() + 3, 63);
        CHECK(r.status == Status::NeedMore);
        CHECK(r.consumed == 0);
        r = decoder.feed(input.data() + 3, 64);
        CHECK(r.status == Status::Error);
        CHECK(r.error == "trailer section too large");
    }
    SUBCASE("refused before the section ends") {
        ChunkedDecoder decoder(limits);
        const std::string input = "0\r\nX: " + std::string(200, 't');
        ChunkedDecoder::Result r = decoder.feed(input.data(), input.size());
        CHECK(r.status == Status::Error);
        CHECK(r.error == "trailer section too large");
    }
}

TEST_CASE("chunked: every split of the input gives the same result") {
    const std::string input =
        "4;ext=\"v\"\r\nWiki\r\n6\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n";
    const Decoded whole = expect_done(input);
    CHECK(whole.body == "Wikipedia in \r\n\r\nchunks.");
    CHECK(whole.trailers == "X-T: 1\r\n");

    Decoded bytewise = decode_bytewise(input);
    CHECK(bytewise.status == Status::Done);
    CHECK(bytewise.body == whole.body);
    CHECK(bytewise.trailers == whole.trailers);
    CHECK(bytewise.consumed == input.size());

    for (size_t split = 1; split < input.size(); ++split) {
        const size_t sizes[] = {split, input.size()};
        Decoded d = decode_in_pieces(input, sizes, 2);
        INFO("split " << split);
        CHECK(d.status == Status::Done);
        CHECK(d.body == whole.body);
        CHECK(d.trailers == whole.trailers);
        CHECK(d.consumed == input.size());
    }
    const size_t odd_sizes[] = {3, 1, 7, 2, 11, 5};
    Decoded odd = decode_in_pieces(input, odd_sizes, 6);
    CHECK(odd.body == whole.body);
    CHECK(odd.trailers == whole.trailers);
}

TEST_CASE("chunked: a large body in small reads") {
    std::string body;
    std::string input;
    uint32_t seed = 12345;
    for (int chunk = 0; chunk < 50; ++chunk) {
        seed = seed * 1103515245u + 12345u;
        const size_t size = 1 + (seed >> 16) % 700;
        std::string data;
        for (size_t i = 0; i < size; ++i) data.push_back(static_cast<char>('a' + (i + chunk) % 26));
        char line[32];
        std::snprintf(line, sizeof line, "%zx\r\n", size);
        input += line + data + "\r\n";
        body += data;
    }
    input += "0\r\n\r\n";
    const size_t sizes[] = {1, 13, 100, 7, 4096, 2};
    Decoded d = decode_in_pieces(input, sizes, 6);
    CHECK(d.status == Status::Done);
    CHECK(d.body == body);
    CHECK(d.consumed == input.size());
    CHECK(decode_bytewise(input).body == body);
}

TEST_CASE("chunked: partial data comes back as it arrives") {
    ChunkedDecoder decoder;
    const std::string first = "b\r\nhel";
    ChunkedDecoder::Result r = decoder.feed(first.data(), first.size());
    REQUIRE(r.status == Status::Data);
    CHECK(r.data == "hel");
    CHECK(r.consumed == first.size());
    r = decoder.feed(first.data() + first.size(), 0);
    CHECK(r.status == Status::NeedMore);
    CHECK(r.consumed == 0);
    const std::string second = "lo worl";
    r = decoder.feed(second.data(), second.size());
    REQUIRE(r.status == Status::Data);
    CHECK(r.data == "lo worl");
    const std::string third = "d\r\n0\r\n\r\n";
    r = decoder.feed(third.data(), third.size());
    REQUIRE(r.status == Status::Data);
    CHECK(r.data == "d");
    CHECK(r.consumed == 1);
    r = decoder.feed(third.data() + 1, third.size() - 1);
    CHECK(r.status == Status::Done);
    CHECK(r.consumed == third.size() - 1);
}

TEST_CASE("chunked: an incomplete size line is not consumed") {
    ChunkedDecoder decoder;
    for (const char* partial : {"", "1", "1f", "1f;", "1f;a", "1f;a=", "1f;a=\"x", "1f ", "1f\r"}) {
        INFO("partial '" << partial << "'");
        ChunkedDecoder::Result r = decoder.feed(partial, std::char_traits<char>::length(partial));
        CHECK(r.status == Status::NeedMore);
        CHECK(r.consumed == 0);
    }
    SUBCASE("garbage is refused at once") {
        for (const char* partial : {"z", "-", " ", "1z", "1;=", "1;a=\"\x01", "1 x", "1\rx"}) {
            INFO("partial '" << partial << "'");
            ChunkedDecoder fresh;
            ChunkedDecoder::Result r = fresh.feed(partial, std::char_traits<char>::length(partial));
            CHECK(r.status == Status::Error);
        }
    }
    SUBCASE("after data and its CRLF, the next partial line is left for later") {
        ChunkedDecoder fresh;
        const std::string input = "2\r\nab\r\n1";
        ChunkedDecoder::Result r = fresh.feed(input.data(), input.size());
        REQUIRE(r.status == Status::Data);
        CHECK(r.consumed == 5);
        r = fresh.feed(input.data() + 5, input.size() - 5);
        CHECK(r.status == Status::NeedMore);
        CHECK(r.consumed == 2);  // the CRLF after the data, not the "1"
    }
}

TEST_CASE("chunked: bytes after the body are left alone") {
    const std::string input = "2\r\nok\r\n0\r\n\r\nGET /next HTTP/1.1\r\n";
    Decoded d = decode(input);
    CHECK(d.status == Status::Done);
    CHECK(d.body == "ok");
    CHECK(d.consumed == input.find("GET"));
}

TEST_CASE("chunked: after Done, after Error, and reset()") {
    ChunkedDecoder decoder;
    const std::string body = "1\r\nx\r\n0\r\nT: v\r\n\r\nmore";
    ChunkedDecoder::Result r = decoder.feed(body.data(), body.size());
    REQUIRE(r.status == Status::Data);
    r = decoder.feed(body.data() + r.consumed, body.size() - r.consumed);
    REQUIRE(r.status == Status::Done);
    CHECK(r.trailers == "T: v\r\n");

    SUBCASE("Done again, consuming nothing") {
        const std::string more = "1\r\nx\r\n";
        r = decoder.feed(more.data(), more.size());
        CHECK(r.status == Status::Done);
        CHECK(r.consumed == 0);
        CHECK(r.data.empty());
        CHECK(r.trailers.empty());
    }
    SUBCASE("reset() starts a new body") {
        decoder.reset();
        const std::string next = "3\r\nnew\r\n0\r\n\r\n";
        r = decoder.feed(next.data(), next.size());
        REQUIRE(r.status == Status::Data);
        CHECK(r.data == "new");
    }
    SUBCASE("after an error, errors; reset() recovers") {
        decoder.reset();
        const std::string bad = "zz\r\n";
        r = decoder.feed(bad.data(), bad.size());
        REQUIRE(r.status == Status::Error);
        CHECK(r.consumed == 0);
        const std::string good = "0\r\n\r\n";
        r = decoder.feed(good.data(), good.size());
        CHECK(r.status == Status::Error);
        CHECK(r.consumed == 0);
        decoder.reset();
        r = decoder.feed(good.data(), good.size());
        CHECK(r.status == Status::Done);
        CHECK(r.consumed == good.size());
    }
    SUBCASE("reset() in the middle of trailers starts a new body") {
        decoder.reset();
        const std::string partial = "0\r\nA: 1\r\nB: 2\r\n";
        r = decoder.feed(partial.data(), partial.size());
        CHECK(r.status == Status::NeedMore);
        CHECK(r.consumed == 3);
        decoder.reset();
        const std::string other = "0\r\n\r\n";
        r = decoder.feed(other.data(), other.size());
        CHECK(r.status == Status::Done);
        CHECK(r.trailers.empty());
    }
}
