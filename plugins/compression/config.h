// The compression filter's configuration: one per `{ use = "compression", ... }` in a route, read once on the
// main thread through the host's typed config getters and shared read-only by every stream.
#pragma once

#include <portico/abi.h>

#include <array>
#include <cstdint>
#include <vector>

#include "codec.h"
#include "content_type_match.h"

namespace portico::compression {

struct FilterConfig {
    std::vector<Coding> preference{Coding::Zstd, Coding::Brotli, Coding::Gzip};  // `codings`, most preferred first
    std::array<int, kCodingCount> level{};  // `gzip_level`, `brotli_level`, `zstd_level`
    uint64_t min_length = 256;              // `min_length`: smaller bodies (when their length is known) stay as is
    ContentTypeMatcher types;               // `types`
    const portico_host_api* host = nullptr;
    portico_metric* compressed = nullptr;  // responses compressed
    portico_metric* bytes_in = nullptr;
    portico_metric* bytes_out = nullptr;
};

// Reads `cfg`; on a problem reports it through host->config->error and returns PORTICO_E_CONFIG.
portico_status read_config(const portico_host_api* host, const portico_config* cfg, FilterConfig& out);

}  // namespace portico::compression
