// An owned, editable list of header fields: what filters read and change. The proxy's fast path (a route with
// no filters) never builds one; it forwards views into the connection buffer instead.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace portico::proxy {

class HeaderMap {
public:
    using Field = std::pair<std::string, std::string>;

    // Fills the map from a serialized head ("start line CRLF (name: value CRLF)* CRLF") that the proxy wrote
    // itself, so it is well-formed; the start line is skipped.
    void assign_from_head(std::string_view head);

    size_t size() const { return fields_.size(); }
    const Field& at(size_t index) const { return fields_[index]; }
    // The index-th field named `name` (case-insensitive), or nullptr; `count` receives how many there are.
    const std::string* get(std::string_view name, size_t index = 0, size_t* count = nullptr) const;
    bool contains(std::string_view name) const { return get(name) != nullptr; }

    void add(std::string_view name, std::string_view value) { fields_.emplace_back(name, value); }
    void set(std::string_view name, std::string_view value);
    size_t remove(std::string_view name);
    void clear() { fields_.clear(); }

    // Appends "name: value CRLF" for every field.
    void serialize(std::string& out) const;

    const std::vector<Field>& fields() const { return fields_; }

private:
    std::vector<Field> fields_;
};

// Field name and value rules for values that come from plugins (RFC 9110 5.1, 5.5): a token name; a value
// without CR, LF or NUL and without leading or trailing whitespace.
bool valid_field_name(std::string_view name);
// Framing and connection fields belong to the host: a plugin can neither set them nor remove them (it removes
// Content-Length to say "the length changes", and sets it only in a local reply, where it must be a number).
bool host_owned_field(std::string_view name);
bool valid_field_value(std::string_view value);

}  // namespace portico::proxy
