// Finding plugin files and opening one (Boost.DLL), with every check that needs nothing but the file itself: the
// entry symbol, the ABI version, the descriptor's size and contents. Nothing of the plugin runs but its entry.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "plugins/loaded_plugin.h"

namespace portico::plugins {

// The plugin files of `dir`: regular files (or links to them) named *.so, not hidden, as "dir/name" in byte order
// of names. On failure returns false with the system's reason in `error`; `missing` tells a directory that does
// not exist.
bool list_plugin_files(const std::string& dir, std::vector<std::string>& out, std::string& error, bool& missing);

// Loads `file` (RTLD_NOW | RTLD_LOCAL) and checks its descriptor. On refusal returns null and sets `error` to
// "plugin FILE: reason". Problems that do not refuse the file (a factory of an unknown kind) go to `warnings`.
std::unique_ptr<LoadedPlugin> open_plugin(const std::string& file, std::string& error,
                                          std::vector<std::string>& warnings);

}  // namespace portico::plugins
