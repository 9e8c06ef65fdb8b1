// Merging the parsed files into one tree, keeping every node's source region for later messages.
#pragma once

#include <toml++/toml.h>

#include "config/diagnostics.h"

namespace portico::config {

// Moves `fragment` into `merged`. Tables merge key by key; the [[route]] arrays concatenate in file order; a leaf
// key set in both, or a whole [listener.NAME] / [upstream.NAME] defined in both, is reported at the fragment's key
// ("duplicate key 'server.workers' (first set at FILE:LINE:COL)") and the first definition is kept.
void merge_fragment(toml::table& merged, toml::table&& fragment, Problems& problems);

}  // namespace portico::config
