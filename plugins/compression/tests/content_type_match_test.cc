// Content-Type matching: exact types, type wildcards, structured syntax suffixes, parameters and case.
#include <doctest/doctest.h>

#include <string>

#include "content_type_match.h"

using namespace portico::compression;

TEST_CASE("the default list") {
    const ContentTypeMatcher matcher = default_content_type_matcher();
    CHECK(default_compressible_types().size() == 12);
    for (const char* type :
         {"text/html", "text/plain", "text/css", "text/javascript", "text/csv", "application/json",
          "application/javascript", "application/x-javascript", "application/xml", "application/ld+json",
          "application/manifest+json", "application/problem+json", "application/vnd.api+json",
          "application/atom+xml", "application/rss+xml", "image/svg+xml", "application/wasm"}) {
        CAPTURE(type);
        CHECK(matcher.matches(type));
    }
    for (const char* type : {"image/png", "image/jpeg", "image/webp", "video/mp4", "application/octet-stream",
                             "application/zip", "application/gzip", "font/woff2", "application/pdf",
                             "application/jsonx", "image/svg", "multipart/form-data"}) {
        CAPTURE(type);
        CHECK_FALSE(matcher.matches(type));
    }
}

TEST_CASE("parameters, whitespace and case are ignored") {
    const ContentTypeMatcher matcher = default_content_type_matcher();
    CHECK(matcher.matches("text/html; charset=utf-8"));
    CHECK(matcher.matches("text/html;charset=UTF-8"));
    CHECK(matcher.matches("  Text/HTML ; charset=\"utf-8\""));
    CHECK(matcher.matches("APPLICATION/JSON"));
    CHECK(matcher.matches("Application/Vnd.Api+JSON; ext=\"bulk\""));
    CHECK(matcher.matches("IMAGE/SVG+XML"));
}

TEST_CASE("missing or malformed Content-Type never matches") {
    const ContentTypeMatcher matcher = default_content_type_matcher();
    for (const char* type : {"", " ", "text", "text/", "/html", "text/html/x", "text /html", "text/ html",
                             "te xt/html", ";charset=utf-8", "text/ht\x80ml", "*/*", "application/*"}) {
        CAPTURE(type);
        CHECK_FALSE(matcher.matches(type));
    }
}

TEST_CASE("pattern forms") {
    ContentTypeMatcher matcher;
    CHECK(matcher.empty());
    CHECK_FALSE(matcher.matches("text/html"));
    CHECK(matcher.add("application/json"));
    CHECK(matcher.add("Text/*"));
    CHECK(matcher.add("application/*+XML"));
    CHECK(matcher.add(" */*+yaml "));
    CHECK_FALSE(matcher.empty());
    CHECK(matcher.matches("application/json"));
    CHECK_FALSE(matcher.matches("application/json5"));
    CHECK(matcher.matches("text/anything"));
    CHECK(matcher.matches("application/soap+xml"));
    CHECK_FALSE(matcher.matches("application/xml"));  // a suffix pattern needs a subtype before the suffix
    CHECK_FALSE(matcher.matches("image/svg+xml"));    // another type
    CHECK(matcher.matches("application/vnd.x+yaml"));
    CHECK(matcher.matches("text/x+yaml"));
    CHECK_FALSE(matcher.matches("application/yaml"));
}

TEST_CASE("a catch-all pattern") {
    ContentTypeMatcher matcher;
    CHECK(matcher.add("*/*"));
    CHECK(matcher.matches("image/png"));
    CHECK_FALSE(matcher.matches("nonsense"));
}

TEST_CASE("invalid patterns are refused") {
    ContentTypeMatcher matcher;
    for (const char* pattern : {"", "json", "text/", "/json", "text/*;charset=utf-8", "te*t/html", "text/ht*ml",
                                "text/*+", "text/+json", "application/*+json+x", "application/**", "a b/c",
                                "*/**+json", "text/html/x", "-text/html", "text/*+-json"}) {
        CAPTURE(pattern);
        CHECK_FALSE(matcher.add(pattern));
    }
    CHECK(matcher.empty());
}
