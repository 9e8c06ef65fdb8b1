// The policies' randomness: xoshiro256** (Blackman and Vigna, 2018), seeded through splitmix64. One generator per
// balancer instance, and instances live on one worker thread each, so it needs no locking; it is not for secrets.
#pragma once

#include <cstdint>

namespace portico::balancer {

// splitmix64's output function: a bijective 64-bit mixer (every input bit affects every output bit).
inline uint64_t mix64(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

class Rng {
public:
    explicit Rng(uint64_t seed) {
        // splitmix64 fills the state: never all zero, and nearby seeds give unrelated streams.
        for (uint64_t& word : state_) {
            seed += 0x9e3779b97f4a7c15ULL;
            word = mix64(seed);
        }
    }

    uint64_t next() {
        const uint64_t result = rotl(state_[1] * 5, 7) * 9;
        const uint64_t t = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= t;
        state_[3] = rotl(state_[3], 45);
        return result;
    }

    // Uniform in [0, n), n > 0: Lemire's multiply-high. The bias is below n / 2^64, far under anything measurable
    // for pool sizes and weight totals.
    uint64_t below(uint64_t n) {
        __extension__ using u128 = unsigned __int128;
        return static_cast<uint64_t>((static_cast<u128>(next()) * n) >> 64);
    }

    // Uniform in [0, 1), 53 bits.
    double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

    uint64_t state_[4];
};

}  // namespace portico::balancer
