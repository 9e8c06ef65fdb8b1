// Chunked framing the proxy writes (RFC 9112 7.1): shared by the fast path and the filtered path.
#pragma once

#include <charconv>
#include <cstddef>

#include "net/buffer.h"

namespace portico::proxy {

// Room a chunk's framing takes around its data: up to 16 hex digits, CRLF, CRLF.
inline constexpr size_t kChunkOverhead = 20;

// Appends one chunk (size line, data, CRLF); the caller has checked for kChunkOverhead bytes of room beyond n.
inline void append_chunk(net::Buffer& out, const char* data, size_t n) {
    char size_line[24];
    auto result = std::to_chars(size_line, size_line + 16, n, 16);
    char* end = result.ptr;
    *end++ = '\r';
    *end++ = '\n';
    out.append(size_line, static_cast<size_t>(end - size_line));
    out.append(data, n);
    out.append("\r\n", 2);
}

}  // namespace portico::proxy
