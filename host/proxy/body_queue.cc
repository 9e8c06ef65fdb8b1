#include "proxy/body_queue.h"

#include <algorithm>
#include <cstring>

namespace portico::proxy {

namespace {
// Big enough that a typical body piece fits one chunk, small enough that a held queue wastes little.
constexpr size_t kChunkSize = 16 * 1024;
}  // namespace

std::string_view BodyQueue::front() const {
    for (const Chunk& chunk : chunks_) {
        if (chunk.end != chunk.begin) return {chunk.data.get() + chunk.begin, chunk.end - chunk.begin};
    }
    return {};
}

BodyQueue::Chunk& BodyQueue::new_chunk(size_t min) {
    Chunk& chunk = chunks_.emplace_back();
    chunk.capacity = std::max(min, kChunkSize);
    chunk.data.reset(new char[chunk.capacity]);
    return chunk;
}

void BodyQueue::drain(size_t n) {
    n = std::min(n, size_);
    size_ -= n;
    while (n > 0 && !chunks_.empty()) {
        Chunk& chunk = chunks_.front();
        size_t take = std::min(n, chunk.end - chunk.begin);
        chunk.begin += take;
        n -= take;
        if (chunk.begin == chunk.end && (chunks_.size() > 1 || reserved_ == 0)) {
            chunks_.pop_front();
        } else if (take == 0) {
            break;
        }
    }
}

void BodyQueue::append(const char* data, size_t n) {
    reserved_ = 0;
    while (n > 0) {
        if (chunks_.empty() || chunks_.back().end == chunks_.back().capacity) new_chunk(n);
        Chunk& chunk = chunks_.back();
        size_t take = std::min(n, chunk.capacity - chunk.end);
        std::memcpy(chunk.data.get() + chunk.end, data, take);
        chunk.end += take;
        size_ += take;
        data += take;
        n -= take;
    }
}

char* BodyQueue::reserve(size_t min, size_t* available) {
    if (min == 0) min = 1;
    if (chunks_.empty() || chunks_.back().capacity - chunks_.back().end < min) new_chunk(min);
    Chunk& chunk = chunks_.back();
    reserved_ = chunk.capacity - chunk.end;
    *available = reserved_;
    return chunk.data.get() + chunk.end;
}

void BodyQueue::commit(size_t n) {
    n = std::min(n, reserved_);
    reserved_ = 0;
    if (n == 0 || chunks_.empty()) return;
    chunks_.back().end += n;
    size_ += n;
}

void BodyQueue::splice(BodyQueue& other) {
    if (&other == this || other.size_ == 0) return;
    Chunk spare;  // a copied-out chunk the other queue keeps for its next bytes (no malloc churn per read)
    for (Chunk& chunk : other.chunks_) {
        size_t n = chunk.end - chunk.begin;
        if (n == 0) continue;
        // Small pieces (a slow client's reads) are copied into the room left in our last chunk rather than moved
        // with their mostly empty chunk: held bytes then cost about their own size, not a chunk each.
        if (n <= kChunkSize / 4 && !chunks_.empty() && reserved_ == 0 &&
            chunks_.back().capacity - chunks_.back().end >= n) {
            Chunk& last = chunks_.back();
            std::memcpy(last.data.get() + last.end, chunk.data.get() + chunk.begin, n);
            last.end += n;
            chunk.begin = chunk.end = 0;
            spare = std::move(chunk);
        } else {
            chunks_.push_back(std::move(chunk));
        }
    }
    size_ += other.size_;
    reserved_ = 0;
    other.chunks_.clear();
    if (spare.data) other.chunks_.push_back(std::move(spare));
    other.size_ = 0;
    other.reserved_ = 0;
}

void BodyQueue::clear() {
    chunks_.clear();
    size_ = 0;
    reserved_ = 0;
}

}  // namespace portico::proxy
