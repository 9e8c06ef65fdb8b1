// The building blocks: xxHash64 against the reference implementation's values, and the generator's ranges.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "hash.h"
#include "prng.h"

using namespace portico::balancer;

TEST_CASE("xxhash64 gives the reference XXH64 values") {
    // From libxxhash 0.8 (XXH64), covering the short, 4-byte, 8-byte and 32-byte-stripe paths.
    CHECK(xxhash64("") == 0xef46db3751d8e999ULL);
    CHECK(xxhash64("", 1) == 0xd5afba1336a3be4bULL);
    CHECK(xxhash64("a") == 0xd24ec4f1a98c6e5bULL);
    CHECK(xxhash64("abc") == 0x44bc2cf5ad770999ULL);
    CHECK(xxhash64("abcd") == 0xde0327b0d25d92ccULL);
    CHECK(xxhash64("abcde") == 0x07e3670c0c8dc7ebULL);
    std::string alphabet;
    for (int i = 0; i < 100; ++i) alphabet.push_back(static_cast<char>('a' + i % 26));
    CHECK(xxhash64(std::string_view(alphabet).substr(0, 32)) == 0x4da6cbe536cf55c7ULL);
    CHECK(xxhash64(std::string_view(alphabet).substr(0, 32), 1) == 0x964721c663054492ULL);
    CHECK(xxhash64(alphabet) == 0x79c9fa152bb53c71ULL);
}

TEST_CASE("the generator: same seed, same stream; below() stays in range and covers it") {
    Rng a(7), b(7), c(8);
    bool differs = false;
    for (int i = 0; i < 100; ++i) {
        const uint64_t x = a.next();
        CHECK(x == b.next());
        differs = differs || x != c.next();
    }
    CHECK(differs);
    std::set<uint64_t> seen;
    for (int i = 0; i < 1000; ++i) {
        const uint64_t v = a.below(10);
        CHECK(v < 10);
        seen.insert(v);
        const double u = a.unit();
        CHECK(u >= 0.0);
        CHECK(u < 1.0);
    }
    CHECK(seen.size() == 10);
    CHECK(a.below(1) == 0);
}
