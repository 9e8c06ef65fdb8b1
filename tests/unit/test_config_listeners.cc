// config::load on a listener's TLS-related keys: `transport`, `redirect_https` and `hsts`, and an upstream's
// `transport`. Values read back, defaults, and every problem at its FILE:LINE:COL. (The plugin checks the keys
// inside `transport`; its tests are in plugins/tls/tests.)
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

std::shared_ptr<const Config> loaded(LoadResult result) {
    REQUIRE_MESSAGE(result.problems.empty(), joined(rendered(result)));
    REQUIRE(result.config != nullptr);
    return result.config;
}

// Lines 1-5 are the upstream and route; [listener.web] is line 6 and what a test adds starts at line 7.
std::string listener_with(const std::string& lines) {
    return "[upstream.app]\nendpoints = [\"127.0.0.1:9001\"]\n[[route]]\nupstream = \"app\"\n\n"
           "[listener.web]\nbind = \"127.0.0.1:0\"\n" +
           lines;
}

const char kTls[] = "transport = { use = \"tls\", certificates = [] }\n";

TEST_CASE("config listeners: plain by default, without redirect or HSTS") {
    TempDir dir;
    auto config = loaded(load_text(dir, kMinimal));
    const Listener& http = config->listeners[0];
    CHECK(http.transport.use == "");
    CHECK(http.transport.table == nullptr);
    CHECK(http.redirect_https == 0);
    CHECK(http.hsts == "");
    CHECK(config->upstreams[0].transport.use == "");
}

TEST_CASE("config listeners: transport is kept whole for the plugin") {
    TempDir dir;
    auto config = loaded(load_text(dir, listener_with(kTls)));
    const Listener& web = config->listeners[0];
    CHECK(web.transport.use == "tls");
    REQUIRE(web.transport.table != nullptr);
    CHECK(web.transport.table->table.contains("certificates"));
    CHECK(web.transport.table->table.contains("use"));

    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, listener_with("transport = \"tls\"\n"))) ==
          file + ":8:1: 'listener.web.transport' must be a table like { use = \"tls\" }, not a string");
    CHECK(only_problem(load_text(dir, listener_with("transport = { certificates = [] }\n"))) ==
          file + ":8:13: 'listener.web.transport.use' is missing: a transport needs the name of a transport "
                 "factory, like { use = \"tls\" }");
}

TEST_CASE("config listeners: an upstream's transport") {
    TempDir dir;
    auto config = loaded(load_text(
        dir, "[listener.http]\nbind = \"127.0.0.1:0\"\n[[route]]\nupstream = \"app\"\n[upstream.app]\n"
             "endpoints = [\"127.0.0.1:9001\"]\ntransport = { use = \"tls\", sni = \"app.internal\" }\n"));
    const Upstream& app = config->upstreams[0];
    CHECK(app.transport.use == "tls");
    REQUIRE(app.transport.table != nullptr);
    CHECK(app.transport.table->table.contains("sni"));
}

TEST_CASE("config listeners: redirect_https") {
    TempDir dir;
    CHECK(loaded(load_text(dir, listener_with("redirect_https = true\n")))->listeners[0].redirect_https == 443);
    CHECK(loaded(load_text(dir, listener_with("redirect_https = false\n")))->listeners[0].redirect_https == 0);
    CHECK(loaded(load_text(dir, listener_with("redirect_https = 8443\n")))->listeners[0].redirect_https == 8443);

    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, listener_with("redirect_https = 70000\n"))) ==
          file + ":8:1: 'listener.web.redirect_https' must be between 1 and 65535, not 70000");
    CHECK(only_problem(load_text(dir, listener_with("redirect_https = \"yes\"\n"))) ==
          file + ":8:1: 'listener.web.redirect_https' must be an integer, not a string");
    CHECK(only_problem(load_text(dir, listener_with(std::string(kTls) + "redirect_https = true\n"))) ==
          file + ":9:1: 'listener.web.redirect_https' is for plain listeners; this one has a transport (a TLS "
                 "listener needs no redirect: remove one of the two)");
}

TEST_CASE("config listeners: hsts") {
    TempDir dir;
    auto hsts_of = [&](const std::string& table) {
        return loaded(load_text(dir, listener_with(std::string(kTls) + "hsts = " + table + "\n")))->listeners[0].hsts;
    };
    CHECK(hsts_of("{}") == "max-age=31536000");
    CHECK(hsts_of("{ max_age = \"730d\", include_subdomains = true }") == "max-age=63072000; includeSubDomains");
    CHECK(hsts_of("{ max_age = 600, preload = true }") == "max-age=600; preload");
    CHECK(hsts_of("{ max_age = \"0s\" }") == "max-age=0");  // how a site takes HSTS back (RFC 6797 6.1.1)

    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, listener_with("hsts = {}\n"))) ==
          file + ":8:1: 'listener.web.hsts' needs a TLS listener (browsers ignore it over plain HTTP): add a "
                 "transport");
    CHECK(only_problem(load_text(dir, listener_with(std::string(kTls) + "hsts = { max_age = \"forever\" }\n"))) ==
          file + ":9:10: 'listener.web.hsts.max_age' must be a duration up to \"3650d\" or an integer of seconds, "
                 "not \"forever\"");
    CHECK(only_problem(load_text(dir, listener_with(std::string(kTls) + "hsts = { max_age = \"3651d\" }\n"))) ==
          file + ":9:10: 'listener.web.hsts.max_age' must be a duration up to \"3650d\" or an integer of seconds, "
                 "not \"3651d\"");
    CHECK(only_problem(load_text(dir, listener_with(std::string(kTls) + "hsts = { maxage = 5 }\n"))) ==
          file + ":9:10: unknown key 'listener.web.hsts.maxage' (did you mean 'max_age'?)");
}

}  // namespace
}  // namespace portico::config
