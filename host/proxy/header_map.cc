#include "proxy/header_map.h"

#include <algorithm>

#include "http/field_syntax.h"
#include "http/message.h"

namespace portico::proxy {

void HeaderMap::assign_from_head(std::string_view head) {
    fields_.clear();
    size_t line_end = head.find("\r\n");
    while (line_end != std::string_view::npos) {
        head.remove_prefix(line_end + 2);
        line_end = head.find("\r\n");
        if (line_end == 0 || line_end == std::string_view::npos) break;
        std::string_view line = head.substr(0, line_end);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        fields_.emplace_back(line.substr(0, colon), value);
    }
}

const std::string* HeaderMap::get(std::string_view name, size_t index, size_t* count) const {
    const std::string* found = nullptr;
    size_t seen = 0;
    for (const Field& field : fields_) {
        if (!http::equals_ignore_case(field.first, name)) continue;
        if (seen == index) found = &field.second;
        ++seen;
        if (found && !count) break;
    }
    if (count) *count = seen;
    return found;
}

void HeaderMap::set(std::string_view name, std::string_view value) {
    bool replaced = false;
    for (size_t i = 0; i < fields_.size();) {
        if (http::equals_ignore_case(fields_[i].first, name)) {
            if (!replaced) {
                fields_[i].second.assign(value);
                replaced = true;
                ++i;
            } else {
                fields_.erase(fields_.begin() + static_cast<std::ptrdiff_t>(i));
            }
        } else {
            ++i;
        }
    }
    if (!replaced) add(name, value);
}

size_t HeaderMap::remove(std::string_view name) {
    size_t before = fields_.size();
    fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                                 [&](const Field& field) { return http::equals_ignore_case(field.first, name); }),
                  fields_.end());
    return before - fields_.size();
}

void HeaderMap::serialize(std::string& out) const {
    for (const Field& field : fields_) out.append(field.first).append(": ").append(field.second).append("\r\n");
}

bool host_owned_field(std::string_view name) {
    static constexpr std::string_view kOwned[] = {"transfer-encoding", "connection", "keep-alive", "upgrade",
                                                  "proxy-connection",  "te",         "host",       "trailer"};
    for (auto owned : kOwned) {
        if (http::equals_ignore_case(name, owned)) return true;
    }
    return false;
}

bool valid_field_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name) {
        if (!http::syntax::is_token_char(c)) return false;
    }
    return true;
}

bool valid_field_value(std::string_view value) {
    if (!value.empty() &&
        (value.front() == ' ' || value.front() == '\t' || value.back() == ' ' || value.back() == '\t')) {
        return false;
    }
    for (char c : value) {
        if (!http::syntax::is_field_value_char(c)) return false;
    }
    return true;
}

}  // namespace portico::proxy
