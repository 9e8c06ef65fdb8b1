#include "test_support.h"

#include <brotli/decode.h>
#include <doctest/doctest.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace portico::compression::test {

std::string text_data(size_t size, uint32_t seed) {
    static const char* const kWords[] = {"the ",
                                         "proxy ",
                                         "forwards ",
                                         "each ",
                                         "request ",
                                         "to ",
                                         "a ",
                                         "backend ",
                                         "and ",
                                         "returns ",
                                         "response ",
                                         "<div class=\"item\">",
                                         "</div>\n",
                                         "{\"id\": ",
                                         ", \"name\": \"",
                                         "\"}, ",
                                         "gzip ",
                                         "brotli ",
                                         "zstd ",
                                         "Content-Encoding ",
                                         "window ",
                                         "stream ",
                                         "flush ",
                                         "header ",
                                         "value\n"};
    std::mt19937 rng(seed);
    std::string out;
    out.reserve(size + 32);
    while (out.size() < size) {
        out += kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
        if (rng() % 8 == 0) out += std::to_string(rng() % 100000);
    }
    out.resize(size);
    return out;
}

std::string noise_data(size_t size, uint32_t seed) {
    std::mt19937 rng(seed);
    std::string out(size, '\0');
    for (char& c : out) c = static_cast<char>(rng() & 0xff);
    return out;
}

SizeFn random_sizes(std::mt19937& rng, size_t max) {
    return [&rng, max] {
        const size_t bound = rng() % 2 == 0 ? std::min<size_t>(16, max) : max;
        return 1 + rng() % bound;
    };
}

SizeFn fixed_size(size_t size) {
    return [size] { return size; };
}

Result drive(Encoder& encoder, std::string_view input, Flush mode, std::string* out, const SizeFn& out_piece) {
    size_t pos = 0;
    std::vector<uint8_t> buffer;
    while (true) {
        buffer.resize(out_piece());
        size_t consumed = SIZE_MAX;
        size_t produced = SIZE_MAX;
        const auto* in = reinterpret_cast<const uint8_t*>(input.data()) + pos;
        const Result result =
            encoder.encode(in, input.size() - pos, &consumed, buffer.data(), buffer.size(), &produced, mode);
        REQUIRE(result != Result::Error);
        REQUIRE(consumed <= input.size() - pos);
        REQUIRE(produced <= buffer.size());
        out->append(reinterpret_cast<const char*>(buffer.data()), produced);
        pos += consumed;
        if (result == Result::NeedOutput) {
            REQUIRE(produced == buffer.size());
            continue;
        }
        REQUIRE(pos == input.size());
        REQUIRE(result == (mode == Flush::Finish ? Result::Done : Result::Ok));
        return result;
    }
}

std::string encode_all(Encoder& encoder, std::string_view input, const SizeFn& in_piece, const SizeFn& out_piece) {
    std::string out;
    size_t pos = 0;
    while (pos < input.size()) {
        const size_t n = std::min(in_piece(), input.size() - pos);
        drive(encoder, input.substr(pos, n), Flush::None, &out, out_piece);
        pos += n;
    }
    drive(encoder, {}, Flush::Finish, &out, out_piece);
    return out;
}

std::string encode_all(Coding coding, int level, std::string_view input) {
    std::unique_ptr<Encoder> encoder = make_encoder(coding, level);
    REQUIRE(encoder != nullptr);
    return encode_all(*encoder, input, fixed_size(input.size() + 1), fixed_size(16384));
}

Decoder::Decoder(Coding coding) : coding_(coding) {
    switch (coding) {
        case Coding::Gzip: {
            auto* stream = new z_stream{};
            REQUIRE(inflateInit2(stream, 15 + 16) == Z_OK);  // gzip wrapper only, any window
            state_ = stream;
            break;
        }
        case Coding::Brotli:
            state_ = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
            break;
        case Coding::Zstd:
            state_ = ZSTD_createDCtx();
            break;
    }
    REQUIRE(state_ != nullptr);
}

