// The config API a plugin's config_new reads its table with: every getter, the reports it makes at FILE:LINE:COL,
// nested tables and arrays, and the unknown keys found after config_new.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "config/plugin_table.h"
#include "plugins/config_api.h"

namespace portico::plugins {

namespace {

// Line numbers below refer to this text; every key starts at column 1.
const char kText[] = R"([f]
use = "x"
on_error = "fail-open"
name = "hello"
count = 42
on = true
ratio = 0.5
whole = 2
timeout = "2s"
timeout_ms = 1500
size = "64KiB"
bytes = 512
plain = "512"
names = ["a", "b"]
mixed = ["a", 1]
rules = [{ path = "/a" }, { path = "/b", extra = 1 }]
negative = -5
bad_duration = "2 s"
bad_size = "64KB"
[f.limits]
max = 10
speed = "fast"
)";

std::string view_text(portico_view v) {
    return std::string(v.data, v.len);
}

// One config_new's worth of state over kText's [f] table, with the host's keys hidden as in a route filter.
struct Fixture {
    toml::table doc = toml::parse(std::string_view(kText), std::string_view("plugin.toml"));
    config::PluginTable table{*doc["f"].as_table()};
    ConfigSession session{table, {"use", "on_error"}};
    const portico_config_api* api = config_api();
    const portico_config* cfg = session.root();

    std::vector<std::string> problems() const { return session.problems(); }
};

}  // namespace

TEST_CASE("config api: the table is versioned and complete") {
    const portico_config_api* api = config_api();
    CHECK(api->struct_size == sizeof(portico_config_api));
    CHECK(PORTICO_HAS(api, portico_config_api, error));
    CHECK((api->get_string != nullptr));
    CHECK((api->array_table != nullptr));
}

TEST_CASE("config api: every type, read right") {
    Fixture f;
    portico_view text{};
    REQUIRE(f.api->get_string(f.cfg, "name", &text) == PORTICO_OK);
    CHECK(view_text(text) == "hello");
    int64_t number = 0;
    REQUIRE(f.api->get_int(f.cfg, "count", &number) == PORTICO_OK);
    CHECK(number == 42);
    bool flag = false;
    REQUIRE(f.api->get_bool(f.cfg, "on", &flag) == PORTICO_OK);
    CHECK(flag);
    double real = 0;
    REQUIRE(f.api->get_double(f.cfg, "ratio", &real) == PORTICO_OK);
    CHECK(real == doctest::Approx(0.5));
    REQUIRE(f.api->get_double(f.cfg, "whole", &real) == PORTICO_OK);  // an integer is a number too
    CHECK(real == doctest::Approx(2.0));
    CHECK(f.problems().empty());
}

TEST_CASE("config api: durations and sizes, in every accepted form") {
    Fixture f;
    uint64_t value = 0;
    REQUIRE(f.api->get_duration_ms(f.cfg, "timeout", &value) == PORTICO_OK);
    CHECK(value == 2000);
    REQUIRE(f.api->get_duration_ms(f.cfg, "timeout_ms", &value) == PORTICO_OK);  // an integer: milliseconds
    CHECK(value == 1500);
    REQUIRE(f.api->get_size(f.cfg, "size", &value) == PORTICO_OK);
    CHECK(value == 64 * 1024);
    REQUIRE(f.api->get_size(f.cfg, "bytes", &value) == PORTICO_OK);
    CHECK(value == 512);
    REQUIRE(f.api->get_size(f.cfg, "plain", &value) == PORTICO_OK);  // "512": bytes, as the ABI lists
    CHECK(value == 512);
    CHECK(f.problems().empty());
}

