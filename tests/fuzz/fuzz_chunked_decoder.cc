// libFuzzer target for ChunkedDecoder. Besides crashes and sanitizer reports it checks properties, and aborts
// when one does not hold:
//  - decoding from one buffer and decoding as the input trickles in (a byte at a time, or in two reads, keeping
//    unconsumed bytes like a connection buffer does) end the same way, with the same body and trailers;
//  - results are sane: consumed within the input, Data non-empty and a view of the bytes just consumed, Done
//    and Error are final until reset(), and after reset() the decoder starts afresh;
//  - a decoded body re-encoded as chunks decodes to itself.
// Each input runs with the default limits and with small ones, so the limit paths are reached too.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http/chunked_decoder.h"

using portico::http::ChunkedDecoder;
using Status = ChunkedDecoder::Status;

namespace {

#define FUZZ_CHECK(condition)                                                                  \
    do {                                                                                       \
        if (!(condition)) {                                                                    \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                      \
        }                                                                                      \
    } while (0)

struct Outcome {
    Status status = Status::NeedMore;
    std::string body;
    std::string trailers;
    size_t consumed = 0;
};

// Checks what every result must satisfy, and that a finished decoder stays finished.
void check_result(const ChunkedDecoder::Result& r, const char* input, size_t len) {
    FUZZ_CHECK(r.consumed <= len);
    switch (r.status) {
        case Status::Data:
            FUZZ_CHECK(!r.data.empty());
            FUZZ_CHECK(r.data.data() + r.data.size() == input + r.consumed);
            break;
        case Status::Done:
            FUZZ_CHECK(r.consumed >= 2 || r.consumed == 0);
            FUZZ_CHECK(r.trailers.empty() || r.trailers.data() >= input);
            FUZZ_CHECK(r.trailers.size() < 2 || r.trailers.substr(r.trailers.size() - 2) == "\r\n");
            break;
        case Status::Error:
            FUZZ_CHECK(!r.error.empty());
            break;
        case Status::NeedMore:
            FUZZ_CHECK(r.data.empty());
            break;
    }
}

Outcome decode_whole(ChunkedDecoder& decoder, const char* data, size_t size) {
    Outcome out;
    while (true) {
        const ChunkedDecoder::Result r = decoder.feed(data + out.consumed, size - out.consumed);
        check_result(r, data + out.consumed, size - out.consumed);
        out.consumed += r.consumed;
        out.status = r.status;
        if (r.status == Status::Data) {
            out.body.append(r.data);
            continue;
        }
        if (r.status == Status::Done) out.trailers.assign(r.trailers);
        break;
    }
    if (out.status == Status::Done || out.status == Status::Error) {
        // Final until reset(): nothing more is consumed.
        const ChunkedDecoder::Result again = decoder.feed(data, size);
        FUZZ_CHECK(again.status == out.status);
        FUZZ_CHECK(again.consumed == 0);
    }
    return out;
}

// Appends `step` input bytes at a time (the first read being `first` bytes) to a buffer, feeds the buffer and
// drops what was consumed, like a connection's input buffer.
Outcome decode_trickled(ChunkedDecoder& decoder, const char* data, size_t size, size_t first, size_t step) {
    Outcome out;
    std::string buffer;
    size_t fed = 0;
    size_t next = first;
    while (fed < size) {
        const size_t n = std::min(next, size - fed);
        buffer.append(data + fed, n);
        fed += n;
        next = step;
        while (true) {
            const ChunkedDecoder::Result r = decoder.feed(buffer.data(), buffer.size());
            check_result(r, buffer.data(), buffer.size());
            out.status = r.status;
            if (r.status == Status::Data) out.body.append(r.data);
            if (r.status == Status::Done) out.trailers.assign(r.trailers);
            buffer.erase(0, r.consumed);
            out.consumed += r.consumed;
            if (r.status != Status::Data) break;
        }
        if (out.status == Status::Done || out.status == Status::Error) break;
    }
    return out;
}

void fuzz_with(const char* data, size_t size, const ChunkedDecoder::Limits& limits, size_t split) {
    // One decoder for every pass, reset() between them: whatever state a body leaves must not leak into the next.
    ChunkedDecoder decoder(limits);
    const Outcome whole = decode_whole(decoder, data, size);
    if (whole.status == Status::Done) {
        FUZZ_CHECK(whole.consumed <= size);
        FUZZ_CHECK(whole.trailers.size() + 2 <= limits.max_trailer_size);
    } else if (whole.status == Status::NeedMore) {
        FUZZ_CHECK(whole.consumed <= size);
    }

    const size_t step = size <= 2048 ? 1 : size / 512;
    const size_t ways[2][2] = {{step, step}, {split, size}};
    for (const auto& way : ways) {
        if (way[0] == 0) continue;
        decoder.reset();
        const Outcome trickled = decode_trickled(decoder, data, size, way[0], way[1]);
        FUZZ_CHECK(trickled.status == whole.status);
        FUZZ_CHECK(trickled.body == whole.body);
        if (whole.status == Status::Done) {
            FUZZ_CHECK(trickled.trailers == whole.trailers);
            FUZZ_CHECK(trickled.consumed == whole.consumed);
        }
    }

    if (whole.status == Status::Done && whole.body.size() <= 65536) {
        // Re-encode in chunks of up to 1000 bytes with the same trailers; it must decode to the same body.
        std::string encoded;
        for (size_t at = 0; at < whole.body.size(); at += 1000) {
            const size_t n = std::min<size_t>(1000, whole.body.size() - at);
            char line[32];
            std::snprintf(line, sizeof line, "%zX\r\n", n);
            encoded.append(line).append(whole.body, at, n).append("\r\n");
        }
        encoded.append("0\r\n").append(whole.trailers).append("\r\n");
        decoder.reset();
        const Outcome again = decode_whole(decoder, encoded.data(), encoded.size());
        FUZZ_CHECK(again.status == Status::Done);
        FUZZ_CHECK(again.body == whole.body);
        FUZZ_CHECK(again.trailers == whole.trailers);
        FUZZ_CHECK(again.consumed == encoded.size());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
    const char* data = reinterpret_cast<const char*>(bytes);
    size_t split = 0;
    for (size_t i = 0; i < size; ++i) split = split * 31 + bytes[i];
    split = size == 0 ? 0 : 1 + split % size;

    ChunkedDecoder::Limits small;
    small.max_line = 24;
    small.max_trailer_size = 64;

    fuzz_with(data, size, ChunkedDecoder::Limits{}, split);
    fuzz_with(data, size, small, split);
    return 0;
}
