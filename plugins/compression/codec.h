// The codec layer of the compression plugin: streaming encoders for the gzip, br and zstd content codings
// (RFC 9110 8.4.1), behind one interface that knows nothing of HTTP or of the plugin ABI.
//
// Contract, for every encoder:
// - Memory is bounded and constant per encoder: it is all allocated when the encoder is created or on its first
//   encode() call, never grown with the size of the stream (windows are capped, see each *_encoder.cc).
// - Any output buffer size works, down to 1 byte: the caller loops while encode() answers NeedOutput.
// - Nothing throws: failures are Result::Error (or nullptr from make_encoder), so the encoders can sit behind a
//   C ABI.
// - An encoder is used by one thread at a time; distinct encoders are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

namespace portico::compression {

enum class Coding : uint8_t { Gzip, Brotli, Zstd };
inline constexpr size_t kCodingCount = 3;

// The content-coding token written in Content-Encoding: "gzip", "br", "zstd".
std::string_view name(Coding coding) noexcept;

// Parses a content-coding token, case-insensitively (RFC 9110 8.4.1). "x-gzip" is gzip (RFC 9110 8.4.1.3).
std::optional<Coding> coding_from_token(std::string_view token) noexcept;

// Accepted levels: gzip 1-9 (zlib), br 0-11 (Brotli quality), zstd 1-19 (20-22 need windows beyond our cap).
struct LevelRange {
    int min;
    int max;
    int default_level;  // a speed/ratio balance for compressing on the fly, per response
};
LevelRange level_range(Coding coding) noexcept;

// Where an encoder takes its memory from (every byte the compression library allocates goes through it), so the
// embedder can account for it. alloc returns nullptr on failure and memory aligned like malloc's.
struct Allocator {
    void* (*alloc)(void* opaque, size_t size);
    void (*free)(void* opaque, void* ptr);
    void* opaque;
};

enum class Flush {
    None,    // compress; the encoder may keep data back to compress it better
    Flush,   // sync flush: everything passed so far is emitted, decodable by a streaming decoder
    Finish,  // end of the stream: emit everything and the trailer
};

enum class Result {
    Ok,          // all the input was consumed and, for Flush::Flush, everything so far has been emitted
    NeedOutput,  // the output buffer is full (*produced == out_cap): call again with the rest of the input
                 // (in + *consumed), the same mode and more output space
    Done,        // Flush::Finish completed: the stream is complete and fully emitted
    Error,       // the encoder is unusable from now on (library failure, out of memory, misuse)
};

class Encoder {
public:
    virtual ~Encoder() = default;
    Encoder(const Encoder&) = delete;
    Encoder& operator=(const Encoder&) = delete;

    // Compresses from `in` into `out`. Sets *consumed (bytes read from in) and *produced (bytes written to out).
    // Once a call with Flush::Flush or Flush::Finish answered NeedOutput, the following calls must use the same
    // mode until it answers Ok or Done. After Done, only Flush::Finish with no input is accepted (answering Done
    // again, producing nothing). Anything else is misuse and answers Error.
    Result encode(const uint8_t* in, size_t in_len, size_t* consumed, uint8_t* out, size_t out_cap,
                  size_t* produced, Flush mode) noexcept;

protected:
    Encoder() = default;

    // One encode() call with validated arguments and *consumed == *produced == 0 on entry. Implementations
    // return NeedOutput only with the output full, and never loop without progress.
    virtual Result step(const uint8_t* in, size_t in_len, size_t* consumed, uint8_t* out, size_t out_cap,
                        size_t* produced, Flush mode) noexcept = 0;

private:
    enum class State : uint8_t { Open, Draining, Finished, Failed };
    State state_ = State::Open;
    Flush draining_ = Flush::None;  // with State::Draining: the flush or finish that must be completed
};

// A new encoder, or nullptr when the level is outside level_range(coding) or memory ran out. With an allocator,
// the library's memory comes from it (the Encoder object itself, a few hundred bytes, from operator new).
std::unique_ptr<Encoder> make_encoder(Coding coding, int level, const Allocator* allocator = nullptr) noexcept;

}  // namespace portico::compression
