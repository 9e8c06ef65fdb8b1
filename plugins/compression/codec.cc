// Coding names, level ranges, the factory, and the argument and state checks shared by every encoder.
#include "codec.h"

#include "encoder_factories.h"
#include "field_text.h"

namespace portico::compression {

std::string_view name(Coding coding) noexcept {
    switch (coding) {
        case Coding::Gzip:
            return "gzip";
        case Coding::Brotli:
            return "br";
        case Coding::Zstd:
            return "zstd";
    }
    return "";
}

std::optional<Coding> coding_from_token(std::string_view token) noexcept {
    if (text::equals_ignore_case(token, "gzip") || text::equals_ignore_case(token, "x-gzip")) return Coding::Gzip;
    if (text::equals_ignore_case(token, "br")) return Coding::Brotli;
    if (text::equals_ignore_case(token, "zstd")) return Coding::Zstd;
    return std::nullopt;
}

LevelRange level_range(Coding coding) noexcept {
    switch (coding) {
        case Coding::Gzip:
            return {1, 9, 6};  // zlib's own default, 6
        case Coding::Brotli:
            return {0, 11, 5};  // ~gzip -9 ratio at ~gzip -6 speed; 10-11 are for static files
        case Coding::Zstd:
            return {1, 19, 3};  // zstd's own default, 3
    }
    return {0, 0, 0};
}

std::unique_ptr<Encoder> make_encoder(Coding coding, int level, const Allocator* allocator) noexcept {
    LevelRange range = level_range(coding);
    if (level < range.min || level > range.max) return nullptr;
    if (allocator != nullptr && (allocator->alloc == nullptr || allocator->free == nullptr)) return nullptr;
    switch (coding) {
        case Coding::Gzip:
            return make_gzip_encoder(level, allocator);
        case Coding::Brotli:
            return make_brotli_encoder(level, allocator);
        case Coding::Zstd:
            return make_zstd_encoder(level, allocator);
    }
    return nullptr;
}

Result Encoder::encode(const uint8_t* in, size_t in_len, size_t* consumed, uint8_t* out, size_t out_cap,
                       size_t* produced, Flush mode) noexcept {
    if (consumed == nullptr || produced == nullptr) {
        state_ = State::Failed;
        return Result::Error;
    }
    *consumed = 0;
    *produced = 0;
    if ((in == nullptr && in_len != 0) || (out == nullptr && out_cap != 0)) state_ = State::Failed;
    // Brotli refuses a change of operation while a flush or finish is being drained, and zlib a change away from
    // Z_FINISH; refusing it here makes the three encoders behave alike.
    if (state_ == State::Draining && mode != draining_) state_ = State::Failed;
    if (state_ == State::Finished) {
        if (in_len == 0 && mode == Flush::Finish) return Result::Done;
        state_ = State::Failed;
    }
    if (state_ == State::Failed) return Result::Error;

    const Result result = step(in, in_len, consumed, out, out_cap, produced, mode);
    switch (result) {
        case Result::Ok:
            state_ = State::Open;
            break;
        case Result::NeedOutput:
            if (mode != Flush::None) {
                state_ = State::Draining;
                draining_ = mode;
            }
            break;
        case Result::Done:
            state_ = State::Finished;
            break;
        case Result::Error:
            state_ = State::Failed;
            break;
    }
    return result;
}

}  // namespace portico::compression
