// The key consistent-hashing balancers hash: from the client address, a header or a cookie.
#include <doctest/doctest.h>

#include "proxy/hash_key.h"

using portico::config::HashKey;
using portico::proxy::compute_hash_key;
using portico::proxy::find_cookie;

namespace {

portico::http::RequestHead head_with(std::initializer_list<portico::http::Header> headers) {
    portico::http::RequestHead head;
    head.headers.assign(headers);
    return head;
}

std::string key_of(HashKey::Source source, std::string name, const portico::http::RequestHead& head) {
    HashKey key;
    key.source = source;
    key.name = std::move(name);
    std::string out = "stale";
    compute_hash_key(key, head, "192.0.2.7", out);
    return out;
}

}  // namespace

TEST_CASE("hash key: client address, header, cookie; empty when the request has none") {
    auto head = head_with({{"Host", "a"}, {"X-User", " alice "}, {"Cookie", "theme=dark; sid=\"s-42\" ;x=1"}});
    CHECK(key_of(HashKey::Source::None, "", head).empty());
    CHECK(key_of(HashKey::Source::ClientIp, "", head) == "192.0.2.7");
    CHECK(key_of(HashKey::Source::Header, "x-user", head) == " alice ");  // the parser has stripped; kept as is
    CHECK(key_of(HashKey::Source::Header, "x-missing", head).empty());
    CHECK(key_of(HashKey::Source::Cookie, "sid", head) == "s-42");
    CHECK(key_of(HashKey::Source::Cookie, "x", head) == "1");
    CHECK(key_of(HashKey::Source::Cookie, "the", head).empty());
}

TEST_CASE("hash key: the first header of that name; cookies across several Cookie fields") {
    auto head = head_with({{"x-user", "first"}, {"X-User", "second"}, {"Cookie", "a=1"}, {"cookie", "b=2"}});
    CHECK(key_of(HashKey::Source::Header, "x-user", head) == "first");
    CHECK(key_of(HashKey::Source::Cookie, "b", head) == "2");
}

TEST_CASE("find_cookie: pairs without '=' and empty values") {
    std::string_view value;
    CHECK_FALSE(find_cookie("flag; other", "flag", value));
    REQUIRE(find_cookie("a=; b=2", "a", value));
    CHECK(value.empty());
    CHECK_FALSE(find_cookie("", "a", value));
}
