// The consistent-hashing policies' hash: xxHash64 (Yann Collet's XXH64, the function Envoy's ring_hash and maglev
// use), written out here so the plugin needs no library. Fast on short keys and well distributed in every bit,
// which both the ring (sorted 64-bit points) and maglev (hash mod a prime) need.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace portico::balancer {

// One overload only: with a (pointer, length) one beside it, xxhash64("", 1) would quietly hash a NUL byte.
uint64_t xxhash64(std::string_view bytes, uint64_t seed = 0);

}  // namespace portico::balancer
