#include <doctest/doctest.h>

#include "proxy/router.h"

using namespace portico;

namespace {
config::Route route(std::string host, std::string path, std::string prefix, std::string upstream) {
    config::Route r;
    r.match.host = std::move(host);
    r.match.path = std::move(path);
    r.match.prefix = std::move(prefix);
    r.upstream = std::move(upstream);
    r.max_body_size = 0;
    return r;
}
}  // namespace

TEST_CASE("router: host exact and wildcard, path exact and prefix, first match wins") {
    std::vector<config::Route> routes = {
        route("example.com", "/exact", "", "exact"),  route("example.com", "", "/api/", "api"),
        route("*.example.com", "", "", "wildcard"),   route("example.com", "", "/", "site"),
        route("", "", "/static/", "any-host-static"),
    };
    proxy::Router router(routes);
    auto upstream_of = [&](std::string_view host, std::string_view path) -> std::string {
        const config::Route* r = router.match(host, path);
        return r ? r->upstream : "none";
    };
    CHECK(upstream_of("example.com", "/exact") == "exact");
    CHECK(upstream_of("example.com", "/exact/more") == "site");
    CHECK(upstream_of("example.com", "/api/users") == "api");
    CHECK(upstream_of("example.com", "/api") == "site");
    CHECK(upstream_of("a.example.com", "/anything") == "wildcard");
    CHECK(upstream_of("a.b.example.com", "/") == "wildcard");
    CHECK(upstream_of("EXAMPLE.com:8080", "/x") == "site");
    CHECK(upstream_of("example.com.", "/x") == "site");
    CHECK(upstream_of("badexample.com", "/x") == "none");
    CHECK(upstream_of("other.org", "/static/a.css") == "any-host-static");
    CHECK(upstream_of("other.org", "/x") == "none");
}

TEST_CASE("router: target_path strips the query of an origin-form target") {
    // Absolute-form targets are made origin-form by the session first (split_absolute_form, below).
    CHECK(proxy::target_path("/a/b?x=1") == "/a/b");
    CHECK(proxy::target_path("/a#frag") == "/a");
    CHECK(proxy::target_path("/p?q") == "/p");
    CHECK(proxy::target_path("*") == "*");
}

TEST_CASE("router: normalize_host keeps IPv6 literals and drops the port") {
    char buffer[64];
    CHECK(proxy::normalize_host("[::1]:8080", buffer, sizeof buffer) == "[::1]");
    CHECK(proxy::normalize_host("[::1]", buffer, sizeof buffer) == "[::1]");
    CHECK(proxy::normalize_host("Host.Example:1", buffer, sizeof buffer) == "host.example");
    CHECK(proxy::normalize_host(std::string(100, 'a'), buffer, sizeof buffer).empty());
}

TEST_CASE("router: split_absolute_form finds scheme, authority and the origin-form rest (RFC 9112 3.2.2)") {
    std::string_view scheme, authority, rest;
    REQUIRE(proxy::split_absolute_form("http://example.com/p?q", scheme, authority, rest));
    CHECK(scheme == "http");
    CHECK(authority == "example.com");
    CHECK(rest == "/p?q");
    REQUIRE(proxy::split_absolute_form("HTTPS://example.com:8443", scheme, authority, rest));
    CHECK(proxy::http_scheme(scheme));
    CHECK(authority == "example.com:8443");
    CHECK(rest.empty());
    REQUIRE(proxy::split_absolute_form("ftp://example.com/x", scheme, authority, rest));
    CHECK_FALSE(proxy::http_scheme(scheme));
    CHECK_FALSE(proxy::split_absolute_form("/a://b", scheme, authority, rest));
    CHECK_FALSE(proxy::split_absolute_form("*", scheme, authority, rest));
    CHECK_FALSE(proxy::split_absolute_form("example.com:443", scheme, authority, rest));
    CHECK_FALSE(proxy::valid_authority("user@example.com"));
    CHECK_FALSE(proxy::valid_authority(""));
    CHECK(proxy::valid_authority("[::1]:8080"));
}
