// Durations and sizes: the string forms themselves, then as config::load reports them.
#include "config/units.h"
#include "test_config_support.h"

namespace portico::config {
namespace {

using testing::kMinimal;
using testing::load_text;
using testing::only_problem;
using testing::TempDir;

TEST_CASE("config units: durations") {
    CHECK(parse_duration("500ms") == Duration(500));
    CHECK(parse_duration("10s") == Duration(10'000));
    CHECK(parse_duration("5m") == Duration(300'000));
    CHECK(parse_duration("2h") == Duration(7'200'000));
    CHECK(parse_duration("0s") == Duration(0));  // parses; the reader refuses it as a timeout
    for (const char* bad : {"", "10", "s", "1.5s", "-1s", "+1s", " 1s", "1 s", "1S", "1sec", "1w", "ms10",
                            "99999999999999999999h", "9223372036854775808ms"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_duration(bad).has_value());
    }
    CHECK(format_duration(Duration(300'000)) == "5m");
    CHECK(format_duration(Duration(1'500)) == "1500ms");
    CHECK(format_duration(kMaxDuration) == "365d");
    CHECK(parse_duration("2d") == Duration(172'800'000));
    CHECK(format_duration(Duration(0)) == "0ms");
}

TEST_CASE("config units: sizes") {
    CHECK(parse_size("0B") == 0u);
    CHECK(parse_size("512B") == 512u);
    CHECK(parse_size("16KiB") == 16u * 1024);
    CHECK(parse_size("3MiB") == 3u * 1024 * 1024);
    CHECK(parse_size("1GiB") == 1ull << 30);
    for (const char* bad : {"", "16", "KiB", "16kib", "16KB", "16K", "1.5MiB", "-1B", "16 KiB", "1TiB",
                            "17179869184GiB", "18446744073709551616B"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_size(bad).has_value());
    }
    CHECK(format_size(32 * 1024) == "32KiB");
    CHECK(format_size(1000) == "1000B");
    CHECK(format_size(1ull << 30) == "1GiB");
    CHECK(format_size(0) == "0B");
}

TEST_CASE("config units: duration and size values in a file") {
    TempDir dir;
    auto result = load_text(dir, std::string(kMinimal) + R"(
[timeouts]
client_header = "500ms"
tunnel_idle = "2h"
[limits]
max_body_size = 0
buffer_size = 65536
max_header_size = "48KiB"
)");
    REQUIRE_MESSAGE(result.problems.empty(), testing::joined(testing::rendered(result)));
    CHECK(result.config->timeouts.client_header == Duration(500));
    CHECK(result.config->timeouts.tunnel_idle == Duration(7'200'000));
    CHECK(result.config->limits.max_body_size == 0u);
    CHECK(result.config->limits.buffer_size == 65536u);
    CHECK(result.config->limits.head.max_head_size == 48u * 1024);
}

TEST_CASE("config units: a malformed duration names the key and the accepted form") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    const std::string form = "must be a duration (a string like \"500ms\", \"10s\", \"5m\", \"1h\" or \"7d\")";
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[timeouts]\nclient_body = \"10\"\n")) ==
          file + ":11:1: 'timeouts.client_body' " + form + ", not \"10\"");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[timeouts]\nclient_body = 10\n")) ==
          file + ":11:1: 'timeouts.client_body' " + form + ", not an integer");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\ndrain_timeout = \"1.5s\"\n")) ==
          file + ":11:1: 'server.drain_timeout' " + form + ", not \"1.5s\"");
}

TEST_CASE("config units: durations must be above zero and at most a year") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[timeouts]\nclient_idle = \"0s\"\n")) ==
          file + ":11:1: 'timeouts.client_idle' must be greater than 0 and at most 365d, not \"0s\"");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[timeouts]\nclient_idle = \"8761h\"\n")) ==
          file + ":11:1: 'timeouts.client_idle' must be greater than 0 and at most 365d, not \"8761h\"");
}

TEST_CASE("config units: a malformed size names the key and the accepted form") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    const std::string form =
        "must be a size (an integer of bytes, or a string like \"512B\", \"16KiB\", \"1MiB\" or \"1GiB\")";
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[limits]\nmax_body_size = \"10MB\"\n")) ==
          file + ":11:1: 'limits.max_body_size' " + form + ", not \"10MB\"");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[limits]\nmax_body_size = -1\n")) ==
          file + ":11:1: 'limits.max_body_size' " + form + ", not -1");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[limits]\nmax_body_size = 1.5\n")) ==
          file + ":11:1: 'limits.max_body_size' " + form + ", not a floating-point number");
}

TEST_CASE("config units: sizes out of range") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[limits]\nbuffer_size = \"32MiB\"\n")) ==
          file + ":11:1: 'limits.buffer_size' must be between 4KiB and 16MiB, not 32MiB");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[limits]\nbuffer_size = 1000\n")) ==
          file + ":11:1: 'limits.buffer_size' must be between 4KiB and 16MiB, not 1000B");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[limits]\nmax_request_line = 0\n")) ==
          file + ":11:1: 'limits.max_request_line' must be at least 1B, not 0B");
}

TEST_CASE("config units: the request head must fit in one buffer") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    // Only buffer_size is set: the default max_header_size (16KiB) no longer fits, and buffer_size is to blame.
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[limits]\nbuffer_size = \"16KiB\"\n")) ==
          file +
              ":11:1: 'limits.max_header_size' (16KiB) must be at most 'limits.buffer_size' - 1KiB (15KiB): "
              "a request head must fit in one buffer");
    CHECK(only_problem(load_text(
              dir, std::string(kMinimal) + "[limits]\nbuffer_size = \"16KiB\"\nmax_header_size = \"16KiB\"\n")) ==
          file +
              ":12:1: 'limits.max_header_size' (16KiB) must be at most 'limits.buffer_size' - 1KiB (15KiB): "
              "a request head must fit in one buffer");
    auto fits =
        load_text(dir, std::string(kMinimal) + "[limits]\nbuffer_size = \"16KiB\"\nmax_header_size = \"15KiB\"\n");
    CHECK(fits.problems.empty());
}

}  // namespace
}  // namespace portico::config
