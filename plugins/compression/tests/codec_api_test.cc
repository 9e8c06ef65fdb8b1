// The codec layer's API: coding names and tokens, level ranges, the factory's refusals, and how encode() treats
// misuse and allocation failure (an error, never a crash or an exception).
#include <doctest/doctest.h>

#include <string>

#include "codec.h"
#include "test_support.h"

using namespace portico::compression;
using namespace portico::compression::test;

TEST_CASE("coding names are the Content-Encoding tokens") {
    CHECK(name(Coding::Gzip) == "gzip");
    CHECK(name(Coding::Brotli) == "br");
    CHECK(name(Coding::Zstd) == "zstd");
}

TEST_CASE("coding tokens parse case-insensitively, x-gzip as gzip") {
    CHECK(coding_from_token("gzip") == Coding::Gzip);
    CHECK(coding_from_token("GZip") == Coding::Gzip);
    CHECK(coding_from_token("x-gzip") == Coding::Gzip);
    CHECK(coding_from_token("X-GZIP") == Coding::Gzip);
    CHECK(coding_from_token("br") == Coding::Brotli);
    CHECK(coding_from_token("BR") == Coding::Brotli);
    CHECK(coding_from_token("zstd") == Coding::Zstd);
    CHECK(coding_from_token("ZStd") == Coding::Zstd);
    for (const char* other :
         {"", "deflate", "compress", "identity", "*", "brotli", "gzip ", " gzip", "x-br", "gz"}) {
        CAPTURE(other);
        CHECK_FALSE(coding_from_token(other).has_value());
    }
}

TEST_CASE("level ranges, and the factory refuses levels outside them") {
    CHECK(level_range(Coding::Gzip).min == 1);
    CHECK(level_range(Coding::Gzip).max == 9);
    CHECK(level_range(Coding::Brotli).min == 0);
    CHECK(level_range(Coding::Brotli).max == 11);
    CHECK(level_range(Coding::Zstd).min == 1);
    CHECK(level_range(Coding::Zstd).max == 19);
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        const LevelRange range = level_range(coding);
        CHECK(range.default_level >= range.min);
        CHECK(range.default_level <= range.max);
        CHECK(make_encoder(coding, range.min - 1) == nullptr);
        CHECK(make_encoder(coding, range.max + 1) == nullptr);
        CHECK(make_encoder(coding, range.min) != nullptr);
        CHECK(make_encoder(coding, range.max) != nullptr);
    }
}

TEST_CASE("an allocator without both functions is refused") {
    const Allocator half{nullptr, nullptr, nullptr};
    for (Coding coding : kAllCodings)
        CHECK(make_encoder(coding, level_range(coding).default_level, &half) == nullptr);
}

TEST_CASE("encode() answers misuse with Error, and the error sticks") {
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        const int level = level_range(coding).default_level;
        uint8_t out[64];
        size_t consumed = 0;
        size_t produced = 0;

        SUBCASE("no place for the counts") {
            auto encoder = make_encoder(coding, level);
            CHECK(encoder->encode(nullptr, 0, nullptr, out, sizeof(out), &produced, Flush::None) == Result::Error);
            CHECK(encoder->encode(nullptr, 0, &consumed, out, sizeof(out), &produced, Flush::None) ==
                  Result::Error);
        }
        SUBCASE("a null buffer with a length") {
            auto encoder = make_encoder(coding, level);
            CHECK(encoder->encode(nullptr, 5, &consumed, out, sizeof(out), &produced, Flush::None) ==
                  Result::Error);
            CHECK(encoder->encode(out, 0, &consumed, nullptr, 5, &produced, Flush::None) == Result::Error);
        }
        SUBCASE("input after the end") {
            auto encoder = make_encoder(coding, level);
            std::string stream;
            drive(*encoder, "abc", Flush::Finish, &stream, fixed_size(64));
            // Finishing again with nothing is harmless...
            CHECK(encoder->encode(nullptr, 0, &consumed, out, sizeof(out), &produced, Flush::Finish) ==
                  Result::Done);
            CHECK(produced == 0);
            // ...more data is not.
            const uint8_t more[] = {'d'};
            CHECK(encoder->encode(more, 1, &consumed, out, sizeof(out), &produced, Flush::None) == Result::Error);
            CHECK(consumed == 0);
            CHECK(encoder->encode(nullptr, 0, &consumed, out, sizeof(out), &produced, Flush::Finish) ==
                  Result::Error);
            std::string decoded;
            CHECK(decode(coding, stream, &decoded));
            CHECK(decoded == "abc");
        }
        SUBCASE("changing the mode while a flush is in progress") {
            auto encoder = make_encoder(coding, level);
            const std::string input = noise_data(4096, 1);
            const auto* in = reinterpret_cast<const uint8_t*>(input.data());
            REQUIRE(encoder->encode(in, input.size(), &consumed, out, 1, &produced, Flush::Flush) ==
                    Result::NeedOutput);
            CHECK(encoder->encode(in + consumed, input.size() - consumed, &consumed, out, sizeof(out), &produced,
                                  Flush::None) == Result::Error);
        }
        SUBCASE("changing the mode while a finish is in progress") {
            auto encoder = make_encoder(coding, level);
            const std::string input = noise_data(4096, 1);
            const auto* in = reinterpret_cast<const uint8_t*>(input.data());
            REQUIRE(encoder->encode(in, input.size(), &consumed, out, 1, &produced, Flush::Finish) ==
                    Result::NeedOutput);
            CHECK(encoder->encode(in + consumed, input.size() - consumed, &consumed, out, sizeof(out), &produced,
                                  Flush::None) == Result::Error);
        }
    }
}

