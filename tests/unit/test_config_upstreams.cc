// config::load on the keys that choose and guard endpoints: weighted endpoints, `balancer`, `hash_key`, `health`,
// `outlier` and `slow_start` of an upstream, and a route's `retry`. Values read back, defaults, and every problem
// at its FILE:LINE:COL.
#include "config/plugin_table.h"
#include "test_config_support.h"

namespace portico::config {
namespace {

using testing::joined;
using testing::kMinimal;
using testing::load_text;
using testing::only_problem;
using testing::rendered;
using testing::TempDir;

bool starts_with_text(const std::string& text, const std::string& prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

// Takes the result by value: the configuration outlives the temporary LoadResult.
std::shared_ptr<const Config> loaded(LoadResult result) {
    REQUIRE_MESSAGE(result.problems.empty(), joined(rendered(result)));
    REQUIRE(result.config != nullptr);
    return result.config;
}

// Lines 1-5; what a test appends starts at line 6, inside [upstream.app].
const char kUpstreamHead[] =
    "[listener.http]\nbind = \"127.0.0.1:0\"\n[[route]]\nupstream = \"app\"\n[upstream.app]\n";

// Lines 1-6; what a test appends starts at line 7, inside the [[route]].
const char kRouteHead[] =
    "[listener.http]\nbind = \"127.0.0.1:0\"\n[upstream.app]\nendpoints = [\"127.0.0.1:9001\"]\n[[route]]\n"
    "upstream = \"app\"\n";

// [upstream.app] with one endpoint (line 6) and then `lines` (from line 7).
std::string upstream_with(const std::string& lines) {
    return std::string(kUpstreamHead) + "endpoints = [\"127.0.0.1:9001\"]\n" + lines;
}

// The same with a balancer on line 6, for the keys that need one; `lines` start at line 8.
std::string balanced_upstream_with(const std::string& lines) {
    return upstream_with("balancer = { use = \"least_request\" }\n" + lines);
}

TEST_CASE("config upstreams: absent keys take the defaults of config.h") {
    TempDir dir;
    auto config = loaded(load_text(dir, kMinimal));
    const Upstream& app = config->upstreams[0];
    REQUIRE(app.endpoints.size() == 1);
    CHECK(app.endpoints[0].weight == 1u);
    CHECK(app.balancer.use == "");
    CHECK(app.balancer.table == nullptr);
    CHECK(app.hash_key.source == HashKey::Source::None);
    CHECK(app.hash_key.name == "");
    CHECK(app.health.enabled == false);
    CHECK(app.health.path == "/");
    CHECK(app.health.host == "");
    CHECK(app.health.status_min == 200u);
    CHECK(app.health.status_max == 399u);
    CHECK(app.health.interval == Duration(5'000));
    CHECK(app.health.timeout == Duration(2'000));
    CHECK(app.health.rise == 2u);
    CHECK(app.health.fall == 3u);
    CHECK(app.outlier.consecutive_failures == 5u);
    CHECK(app.outlier.base_ejection == Duration(10'000));
    CHECK(app.outlier.max_ejection == Duration(300'000));
    CHECK(app.outlier.max_ejected_percent == 50u);
    CHECK(app.slow_start == Duration(0));

    const RetryPolicy& retry = config->routes[0].retry;
    CHECK(retry.attempts == 3u);
    CHECK(retry.on_connect_failure == true);
    CHECK(retry.on_reset == true);
    CHECK(retry.on_timeout == false);
    CHECK(retry.statuses.empty());
    CHECK(retry.non_idempotent == false);
    CHECK(retry.per_try_timeout == Duration(0));
    CHECK(retry.budget_percent == 20u);
    CHECK(retry.min_retries_per_second == 10u);
}

const char kEveryKey[] = R"(
[listener.http]
bind = "127.0.0.1:0"

[upstream.app]
endpoints = ["127.0.0.1:9001", { address = "127.0.0.1:9002", weight = 3 }, { address = "[::1]:9003" }]
balancer = { use = "lb.least_request", choices = 2, mode = { fast = true } }
hash_key = "header:X-User-Id"
health = { path = "/healthz?full=1", host = "App.internal:8080", expect = "204", interval = "10s", timeout = "1s", rise = 1, fall = 5 }
outlier = { consecutive_failures = 0, base_ejection = "30s", max_ejection = "30s", max_ejected_percent = 100 }
slow_start = "1m"

[upstream.web]
endpoints = [{ address = "localhost:9004", weight = 1000 }, { weight = 1, address = "127.0.0.1:9005" }]
hash_key = "cookie:Session_ID"
[upstream.web.balancer]
use = "ring_hash"
[upstream.web.health]
expect = "200-299"
[upstream.web.outlier]
consecutive_failures = 1000
max_ejected_percent = 0

[upstream.ip]
endpoints = ["127.0.0.1:9006"]
balancer = { use = "maglev" }
hash_key = "client_ip"
health = {}
slow_start = "0s"

[[route]]
upstream = "app"
retry = { on = ["reset", "timeout", "503", "429"], attempts = 10, per_try_timeout = "250ms", non_idempotent = true, budget_percent = 100, min_retries_per_second = 0 }

[[route]]
upstream = "web"
[route.retry]
attempts = 1
on = []
per_try_timeout = "0s"

[[route]]
upstream = "ip"
retry = { on = ["connect-failure", "599", "500"], budget_percent = 0, min_retries_per_second = 1000 }
)";

TEST_CASE("config upstreams: every key reads into the right values") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto config = loaded(load_text(dir, kEveryKey));
    REQUIRE(config->upstreams.size() == 3);

    const Upstream& app = config->upstreams[0];
    CHECK(app.name == "app");
    REQUIRE(app.endpoints.size() == 3);
    CHECK(app.endpoints[0].address.toString() == "127.0.0.1:9001");
    CHECK(app.endpoints[0].weight == 1u);
    CHECK(app.endpoints[1].address.toString() == "127.0.0.1:9002");
    CHECK(app.endpoints[1].weight == 3u);
    CHECK(app.endpoints[2].address.toString() == "[::1]:9003");
    CHECK(app.endpoints[2].weight == 1u);
    CHECK(app.balancer.use == "lb.least_request");
    REQUIRE(app.balancer.table != nullptr);
    // The whole inline table, `use` included, with its file, for the plugin's config_new.
    CHECK(app.balancer.table->file == file);
    CHECK(app.balancer.table->table["use"].value<std::string>() == "lb.least_request");
    CHECK(app.balancer.table->table["choices"].value<int64_t>() == 2);
    CHECK(app.balancer.table->table["mode"]["fast"].value<bool>() == true);
    const toml::node& choices = *app.balancer.table->table.get("choices");
    CHECK(app.balancer.table->place(choices).begin.line == 7);
    CHECK(app.balancer.table->place(choices).begin.column == 50);
    CHECK(app.hash_key.source == HashKey::Source::Header);
    CHECK(app.hash_key.name == "x-user-id");  // stored lower-case
    CHECK(app.health.enabled == true);
    CHECK(app.health.path == "/healthz?full=1");
    CHECK(app.health.host == "App.internal:8080");
    CHECK(app.health.status_min == 204u);
    CHECK(app.health.status_max == 204u);
    CHECK(app.health.interval == Duration(10'000));
    CHECK(app.health.timeout == Duration(1'000));
    CHECK(app.health.rise == 1u);
    CHECK(app.health.fall == 5u);
    CHECK(app.outlier.consecutive_failures == 0u);
    CHECK(app.outlier.base_ejection == Duration(30'000));
    CHECK(app.outlier.max_ejection == Duration(30'000));
    CHECK(app.outlier.max_ejected_percent == 100u);
    CHECK(app.slow_start == Duration(60'000));

    const Upstream& ip = config->upstreams[1];
    CHECK(ip.name == "ip");
    CHECK(ip.balancer.use == "maglev");
    CHECK(ip.hash_key.source == HashKey::Source::ClientIp);
    CHECK(ip.hash_key.name == "");
    CHECK(ip.health.enabled == true);  // an empty table turns checks on, with every default
    CHECK(ip.health.path == "/");
    CHECK(ip.health.status_min == 200u);
    CHECK(ip.health.status_max == 399u);
    CHECK(ip.slow_start == Duration(0));

    const Upstream& web = config->upstreams[2];
    CHECK(web.name == "web");
    REQUIRE(web.endpoints.size() == 2);
    CHECK(web.endpoints[0].address.toString() == "127.0.0.1:9004");  // "localhost", resolved at load time
    CHECK(web.endpoints[0].weight == 1000u);
    CHECK(web.endpoints[1].address.toString() == "127.0.0.1:9005");
    CHECK(web.endpoints[1].weight == 1u);
    CHECK(web.balancer.use == "ring_hash");
    REQUIRE(web.balancer.table != nullptr);
    CHECK(web.balancer.table->table.size() == 1);
    CHECK(web.hash_key.source == HashKey::Source::Cookie);
    CHECK(web.hash_key.name == "Session_ID");  // cookie names are case-sensitive
    CHECK(web.health.enabled == true);
    CHECK(web.health.status_min == 200u);
    CHECK(web.health.status_max == 299u);
    CHECK(web.health.interval == Duration(5'000));
    CHECK(web.outlier.consecutive_failures == 1000u);
    CHECK(web.outlier.base_ejection == Duration(10'000));
    CHECK(web.outlier.max_ejected_percent == 0u);

    REQUIRE(config->routes.size() == 3);
    const RetryPolicy& app_retry = config->routes[0].retry;
    CHECK(app_retry.attempts == 10u);
    CHECK(app_retry.on_connect_failure == false);  // `on` replaces the default set
    CHECK(app_retry.on_reset == true);
    CHECK(app_retry.on_timeout == true);
    CHECK(app_retry.statuses == std::vector<uint16_t>{503, 429});
    CHECK(app_retry.non_idempotent == true);
    CHECK(app_retry.per_try_timeout == Duration(250));
    CHECK(app_retry.budget_percent == 100u);
    CHECK(app_retry.min_retries_per_second == 0u);

    const RetryPolicy& web_retry = config->routes[1].retry;
    CHECK(web_retry.attempts == 1u);
    CHECK(web_retry.on_connect_failure == false);
    CHECK(web_retry.on_reset == false);
    CHECK(web_retry.on_timeout == false);
    CHECK(web_retry.statuses.empty());
    CHECK(web_retry.per_try_timeout == Duration(0));

    const RetryPolicy& ip_retry = config->routes[2].retry;
    CHECK(ip_retry.attempts == 3u);
    CHECK(ip_retry.on_connect_failure == true);
    CHECK(ip_retry.on_reset == false);
    CHECK(ip_retry.on_timeout == false);
    CHECK(ip_retry.statuses == std::vector<uint16_t>{599, 500});
    CHECK(ip_retry.budget_percent == 0u);
    CHECK(ip_retry.min_retries_per_second == 1000u);
}

TEST_CASE("config upstreams: a misspelt key is unknown, with the closest known key") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto result = load_text(dir, upstream_with("balancr = { use = \"x\" }\nhelth = {}\nslowstart = \"1s\"\n") +
                                     "[[route]]\nupstream = \"app\"\nretyr = { attempts = 2 }\n");
    CHECK(rendered(result) == std::vector<std::string>{
                                  file + ":7:1: unknown key 'upstream.app.balancr' (did you mean 'balancer'?)",
                                  file + ":8:1: unknown key 'upstream.app.helth' (did you mean 'health'?)",
                                  file + ":9:1: unknown key 'upstream.app.slowstart' (did you mean 'slow_start'?)",
                                  file + ":12:1: unknown key 'route.retyr' (did you mean 'retry'?)",
                              });
}

TEST_CASE("config upstreams: endpoint tables") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto result = load_text(dir, std::string(kUpstreamHead) +
                                     "balancer = { use = \"wrr\" }\n"
                                     "endpoints = [\n"
                                     "  { address = \"127.0.0.1:1\", weight = 0 },\n"
                                     "  { address = \"127.0.0.1:2\", weight = 1001 },\n"
                                     "  { address = \"127.0.0.1:3\", wieght = 2 },\n"
                                     "  { weight = 2 },\n"
                                     "  { address = \"a:0\" },\n"
                                     "  { address = \"nosuch.invalid:80\" },\n"
                                     "  { address = 80 },\n"
                                     "  { address = \"127.0.0.1:4\", weight = \"2\" },\n"
                                     "  true,\n"
                                     "]\n");
    auto lines = rendered(result);
    CHECK(result.config == nullptr);
    REQUIRE_MESSAGE(lines.size() == 9, joined(lines));
    CHECK(lines[0] == file + ":8:30: 'upstream.app.endpoints.weight' must be between 1 and 1000, not 0");
    CHECK(lines[1] == file + ":9:30: 'upstream.app.endpoints.weight' must be between 1 and 1000, not 1001");
    CHECK(lines[2] == file + ":10:30: unknown key 'upstream.app.endpoints.wieght' (did you mean 'weight'?)");
    CHECK(lines[3] == file +
                          ":11:3: 'upstream.app.endpoints.address' is missing: an endpoint table needs one, like "
                          "{ address = \"10.0.0.1:8080\", weight = 2 }");
    CHECK(lines[4] == file +
                          ":12:5: 'upstream.app.endpoints.address' \"a:0\" must be \"host:port\" or "
                          "\"[IPv6]:port\" with a port 1..65535");
    CHECK(starts_with_text(lines[5], file + ":13:5: 'upstream.app.endpoints.address' \"nosuch.invalid:80\": "
                                            "cannot resolve host \"nosuch.invalid\""));
    CHECK(lines[6] == file + ":14:5: 'upstream.app.endpoints.address' must be a string, not an integer");
    CHECK(lines[7] == file + ":15:30: 'upstream.app.endpoints.weight' must be an integer, not a string");
    CHECK(lines[8] == file +
                          ":16:3: 'upstream.app.endpoints' entries must be \"host:port\" strings or tables like "
                          "{ address = \"host:port\", weight = 2 }, not a boolean");
}

TEST_CASE("config upstreams: weights need a balancer") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, std::string(kUpstreamHead) +
                                          "endpoints = [\"127.0.0.1:1\", { address = \"127.0.0.1:2\", weight = 2 }]"
                                          "\n")) ==
          file +
              ":6:1: 'upstream.app.endpoints' sets weights, but the built-in round robin ignores them: add a "
              "balancer that uses them, like balancer = { use = \"round_robin\" }");
    // Weight 1 written out is the default: nothing to ignore.
    auto result =
        load_text(dir, std::string(kUpstreamHead) + "endpoints = [{ address = \"127.0.0.1:1\", weight = 1 }]\n");
    CHECK_MESSAGE(result.problems.empty(), joined(rendered(result)));
    // A broken balancer is reported once, not again through the weights.
    CHECK(only_problem(load_text(dir, std::string(kUpstreamHead) +
                                          "endpoints = [{ address = \"127.0.0.1:1\", weight = 5 }]\n"
                                          "balancer = { use = \"\" }\n")) ==
          file +
              ":7:14: 'upstream.app.balancer.use' must name a balancer factory (\"factory\" or "
              "\"plugin.factory\"), not \"\"");
}

TEST_CASE("config upstreams: balancer") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, upstream_with("balancer = \"least_request\"\n"))) ==
          file + ":7:1: 'upstream.app.balancer' must be a table like { use = \"least_request\" }, not a string");
    CHECK(only_problem(load_text(dir, upstream_with("balancer = { choices = 2 }\n"))) ==
          file +
              ":7:12: 'upstream.app.balancer.use' is missing: a balancer needs the name of a balancer factory, "
              "like { use = \"least_request\" }");
    CHECK(only_problem(load_text(dir, upstream_with("balancer = { use = 1 }\n"))) ==
          file + ":7:14: 'upstream.app.balancer.use' must be a string, not an integer");
    CHECK(only_problem(load_text(dir, upstream_with("[upstream.app.balancer]\nuse = \"\"\n"))) ==
          file +
              ":8:1: 'upstream.app.balancer.use' must name a balancer factory (\"factory\" or "
              "\"plugin.factory\"), not \"\"");
    // The other keys are the plugin's: not checked here.
    auto result = load_text(dir, upstream_with("balancer = { use = \"p2c\", chioces = \"x\" }\n"));
    CHECK_MESSAGE(result.problems.empty(), joined(rendered(result)));
}

TEST_CASE("config upstreams: hash_key") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    const std::string form =
        "' must be \"client_ip\", \"header:NAME\" or \"cookie:NAME\" (NAME: letters, digits and "
        "!#$%&'*+-.^_`|~), not ";
    for (const char* bad :
         {"ip", "client-ip", "header:", "header:X User", "cookie:", "cookie:a=b", "Header:x", ""}) {
        CAPTURE(bad);
        CHECK(only_problem(load_text(dir, balanced_upstream_with(std::string("hash_key = \"") + bad + "\"\n"))) ==
              file + ":8:1: 'upstream.app.hash_key" + form + "\"" + bad + "\"");
    }
    CHECK(only_problem(load_text(dir, balanced_upstream_with("hash_key = 1\n"))) ==
          file + ":8:1: 'upstream.app.hash_key' must be a string, not an integer");
    CHECK(only_problem(load_text(dir, upstream_with("hash_key = \"client_ip\"\n"))) ==
          file +
              ":7:1: 'upstream.app.hash_key' needs a hashing balancer (set 'balancer'): the built-in round robin "
              "does not hash");
}

TEST_CASE("config upstreams: health") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto health = [&](const std::string& table) {
        return only_problem(load_text(dir, upstream_with("health = { " + table + " }\n")));
    };
    CHECK(health("path = \"healthz\"") ==
          file + ":7:12: 'upstream.app.health.path' must start with \"/\", not \"healthz\"");
    CHECK(health("path = \"/a b\"") ==
          file +
              ":7:12: 'upstream.app.health.path' must not contain spaces, control characters or non-ASCII bytes, "
              "not \"/a b\"");
    CHECK(health("path = \"/a#b\"") ==
          file + ":7:12: 'upstream.app.health.path' must not contain '#' (a fragment is never sent), not \"/a#b\"");
    for (const char* bad : {"a b", "http://x", "x/y", "[::1", "::1", "x:", "x:99999"}) {
        CAPTURE(bad);
        CHECK(health(std::string("host = \"") + bad + "\"") ==
              file +
                  ":7:12: 'upstream.app.health.host' must be a host name or address, with an optional port "
                  "(\"example.com\", \"10.0.0.1:8080\", \"[::1]\"), not \"" +
                  bad + "\"");
    }
    for (const char* good :
         {"", "example.com", "example.com:8080", "10.0.0.1", "10.0.0.1:80", "[::1]", "[::1]:80"}) {
        CAPTURE(good);
        auto result = load_text(dir, upstream_with(std::string("health = { host = \"") + good + "\" }\n"));
        CHECK_MESSAGE(result.problems.empty(), joined(rendered(result)));
    }
    for (const char* bad : {"2xx", "99", "600", "200-", "-399", "200-600", "200 - 399", "0200", ""}) {
        CAPTURE(bad);
        CHECK(health(std::string("expect = \"") + bad + "\"") ==
              file +
                  ":7:12: 'upstream.app.health.expect' must be a status code \"NNN\" or a range \"NNN-NNN\" of "
                  "codes 100..599, not \"" +
                  bad + "\"");
    }
    CHECK(health("expect = \"399-200\"") ==
          file + ":7:12: 'upstream.app.health.expect' must be a range from low to high, not \"399-200\"");
    CHECK(health("expect = 200") ==
          file +
              ":7:12: 'upstream.app.health.expect' must be a string like \"200\" or \"200-399\", not an integer");
    CHECK(health("rise = 0") == file + ":7:12: 'upstream.app.health.rise' must be between 1 and 100, not 0");
    CHECK(health("fall = 101") == file + ":7:12: 'upstream.app.health.fall' must be between 1 and 100, not 101");
    CHECK(health("interval = \"0s\"") ==
          file + ":7:12: 'upstream.app.health.interval' must be greater than 0 and at most 365d, not \"0s\"");
    CHECK(health("intervall = \"1s\"") ==
          file + ":7:12: unknown key 'upstream.app.health.intervall' (did you mean 'interval'?)");
    CHECK(only_problem(load_text(dir, upstream_with("health = true\n"))) ==
          file + ":7:1: 'upstream.app.health' must be a table, not a boolean");
}

TEST_CASE("config upstreams: a health check's timeout must be below its interval") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto health = [&](const std::string& table) {
        return only_problem(load_text(dir, upstream_with("health = { " + table + " }\n")));
    };
    // At the timeout when it is set, else at the interval; a default is named as such.
    CHECK(health("interval = \"2s\", timeout = \"2s\"") ==
          file +
              ":7:29: 'upstream.app.health.timeout' (2s) must be shorter than 'upstream.app.health.interval' (2s)");
    CHECK(health("timeout = \"10s\"") ==
          file +
              ":7:12: 'upstream.app.health.timeout' (10s) must be shorter than 'upstream.app.health.interval' (5s, "
              "the default)");
    CHECK(health("interval = \"1500ms\"") ==
          file +
              ":7:12: 'upstream.app.health.timeout' (2s, the default) must be shorter than "
              "'upstream.app.health.interval' (1500ms)");
    auto result = load_text(dir, upstream_with("health = { interval = \"1s\", timeout = \"999ms\" }\n"));
    CHECK_MESSAGE(result.problems.empty(), joined(rendered(result)));
}

TEST_CASE("config upstreams: outlier") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto outlier = [&](const std::string& lines) {
        return only_problem(load_text(dir, upstream_with("[upstream.app.outlier]\n" + lines)));
    };
    CHECK(outlier("consecutive_failures = 1001\n") ==
          file + ":8:1: 'upstream.app.outlier.consecutive_failures' must be between 0 and 1000, not 1001");
    CHECK(outlier("consecutive_failures = -1\n") ==
          file + ":8:1: 'upstream.app.outlier.consecutive_failures' must be between 0 and 1000, not -1");
    CHECK(outlier("max_ejected_percent = 101\n") ==
          file + ":8:1: 'upstream.app.outlier.max_ejected_percent' must be between 0 and 100, not 101");
    CHECK(outlier("base_ejection = \"0s\"\n") ==
          file + ":8:1: 'upstream.app.outlier.base_ejection' must be greater than 0 and at most 365d, not \"0s\"");
    CHECK(
        outlier("base_ejection = \"1m\"\nmax_ejection = \"30s\"\n") ==
        file +
            ":9:1: 'upstream.app.outlier.max_ejection' (30s) must be at least 'upstream.app.outlier.base_ejection' "
            "(1m)");
    CHECK(outlier("base_ejection = \"10m\"\n") ==
          file +
              ":8:1: 'upstream.app.outlier.max_ejection' (5m, the default) must be at least "
              "'upstream.app.outlier.base_ejection' (10m)");
    CHECK(
        outlier("max_ejection = \"5s\"\n") ==
        file +
            ":8:1: 'upstream.app.outlier.max_ejection' (5s) must be at least 'upstream.app.outlier.base_ejection' "
            "(10s, the default)");
    CHECK(outlier("base_ejections = \"1s\"\n") ==
          file + ":8:1: unknown key 'upstream.app.outlier.base_ejections' (did you mean 'base_ejection'?)");
    CHECK(only_problem(load_text(dir, upstream_with("outlier = 5\n"))) ==
          file + ":7:1: 'upstream.app.outlier' must be a table, not an integer");
}

TEST_CASE("config upstreams: slow_start") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, balanced_upstream_with("slow_start = 30\n"))) ==
          file +
              ":8:1: 'upstream.app.slow_start' must be a duration (a string like \"500ms\", \"10s\", \"5m\", "
              "\"1h\" or \"7d\"), not an integer");
    CHECK(only_problem(load_text(dir, balanced_upstream_with("slow_start = \"-1s\"\n"))) ==
          file +
              ":8:1: 'upstream.app.slow_start' must be a duration (a string like \"500ms\", \"10s\", \"5m\", "
              "\"1h\" or \"7d\"), not \"-1s\"");
    CHECK(only_problem(load_text(dir, balanced_upstream_with("slow_start = \"8761h\"\n"))) ==
          file + ":8:1: 'upstream.app.slow_start' must be at most 365d, not \"8761h\"");
    // It ramps weights, which only a balancer reads; off needs none.
    CHECK(only_problem(load_text(dir, upstream_with("slow_start = \"30s\"\n"))) ==
          file +
              ":7:1: 'upstream.app.slow_start' ramps weights up, but the built-in round robin ignores weights: add "
              "a balancer that uses them, like balancer = { use = \"round_robin\" }");
    auto result = load_text(dir, upstream_with("slow_start = \"0ms\"\n"));
    CHECK_MESSAGE(result.problems.empty(), joined(rendered(result)));
}

TEST_CASE("config upstreams: a route's retry") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto retry = [&](const std::string& table) {
        return only_problem(load_text(dir, std::string(kRouteHead) + "retry = { " + table + " }\n"));
    };
    CHECK(only_problem(load_text(dir, std::string(kRouteHead) + "retry = 3\n")) ==
          file + ":7:1: 'route.retry' must be a table like { attempts = 3 }, not an integer");
    CHECK(retry("attempts = 0") == file + ":7:11: 'route.retry.attempts' must be between 1 and 10, not 0");
    CHECK(retry("attempts = 11") == file + ":7:11: 'route.retry.attempts' must be between 1 and 10, not 11");
    CHECK(retry("budget_percent = 101") ==
          file + ":7:11: 'route.retry.budget_percent' must be between 0 and 100, not 101");
    CHECK(retry("min_retries_per_second = 1001") ==
          file + ":7:11: 'route.retry.min_retries_per_second' must be between 0 and 1000, not 1001");
    CHECK(retry("non_idempotent = \"yes\"") ==
          file + ":7:11: 'route.retry.non_idempotent' must be a boolean (true or false), not a string");
    CHECK(
        retry("per_try_timeout = \"2\"") ==
        file +
            ":7:11: 'route.retry.per_try_timeout' must be a duration (a string like \"500ms\", \"10s\", \"5m\", "
            "\"1h\" or \"7d\"), not \"2\"");
    CHECK(retry("attempt = 2") == file + ":7:11: unknown key 'route.retry.attempt' (did you mean 'attempts'?)");
    CHECK(retry("on = \"503\"") == file +
                                       ":7:11: 'route.retry.on' must be an array like [\"connect-failure\", "
                                       "\"reset\", \"503\"], not a string");
}

TEST_CASE("config upstreams: a route's retry.on") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto result =
        load_text(dir, std::string(kRouteHead) +
                           "retry = { on = [503, \"connect_failure\", \"200\", \"600\", \"50\", \"5033\", "
                           "\"reset\", \"reset\", \"Timeout\"] }\n");
    const std::string accepted =
        " must be \"connect-failure\", \"reset\", \"timeout\" or a status code \"400\"..\"599\"";
    CHECK(rendered(result) ==
          std::vector<std::string>{
              file + ":7:17: 'route.retry.on' entries must be strings like \"reset\" or \"503\", not an integer",
              file + ":7:22: 'route.retry.on' entry \"connect_failure\"" + accepted +
                  " (did you mean 'connect-failure'?)",
              file + ":7:41: 'route.retry.on' entry \"200\"" + accepted,
              file + ":7:48: 'route.retry.on' entry \"600\"" + accepted,
              file + ":7:55: 'route.retry.on' entry \"50\"" + accepted,
              file + ":7:61: 'route.retry.on' entry \"5033\"" + accepted,
              file + ":7:78: 'route.retry.on' lists \"reset\" twice",
              file + ":7:87: 'route.retry.on' entry \"Timeout\"" + accepted + " (did you mean 'timeout'?)",
          });
    // Nothing to retry on, yet more than one attempt: said at `on`.
    CHECK(only_problem(load_text(dir, std::string(kRouteHead) + "retry = { on = [] }\n")) ==
          file +
              ":7:11: 'route.retry.on' is empty, so nothing would be retried: list what to retry on, or set "
              "attempts = 1 to turn retries off");
    // A budget of nothing is allowed: no retry is ever made (each refusal is logged).
    auto no_budget =
        load_text(dir, std::string(kRouteHead) + "retry = { budget_percent = 0, min_retries_per_second = 0 }\n");
    CHECK_MESSAGE(no_budget.problems.empty(), joined(rendered(no_budget)));
    auto off =
        load_text(dir, std::string(kRouteHead) +
                           "retry = { attempts = 1, on = [], budget_percent = 0, min_retries_per_second = 0 }\n");
    CHECK_MESSAGE(off.problems.empty(), joined(rendered(off)));
    auto edges = load_text(dir, std::string(kRouteHead) + "retry = { on = [\"400\", \"599\"] }\n");
    CHECK_MESSAGE(edges.problems.empty(), joined(rendered(edges)));
}

}  // namespace
}  // namespace portico::config
