// config::load on valid configurations: the defaults of config.h, a complete example, the repository's own
// default configuration.
#include "test_config_support.h"

namespace portico::config {
namespace {

using testing::joined;
using testing::kMinimal;
using testing::load_text;
using testing::rendered;
using testing::TempDir;

// The repository root: from a compile definition when the build gives one, else from this file's path.
// (__FILE__ is relative when the compiler was given a relative path: then run the tests from the root.)
std::filesystem::path source_root() {
#ifdef PORTICO_SOURCE_DIR
    std::filesystem::path root = PORTICO_SOURCE_DIR;
#else
    std::filesystem::path root = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
#endif
    REQUIRE_MESSAGE(std::filesystem::exists(root / "conf.d"),
                    "no conf.d/ under '" << root.string() << "': run from the repository root");
    return root;
}

const Config& loaded(const LoadResult& result) {
    REQUIRE_MESSAGE(result.problems.empty(), joined(rendered(result)));
    REQUIRE(result.config != nullptr);
    return *result.config;
}

TEST_CASE("config load: absent keys take the defaults of config.h") {
    TempDir dir;
    std::string file = dir.write("portico.toml", kMinimal);
    auto result = load(file);
    const Config& config = loaded(result);
    CHECK(config.main_file == file);

    const Server& server = config.server;
    CHECK(server.workers == 0);
    CHECK(server.drain_timeout == Duration(30'000));
    CHECK(server.pass_server_header == false);
    CHECK(server.via_name == "portico");
    CHECK(server.request_id_header == "X-Request-Id");
    CHECK(server.access_log.path == "stdout");
    CHECK(server.access_log.format == "combined");
    CHECK(server.error_log.path == "stderr");
    CHECK(server.error_log.level == "information");

    const Timeouts& t = config.timeouts;
    CHECK(t.client_header == Duration(10'000));
    CHECK(t.client_body == Duration(60'000));
    CHECK(t.client_idle == Duration(60'000));
    CHECK(t.client_send == Duration(60'000));
    CHECK(t.upstream_connect == Duration(5'000));
    CHECK(t.upstream_response == Duration(60'000));
    CHECK(t.upstream_read == Duration(60'000));
    CHECK(t.upstream_idle == Duration(60'000));
    CHECK(t.tunnel_idle == Duration(300'000));

    const Limits& limits = config.limits;
    CHECK(limits.head.max_request_line == 8u * 1024);
    CHECK(limits.head.max_head_size == 16u * 1024);
    CHECK(limits.head.max_headers == 100u);
    CHECK(limits.max_body_size == 1ull << 30);
    CHECK(limits.buffer_size == 32u * 1024);
    CHECK(limits.max_connections == 0u);

    REQUIRE(config.listeners.size() == 1);
    CHECK(config.listeners[0].name == "http");
    CHECK(config.listeners[0].address.toString() == "127.0.0.1:0");
    CHECK(config.listeners[0].backlog == 4096);

    REQUIRE(config.upstreams.size() == 1);
    const Upstream& app = config.upstreams[0];
    CHECK(app.keepalive == 64u);
    CHECK(app.connect_timeout == t.upstream_connect);
    CHECK(app.response_timeout == t.upstream_response);

    REQUIRE(config.routes.size() == 1);
    const Route& route = config.routes[0];
    CHECK(route.match.host == "");
    CHECK(route.match.path == "");
    CHECK(route.match.prefix == "/");  // neither path nor prefix: every path
    CHECK(route.upstream == "app");
    CHECK(route.upstream_index == 0u);
    CHECK(route.max_body_size == limits.max_body_size);
}

TEST_CASE("config load: upstream and route defaults follow [timeouts] and [limits]") {
    TempDir dir;
    auto result = load_text(dir, std::string(kMinimal) + R"(
[timeouts]
upstream_connect = "2s"
upstream_response = "90s"
[limits]
max_body_size = "5MiB"
)");
    const Config& config = loaded(result);
    CHECK(config.upstreams[0].connect_timeout == Duration(2'000));
    CHECK(config.upstreams[0].response_timeout == Duration(90'000));
    CHECK(config.routes[0].max_body_size == 5u << 20);
}

const char kFullExample[] = R"(
[server]
workers = 4
drain_timeout = "45s"
pass_server_header = true
via = "edge-1"
request_id_header = "X-Trace-Id"
access_log = { path = "/var/log/portico/access.log", format = "json" }
error_log = { path = "/var/log/portico/error.log", level = "debug" }

[timeouts]
client_header = "5s"
client_body = "30s"
client_idle = "75s"
client_send = "20s"
upstream_connect = "1500ms"
upstream_response = "2m"
upstream_read = "90s"
upstream_idle = "30s"
tunnel_idle = "1h"

[limits]
max_request_line = "4KiB"
max_header_size = "24KiB"
max_headers = 64
max_body_size = "100MiB"
buffer_size = "64KiB"
max_connections = 10000

[listener.public]
bind = "0.0.0.0:80"
backlog = 1024

[listener.admin]
bind = "[::1]:8081"

[upstream.web]
endpoints = ["127.0.0.1:9001", "127.0.0.1:9002", "localhost:9003"]
keepalive = 16
connect_timeout = "1s"
response_timeout = "10s"

[upstream.api]
endpoints = ["[::1]:7000"]

[[route]]
match = { host = "API.Example.com", prefix = "/v1/" }
upstream = "api"
max_body_size = "10MiB"

[[route]]
upstream = "web"
[route.match]
host = "*.example.com"
path = "/login"

[[route]]
upstream = "web"
)";

TEST_CASE("config load: a complete example reads into the right values") {
    TempDir dir;
    auto result = load_text(dir, kFullExample);
    const Config& config = loaded(result);

    CHECK(config.server.workers == 4);
    CHECK(config.server.drain_timeout == Duration(45'000));
    CHECK(config.server.pass_server_header == true);
    CHECK(config.server.via_name == "edge-1");
    CHECK(config.server.request_id_header == "X-Trace-Id");
    CHECK(config.server.access_log.path == "/var/log/portico/access.log");
    CHECK(config.server.access_log.format == "json");
    CHECK(config.server.error_log.path == "/var/log/portico/error.log");
    CHECK(config.server.error_log.level == "debug");

    CHECK(config.timeouts.client_header == Duration(5'000));
    CHECK(config.timeouts.client_body == Duration(30'000));
    CHECK(config.timeouts.client_idle == Duration(75'000));
    CHECK(config.timeouts.client_send == Duration(20'000));
    CHECK(config.timeouts.upstream_connect == Duration(1'500));
    CHECK(config.timeouts.upstream_response == Duration(120'000));
    CHECK(config.timeouts.upstream_read == Duration(90'000));
    CHECK(config.timeouts.upstream_idle == Duration(30'000));
    CHECK(config.timeouts.tunnel_idle == Duration(3'600'000));

    CHECK(config.limits.head.max_request_line == 4u * 1024);
    CHECK(config.limits.head.max_head_size == 24u * 1024);
    CHECK(config.limits.head.max_headers == 64u);
    CHECK(config.limits.max_body_size == 100u << 20);
    CHECK(config.limits.buffer_size == 64u * 1024);
    CHECK(config.limits.max_connections == 10000u);

    // In name order, whatever the order in the file.
    REQUIRE(config.listeners.size() == 2);
    CHECK(config.listeners[0].name == "admin");
    CHECK(config.listeners[0].address.toString() == "[::1]:8081");
    CHECK(config.listeners[0].backlog == 4096);
    CHECK(config.listeners[1].name == "public");
    CHECK(config.listeners[1].address.toString() == "0.0.0.0:80");
    CHECK(config.listeners[1].backlog == 1024);

    REQUIRE(config.upstreams.size() == 2);
    const Upstream& api = config.upstreams[0];
    CHECK(api.name == "api");
    REQUIRE(api.endpoints.size() == 1);
    CHECK(api.endpoints[0].address.toString() == "[::1]:7000");
    CHECK(api.keepalive == 64u);
    CHECK(api.connect_timeout == Duration(1'500));
    CHECK(api.response_timeout == Duration(120'000));
    const Upstream& web = config.upstreams[1];
    CHECK(web.name == "web");
    REQUIRE(web.endpoints.size() == 3);
    CHECK(web.endpoints[0].address.toString() == "127.0.0.1:9001");
    CHECK(web.endpoints[1].address.toString() == "127.0.0.1:9002");
    CHECK(web.endpoints[2].address.toString() == "127.0.0.1:9003");  // "localhost", resolved at load time
    CHECK(web.keepalive == 16u);
    CHECK(web.connect_timeout == Duration(1'000));
    CHECK(web.response_timeout == Duration(10'000));

    REQUIRE(config.routes.size() == 3);
    CHECK(config.routes[0].match.host == "api.example.com");  // stored lowercased
    CHECK(config.routes[0].match.prefix == "/v1/");
    CHECK(config.routes[0].match.path == "");
    CHECK(config.routes[0].upstream == "api");
    CHECK(config.routes[0].upstream_index == 0u);
    CHECK(config.routes[0].max_body_size == 10u << 20);
    CHECK(config.routes[1].match.host == "*.example.com");
    CHECK(config.routes[1].match.path == "/login");
    CHECK(config.routes[1].match.prefix == "");
    CHECK(config.routes[1].upstream_index == 1u);
    CHECK(config.routes[1].max_body_size == 100u << 20);
    CHECK(config.routes[2].match.prefix == "/");
    CHECK(config.routes[2].upstream_index == 1u);
}

TEST_CASE("config load: route hosts are normalized as the router compares them") {
    TempDir dir;
    auto result = load_text(dir, std::string(kMinimal) + R"(
[[route]]
match = { host = "Example.COM." }
upstream = "app"
[[route]]
match = { host = "[::1]" }
upstream = "app"
[[route]]
match = { host = "10.0.0.1" }
upstream = "app"
)");
    const Config& config = loaded(result);
    REQUIRE(config.routes.size() == 4);
    CHECK(config.routes[1].match.host == "example.com");
    CHECK(config.routes[2].match.host == "[::1]");
    CHECK(config.routes[3].match.host == "10.0.0.1");
}

TEST_CASE("config load: the repository's default conf.d loads cleanly") {
    auto result = load((source_root() / "conf.d").string());
    const Config& config = loaded(result);
    REQUIRE(config.listeners.size() == 1);
    CHECK(config.listeners[0].name == "http");
    CHECK(config.listeners[0].address.toString() == "0.0.0.0:8080");
    REQUIRE(config.upstreams.size() == 1);
    CHECK(config.upstreams[0].name == "demo");
    REQUIRE(config.upstreams[0].endpoints.size() == 2);
    CHECK(config.upstreams[0].endpoints[0].address.toString() == "127.0.0.1:9001");
    CHECK(config.upstreams[0].endpoints[1].address.toString() == "127.0.0.1:9002");
    REQUIRE(config.routes.size() == 1);
    CHECK(config.routes[0].match.prefix == "/");
    CHECK(config.routes[0].upstream == "demo");
}

TEST_CASE("config load: the installed layout (packaging/portico.toml beside conf.d/) loads cleanly") {
    // As `cmake --install` lays it out in /etc/portico.
    TempDir dir;
    std::filesystem::copy_file(source_root() / "packaging" / "portico.toml", dir.path("portico.toml"));
    std::filesystem::copy(source_root() / "conf.d", dir.path("conf.d"));
    auto result = load(dir.path("portico.toml"));
    const Config& config = loaded(result);
    CHECK(config.listeners.size() == 1);
    CHECK(config.upstreams.size() == 1);
    CHECK(config.routes.size() == 1);
}

}  // namespace
}  // namespace portico::config
