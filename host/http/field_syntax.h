// Character classes and field-line checks shared by the request parser, the response parser and the chunked
// decoder's trailers (RFC 9110 5.5, 5.6.2; RFC 9112 5).
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace portico::http::syntax {

// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA
struct CharTable {
    bool token[256] = {};
    bool field_value[256] = {};  // VCHAR, SP, HTAB, obs-text
    bool target[256] = {};       // visible ASCII, no SP
    constexpr CharTable() {
        for (int c = '0'; c <= '9'; ++c) token[c] = true;
        for (int c = 'a'; c <= 'z'; ++c) token[c] = true;
        for (int c = 'A'; c <= 'Z'; ++c) token[c] = true;
        for (char c : std::string_view("!#$%&'*+-.^_`|~")) token[static_cast<unsigned char>(c)] = true;
        for (int c = 0x21; c <= 0x7e; ++c) field_value[c] = target[c] = true;
        for (int c = 0x80; c <= 0xff; ++c) field_value[c] = true;
        field_value[static_cast<unsigned char>(' ')] = true;
        field_value[static_cast<unsigned char>('\t')] = true;
    }
};

inline constexpr CharTable kChars{};

inline bool is_token(std::string_view text) {
    if (text.empty()) return false;
    for (unsigned char c : text) {
        if (!kChars.token[c]) return false;
    }
    return true;
}

inline std::string_view trim_ows(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

enum class FieldError { None, ObsFold, EmptyName, SpaceBeforeColon, BadName, NoColon, BadValue };

// Splits one field line (without its CRLF) into name and trimmed value, strictly.
inline FieldError parse_field_line(std::string_view line, std::string_view& name, std::string_view& value) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) return FieldError::ObsFold;
    size_t i = 0;
    while (i < line.size() && kChars.token[static_cast<unsigned char>(line[i])]) ++i;
    if (i == line.size()) return i == 0 ? FieldError::EmptyName : FieldError::NoColon;
    if (line[i] != ':') {
        if (i == 0) return line[0] == ':' ? FieldError::EmptyName : FieldError::BadName;
        return (line[i] == ' ' || line[i] == '\t') ? FieldError::SpaceBeforeColon : FieldError::BadName;
    }
    if (i == 0) return FieldError::EmptyName;
    name = line.substr(0, i);
    std::string_view raw = line.substr(i + 1);
    for (unsigned char c : raw) {
        if (!kChars.field_value[c]) return FieldError::BadValue;  // NUL, CR, other CTLs, DEL
    }
    value = trim_ows(raw);
    return FieldError::None;
}

inline const char* describe(FieldError error) {
    switch (error) {
        case FieldError::ObsFold: return "obs-fold not allowed";
        case FieldError::EmptyName: return "empty field name";
        case FieldError::SpaceBeforeColon: return "whitespace before colon";
        case FieldError::BadName: return "invalid character in field name";
        case FieldError::NoColon: return "field line without colon";
        case FieldError::BadValue: return "control character in field value";
        case FieldError::None: break;
    }
    return "";
}

// Calls fn(token) for each element of a comma-separated list (RFC 9110 5.6.1), skipping empty elements.
template <typename Fn>
void for_each_list_element(std::string_view list, Fn&& fn) {
    while (true) {
        size_t comma = list.find(',');
        std::string_view element = trim_ows(list.substr(0, comma));
        if (!element.empty()) fn(element);
        if (comma == std::string_view::npos) return;
        list.remove_prefix(comma + 1);
    }
}

// 1*DIGIT into a value no larger than 2^63-1; false on anything else.
inline bool parse_content_length(std::string_view text, uint64_t& out) {
    if (text.empty() || text.size() > 19) return false;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (value > INT64_MAX) return false;
    out = value;
    return true;
}

// Finds the end of a head: the index just past the CRLF CRLF, scanning from `from` (a line start). Returns 0 if
// not complete yet (and sets `line_start` to where the unfinished line begins), or SIZE_MAX on a bare LF.
inline size_t find_head_end(const char* data, size_t len, size_t from, size_t& line_start) {
    line_start = from;
    size_t pos = from;
    while (pos < len) {
        const void* found = std::memchr(data + pos, '\n', len - pos);
        if (!found) break;
        size_t lf = static_cast<const char*>(found) - data;
        if (lf == 0 || data[lf - 1] != '\r') return SIZE_MAX;  // bare LF (RFC 9112 2.2: we do not accept it)
        if (lf - 1 == line_start) return lf + 1;            // an empty line ends the head
        line_start = lf + 1;
        pos = lf + 1;
    }
    return 0;
}

}  // namespace portico::http::syntax
