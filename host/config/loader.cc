// config::load: find the files, parse and merge them, read the merged tree into a Config, check it as a whole.
#include <filesystem>

#include "config/config.h"
#include "config/diagnostics.h"
#include "config/fields.h"
#include "config/files.h"
#include "config/merge.h"
#include "config/sections.h"

namespace portico::config {

namespace {

namespace fs = std::filesystem;

constexpr char kDefaultConfDir[] = "conf.d";

// What the files on disk gave: the merged tree and the files in load order. `all_read` is false when some file
// or directory could not be read or parsed: then checks that need the whole configuration are skipped, since what
// seems missing may be in that file. `main_failed`: the main file could not be used, so there is no tree at all.
struct Sources {
    toml::table merged;
    std::vector<std::string> files;
    bool all_read = true;
    bool main_failed = false;
};

// Parses one fragment and merges it. conf_dir belongs to the main file only, so a fragment setting it is wrong.
void add_fragment(const std::string& path, Sources& sources, Problems& problems) {
    sources.files.push_back(path);
    std::optional<toml::table> fragment = parse_toml_file(path, problems);
    if (!fragment) {
        sources.all_read = false;
        return;
    }
    if (toml::table* server = (*fragment)["server"].as_table()) {
        auto conf_dir = server->find("conf_dir");
        if (conf_dir != server->end()) {
            problems.add(conf_dir->first.source(), "'server.conf_dir' is only allowed in the main file");
            server->erase(conf_dir);
        }
    }
    merge_fragment(sources.merged, std::move(*fragment), problems);
}

// With conf_dir = "." the main file is one of the *.toml of its own conf_dir: it must not be read twice.
bool is_same_file(const std::string& a, const std::string& b) {
    std::error_code ec;
    return !b.empty() && fs::equivalent(a, b, ec);
}

// Loads every fragment of `dir`. `conf_dir_key` is where the main file set conf_dir explicitly (null for the
// default, which may be absent: a main file alone is a complete configuration). `main_file` is skipped ("" in
// directory mode).
void add_fragment_dir(const std::string& dir, const toml::source_region* conf_dir_key, const std::string& main_file,
                      Sources& sources, Problems& problems) {
    std::vector<std::string> fragments;
    std::string error;
    bool missing = false;
    if (!list_fragments(dir, fragments, error, missing)) {
        if (conf_dir_key != nullptr) {
            problems.add(*conf_dir_key,
                         "'server.conf_dir': cannot read directory " + in_quotes(dir) + ": " + error);
            sources.all_read = false;
        } else if (!missing) {
            problems.add(dir, "cannot read: " + error);
            sources.all_read = false;
        }
        return;
    }
    for (const std::string& fragment : fragments) {
        if (!is_same_file(fragment, main_file)) add_fragment(fragment, sources, problems);
    }
}

// Takes server.conf_dir out of the main file (it takes no part in merging) and returns the fragment directory,
// relative to the main file's directory. nullopt when conf_dir is malformed (reported).
std::optional<std::string> take_conf_dir(toml::table& main, const std::string& main_path,
                                         std::optional<toml::source_region>& key_place, Problems& problems) {
    std::string conf_dir = kDefaultConfDir;
    if (toml::table* server = main["server"].as_table()) {
        auto entry = server->find("conf_dir");
        if (entry != server->end()) {
            key_place = entry->first.source();
            const toml::node& value = entry->second;
            if (!value.is_string() || value.as_string()->get().empty()) {
                std::string actual = value.is_string() ? "an empty string" : type_name(value.type());
                problems.add(*key_place, "'server.conf_dir' must be a directory path (a string), not " + actual);
                server->erase(entry);
                return std::nullopt;
            }
            conf_dir = value.as_string()->get();
            server->erase(entry);
        }
    }
    return (fs::path(main_path).parent_path() / conf_dir).string();
}

Sources read_sources(const std::string& path, Problems& problems) {
    Sources sources;
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
        add_fragment_dir(path, nullptr, "", sources, problems);
        return sources;
    }
    sources.files.push_back(path);
    std::optional<toml::table> main = parse_toml_file(path, problems);
    if (!main) {
        // Without the main file its conf_dir is unknown, so there is nothing more to check reliably.
        sources.all_read = false;
        sources.main_failed = true;
        return sources;
    }
    std::optional<toml::source_region> conf_dir_key;
    std::optional<std::string> conf_dir = take_conf_dir(*main, path, conf_dir_key, problems);
    merge_fragment(sources.merged, std::move(*main), problems);
    if (conf_dir) {
        add_fragment_dir(*conf_dir, conf_dir_key ? &*conf_dir_key : nullptr, path, sources, problems);
    } else {
        sources.all_read = false;  // the fragments exist somewhere we cannot tell
    }
    return sources;
}

std::shared_ptr<Config> read_config(const std::string& path, const Sources& sources, Problems& problems) {
    auto config = std::make_shared<Config>();
    config->main_file = path;
    TableReader root(sources.merged, "", problems);
    read_server(root, config->server);
    read_timeouts(root, config->timeouts);
    read_limits(root, config->limits);
    read_listeners(root, config->listeners);
    read_upstreams(root, config->timeouts, config->upstreams);
    read_routes(root, config->limits, config->upstreams, sources.all_read, config->routes);
    root.report_unknown();
    return config;
}

// True when `key` is absent or an empty table or array. Anything else under it was either read into the Config
// or reported as wrong: "none defined" on top would only repeat that.
bool defines_nothing(const toml::table& merged, std::string_view key) {
    const toml::node* node = merged.get(key);
    if (node == nullptr) return true;
    if (const toml::table* table = node->as_table()) return table->empty();
    if (const toml::array* array = node->as_array()) return array->empty();
    return false;
}

}  // namespace

std::string Problem::to_string() const {
    std::string text = file;
    if (line != 0) {
        text += ":" + std::to_string(line);
        if (column != 0) text += ":" + std::to_string(column);
    }
    return text.empty() ? message : text + ": " + message;
}

LoadResult load(const std::string& path) {
    Problems problems;
    Sources sources = read_sources(path, problems);
    std::shared_ptr<Config> config;
    if (!sources.main_failed) config = read_config(path, sources, problems);

    LoadResult result;
    result.problems = std::move(problems).sorted(sources.files);
    // Checks of the whole: they only make sense when every file was read, and follow the problems of the files.
    if (config && sources.all_read) {
        if (defines_nothing(sources.merged, "listener")) {
            result.problems.push_back(
                {path, 0, 0, "no listener defined: add a [listener.NAME] table with a 'bind'"});
        }
        if (defines_nothing(sources.merged, "route")) {
            result.problems.push_back({path, 0, 0, "no route defined: add a [[route]] table with an 'upstream'"});
        }
    }
    if (result.problems.empty()) result.config = std::move(config);
    return result;
}

}  // namespace portico::config
