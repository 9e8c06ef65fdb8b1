// br content coding (RFC 9110 8.4.1, RFC 7932) with the Brotli encoder's streaming API.
#include <brotli/encode.h>

#include <new>

#include "encoder_factories.h"

namespace portico::compression {

namespace {

// Brotli's default window is 4 MiB (lgwin 22). 256 KiB (lgwin 18) keeps most of the ratio on web responses
// while bounding the ring buffer and the window-sized hashers. Measured on 4 MiB of HTML at the default quality 5,
// fed 16 KiB at a time: lgwin 16 peaks at 1.9 MiB for 14.4% output, 18 at 4.1 MiB for 12.6%, 20 at 10 MiB for
// 12.4%. Qualities 7-9 size their hasher by quality, not window (up to 39 MiB at 9), and 10-11 need up to 22 MiB:
// both are for static files rather than on-the-fly compression (README.md). The encoder's memory is fixed on its
// first encode() call: Brotli picks its hasher from the parameters and the size of the first input.
// Decoders need no more than the window the stream declares (RFC 7932 9.1).
constexpr int kLgWin = 18;

class BrotliEncoder final : public Encoder {
public:
    explicit BrotliEncoder(BrotliEncoderState* state) : state_(state) {}
    ~BrotliEncoder() override { BrotliEncoderDestroyInstance(state_); }

private:
    Result step(const uint8_t* in, size_t in_len, size_t* consumed, uint8_t* out, size_t out_cap, size_t* produced,
                Flush mode) noexcept override {
        const BrotliEncoderOperation op = mode == Flush::None    ? BROTLI_OPERATION_PROCESS
                                          : mode == Flush::Flush ? BROTLI_OPERATION_FLUSH
                                                                 : BROTLI_OPERATION_FINISH;
        // A flush or finish is only known complete after Brotli has been asked for it at least once.
        bool asked = mode == Flush::None;
        while (true) {
            if (asked && done(in_len, *consumed, mode)) return mode == Flush::Finish ? Result::Done : Result::Ok;
            if (*produced == out_cap) return Result::NeedOutput;

            size_t available_in = in_len - *consumed;
            const uint8_t* next_in = in + *consumed;
            size_t available_out = out_cap - *produced;
            uint8_t* next_out = out + *produced;
            const size_t offered_in = available_in;
            const size_t offered_out = available_out;
            if (!BrotliEncoderCompressStream(state_, op, &available_in, &next_in, &available_out, &next_out,
                                             nullptr)) {
                return Result::Error;
            }
            asked = true;
            *consumed += offered_in - available_in;
            *produced += offered_out - available_out;
            const bool progressed = available_in != offered_in || available_out != offered_out;
            if (!progressed && *produced != out_cap && !done(in_len, *consumed, mode)) return Result::Error;
        }
    }

    bool done(size_t in_len, size_t consumed, Flush mode) const {
        if (mode == Flush::Finish) return BrotliEncoderIsFinished(state_);
        if (consumed != in_len) return false;
        // Brotli's own rule for a finished flush: input used up and nothing left in its output buffer.
        return mode == Flush::None || !BrotliEncoderHasMoreOutput(state_);
    }

    BrotliEncoderState* state_;
};

}  // namespace

std::unique_ptr<Encoder> make_brotli_encoder(int quality, const Allocator* allocator) noexcept {
    BrotliEncoderState* state =
        allocator != nullptr ? BrotliEncoderCreateInstance(allocator->alloc, allocator->free, allocator->opaque)
                             : BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    if (state == nullptr) return nullptr;
    if (!BrotliEncoderSetParameter(state, BROTLI_PARAM_QUALITY, static_cast<uint32_t>(quality)) ||
        !BrotliEncoderSetParameter(state, BROTLI_PARAM_LGWIN, kLgWin)) {
        BrotliEncoderDestroyInstance(state);
        return nullptr;
    }
    auto* encoder = new (std::nothrow) BrotliEncoder(state);
    if (encoder == nullptr) BrotliEncoderDestroyInstance(state);
    return std::unique_ptr<Encoder>(encoder);
}

}  // namespace portico::compression
