#include "config/files.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <system_error>

// The Debian build of toml++ is a shared library compiled with exceptions (its symbols live in toml::v3::ex), so
// syntax errors arrive as toml::parse_error.
static_assert(TOML_EXCEPTIONS, "the loader expects toml++ to report parse errors by exception");

namespace portico::config {

namespace {

namespace fs = std::filesystem;

// The whole file, or nullopt with `error` set to the system's reason.
std::optional<std::string> read_whole_file(const std::string& path, std::string& error) {
    std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
    if (!file) {
        error = std::generic_category().message(errno);
        return std::nullopt;
    }
    std::string content;
    char block[16384];
    size_t got = 0;
    while ((got = std::fread(block, 1, sizeof block, file.get())) > 0) content.append(block, got);
    if (std::ferror(file.get())) {
        error = std::generic_category().message(errno);  // e.g. EISDIR: fopen() opens a directory, read fails
        return std::nullopt;
    }
    return content;
}

bool is_fragment_name(const std::string& name) {
    constexpr std::string_view kSuffix = ".toml";
    return name.size() > kSuffix.size() && name[0] != '.' &&
           name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
}

}  // namespace

std::optional<toml::table> parse_toml_file(const std::string& path, Problems& problems) {
    std::string error;
    std::optional<std::string> content = read_whole_file(path, error);
    if (!content) {
        problems.add(path, "cannot read: " + error);
        return std::nullopt;
    }
    try {
        return toml::parse(*content, path);
    } catch (const toml::parse_error& e) {
        problems.add(e.source(), std::string(e.description()));
        return std::nullopt;
    }
}

bool list_fragments(const std::string& dir, std::vector<std::string>& out, std::string& error, bool& missing) {
    std::error_code ec;
    std::vector<std::string> names;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string name = it->path().filename().string();
        std::error_code type_ec;
        // A broken link or an unreadable entry is kept: reading it then reports why it fails.
        if (is_fragment_name(name) && !it->is_directory(type_ec)) names.push_back(name);
    }
    if (ec) {
        error = ec.message();
        missing = ec == std::errc::no_such_file_or_directory;
        return false;
    }
    std::sort(names.begin(), names.end());  // std::string compares bytes (as unsigned char)
    for (const std::string& name : names) out.push_back((fs::path(dir) / name).string());
    return true;
}

}  // namespace portico::config
