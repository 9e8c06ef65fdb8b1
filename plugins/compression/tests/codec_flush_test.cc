// Flush::Flush is a sync flush: the bytes produced so far decode, with a streaming decoder and before Finish, to
// everything passed so far. That is what lets a streamed response (server-sent events, long polling) reach the
// client while compressed.
#include <doctest/doctest.h>

#include <random>
#include <string>

#include "codec.h"
#include "test_support.h"

using namespace portico::compression;
using namespace portico::compression::test;

namespace {

// Sends `pieces` one by one, each followed by a flush, and checks after each that the decoder has caught up.
void check_flushes(Coding coding, int level, const std::vector<std::string>& pieces, const SizeFn& out_piece) {
    auto encoder = make_encoder(coding, level);
    REQUIRE(encoder != nullptr);
    Decoder decoder(coding);
    std::string sent;
    std::string decoded;
    for (const std::string& piece : pieces) {
        std::string stream;
        drive(*encoder, piece, Flush::Flush, &stream, out_piece);
        sent += piece;
        REQUIRE(decoder.feed(stream, &decoded));
        CHECK_FALSE(decoder.finished());
        REQUIRE(decoded.size() == sent.size());
        CHECK(decoded == sent);
    }
    std::string stream;
    drive(*encoder, {}, Flush::Finish, &stream, out_piece);
    REQUIRE(decoder.feed(stream, &decoded));
    CHECK(decoder.finished());
    CHECK(decoded == sent);
}

}  // namespace

TEST_CASE("sync flush: everything so far decodes before the end") {
    const std::vector<std::string> pieces = {
        "data: hello\n\n", "data: world\n\n", text_data(100000, 1), noise_data(5000, 2), "x", text_data(3000, 3)};
    for (Coding coding : kAllCodings) {
        const LevelRange range = level_range(coding);
        for (int level : {range.min, range.default_level, range.max}) {
            CAPTURE(name(coding));
            CAPTURE(level);
            check_flushes(coding, level, pieces, fixed_size(16384));
        }
    }
}

// zlib re-emits its flush marker whenever deflate() returns with a full buffer; with 1-byte buffers a naive loop
// never finishes a flush. The gzip encoder stages small outputs to avoid that.
TEST_CASE("sync flush: through output buffers of 1 byte and of random small sizes") {
    std::vector<std::string> pieces;
    for (int i = 0; i < 20; ++i) pieces.push_back("event " + std::to_string(i) + "\n" + text_data(i * 50, i));
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        const int level = level_range(coding).default_level;
        check_flushes(coding, level, pieces, fixed_size(1));
        std::mt19937 rng(5);
        check_flushes(coding, level, pieces, random_sizes(rng, 64));
    }
}

TEST_CASE("sync flush: on an empty stream, twice in a row, and of an empty piece") {
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        check_flushes(coding, level_range(coding).default_level, {"", "", "abc", "", "", "def"}, fixed_size(7));
    }
}

TEST_CASE("sync flush after data written without flushing") {
    for (Coding coding : kAllCodings) {
        CAPTURE(name(coding));
        auto encoder = make_encoder(coding, level_range(coding).default_level);
        Decoder decoder(coding);
        const std::string first = text_data(50000, 4);
        std::string stream;
        drive(*encoder, first, Flush::None, &stream, fixed_size(4096));
        drive(*encoder, {}, Flush::Flush, &stream, fixed_size(4096));  // a flush with no new input
        std::string decoded;
        REQUIRE(decoder.feed(stream, &decoded));
        CHECK(decoded == first);
    }
}