Decoder::~Decoder() {
    switch (coding_) {
        case Coding::Gzip:
            inflateEnd(static_cast<z_stream*>(state_));
            delete static_cast<z_stream*>(state_);
            break;
        case Coding::Brotli:
            BrotliDecoderDestroyInstance(static_cast<BrotliDecoderState*>(state_));
            break;
        case Coding::Zstd:
            ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(state_));
            break;
    }
}

bool Decoder::feed(std::string_view compressed, std::string* out) {
    uint8_t buffer[65536];
    const auto* next_in = reinterpret_cast<const uint8_t*>(compressed.data());
    size_t available_in = compressed.size();
    if (finished_) return available_in == 0;
    // Each library: loop until the input is used up and the last call left room in the output, so that
    // everything decodable from the bytes so far has come out.
    switch (coding_) {
        case Coding::Gzip: {
            auto* stream = static_cast<z_stream*>(state_);
            stream->next_in = const_cast<Bytef*>(next_in);
            stream->avail_in = static_cast<uInt>(available_in);
            while (true) {
                stream->next_out = buffer;
                stream->avail_out = sizeof(buffer);
                const int rc = inflate(stream, Z_NO_FLUSH);
                out->append(reinterpret_cast<char*>(buffer), sizeof(buffer) - stream->avail_out);
                if (rc == Z_STREAM_END) {
                    finished_ = true;
                    return stream->avail_in == 0;
                }
                if (rc == Z_BUF_ERROR && stream->avail_in == 0) return true;  // needs more input
                if (rc != Z_OK) return false;
                if (stream->avail_in == 0 && stream->avail_out != 0) return true;
            }
        }
        case Coding::Brotli: {
            auto* state = static_cast<BrotliDecoderState*>(state_);
            while (true) {
                uint8_t* next_out = buffer;
                size_t available_out = sizeof(buffer);
                const BrotliDecoderResult rc = BrotliDecoderDecompressStream(state, &available_in, &next_in,
                                                                             &available_out, &next_out, nullptr);
                out->append(reinterpret_cast<char*>(buffer), sizeof(buffer) - available_out);
                if (rc == BROTLI_DECODER_RESULT_SUCCESS) {
                    finished_ = true;
                    return available_in == 0;
                }
                // It may ask for input with its output buffer full and decoded bytes still held: drain those.
                if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT && !BrotliDecoderHasMoreOutput(state)) return true;
                if (rc == BROTLI_DECODER_RESULT_ERROR) return false;
            }
        }
        case Coding::Zstd: {
            auto* context = static_cast<ZSTD_DCtx*>(state_);
            ZSTD_inBuffer input{next_in, available_in, 0};
            while (true) {
                ZSTD_outBuffer output{buffer, sizeof(buffer), 0};
                const size_t rc = ZSTD_decompressStream(context, &output, &input);
                if (ZSTD_isError(rc)) return false;
                out->append(reinterpret_cast<char*>(buffer), output.pos);
                if (rc == 0) {  // the frame is complete
                    finished_ = true;
                    return input.pos == input.size;
                }
                if (input.pos == input.size && output.pos < output.size) return true;
            }
        }
    }
    return false;
}

bool decode(Coding coding, std::string_view compressed, std::string* out) {
    Decoder decoder(coding);
    return decoder.feed(compressed, out) && decoder.finished();
}

// A header before each block records its size; 16 bytes keep the block aligned like malloc's.
void* CountingAllocator::alloc(void* opaque, size_t size) {
    auto* self = static_cast<CountingAllocator*>(opaque);
    if (self->allocations >= self->fail_from) return nullptr;
    auto* block = static_cast<uint8_t*>(std::malloc(size + 16));
    if (block == nullptr) return nullptr;
    *reinterpret_cast<size_t*>(block) = size;
    ++self->allocations;
    self->live += size;
    self->peak = std::max(self->peak, self->live);
    return block + 16;
}

void CountingAllocator::free(void* opaque, void* ptr) {
    if (ptr == nullptr) return;
    auto* self = static_cast<CountingAllocator*>(opaque);
    uint8_t* block = static_cast<uint8_t*>(ptr) - 16;
    self->live -= *reinterpret_cast<size_t*>(block);
    std::free(block);
}

}  // namespace portico::compression::test
