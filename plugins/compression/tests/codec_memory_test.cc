// Memory per encoder is bounded and constant: it does not grow with the length of the stream. Every byte the
// libraries allocate goes through a counting allocator.
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <vector>

#include "codec.h"
#include "test_support.h"

using namespace portico::compression;
using namespace portico::compression::test;

namespace {

constexpr size_t kMiB = 1024 * 1024;

// FNV-1a, to compare 64 MiB in and out without keeping either.
struct Digest {
    uint64_t value = 1469598103934665603ull;
    void update(std::string_view bytes) {
        for (unsigned char c : bytes) value = (value ^ c) * 1099511628211ull;
    }
};

// The budgets README.md documents, with some headroom over what was measured (in parentheses).
size_t budget(Coding coding, int level) {
    switch (coding) {
        case Coding::Gzip:
            return 300 * 1024;  // (262 KiB at every level)
        case Coding::Zstd:
            return 8 * kMiB;  // (2.6 MiB at level 3, 6.8 MiB at 18-19)
        case Coding::Brotli:
            if (level <= 6) return 8 * kMiB;   // (5.2 MiB at 6)
            if (level <= 9) return 48 * kMiB;  // (39 MiB at 9: a quality-sized hasher)
            return 32 * kMiB;                  // (22 MiB at 11)
    }
    return 0;
}

}  // namespace

TEST_CASE("64 MiB through one encoder: memory stops growing after the first 8 MiB and stays within budget") {
    // 1 MiB of text and 64 KiB of noise, fed in 16 KiB reads (a proxy's buffer) and rotated so that the stream
    // does not simply repeat.
    const std::string text = text_data(kMiB, 1);
    const std::string noise = noise_data(64 * 1024, 2);
    constexpr size_t kRead = 16 * 1024;
    constexpr size_t kTotal = 64 * kMiB;
    // Long enough to have seen both kinds of content: Brotli's scratch space per meta-block depends on it.
    constexpr size_t kWarmup = 8 * kMiB;
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        const int level = level_range(coding).default_level;
        CountingAllocator counter;
        Allocator allocator = counter.allocator();
        auto encoder = make_encoder(coding, level, &allocator);
        REQUIRE(encoder != nullptr);
        Decoder decoder(coding);
        Digest sent;
        Digest received;
        size_t received_size = 0;
        size_t peak_after_warmup = 0;
        size_t allocations_after_warmup = 0;
        std::string stream;
        std::string decoded;
        size_t offset = 0;
        for (size_t total = 0; total < kTotal; total += kRead) {
            std::string_view piece = std::string_view(text).substr(offset, kRead);
            if (total % (4 * kMiB) == 2 * kMiB) piece = std::string_view(noise).substr(0, kRead);
            offset = (offset + kRead + 4099) % (text.size() - kRead);
            sent.update(piece);
            stream.clear();
            drive(*encoder, piece, Flush::None, &stream, fixed_size(kRead));
            decoded.clear();
            REQUIRE(decoder.feed(stream, &decoded));
            received.update(decoded);
            received_size += decoded.size();
            if (total + kRead == kWarmup) {
                peak_after_warmup = counter.peak;
                allocations_after_warmup = counter.allocations;
            }
        }
        stream.clear();
        drive(*encoder, {}, Flush::Finish, &stream, fixed_size(kRead));
        decoded.clear();
        REQUIRE(decoder.feed(stream, &decoded));
        received.update(decoded);
        received_size += decoded.size();

        CHECK(decoder.finished());
        CHECK(received_size == kTotal);
        CHECK(received.value == sent.value);
        MESSAGE(name(coding), " level ", level, ": peak ", counter.peak, " bytes, ", counter.allocations,
                " allocations");
        CHECK(counter.peak <= budget(coding, level));
        CHECK(counter.peak <= 8 * kMiB);
        if (coding != Coding::Brotli) {
            // zlib allocates only in deflateInit2, zstd only on its first call: nothing after.
            CHECK(counter.allocations == allocations_after_warmup);
            CHECK(counter.peak == peak_after_warmup);
        } else {
            // Brotli allocates and frees scratch space per meta-block, sized by the meta-block's content (block
            // splits, histograms), so its high-water mark still moves by a few KiB with new content (measured:
            // +0.4% between 8 and 80 MiB of this input); what it never does is grow with the stream's length.
            CHECK(counter.peak <= peak_after_warmup + peak_after_warmup / 100);
        }
    }
}

TEST_CASE("every level stays within its memory budget") {
    const std::string input = text_data(kMiB, 3);
    for (Coding coding : kAllCodings) {
        const LevelRange range = level_range(coding);
        for (int level = range.min; level <= range.max; ++level) {
            CAPTURE(name(coding));
            CAPTURE(level);
            for (size_t read : {size_t{16 * 1024}, input.size()}) {  // Brotli sizes its hasher by the first read
                CAPTURE(read);
                if (read == input.size() && level >= 10) continue;  // slow, and not read-size dependent
                CountingAllocator counter;
                Allocator allocator = counter.allocator();
                {
                    auto encoder = make_encoder(coding, level, &allocator);
                    REQUIRE(encoder != nullptr);
                    encode_all(*encoder, input, fixed_size(read), fixed_size(16 * 1024));
                }
                CHECK(counter.peak <= budget(coding, level));
                CHECK(counter.live == 0);
            }
        }
    }
}
