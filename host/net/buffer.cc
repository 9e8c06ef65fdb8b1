#include "net/buffer.h"

namespace portico::net {

BufferPool::~BufferPool() {
    for (char* block : free_) delete[] block;
}

char* BufferPool::acquire() {
    if (free_.empty()) return new char[block_size_];
    char* block = free_.back();
    free_.pop_back();
    return block;
}

void BufferPool::release(char* block) {
    // Keep a bounded number of free blocks so a burst does not pin its peak memory forever.
    if (free_.size() < max_free_) {
        free_.push_back(block);
    } else {
        delete[] block;
    }
}

}  // namespace portico::net
