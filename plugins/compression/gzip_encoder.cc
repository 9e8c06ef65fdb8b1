// gzip content coding (RFC 9110 8.4.1.3, RFC 1952) with zlib's deflate.
#include <zlib.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

#include "encoder_factories.h"

namespace portico::compression {

namespace {

// windowBits 15 is deflate's largest window (32 KiB); +16 asks zlib for the gzip wrapper (header, CRC-32, size)
// instead of the zlib one. memLevel 8 is zlib's default. Together: about 256 KiB per encoder, allocated by
// deflateInit2 and never again (zlib's "deflate memory usage" formula in zconf.h).
constexpr int kWindowBits = 15 + 16;
constexpr int kMemLevel = 8;

// zlib may emit a sync flush marker again each time deflate() returns with avail_out == 0, so with tiny output
// buffers a flush would never complete (zlib manual, deflate: "make sure that avail_out is greater than six").
// Below this much room, deflate writes into `stage_` and encode() copies from there.
constexpr size_t kStageSize = 64;

void* zlib_alloc(void* opaque, unsigned items, unsigned size) {
    const Allocator* allocator = static_cast<const Allocator*>(opaque);
    if (size != 0 && items > SIZE_MAX / size) return Z_NULL;
    return allocator->alloc(allocator->opaque, static_cast<size_t>(items) * size);
}

void zlib_free(void* opaque, void* ptr) {
    const Allocator* allocator = static_cast<const Allocator*>(opaque);
    allocator->free(allocator->opaque, ptr);
}

class GzipEncoder final : public Encoder {
public:
    explicit GzipEncoder(const Allocator* allocator) {
        if (allocator != nullptr) {
            allocator_ = *allocator;
            stream_.zalloc = zlib_alloc;
            stream_.zfree = zlib_free;
            stream_.opaque = &allocator_;
        }
    }
    ~GzipEncoder() override {
        if (initialized_) deflateEnd(&stream_);
    }

    bool init(int level) {
        initialized_ =
            deflateInit2(&stream_, level, Z_DEFLATED, kWindowBits, kMemLevel, Z_DEFAULT_STRATEGY) == Z_OK;
        return initialized_;
    }

private:
    Result step(const uint8_t* in, size_t in_len, size_t* consumed, uint8_t* out, size_t out_cap, size_t* produced,
                Flush mode) noexcept override {
        const int flush = mode == Flush::None ? Z_NO_FLUSH : mode == Flush::Flush ? Z_SYNC_FLUSH : Z_FINISH;
        // Whether what `mode` asks for is done inside zlib. Without input and without a flush there is nothing to
        // do; a flush or finish needs at least one deflate() call.
        bool complete = mode == Flush::None && in_len == 0;
        while (true) {
            drain_stage(out, out_cap, produced);
            if (stage_begin_ != stage_end_) return Result::NeedOutput;  // the output is full
            if (complete) return mode == Flush::Finish ? Result::Done : Result::Ok;
            if (*produced == out_cap) return Result::NeedOutput;

            const bool staged = out_cap - *produced < kStageSize;
            uint8_t* target = staged ? stage_ : out + *produced;
            const size_t room = staged ? kStageSize : std::min<size_t>(out_cap - *produced, UINT_MAX);
            const size_t offered = std::min<size_t>(in_len - *consumed, UINT_MAX);
            stream_.next_in = const_cast<Bytef*>(in + *consumed);  // zlib < 1.2.9 lacks a const next_in
            stream_.avail_in = static_cast<uInt>(offered);
            stream_.next_out = target;
            stream_.avail_out = static_cast<uInt>(room);
            const int rc = deflate(&stream_, flush);
            const size_t read = offered - stream_.avail_in;
            const size_t written = room - stream_.avail_out;
            *consumed += read;
            if (staged) {
                stage_begin_ = 0;
                stage_end_ = written;
            } else {
                *produced += written;
            }

            const bool all_read = *consumed == in_len;
            if (rc == Z_STREAM_END) {
                complete = true;
            } else if (rc == Z_BUF_ERROR) {
                // No progress possible: nothing to read and nothing pending, so a flush asked again is already
                // done.
                if (mode == Flush::Finish || !all_read) return Result::Error;
                complete = true;
            } else if (rc != Z_OK) {
                return Result::Error;
            } else if (mode == Flush::None) {
                complete = all_read;
            } else if (mode == Flush::Flush) {
                complete = all_read && stream_.avail_out != 0;  // zlib: a flush is complete when room is left
            } else if (read == 0 && written == 0) {
                return Result::Error;  // Z_FINISH always progresses until Z_STREAM_END; never spin
            }
        }
    }

    void drain_stage(uint8_t* out, size_t out_cap, size_t* produced) {
        const size_t n = std::min(stage_end_ - stage_begin_, out_cap - *produced);
        if (n == 0) return;
        std::memcpy(out + *produced, stage_ + stage_begin_, n);
        stage_begin_ += n;
        *produced += n;
    }

    z_stream stream_{};
    Allocator allocator_{};
    bool initialized_ = false;
    uint8_t stage_[kStageSize];
    size_t stage_begin_ = 0;
    size_t stage_end_ = 0;
};

}  // namespace

std::unique_ptr<Encoder> make_gzip_encoder(int level, const Allocator* allocator) noexcept {
    std::unique_ptr<GzipEncoder> encoder(new (std::nothrow) GzipEncoder(allocator));
    if (encoder == nullptr || !encoder->init(level)) return nullptr;
    return encoder;
}

}  // namespace portico::compression