TEST_CASE("config api: an absent key is PORTICO_E_NOT_FOUND and no problem") {
    Fixture f;
    portico_view text{};
    int64_t number = 0;
    uint64_t value = 0;
    size_t length = 0;
    const portico_config* child = nullptr;
    CHECK(f.api->get_string(f.cfg, "absent", &text) == PORTICO_E_NOT_FOUND);
    CHECK(f.api->get_int(f.cfg, "absent", &number) == PORTICO_E_NOT_FOUND);
    CHECK(f.api->get_duration_ms(f.cfg, "absent", &value) == PORTICO_E_NOT_FOUND);
    CHECK(f.api->get_size(f.cfg, "absent", &value) == PORTICO_E_NOT_FOUND);
    CHECK(f.api->get_table(f.cfg, "absent", &child) == PORTICO_E_NOT_FOUND);
    CHECK(f.api->array_len(f.cfg, "absent", &length) == PORTICO_E_NOT_FOUND);
    CHECK(f.api->array_string(f.cfg, "absent", 0, &text) == PORTICO_E_NOT_FOUND);
    CHECK(f.problems().empty());
}

TEST_CASE("config api: a wrong type is reported at its key as FILE:LINE:COL") {
    Fixture f;
    portico_view text{};
    int64_t number = 0;
    bool flag = false;
    double real = 0;
    uint64_t value = 0;
    size_t length = 0;
    const portico_config* child = nullptr;
    CHECK(f.api->get_string(f.cfg, "count", &text) == PORTICO_E_CONFIG);
    CHECK(f.api->get_int(f.cfg, "name", &number) == PORTICO_E_CONFIG);
    CHECK(f.api->get_bool(f.cfg, "count", &flag) == PORTICO_E_CONFIG);
    CHECK(f.api->get_double(f.cfg, "on", &real) == PORTICO_E_CONFIG);
    CHECK(f.api->get_table(f.cfg, "names", &child) == PORTICO_E_CONFIG);
    CHECK(f.api->array_len(f.cfg, "rules", &length) == PORTICO_OK);
    CHECK(f.api->array_len(f.cfg, "limits", &length) == PORTICO_E_CONFIG);
    CHECK(f.api->array_string(f.cfg, "name", 0, &text) == PORTICO_E_CONFIG);
    CHECK(f.api->get_duration_ms(f.cfg, "on", &value) == PORTICO_E_CONFIG);
    CHECK(f.api->get_size(f.cfg, "ratio", &value) == PORTICO_E_CONFIG);
    std::vector<std::string> expected = {
        "plugin.toml:5:1: count: expected a string, not an integer",
        "plugin.toml:4:1: name: expected an integer, not a string",
        "plugin.toml:5:1: count: expected a boolean (true or false), not an integer",
        "plugin.toml:6:1: on: expected a number, not a boolean",
        "plugin.toml:14:1: names: expected a table, not an array",
        "plugin.toml:20:4: limits: expected an array, not a table",
        "plugin.toml:4:1: name: expected an array, not a string",
        "plugin.toml:6:1: on: expected a duration (a string like \"250ms\", \"2s\", \"5m\" or \"1h\", or an "
        "integer of "
        "milliseconds), not a boolean",
        "plugin.toml:7:1: ratio: expected a size (an integer of bytes, or a string like \"512\", \"64KiB\", "
        "\"256MiB\" or \"1GiB\"), not a floating-point number",
    };
    CHECK(f.problems() == expected);
}

TEST_CASE("config api: malformed durations and sizes name the value") {
    Fixture f;
    uint64_t value = 0;
    CHECK(f.api->get_duration_ms(f.cfg, "bad_duration", &value) == PORTICO_E_CONFIG);
    CHECK(f.api->get_duration_ms(f.cfg, "negative", &value) == PORTICO_E_CONFIG);
    CHECK(f.api->get_size(f.cfg, "bad_size", &value) == PORTICO_E_CONFIG);
    CHECK(f.api->get_size(f.cfg, "negative", &value) == PORTICO_E_CONFIG);
    REQUIRE(f.problems().size() == 4);
    CHECK(f.problems()[0].rfind("plugin.toml:18:1: bad_duration: expected a duration", 0) == 0);
    CHECK(f.problems()[0].find(", not \"2 s\"") != std::string::npos);
    CHECK(f.problems()[1].find("plugin.toml:17:1: negative: expected a duration") == 0);
    CHECK(f.problems()[1].find(", not -5") != std::string::npos);
    CHECK(f.problems()[2].find("plugin.toml:19:1: bad_size: expected a size") == 0);
    CHECK(f.problems()[2].find(", not \"64KB\"") != std::string::npos);
    CHECK(f.problems()[3].find(", not -5") != std::string::npos);
}

