// Loading several files: the main file and its conf_dir, a directory of fragments, and how fragments merge.
#include "test_config_support.h"

namespace portico::config {
namespace {

using testing::joined;
using testing::kMinimal;
using testing::only_problem;
using testing::rendered;
using testing::TempDir;

// Takes the result by value: the configuration outlives the temporary LoadResult.
std::shared_ptr<const Config> loaded(LoadResult result) {
    REQUIRE_MESSAGE(result.problems.empty(), joined(rendered(result)));
    REQUIRE(result.config != nullptr);
    return result.config;
}

std::vector<std::string> route_upstreams(const Config& config) {
    std::vector<std::string> names;
    for (const Route& route : config.routes) names.push_back(route.upstream);
    return names;
}

const char kUpstreams[] = R"(
[upstream.one]
endpoints = ["127.0.0.1:9001"]
[upstream.two]
endpoints = ["127.0.0.1:9002"]
[upstream.three]
endpoints = ["127.0.0.1:9003"]
)";

TEST_CASE("config merge: tables merge key by key across files") {
    TempDir dir;
    std::string main = dir.write("portico.toml", std::string(kMinimal) +
                                                     "[server]\nworkers = 2\n"
                                                     "access_log = { path = \"stderr\" }\n");
    dir.write("conf.d/10-server.toml", "[server]\nvia = \"edge\"\n[server.access_log]\nformat = \"json\"\n");
    dir.write("conf.d/20-timeouts.toml", "[timeouts]\nclient_idle = \"5s\"\n[server]\npass_server_header = true\n");
    auto config = loaded(load(main));
    CHECK(config->server.workers == 2);
    CHECK(config->server.via_name == "edge");
    CHECK(config->server.pass_server_header == true);
    CHECK(config->server.access_log.path == "stderr");
    CHECK(config->server.access_log.format == "json");
    CHECK(config->timeouts.client_idle == Duration(5'000));
}

TEST_CASE("config merge: a key set in two conf.d files is a duplicate, at the second place") {
    TempDir dir;
    std::string main = dir.write("portico.toml", kMinimal);
    std::string first = dir.write("conf.d/10-a.toml", "[server]\nworkers = 2\n");
    std::string second = dir.write("conf.d/20-b.toml", "# tuning\n[server]\n  workers = 3\n");
    auto result = load(main);
    CHECK(only_problem(result) == second + ":3:3: duplicate key 'server.workers' (first set at " + first + ":2:1)");
}

TEST_CASE("config merge: a listener or an upstream belongs to one file") {
    TempDir dir;
    std::string main = dir.write("portico.toml", kMinimal);
    // Different keys, but the same listener: not merged.
    std::string fragment = dir.write("conf.d/10-a.toml",
                                     "[listener.http]\nbacklog = 10\n"
                                     "[upstream.app]\nkeepalive = 1\n");
    CHECK(rendered(load(main)) == std::vector<std::string>{
                                      fragment + ":1:11: duplicate key 'listener.http' (first set at " + main +
                                          ":2:11; each listener is defined in one file)",
                                      fragment + ":3:11: duplicate key 'upstream.app' (first set at " + main +
                                          ":5:11; each upstream is defined in one file)",
                                  });
}

TEST_CASE("config merge: routes concatenate in file order, files in byte order of their names") {
    TempDir dir;
    std::string main = dir.write("portico.toml", std::string(R"(
[listener.http]
bind = "127.0.0.1:0"
[[route]]
match = { path = "/main" }
upstream = "one"
)") + kUpstreams);
    // "10-" sorts before "9-" byte by byte; uppercase before lowercase.
    dir.write("conf.d/9-last.toml", "[[route]]\nupstream = \"three\"\n");
    dir.write("conf.d/10-first.toml", "[[route]]\nupstream = \"two\"\n[[route]]\nupstream = \"one\"\n");
    dir.write("conf.d/A-middle.toml", "[[route]]\nupstream = \"three\"\n");
    dir.write("conf.d/a-after.toml", "[[route]]\nupstream = \"two\"\n");
    auto config = loaded(load(main));
    CHECK(route_upstreams(*config) == std::vector<std::string>{"one", "two", "one", "three", "three", "two"});
    // upstream_index points into the name-ordered upstreams: one, three, two.
    CHECK(config->routes[0].upstream_index == 0u);
    CHECK(config->routes[1].upstream_index == 2u);
    CHECK(config->routes[3].upstream_index == 1u);
}

TEST_CASE("config merge: conf_dir is relative to the main file's directory") {
    TempDir dir;
    std::string main = dir.write("etc/portico.toml", "[server]\nconf_dir = \"sites\"\n");
    dir.write("etc/sites/00-all.toml", kMinimal);
    dir.write("conf.d/99-ignored.toml", "this is not TOML");  // beside the temp dir, not beside the main file
    auto config = loaded(load(main));
    CHECK(config->listeners.size() == 1);
    CHECK(config->routes.size() == 1);

    // An absolute conf_dir is taken as is.
    std::string absolute = dir.write("other.toml", "[server]\nconf_dir = \"" + dir.path("etc/sites") + "\"\n");
    CHECK(loaded(load(absolute))->routes.size() == 1);
}

TEST_CASE("config merge: with conf_dir = \".\" the main file is not read again as a fragment") {
    TempDir dir;
    std::string main = dir.write("portico.toml", std::string("[server]\nconf_dir = \".\"\n") + kMinimal);
    dir.write("zz-more.toml", "[timeouts]\nclient_idle = \"2s\"\n");
    auto config = loaded(load(main));
    CHECK(config->routes.size() == 1);
    CHECK(config->timeouts.client_idle == Duration(2'000));
}

TEST_CASE("config merge: a missing default conf.d is fine, a missing explicit conf_dir is not") {
    TempDir dir;
    loaded(load(dir.write("portico.toml", kMinimal)));  // no conf.d/ beside it

    std::string main = dir.write("portico.toml", std::string("[server]\nconf_dir = \"nope\"\n") + kMinimal);
    auto result = load(main);
    CHECK(result.config == nullptr);
    CHECK(rendered(result) == std::vector<std::string>{
                                  main + ":2:1: 'server.conf_dir': cannot read directory \"" + dir.path("nope") +
                                      "\": No such file or directory",
                              });
    main = dir.write("portico.toml", std::string("[server]\nconf_dir = 5\n") + kMinimal);
    CHECK(only_problem(load(main)) ==
          main + ":2:1: 'server.conf_dir' must be a directory path (a string), not an integer");
}

TEST_CASE("config merge: conf_dir belongs to the main file") {
    TempDir dir;
    std::string main = dir.write("portico.toml", kMinimal);
    std::string fragment = dir.write("conf.d/10-a.toml", "[server]\nconf_dir = \"more\"\n");
    CHECK(only_problem(load(main)) == fragment + ":2:1: 'server.conf_dir' is only allowed in the main file");
}

TEST_CASE("config merge: a directory loads every *.toml in it as fragments") {
    TempDir dir;
    dir.write("00-listener.toml", "[listener.http]\nbind = \"127.0.0.1:0\"\n");
    dir.write("10-upstreams.toml", kUpstreams);
    dir.write("20-routes.toml", "[[route]]\nupstream = \"two\"\n");
    dir.write("30-routes.toml", "[[route]]\nupstream = \"one\"\n");
    // Not fragments: other suffixes, hidden files, directories.
    dir.write("README", "not toml");
    dir.write("20-routes.toml.bak", "not toml");
    dir.write(".hidden.toml", "not toml");
    dir.write("sub.toml/inner.toml", "not toml");
    auto result = load(dir.path());
    auto config = loaded(result);
    CHECK(config->main_file == dir.path());
    CHECK(config->listeners.size() == 1);
    CHECK(config->upstreams.size() == 3);
    CHECK(route_upstreams(*config) == std::vector<std::string>{"two", "one"});

    // There is no main file, so conf_dir has no place in any of them.
    std::string fragment = dir.write("40-server.toml", "[server]\nconf_dir = \"x\"\n");
    CHECK(only_problem(load(dir.path())) == fragment + ":2:1: 'server.conf_dir' is only allowed in the main file");
}

TEST_CASE("config merge: a broken fragment does not hide the problems of the others") {
    TempDir dir;
    std::string main = dir.write("portico.toml",
                                 "[listener.http]\nbind = \"127.0.0.1:0\"\n"
                                 "[[route]]\nupstream = \"app\"\n");
    // The upstream is in the broken file: "undefined upstream" and "no route" would only mislead, so the checks
    // of the whole are skipped; the other files are still checked.
    std::string broken = dir.write("conf.d/10-upstream.toml", "[upstream.app\nendpoints = [\"127.0.0.1:1\"]\n");
    std::string other = dir.write("conf.d/20-other.toml", "[server]\nworkres = 1\n");
    auto result = load(main);
    auto lines = rendered(result);
    REQUIRE_MESSAGE(lines.size() == 2, joined(lines));
    CHECK(lines[0].rfind(broken + ":1:", 0) == 0);
    CHECK(lines[1] == other + ":2:1: unknown key 'server.workres' (did you mean 'workers'?)");
}

TEST_CASE("config merge: an empty directory") {
    TempDir dir;
    CHECK(rendered(load(dir.path())) ==
          std::vector<std::string>{
              dir.path() + ": no listener defined: add a [listener.NAME] table with a 'bind'",
              dir.path() + ": no route defined: add a [[route]] table with an 'upstream'",
          });
}

}  // namespace
}  // namespace portico::config
