#include "config/diagnostics.h"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace portico::config {

void Problems::add(const toml::source_region& where, std::string message) {
    Problem problem;
    problem.file = where.path ? *where.path : std::string();
    problem.line = where.begin.line;
    problem.column = where.begin.column;
    problem.message = std::move(message);
    list_.push_back(std::move(problem));
}

void Problems::add(std::string file, std::string message) {
    Problem problem;
    problem.file = std::move(file);
    problem.message = std::move(message);
    list_.push_back(std::move(problem));
}

std::vector<Problem> Problems::sorted(const std::vector<std::string>& file_order) && {
    auto rank = [&](const Problem& problem) -> long {
        auto it = std::find(file_order.begin(), file_order.end(), problem.file);
        return it == file_order.end() ? -1 : static_cast<long>(it - file_order.begin());
    };
    std::stable_sort(list_.begin(), list_.end(), [&](const Problem& a, const Problem& b) {
        long rank_a = rank(a), rank_b = rank(b);
        if (rank_a != rank_b) return rank_a < rank_b;
        if (a.file != b.file) return a.file < b.file;
        if (a.line != b.line) return a.line < b.line;
        return a.column < b.column;
    });
    return std::move(list_);
}

std::string describe(const toml::source_region& where) {
    std::string text = where.path ? *where.path : std::string();
    if (where.begin.line == 0) return text;
    text += ":" + std::to_string(where.begin.line);
    if (where.begin.column != 0) text += ":" + std::to_string(where.begin.column);
    return text;
}

std::string type_name(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

std::string in_quotes(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte == 0x7f) {
            char escape[8];
            std::snprintf(escape, sizeof escape, "\\x%02x", byte);
            out += escape;
        } else {
            out += c;  // UTF-8 passes through: the terminal shows it as written
        }
    }
    return out + "\"";
}

namespace {

// Optimal string alignment distance: Levenshtein plus adjacent transpositions ("wokrers" is one edit away).
size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
    for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
            }
        }
    }
    return d[a.size()][b.size()];
}

}  // namespace

std::string closest(std::string_view word, const std::vector<std::string>& candidates) {
    constexpr size_t kMaxEdits = 2;
    std::string best;
    size_t best_distance = std::numeric_limits<size_t>::max();
    for (const std::string& candidate : candidates) {
        size_t distance = edit_distance(word, candidate);
        // A distance equal to the length means nothing of the word was kept: no real resemblance ("ab" vs "via").
        if (distance <= kMaxEdits && distance < std::max(word.size(), candidate.size()) &&
            distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return best;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
    std::string suggestion = closest(word, candidates);
    return suggestion.empty() ? std::string() : " (did you mean '" + suggestion + "'?)";
}

}  // namespace portico::config
