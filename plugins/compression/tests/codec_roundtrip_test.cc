// Every coding, decoded by the real decoder, gives back the input byte for byte: sizes from empty to 1 MiB, text
// and incompressible bytes, input and output cut into random pieces down to 1 byte, and every level.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "codec.h"
#include "test_support.h"

using namespace portico::compression;
using namespace portico::compression::test;

namespace {

void check_roundtrip(Coding coding, std::string_view input, std::string_view stream) {
    std::string decoded;
    CHECK(decode(coding, stream, &decoded));
    CHECK(decoded.size() == input.size());
    CHECK(decoded == input);
}

}  // namespace

TEST_CASE("round trip: empty, one byte, 1 MiB of text, 1 MiB of random bytes") {
    const std::string text = text_data(1 << 20, 1);
    const std::string noise = noise_data(1 << 20, 2);
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        const int level = level_range(coding).default_level;
        for (std::string_view input :
             {std::string_view(), std::string_view("A"), std::string_view(text), std::string_view(noise)}) {
            CAPTURE(input.size());
            const std::string stream = encode_all(coding, level, input);
            check_roundtrip(coding, input, stream);
            if (input.size() == text.size() && input == text) CHECK(stream.size() < text.size() / 3);
            // Incompressible input costs a bounded overhead (stored blocks), not a blow-up.
            if (input.size() == noise.size()) CHECK(stream.size() < noise.size() + noise.size() / 100);
        }
    }
}

TEST_CASE("round trip: random input pieces and random output buffers down to 1 byte") {
    std::string input = text_data(192 * 1024, 3);
    input += noise_data(32 * 1024, 4);
    input += text_data(32 * 1024, 5);
    for (Coding coding : kAllCodings) {
        for (uint32_t seed = 1; seed <= 4; ++seed) {
            CAPTURE(name(coding));
            CAPTURE(seed);
            std::mt19937 rng(seed);
            auto encoder = make_encoder(coding, level_range(coding).default_level);
            const SizeFn in_piece = random_sizes(rng, 70000);
            const SizeFn out_piece = random_sizes(rng, seed % 2 == 0 ? 4096 : 70000);
            check_roundtrip(coding, input, encode_all(*encoder, input, in_piece, out_piece));
        }
    }
}

TEST_CASE("round trip: one-byte output buffers throughout") {
    const std::string input = text_data(20000, 6) + noise_data(3000, 7);
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        std::mt19937 rng(11);
        auto encoder = make_encoder(coding, level_range(coding).default_level);
        check_roundtrip(coding, input, encode_all(*encoder, input, random_sizes(rng, 5000), fixed_size(1)));
    }
}

TEST_CASE("round trip: every level") {
    const std::string input = text_data(48 * 1024, 8) + noise_data(8 * 1024, 9) + text_data(8 * 1024, 10);
    for (Coding coding : kAllCodings) {
        const LevelRange range = level_range(coding);
        for (int level = range.min; level <= range.max; ++level) {
            CAPTURE(name(coding));
            CAPTURE(level);
            std::mt19937 rng(static_cast<uint32_t>(level));
            auto encoder = make_encoder(coding, level);
            REQUIRE(encoder != nullptr);
            check_roundtrip(coding, input,
                            encode_all(*encoder, input, random_sizes(rng, 20000), random_sizes(rng, 20000)));
        }
    }
}

TEST_CASE("higher levels compress text at least as well as the lowest") {
    const std::string input = text_data(256 * 1024, 12);
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        const LevelRange range = level_range(coding);
        const size_t lowest = encode_all(coding, range.min, input).size();
        CHECK(encode_all(coding, range.default_level, input).size() <= lowest);
        CHECK(encode_all(coding, range.max, input).size() <= lowest);
    }
}
