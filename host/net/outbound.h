// Bytes going out on one socket, in this order: a head the proxy wrote, re-framed body bytes, a tail (the last
// chunk and trailers), then up to `pass_limit` bytes taken straight from another buffer (a Content-Length body or
// a tunnel: no copy).
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <string>

#include "net/buffer.h"

namespace portico::net {

struct Outbound {
    std::string head;
    size_t head_sent = 0;
    Buffer body;
    std::string tail;
    size_t tail_sent = 0;
    Buffer* pass = nullptr;
    size_t pass_limit = 0;

    bool empty() const {
        return head_sent == head.size() && body.empty() && tail_sent == tail.size() && pass_limit == 0;
    }
    void reset() {
        head.clear();
        head_sent = 0;
        body.clear();
        tail.clear();
        tail_sent = 0;
        pass_limit = 0;
    }

    // The unsent bytes as up to four pieces, in order; returns how many, and their total in `total`.
    int pieces(iovec (&iov)[4], size_t& total) {
        int count = 0;
        total = 0;
        auto add = [&](const char* data, size_t size) {
            if (size == 0) return;
            iov[count].iov_base = const_cast<char*>(data);
            iov[count].iov_len = size;
            ++count;
            total += size;
        };
        add(head.data() + head_sent, head.size() - head_sent);
        add(body.data(), body.size());
        add(tail.data() + tail_sent, tail.size() - tail_sent);
        if (pass_limit) add(pass->data(), pass_limit);
        return count;
    }

    // `n` bytes from the front went out.
    void advance(size_t n) {
        size_t part = std::min(n, head.size() - head_sent);
        head_sent += part;
        n -= part;
        part = std::min(n, body.size());
        body.consume(part);
        n -= part;
        part = std::min(n, tail.size() - tail_sent);
        tail_sent += part;
        n -= part;
        if (n) {
            pass->consume(n);
            pass_limit -= n;
        }
    }
};

}  // namespace portico::net
