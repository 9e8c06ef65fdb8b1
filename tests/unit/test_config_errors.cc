// config::load on broken configurations: every problem at FILE:LINE:COL, with a message naming the key and what
// it accepts.
#include "test_config_support.h"

namespace portico::config {
namespace {

using testing::joined;
using testing::kMinimal;
using testing::load_text;
using testing::only_problem;
using testing::rendered;
using testing::TempDir;

bool starts_with(const std::string& text, const std::string& prefix) {
    return text.compare(0, prefix.size(), prefix) == 0;
}

TEST_CASE("config errors: an unknown key is reported at the key, with the closest known key") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\n  wrkers = 2\n")) ==
          file + ":11:3: unknown key 'server.wrkers' (did you mean 'workers'?)");
    // A transposition counts as one edit.
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[timeouts]\nclinet_idle = \"1s\"\n")) ==
          file + ":11:1: unknown key 'timeouts.clinet_idle' (did you mean 'client_idle'?)");
    // Nothing close: no suggestion.
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\ncolour = \"blue\"\n")) ==
          file + ":11:1: unknown key 'server.colour'");
    // A table header: the position is the key inside the brackets.
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[sever]\nworkers = 1\n")) ==
          file + ":10:2: unknown key 'sever' (did you mean 'server'?)");
    // Inside an inline table.
    CHECK(only_problem(load_text(
              dir, std::string(kMinimal) + "[server]\naccess_log = { path = \"off\", fromat = \"json\" }\n")) ==
          file + ":11:30: unknown key 'server.access_log.fromat' (did you mean 'format'?)");
    // Inside a listener, an upstream and a route.
    auto result = load_text(dir, R"(
[listener.http]
bind = "127.0.0.1:0"
backlgo = 5
[upstream.app]
endpoints = ["127.0.0.1:9001"]
keep_alive = 5
[[route]]
upstream = "app"
match = { prefx = "/" }
)");
    CHECK(rendered(result) == std::vector<std::string>{
                                  file + ":4:1: unknown key 'listener.http.backlgo' (did you mean 'backlog'?)",
                                  file + ":7:1: unknown key 'upstream.app.keep_alive' (did you mean 'keepalive'?)",
                                  file + ":10:11: unknown key 'route.match.prefx' (did you mean 'prefix'?)",
                              });
}

TEST_CASE("config errors: a value of the wrong type") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[limits]\nmax_headers = \"100\"\n")) ==
          file + ":11:1: 'limits.max_headers' must be an integer, not a string");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\npass_server_header = \"yes\"\n")) ==
          file + ":11:1: 'server.pass_server_header' must be a boolean (true or false), not a string");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\nvia = 1.5\n")) ==
          file + ":11:1: 'server.via' must be a string, not a floating-point number");
    CHECK(only_problem(load_text(dir, "timeouts = 5\n" + std::string(kMinimal))) ==
          file + ":1:1: 'timeouts' must be a table, not an integer");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\naccess_log = \"stdout\"\n")) ==
          file + ":11:1: 'server.access_log' must be a table, not a string");
}

TEST_CASE("config errors: values out of range or not among the accepted ones") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[limits]\nmax_headers = 0\n")) ==
          file + ":11:1: 'limits.max_headers' must be between 1 and 10000, not 0");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\nworkers = -1\n")) ==
          file + ":11:1: 'server.workers' must be between 0 and 4096, not -1");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\naccess_log = { format = \"xml\" }\n")) ==
          file + ":11:16: 'server.access_log.format' must be \"combined\" or \"json\", not \"xml\"");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\nerror_log = { level = \"info\" }\n")) ==
          file +
              ":11:15: 'server.error_log.level' must be one of fatal, critical, error, warning, notice, "
              "information, debug, trace, not \"info\"");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\nerror_log = { path = \"off\" }\n")) ==
          file +
              ":11:15: 'server.error_log.path' must be \"stderr\", \"stdout\" or a file path (the error log "
              "cannot be off), not \"off\"");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\nrequest_id_header = \"X Id\"\n")) ==
          file +
              ":11:1: 'server.request_id_header' must be a header name (letters, digits and "
              "!#$%&'*+-.^_`|~), not \"X Id\"");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[server]\nvia = \"\"\n")) ==
          file + ":11:1: 'server.via' must be a token (letters, digits and !#$%&'*+-.^_`|~), not \"\"");
}

TEST_CASE("config errors: a TOML syntax error is reported at its place") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    std::string problem = only_problem(load_text(dir, "[server]\nworkers = \n"));
    CHECK(starts_with(problem, file + ":2:11: "));
    CHECK(problem.size() > (file + ":2:11: ").size());
    // toml++ itself refuses a key set twice in one file.
    CHECK(starts_with(only_problem(load_text(dir, "[server]\nworkers = 1\nworkers = 2\n")), file + ":3:"));
}

TEST_CASE("config errors: a missing main file") {
    TempDir dir;
    std::string file = dir.path("nope.toml");
    CHECK(only_problem(load(file)) == file + ": cannot read: No such file or directory");
}

