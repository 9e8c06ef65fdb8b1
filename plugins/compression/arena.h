// One block for an encoder's whole state, handed out by bumping a pointer. zlib asks for its ~256 KiB of deflate
// state as four ~64 KiB pieces; freed at the end of every response, pieces at the top of a worker's heap make
// glibc give the memory back to the kernel and fault it in again for the next response (measured: 36 page faults
// and 3 madvise calls per response, +58% CPU per request). nginx allocates the same state as one block, which
// glibc keeps; so do we. For encoders that allocate once (gzip), not for those that allocate per block (brotli).
#pragma once

#include <cstddef>
#include <cstdlib>
#include <memory>

#include "codec.h"

namespace portico::compression {

class Arena {
public:
    explicit Arena(size_t capacity) : block_(static_cast<char*>(std::malloc(capacity))), capacity_(capacity) {}
    ~Arena() { std::free(block_); }
    Arena(const Arena&) = delete;
    Arena& operator=(const Arena&) = delete;

    // An Allocator over this arena; requests that do not fit fall back to malloc.
    Allocator allocator() { return Allocator{&Arena::alloc, &Arena::release, this}; }

private:
    static void* alloc(void* opaque, size_t size) {
        auto* arena = static_cast<Arena*>(opaque);
        size_t aligned = (size + 15) & ~size_t{15};
        if (arena->block_ && arena->used_ + aligned <= arena->capacity_) {
            void* p = arena->block_ + arena->used_;
            arena->used_ += aligned;
            return p;
        }
        return std::malloc(size);
    }
    static void release(void* opaque, void* p) {
        auto* arena = static_cast<Arena*>(opaque);
        char* c = static_cast<char*>(p);
        if (c >= arena->block_ && c < arena->block_ + arena->capacity_) return;  // freed with the arena
        std::free(p);
    }

    char* block_;
    size_t capacity_;
    size_t used_ = 0;
};

// zlib's deflate at windowBits 15 and memLevel 8: (1 << 17) window + (1 << 17) hash and lookahead buffers, plus
// its state struct (about 6 KiB); with room to spare.
inline constexpr size_t kGzipArenaSize = 272 * 1024;

}  // namespace portico::compression
