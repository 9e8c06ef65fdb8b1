// zstd content coding (RFC 9110 8.4.1, RFC 8878 3.1) with ZSTD_compressStream2.
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_createCCtx_advanced, ZSTD_getCParams: exported by libzstd.so
#include <zstd.h>

#include <algorithm>
#include <new>

#include "encoder_factories.h"

namespace portico::compression {

namespace {

// Window: RFC 9659 caps the window of the "zstd" content coding at 8 MiB so that decoders can bound their
// memory; for a stream of unknown size the levels ask for 2 MiB (from level 3) up to 8 MiB (from 17). 1 MiB
// (windowLog 20) keeps the encoder's buffers (window plus one 128 KiB block in, one block out) near 1.3 MiB and
// loses little ratio on web responses, most of which are smaller than that.
constexpr unsigned kWindowLogMax = 20;
// Match-finder tables: levels from 7 up size them for 8 MiB windows (level 19: hashLog 22, chainLog 24, 16 + 64
// MiB). Capped at 2^19 entries each they cost at most 2 MiB apiece: measured, a level-19 encoder then peaks at
// 6.8 MiB instead of 86 MiB, for about 2% more output; levels 1-6 are unaffected (2.6 MiB at level 3).
constexpr unsigned kHashLogMax = 19;
constexpr unsigned kChainLogMax = 19;

class ZstdEncoder final : public Encoder {
public:
    explicit ZstdEncoder(ZSTD_CCtx* context) : context_(context) {}
    ~ZstdEncoder() override { ZSTD_freeCCtx(context_); }

private:
    Result step(const uint8_t* in, size_t in_len, size_t* consumed, uint8_t* out, size_t out_cap, size_t* produced,
                Flush mode) noexcept override {
        const ZSTD_EndDirective directive = mode == Flush::None    ? ZSTD_e_continue
                                            : mode == Flush::Flush ? ZSTD_e_flush
                                                                   : ZSTD_e_end;
        ZSTD_inBuffer input{in, in_len, 0};
        ZSTD_outBuffer output{out, out_cap, 0};
        // ZSTD_compressStream2 reports "nothing left to flush" only when asked to flush, so ask at least once.
        bool asked = mode == Flush::None;
        size_t remaining = 0;  // what zstd still holds for the flush or end asked for
        while (true) {
            *consumed = input.pos;
            *produced = output.pos;
            if (asked && input.pos == input.size && remaining == 0) {
                return mode == Flush::Finish ? Result::Done : Result::Ok;
            }
            if (output.pos == output.size) return Result::NeedOutput;

            const size_t in_before = input.pos;
            const size_t out_before = output.pos;
            remaining = ZSTD_compressStream2(context_, &output, &input, directive);
            if (ZSTD_isError(remaining)) return Result::Error;
            if (directive == ZSTD_e_continue) remaining = 0;  // there it is only a block-size hint
            asked = true;
            const bool progressed = input.pos != in_before || output.pos != out_before;
            if (!progressed && output.pos != output.size && !(input.pos == input.size && remaining == 0)) {
                return Result::Error;  // never spin
            }
        }
    }

    ZSTD_CCtx* context_;
};

bool configure(ZSTD_CCtx* context, int level) {
    // The level's own parameters for an unknown content size, each capped; none is raised above the level's.
    const ZSTD_compressionParameters params = ZSTD_getCParams(level, ZSTD_CONTENTSIZE_UNKNOWN, 0);
    const int window_log = static_cast<int>(std::min(params.windowLog, kWindowLogMax));
    const int hash_log = static_cast<int>(std::min(params.hashLog, kHashLogMax));
    const int chain_log = static_cast<int>(std::min(params.chainLog, kChainLogMax));
    auto set = [context](ZSTD_cParameter parameter, int value) {
        return !ZSTD_isError(ZSTD_CCtx_setParameter(context, parameter, value));
    };
    // One thread per encoder (nbWorkers 0, the default): the proxy's workers are the parallelism. The checksum
    // (4 bytes a response, XXH64 at memory speed) lets clients detect a corrupt stream as gzip's CRC-32 does.
    return set(ZSTD_c_compressionLevel, level) && set(ZSTD_c_windowLog, window_log) &&
           set(ZSTD_c_hashLog, hash_log) && set(ZSTD_c_chainLog, chain_log) && set(ZSTD_c_checksumFlag, 1) &&
           set(ZSTD_c_nbWorkers, 0);
}

}  // namespace

std::unique_ptr<Encoder> make_zstd_encoder(int level, const Allocator* allocator) noexcept {
    ZSTD_CCtx* context = nullptr;
    if (allocator != nullptr) {
        context = ZSTD_createCCtx_advanced(ZSTD_customMem{allocator->alloc, allocator->free, allocator->opaque});
    } else {
        context = ZSTD_createCCtx();
    }
    if (context == nullptr) return nullptr;
    if (!configure(context, level)) {
        ZSTD_freeCCtx(context);
        return nullptr;
    }
    auto* encoder = new (std::nothrow) ZstdEncoder(context);
    if (encoder == nullptr) ZSTD_freeCCtx(context);
    return std::unique_ptr<Encoder>(encoder);
}

}  // namespace portico::compression
