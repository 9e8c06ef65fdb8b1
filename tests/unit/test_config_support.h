// Shared by the test_config_*.cc tests: a temporary directory to write real TOML files into, and helpers to look
// at what config::load reported.
#pragma once

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"

namespace portico::config::testing {

class TempDir {
public:
    TempDir() {
        std::string pattern = (std::filesystem::temp_directory_path() / "portico-config-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path_ = pattern;
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    // Writes `text` to `name` (which may contain directories) and returns its full path.
    std::string write(const std::string& name, const std::string& text) const {
        std::filesystem::path file = path_ / name;
        std::filesystem::create_directories(file.parent_path());
        std::ofstream(file) << text;
        return file.string();
    }
    std::string path(const std::string& name = "") const {
        return name.empty() ? path_.string() : (path_ / name).string();
    }

private:
    std::filesystem::path path_;
};

// Every problem as "FILE:LINE:COL: message".
inline std::vector<std::string> rendered(const LoadResult& result) {
    std::vector<std::string> lines;
    for (const Problem& problem : result.problems) lines.push_back(problem.to_string());
    return lines;
}

// The smallest valid configuration, to which a test adds the key it is about.
inline const char kMinimal[] = R"(
[listener.http]
bind = "127.0.0.1:0"

[upstream.app]
endpoints = ["127.0.0.1:9001"]

[[route]]
upstream = "app"
)";

// Loads `text` as the main file portico.toml of `dir` and returns the result.
inline LoadResult load_text(const TempDir& dir, const std::string& text) {
    return load(dir.write("portico.toml", text));
}

// All problems on one line each, for failure messages.
inline std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) text += "\n  " + line;
    return text;
}

// The single problem of a load that must fail with exactly one, rendered.
inline std::string only_problem(const LoadResult& result) {
    std::vector<std::string> lines = rendered(result);
    CHECK(result.config == nullptr);
    REQUIRE_MESSAGE(lines.size() == 1, joined(lines));
    return lines[0];
}

}  // namespace portico::config::testing