TEST_CASE("config errors: malformed listener addresses") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    const char* bad[] = {"localhost:80", "0.0.0.0", "0.0.0.0:", "0.0.0.0:65536", "0.0.0.0:-1", "127.1:80",
                         "::1:80",       "[::1]",   "[::1]80",  "[nope]:80",     ":80",        "0.0.0.0:80 "};
    for (const char* address : bad) {
        CAPTURE(address);
        std::string text = std::string("[listener.http]\nbind = \"") + address + "\"\n" +
                           "[upstream.app]\nendpoints = [\"127.0.0.1:1\"]\n[[route]]\nupstream = \"app\"\n";
        CHECK(only_problem(load_text(dir, text)) ==
              file +
                  ":2:1: 'listener.http.bind' must be \"IPv4:port\" or \"[IPv6]:port\" with a port 0..65535, "
                  "not \"" +
                  address + "\"");
    }
    CHECK(only_problem(load_text(dir,
                                 "[listener.http]\nbacklog = 10\n[upstream.app]\nendpoints = [\"127.0.0.1:1\"]\n"
                                 "[[route]]\nupstream = \"app\"\n")) ==
          file + ":1:11: 'listener.http.bind' is missing: a listener needs an address, like \"0.0.0.0:8080\"");
}

TEST_CASE("config errors: two listeners on one address") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + R"(
[listener.a]
bind = "0.0.0.0:8080"
[listener.b]
bind = "0.0.0.0:8080"
)")) == file + ":14:1: listener 'b' binds 0.0.0.0:8080, as listener 'a' does (at " + file + ":12:1)");
    // Port 0 is exempt: each listener gets its own port from the kernel.
    auto result = load_text(dir, std::string(kMinimal) + "[listener.other]\nbind = \"127.0.0.1:0\"\n");
    CHECK_MESSAGE(result.problems.empty(), joined(rendered(result)));
}

TEST_CASE("config errors: malformed and unresolvable endpoints, at the array element") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    std::string head = "[listener.http]\nbind = \"127.0.0.1:0\"\n[[route]]\nupstream = \"app\"\n[upstream.app]\n";
    auto result =
        load_text(dir, head + R"(endpoints = ["127.0.0.1:9001", "nosuch.invalid:80", "::1:80", 8080, "a:0"])");
    auto lines = rendered(result);
    REQUIRE_MESSAGE(lines.size() == 4, joined(lines));
    CHECK(starts_with(lines[0], file + ":6:32: 'upstream.app.endpoints' entry \"nosuch.invalid:80\": "
                                       "cannot resolve host \"nosuch.invalid\""));
    CHECK(lines[1] == file +
                          ":6:53: 'upstream.app.endpoints' entry \"::1:80\" must be \"host:port\" or "
                          "\"[IPv6]:port\" with a port 1..65535");
    CHECK(lines[2] == file +
                          ":6:63: 'upstream.app.endpoints' entries must be \"host:port\" strings or tables like "
                          "{ address = \"host:port\", weight = 2 }, not an integer");
    CHECK(lines[3] == file +
                          ":6:69: 'upstream.app.endpoints' entry \"a:0\" must be \"host:port\" or "
                          "\"[IPv6]:port\" with a port 1..65535");

    CHECK(only_problem(load_text(dir, head + "endpoints = []\n")) ==
          file +
              ":6:1: 'upstream.app.endpoints' must be a non-empty array of \"host:port\" strings, not an empty "
              "array");
    CHECK(only_problem(load_text(dir, head + "endpoints = \"127.0.0.1:1\"\n")) ==
          file + ":6:1: 'upstream.app.endpoints' must be a non-empty array of \"host:port\" strings, not a string");
    CHECK(only_problem(load_text(dir, head + "keepalive = 1\n")) ==
          file + ":5:11: 'upstream.app.endpoints' is missing: an upstream needs at least one \"host:port\"");
}

TEST_CASE("config errors: a route naming an undefined upstream, at the 'upstream' key") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[[route]]\nmatch = { prefix = \"/x\" }\n"
                                                              "  upstream = \"ap\"\n")) ==
          file + ":12:3: 'route.upstream' names an undefined upstream \"ap\" (did you mean 'app'?)");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[[route]]\nupstream = \"backend\"\n")) ==
          file + ":11:1: 'route.upstream' names an undefined upstream \"backend\"");
    CHECK(only_problem(load_text(dir, std::string(kMinimal) + "[[route]]\nmatch = { prefix = \"/x\" }\n")) ==
          file + ":10:1: 'route.upstream' is missing: a route needs the name of an upstream");
}