TEST_CASE("an empty output buffer asks for room, or is fine when there is nothing to do") {
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        auto encoder = make_encoder(coding, level_range(coding).default_level);
        const uint8_t in[] = {'x'};
        size_t consumed = 1;
        size_t produced = 1;
        CHECK(encoder->encode(nullptr, 0, &consumed, nullptr, 0, &produced, Flush::None) == Result::Ok);
        CHECK(encoder->encode(in, 1, &consumed, nullptr, 0, &produced, Flush::None) == Result::NeedOutput);
        CHECK(consumed == 0);
        CHECK(produced == 0);
        CHECK(encoder->encode(nullptr, 0, &consumed, nullptr, 0, &produced, Flush::Finish) == Result::NeedOutput);
        std::string stream;
        drive(*encoder, "x", Flush::Finish, &stream, fixed_size(1));
        std::string decoded;
        CHECK(decode(coding, stream, &decoded));
        CHECK(decoded == "x");
    }
}

// Allocation failure at any point gives nullptr from make_encoder or Error from encode(), and no leak (ASan).
// Not Brotli: its encoder calls exit() when an allocation fails after the instance exists (enc/memory.c, unless
// built with BROTLI_ENCODER_CLEANUP_ON_OOM); only the instance's own allocation failing is survivable.
TEST_CASE("allocation failure is an error, not a crash") {
    const std::string input = text_data(256 * 1024, 7);
    for (Coding coding : {Coding::Gzip, Coding::Zstd}) {
        CAPTURE(name(coding));
        CountingAllocator probe;
        {
            Allocator allocator = probe.allocator();
            auto encoder = make_encoder(coding, level_range(coding).max, &allocator);
            REQUIRE(encoder != nullptr);
            encode_all(*encoder, input, fixed_size(input.size()), fixed_size(65536));
        }
        REQUIRE(probe.allocations > 0);
        for (size_t fail_from = 0; fail_from < probe.allocations; ++fail_from) {
            CAPTURE(fail_from);
            CountingAllocator failing;
            failing.fail_from = fail_from;
            Allocator allocator = failing.allocator();
            {
                auto encoder = make_encoder(coding, level_range(coding).max, &allocator);
                if (encoder != nullptr) {
                    std::vector<uint8_t> out(65536);
                    size_t consumed = 0;
                    size_t produced = 0;
                    const Result result =
                        encoder->encode(reinterpret_cast<const uint8_t*>(input.data()), input.size(), &consumed,
                                        out.data(), out.size(), &produced, Flush::Finish);
                    CHECK(result == Result::Error);
                }
            }
            CHECK(failing.live == 0);
        }
    }
    CountingAllocator failing;
    failing.fail_from = 0;
    Allocator allocator = failing.allocator();
    CHECK(make_encoder(Coding::Brotli, 5, &allocator) == nullptr);
}

TEST_CASE("with an allocator, all the library's memory goes through it and comes back") {
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        CountingAllocator counter;
        Allocator allocator = counter.allocator();
        {
            auto encoder = make_encoder(coding, level_range(coding).default_level, &allocator);
            const std::string input = text_data(100000, 3);
            const std::string stream = encode_all(*encoder, input, fixed_size(input.size()), fixed_size(16384));
            std::string decoded;
            CHECK(decode(coding, stream, &decoded));
            CHECK(decoded == input);
            CHECK(counter.live > 0);
        }
        CHECK(counter.live == 0);
    }
}