TEST_CASE("config api: nested tables and their positions") {
    Fixture f;
    const portico_config* limits = nullptr;
    REQUIRE(f.api->get_table(f.cfg, "limits", &limits) == PORTICO_OK);
    int64_t max = 0;
    REQUIRE(f.api->get_int(limits, "max", &max) == PORTICO_OK);
    CHECK(max == 10);
    int64_t speed = 0;
    CHECK(f.api->get_int(limits, "speed", &speed) == PORTICO_E_CONFIG);
    CHECK(f.problems() ==
          std::vector<std::string>{"plugin.toml:22:1: limits.speed: expected an integer, not a string"});
    const portico_config* again = nullptr;
    REQUIRE(f.api->get_table(f.cfg, "limits", &again) == PORTICO_OK);
    CHECK(again == limits);  // one handle per table, so what was asked of it adds up
}

TEST_CASE("config api: arrays of strings and of tables") {
    Fixture f;
    size_t length = 0;
    REQUIRE(f.api->array_len(f.cfg, "names", &length) == PORTICO_OK);
    CHECK(length == 2);
    portico_view text{};
    REQUIRE(f.api->array_string(f.cfg, "names", 1, &text) == PORTICO_OK);
    CHECK(view_text(text) == "b");
    CHECK(f.api->array_string(f.cfg, "names", 2, &text) == PORTICO_E_BAD_ARG);  // the plugin's mistake: no report
    CHECK(f.problems().empty());

    CHECK(f.api->array_string(f.cfg, "mixed", 1, &text) == PORTICO_E_CONFIG);  // reported at the element
    CHECK(f.problems() ==
          std::vector<std::string>{"plugin.toml:15:15: mixed[1]: expected a string, not an integer"});

    const portico_config* rule = nullptr;
    REQUIRE(f.api->array_table(f.cfg, "rules", 1, &rule) == PORTICO_OK);
    REQUIRE(f.api->get_string(rule, "path", &text) == PORTICO_OK);
    CHECK(view_text(text) == "/b");
    int64_t number = 0;
    CHECK(f.api->get_int(rule, "path", &number) == PORTICO_E_CONFIG);
    CHECK(f.problems().back() == "plugin.toml:16:29: rules[1].path: expected an integer, not a string");
    CHECK(f.api->array_table(f.cfg, "names", 0, &rule) == PORTICO_E_CONFIG);
    CHECK(f.problems().back() == "plugin.toml:14:10: names[0]: expected a table, not a string");
}

TEST_CASE("config api: the host's keys are invisible to the plugin and never unknown") {
    Fixture f;
    portico_view text{};
    CHECK(f.api->get_string(f.cfg, "use", &text) == PORTICO_E_NOT_FOUND);
    CHECK(f.api->get_string(f.cfg, "on_error", &text) == PORTICO_E_NOT_FOUND);
    f.session.report_unknown("filter 'x'");
    for (const std::string& problem : f.problems()) {
        CHECK(problem.find("'use'") == std::string::npos);
        CHECK(problem.find("'on_error'") == std::string::npos);
    }
}

