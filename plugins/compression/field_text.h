// Character rules shared by the codec layer's small parsers (coding tokens, Accept-Encoding, Content-Type):
// RFC 9110 5.6. Internal; standalone so that the plugin does not depend on the host's HTTP code.
#pragma once

#include <cstring>
#include <string_view>

namespace portico::compression::text {

// tchar (RFC 9110 5.6.2)
inline bool is_tchar(char c) {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
    return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// OWS (RFC 9110 5.6.3)
inline bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

inline char to_lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Tokens, media types and parameter names compare case-insensitively (RFC 9110 8.3.1, 8.4.1, 5.6.6).
inline bool equals_ignore_case(std::string_view text, std::string_view lowercase) {
    if (text.size() != lowercase.size()) return false;
    for (size_t i = 0; i < text.size(); ++i) {
        if (to_lower(text[i]) != lowercase[i]) return false;
    }
    return true;
}

inline std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
    return s;
}

}  // namespace portico::compression::text
