#include <doctest/doctest.h>

#include <string>

#include "net/buffer.h"

using namespace portico::net;

TEST_CASE("buffer takes a block only when needed and gives it back when empty") {
    BufferPool pool(64, 4);
    Buffer buffer;
    buffer.attach(pool);
    CHECK(buffer.empty());
    CHECK(buffer.capacity() == 64);
    CHECK(buffer.writable() == 64);
    CHECK(buffer.append("hello", 5));
    CHECK(buffer.size() == 5);
    buffer.consume(2);
    CHECK(std::string(buffer.data(), buffer.size()) == "llo");
    CHECK_FALSE(buffer.append(std::string(62, 'x').data(), 62));  // 61 free after compaction, not 62
    CHECK(buffer.append(std::string(61, 'x').data(), 61));
    CHECK(buffer.full());
    CHECK(std::string(buffer.data(), 3) == "llo");
    buffer.consume(buffer.size());
    buffer.release_if_empty();
    CHECK(buffer.empty());
}
