// Shared by the codec tests: input generators, a driver that runs an encoder the way the plugin will (looping on
// NeedOutput with output buffers of any size), streaming decoders built on the real libraries (zlib's inflate,
// Brotli's and zstd's decoders), and an allocator that counts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>

#include "codec.h"

namespace portico::compression::test {

inline constexpr Coding kAllCodings[] = {Coding::Gzip, Coding::Brotli, Coding::Zstd};

// Compressible text built from words and numbers, and incompressible bytes; both deterministic for a seed.
std::string text_data(size_t size, uint32_t seed);
std::string noise_data(size_t size, uint32_t seed);

// Feeds `input` (whole, or in pieces of in_piece() bytes) with `mode`, handing encode() buffers of out_piece()
// bytes, until it answers Ok or Done; appends the output to *out. Checks the Encoder contract on every call (the
// counts stay within bounds, NeedOutput only with a full buffer) and fails the test on Error.
using SizeFn = std::function<size_t()>;
Result drive(Encoder& encoder, std::string_view input, Flush mode, std::string* out, const SizeFn& out_piece);
std::string encode_all(Encoder& encoder, std::string_view input, const SizeFn& in_piece, const SizeFn& out_piece);
std::string encode_all(Coding coding, int level, std::string_view input);  // one piece in, 16 KiB out

// A size in [1, max] skewed towards small values: as often 1-16 bytes as up to `max`.
SizeFn random_sizes(std::mt19937& rng, size_t max);
SizeFn fixed_size(size_t size);

// Streaming decoder over the real library. feed() appends what the bytes so far decode to, and fails on a
// corrupt stream or bytes after its end.
class Decoder {
public:
    explicit Decoder(Coding coding);
    ~Decoder();
    Decoder(const Decoder&) = delete;
    Decoder& operator=(const Decoder&) = delete;

    bool feed(std::string_view compressed, std::string* out);
    bool finished() const { return finished_; }

private:
    Coding coding_;
    void* state_ = nullptr;
    bool finished_ = false;
};

// Decodes a whole stream; false when it is corrupt or incomplete.
bool decode(Coding coding, std::string_view compressed, std::string* out);

// Counts the bytes live and their peak; optionally fails allocations from the n-th on (0-based).
struct CountingAllocator {
    size_t live = 0;
    size_t peak = 0;
    size_t allocations = 0;
    size_t fail_from = SIZE_MAX;

    Allocator allocator() { return Allocator{&CountingAllocator::alloc, &CountingAllocator::free, this}; }

private:
    static void* alloc(void* opaque, size_t size);
    static void free(void* opaque, void* ptr);
};

}  // namespace portico::compression::test