TEST_CASE("config errors: route matches") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto with_match = [&](const std::string& match) {
        return load_text(dir, std::string(kMinimal) + "[[route]]\nupstream = \"app\"\nmatch = " + match + "\n");
    };
    CHECK(only_problem(with_match("{ path = \"/a\", prefix = \"/b\" }")) ==
          file + ":12:24: 'route.match' takes either 'path' or 'prefix', not both");
    CHECK(only_problem(with_match("{ prefix = \"api/\" }")) ==
          file + ":12:11: 'route.match.prefix' must start with \"/\", not \"api/\"");
    CHECK(only_problem(with_match("{ path = \"/a?b=1\" }")) ==
          file +
              ":12:11: 'route.match.path' must not contain '?' or '#' (routes match the path only), not "
              "\"/a?b=1\"");
    const std::string host_form =
        "must be \"\" (any host), a host name like \"example.com\" or a wildcard like "
        "\"*.example.com\", not ";
    for (const char* host : {"example.com:8080", "*", "*.", "a..b", "exa mple.com", "foo.*.com", "http://x"}) {
        CAPTURE(host);
        CHECK(only_problem(with_match(std::string("{ host = \"") + host + "\" }")) ==
              file + ":12:11: 'route.match.host' " + host_form + "\"" + host + "\"");
    }
    CHECK(only_problem(with_match("\"/api\"")) == file + ":12:1: 'route.match' must be a table, not a string");
    CHECK(only_problem(load_text(dir,
                                 "[listener.http]\nbind = \"127.0.0.1:0\"\n[upstream.app]\n"
                                 "endpoints = [\"127.0.0.1:1\"]\n[route]\nupstream = \"app\"\n")) ==
          file + ":5:2: 'route' must be an array of tables (write each route as [[route]]), not a table");
}

TEST_CASE("config errors: a filter's use, the host's part of a filter entry") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto with_filters = [&](const std::string& filters) {
        return load_text(dir, std::string(kMinimal) + "[[route]]\nupstream = \"app\"\nfilters = " + filters + "\n");
    };
    CHECK(only_problem(with_filters("[{ level = 5 }]")) ==
          file +
              ":12:12: 'route.filters.use' is missing: a filter needs the name of a filter factory, like "
              "{ use = \"compression\" }");
    CHECK(only_problem(with_filters("[{ use = \"\" }]")) ==
          file +
              ":12:14: 'route.filters.use' must name a filter factory (\"factory\" or \"plugin.factory\"), "
              "not \"\"");
    CHECK(only_problem(with_filters("[{ use = 1 }]")) ==
          file + ":12:14: 'route.filters.use' must be a string, not an integer");
    CHECK(only_problem(with_filters("[{ use = \"gzip\", on_error = \"ignore\" }]")) ==
          file + ":12:28: 'route.filters.on_error' must be \"fail-closed\" or \"fail-open\", not \"ignore\"");
    CHECK(only_problem(with_filters("[\"gzip\"]")) ==
          file + ":12:12: 'route.filters' entries must be tables like { use = \"compression\" }, not a string");
}

TEST_CASE("config errors: no listener, no route") {
    TempDir dir;
    std::string file = dir.path("portico.toml");
    auto result = load_text(dir, "[server]\nworkers = 1\n");
    CHECK(result.config == nullptr);
    CHECK(rendered(result) == std::vector<std::string>{
                                  file + ": no listener defined: add a [listener.NAME] table with a 'bind'",
                                  file + ": no route defined: add a [[route]] table with an 'upstream'",
                              });
}

TEST_CASE("config errors: every problem is reported at once, in file and line order") {
    TempDir dir;
    std::string main = dir.write("portico.toml", R"([server]
workers = "2"
[listener.http]
bind = "127.0.0.1:99999"
)");
    std::string b = dir.write("conf.d/20-b.toml", "[[route]]\nupstream = \"nope\"\n");
    std::string a = dir.write("conf.d/10-a.toml", R"([upstream.app]
endpoints = ["127.0.0.1:9001"]
keepalive = -5
[timeouts]
client_body = "soon"
)");
    auto result = load(main);
    CHECK(result.config == nullptr);
    CHECK(rendered(result) ==
          std::vector<std::string>{
              main + ":2:1: 'server.workers' must be an integer, not a string",
              main + ":4:1: 'listener.http.bind' must be \"IPv4:port\" or \"[IPv6]:port\" with a port 0..65535, "
                     "not \"127.0.0.1:99999\"",
              a + ":3:1: 'upstream.app.keepalive' must be between 0 and 100000, not -5",
              a + ":5:1: 'timeouts.client_body' must be a duration (a string like \"500ms\", \"10s\", \"5m\", "
                  "\"1h\" or \"7d\"), not \"soon\"",
              b + ":2:1: 'route.upstream' names an undefined upstream \"nope\"",
          });
}

TEST_CASE("config errors: Problem::to_string leaves out what is unknown") {
    CHECK(Problem{"a.toml", 3, 7, "bad"}.to_string() == "a.toml:3:7: bad");
    CHECK(Problem{"a.toml", 3, 0, "bad"}.to_string() == "a.toml:3: bad");
    CHECK(Problem{"a.toml", 0, 0, "bad"}.to_string() == "a.toml: bad");
    CHECK(Problem{"", 0, 0, "bad"}.to_string() == "bad");
}

}  // namespace
}  // namespace portico::config