TEST_CASE("config api: unknown keys, at every table the plugin was given") {
    Fixture f;
    int64_t number = 0;
    portico_view text{};
    uint64_t value = 0;
    size_t length = 0;
    const portico_config* child = nullptr;
    // Reads everything but `whole`, `negative`, limits.speed and rules[1].extra; asks for `mixd` (absent).
    f.api->get_string(f.cfg, "name", &text);
    f.api->get_int(f.cfg, "count", &number);
    CHECK(f.api->get_int(f.cfg, "mixd", &number) == PORTICO_E_NOT_FOUND);
    bool flag = false;
    f.api->get_bool(f.cfg, "on", &flag);
    double real = 0;
    f.api->get_double(f.cfg, "ratio", &real);
    for (const char* key : {"timeout", "timeout_ms", "bad_duration"}) f.api->get_duration_ms(f.cfg, key, &value);
    for (const char* key : {"size", "bytes", "plain", "bad_size"}) f.api->get_size(f.cfg, key, &value);
    f.api->array_len(f.cfg, "names", &length);
    f.api->array_len(f.cfg, "mixed", &length);
    f.api->array_table(f.cfg, "rules", 1, &child);
    f.api->get_string(child, "path", &text);
    f.api->get_table(f.cfg, "limits", &child);
    f.api->get_int(child, "max", &number);
    size_t reported_by_getters = f.problems().size();

    f.session.report_unknown("filter 'x'");
    std::vector<std::string> all = f.problems();
    std::vector<std::string> unknown(all.begin() + static_cast<long>(reported_by_getters), all.end());
    std::vector<std::string> expected = {
        "plugin.toml:8:1: unknown key 'whole' for filter 'x'",
        "plugin.toml:16:42: unknown key 'rules[1].extra' for filter 'x'",
        "plugin.toml:17:1: unknown key 'negative' for filter 'x'",
        "plugin.toml:22:1: unknown key 'limits.speed' for filter 'x'",
    };
    CHECK(unknown == expected);
}

TEST_CASE("config api: an unknown key suggests a key the plugin asked for") {
    toml::table doc =
        toml::parse(std::string_view("[f]\nuse = \"x\"\nlevle = 3\n"), std::string_view("plugin.toml"));
    config::PluginTable table(*doc["f"].as_table());
    ConfigSession session(table, {"use", "on_error"});
    int64_t level = 0;
    CHECK(config_api()->get_int(session.root(), "level", &level) == PORTICO_E_NOT_FOUND);
    session.report_unknown("filter 'compression'");
    CHECK(session.problems() ==
          std::vector<std::string>{
              "plugin.toml:3:1: unknown key 'levle' for filter 'compression' (did you mean 'level'?)"});
}

TEST_CASE("config api: error() reports at the key, or at the table") {
    Fixture f;
    CHECK(f.api->error(f.cfg, "count", "count must be even") == PORTICO_E_CONFIG);
    CHECK(f.api->error(f.cfg, nullptr, "something is missing") == PORTICO_E_CONFIG);
    CHECK(f.api->error(f.cfg, "absent", "absent is required") == PORTICO_E_CONFIG);
    CHECK(f.api->error(f.cfg, "use", "not yours") == PORTICO_E_CONFIG);  // a host key: the table's place
    std::vector<std::string> expected = {
        "plugin.toml:5:1: count must be even",
        "plugin.toml:1:1: something is missing",
        "plugin.toml:1:1: absent is required",
        "plugin.toml:1:1: not yours",
    };
    CHECK(f.problems() == expected);
}

TEST_CASE("config api: null arguments are refused, never dereferenced") {
    Fixture f;
    portico_view text{};
    int64_t number = 0;
    CHECK(f.api->get_string(nullptr, "name", &text) == PORTICO_E_BAD_ARG);
    CHECK(f.api->get_string(f.cfg, nullptr, &text) == PORTICO_E_BAD_ARG);
    CHECK(f.api->get_int(f.cfg, "count", nullptr) == PORTICO_E_BAD_ARG);
    CHECK(f.api->error(nullptr, "count", "x") == PORTICO_E_BAD_ARG);
    CHECK(f.problems().empty());
    (void)number;
}

}  // namespace portico::plugins
