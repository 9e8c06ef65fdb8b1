// Building the Problems that config::load reports: positions from toml++ source regions, readable type names,
// quoting of user text, and "did you mean" suggestions.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"

namespace portico::config {

class Problems {
public:
    // At a place in a file (toml++ regions carry the file's path, as given to the parser).
    void add(const toml::source_region& where, std::string message);
    // About a whole file, or about the configuration as a whole (then `file` is the path given to load).
    void add(std::string file, std::string message);

    bool empty() const { return list_.empty(); }
    size_t size() const { return list_.size(); }

    // Sorted by file (in the order of `file_order`; other files first, as they are about the loading itself),
    // then line and column. Stable, so problems at one place keep the order they were found in.
    std::vector<Problem> sorted(const std::vector<std::string>& file_order) &&;

private:
    std::vector<Problem> list_;
};

// "FILE:LINE:COL", for messages that point at a second place ("first set at ...").
std::string describe(const toml::source_region& where);

// "a string", "an integer", ... for "must be X, not Y" messages.
std::string type_name(toml::node_type type);

// `text` in double quotes, with control characters and quotes escaped so a message stays on one line.
std::string in_quotes(std::string_view text);

// The candidate closest to `word` by edit distance (a transposition counts as one edit), if it is within two
// edits and closer than a full rewrite; "" otherwise.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean 'x'?)" or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace portico::config
