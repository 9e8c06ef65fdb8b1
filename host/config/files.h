// The loader's only contact with the file system, and it only reads: configuration files and fragment
// directories.
#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>
#include <vector>

#include "config/diagnostics.h"

namespace portico::config {

// Reads and parses one TOML file. On failure reports "PATH: cannot read: reason" or the syntax error at its place,
// and returns nullopt. Source regions in the tree carry `path` exactly as given.
std::optional<toml::table> parse_toml_file(const std::string& path, Problems& problems);

// Every "*.toml" in `dir` (except hidden files and directories), as "dir/name", in byte order of names. On failure
// returns false and sets `error` to the system's reason; `missing` tells a directory that does not exist.
bool list_fragments(const std::string& dir, std::vector<std::string>& out, std::string& error, bool& missing);

}  // namespace portico::config
