// Incremental decoder for the chunked transfer coding (RFC 9112 section 7.1). It never copies: data comes back as
// views into the input. Strict: hex sizes only (no sign, no whitespace, no overflow past 2^63), CRLF everywhere,
// chunk extensions validated and bounded, trailer section validated and bounded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace portico::http {

class ChunkedDecoder {
public:
    enum class Status {
        Data,      // `data` holds the next piece of body; `consumed` includes it
        NeedMore,  // every byte that can be used now was consumed; feed more input
        Done,      // last chunk and trailer section consumed; `trailers` holds the trailer field lines
        Error,     // malformed; `error` says why; the message framing is lost
    };

    struct Result {
        Status status = Status::NeedMore;
        size_t consumed = 0;          // bytes of input used by this call
        std::string_view data;        // Status::Data only
        std::string_view trailers;    // Status::Done only: raw field lines, each ending in CRLF ("" if none)
        std::string_view error;       // Status::Error only: short static text
    };

    struct Limits {
        size_t max_line = 4096;           // chunk-size line including extensions
        size_t max_trailer_size = 16384;  // the whole trailer section
    };

    ChunkedDecoder() = default;
    explicit ChunkedDecoder(const Limits& limits) : limits_(limits) {}

    // Feed input[0..len). Call repeatedly, advancing by `consumed`, until NeedMore, Done or Error.
    // While waiting for a complete chunk-size line or trailer section it consumes nothing and returns NeedMore:
    // the caller keeps those bytes and calls again with them and more.
    Result feed(const char* input, size_t len);

    void reset();

private:
    enum class State : uint8_t { Size, Data, DataCrlf, Trailers, Finished, Failed };
    Limits limits_;
    State state_ = State::Size;
    uint64_t remaining_ = 0;
};

}  // namespace portico::http
