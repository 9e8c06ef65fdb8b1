// One constructor per codec, each in its own *_encoder.cc; make_encoder() (codec.cc) dispatches to them after
// checking the level. Internal to the codec layer.
#pragma once

#include <memory>

#include "codec.h"

namespace portico::compression {

std::unique_ptr<Encoder> make_gzip_encoder(int level, const Allocator* allocator) noexcept;
std::unique_ptr<Encoder> make_brotli_encoder(int quality, const Allocator* allocator) noexcept;
std::unique_ptr<Encoder> make_zstd_encoder(int level, const Allocator* allocator) noexcept;

}  // namespace portico::compression
