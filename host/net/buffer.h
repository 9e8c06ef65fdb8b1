// Fixed-capacity byte buffers for one direction of one connection, and the per-worker pool they come from.
// A connection takes a buffer only while it has bytes to hold, so an idle keep-alive connection costs no buffer
// memory (the 10,000-idle-connections benchmark measures exactly this).
#pragma once

#include <cstddef>
#include <cstring>
#include <vector>

namespace portico::net {

class BufferPool {
public:
    BufferPool(size_t block_size, size_t max_free) : block_size_(block_size), max_free_(max_free) {}
    ~BufferPool();
    BufferPool(const BufferPool&) = delete;
    BufferPool& operator=(const BufferPool&) = delete;

    char* acquire();
    void release(char* block);
    size_t block_size() const { return block_size_; }

private:
    size_t block_size_;
    size_t max_free_;
    std::vector<char*> free_;
};

// [begin_, end_) of block_ holds unread bytes. Not copyable: it owns a pool block.
class Buffer {
public:
    Buffer() = default;
    ~Buffer() { release(); }
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    void attach(BufferPool& pool) { pool_ = &pool; }

    bool empty() const { return begin_ == end_; }
    size_t size() const { return end_ - begin_; }
    const char* data() const { return block_ + begin_; }
    char* data() { return block_ + begin_; }

    // Room for writing at the end, compacting first when that gains room. Takes a block from the pool on demand.
    size_t writable() {
        ensure();
        if (begin_ != 0 && end_ == capacity()) compact();
        return capacity() - end_;
    }
    char* write_ptr() { return block_ + end_; }
    void commit(size_t n) { end_ += n; }

    void consume(size_t n) {
        begin_ += n;
        if (begin_ == end_) begin_ = end_ = 0;
    }
    void clear() { begin_ = end_ = 0; }

    // Appends if it fits entirely; returns false (and writes nothing) otherwise.
    bool append(const void* p, size_t n) {
        if (writable() < n) {
            if (capacity() - size() < n) return false;
            compact();
        }
        std::memcpy(write_ptr(), p, n);
        end_ += n;
        return true;
    }

    size_t capacity() const { return pool_ ? pool_->block_size() : 0; }
    bool full() const { return block_ && begin_ == 0 && end_ == capacity(); }

    // Returns the block to the pool when no bytes are held (idle connections hold none).
    void release_if_empty() {
        if (empty()) release();
    }

private:
    void ensure() {
        if (!block_) block_ = pool_->acquire();
    }
    void compact() {
        std::memmove(block_, block_ + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
    }
    void release() {
        if (block_) pool_->release(block_);
        block_ = nullptr;
        begin_ = end_ = 0;
    }

    BufferPool* pool_ = nullptr;
    char* block_ = nullptr;
    size_t begin_ = 0;
    size_t end_ = 0;
};

}  // namespace portico::net
