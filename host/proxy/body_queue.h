// Body bytes held for filters: a queue of heap chunks a filter can read as views, drain from the front, append
// to, or write into directly (reserve/commit). Used only on routes with filters; bounded by the chain's limits.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string_view>

namespace portico::proxy {

class BodyQueue {
public:
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

    // Up to `max` views of the held bytes, in order; returns how many were filled.
    template <typename View>
    size_t views(View* out, size_t max) const {
        size_t n = 0;
        for (const Chunk& chunk : chunks_) {
            if (n == max) break;
            if (chunk.end == chunk.begin) continue;
            out[n].data = chunk.data.get() + chunk.begin;
            out[n].len = chunk.end - chunk.begin;
            ++n;
        }
        return n;
    }
    // The first contiguous run of held bytes.
    std::string_view front() const;

    void drain(size_t n);
    void append(const char* data, size_t n);
    // Writable memory of at least `min` bytes at the end; commit(n) makes n of them part of the queue.
    char* reserve(size_t min, size_t* available);
    void commit(size_t n);
    // Moves every byte of `other` to the end of this queue (no copy).
    void splice(BodyQueue& other);
    void clear();

private:
    struct Chunk {
        std::unique_ptr<char[]> data;
        size_t capacity = 0;
        size_t begin = 0;
        size_t end = 0;
    };
    Chunk& new_chunk(size_t min);

    std::deque<Chunk> chunks_;
    size_t size_ = 0;
    size_t reserved_ = 0;  // bytes handed out by reserve() and not yet committed
};

}  // namespace portico::proxy
