// One response being compressed (or passed through): the per-stream part of the compression filter.
#pragma once

#include <portico/abi.h>

#include <memory>

#include "arena.h"
#include "codec.h"
#include "config.h"

namespace portico::compression {

class StreamFilter {
public:
    explicit StreamFilter(const FilterConfig& config) : config_(config) {}

    portico_action on_response_headers(portico_stream* s, bool end_stream);
    portico_action on_response_body(portico_stream* s, bool end_stream);

private:
    bool eligible(portico_stream* s, bool end_stream) const;
    void mark_vary(portico_stream* s) const;
    bool encode(portico_stream* s, const uint8_t* data, size_t len, Flush mode);

    const FilterConfig& config_;
    std::unique_ptr<Arena> arena_;      // gzip's state, in one block (declared first: it outlives the encoder)
    std::unique_ptr<Encoder> encoder_;  // set while this response is being compressed
    bool finished_ = false;
};

}  // namespace portico::compression
