// Character classes and field-line rules shared by the request parser, the response parser and the chunked
// decoder's trailer section (RFC 9110 5.5, 5.6; RFC 9112 2.2, 5). Internal to host/http/.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "http/message.h"

namespace portico::http::syntax {

// One lookup table per character class, so every scanning loop is a single table test per byte.
struct CharTables {
    bool token[256] = {};        // tchar (RFC 9110 5.6.2)
    bool field_value[256] = {};  // field-vchar / SP / HTAB (RFC 9110 5.5); also reason-phrase (RFC 9112 4)
    bool target[256] = {};       // visible US-ASCII: no SP, no CTL, no DEL, no obs-text (RFC 9112 3.2)
    bool qdtext[256] = {};       // RFC 9110 5.6.4: HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text
    int8_t hex[256] = {};        // HEXDIG value, or -1

    constexpr CharTables() {
        for (int c = 0; c < 256; ++c) hex[c] = -1;
        for (int c = '0'; c <= '9'; ++c) token[c] = true, hex[c] = static_cast<int8_t>(c - '0');
        for (int c = 'a'; c <= 'z'; ++c) token[c] = true;
        for (int c = 'A'; c <= 'Z'; ++c) token[c] = true;
        for (int c = 0; c < 6; ++c) hex['a' + c] = hex['A' + c] = static_cast<int8_t>(10 + c);
        const char* specials = "!#$%&'*+-.^_`|~";
        for (const char* s = specials; *s != '\0'; ++s) token[static_cast<unsigned char>(*s)] = true;
        for (int c = 0x21; c <= 0x7e; ++c) field_value[c] = target[c] = qdtext[c] = true;
        for (int c = 0x80; c <= 0xff; ++c) field_value[c] = qdtext[c] = true;
        field_value[0x20] = field_value[0x09] = qdtext[0x20] = qdtext[0x09] = true;  // SP, HTAB
        qdtext[0x22] = qdtext[0x5c] = false;                                         // DQUOTE, backslash
    }
};

inline constexpr CharTables kChars{};

inline bool is_token_char(char c) {
    return kChars.token[static_cast<unsigned char>(c)];
}
inline bool is_field_value_char(char c) {
    return kChars.field_value[static_cast<unsigned char>(c)];
}
inline bool is_target_char(char c) {
    return kChars.target[static_cast<unsigned char>(c)];
}
inline bool is_ows(char c) {
    return c == ' ' || c == '\t';
}

inline std::string_view trim_ows(std::string_view text) {
    while (!text.empty() && is_ows(text.front())) text.remove_prefix(1);
    while (!text.empty() && is_ows(text.back())) text.remove_suffix(1);
    return text;
}

// Calls fn(element) for each element of a comma-separated list (RFC 9110 5.6.1). Empty elements are skipped, as
// a recipient must accept them; a field may be repeated, so callers call this once per field line.
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

// Content-Length = 1*DIGIT (RFC 9110 8.6), at most 2^63-1 so that it fits any signed 64-bit offset downstream.
// Leading zeros are digits like any other; only significant digits count towards the limit.
inline bool parse_decimal(std::string_view text, uint64_t& out) {
    if (text.empty()) return false;
    size_t i = 0;
    while (i < text.size() && text[i] == '0') ++i;
    if (text.size() - i > 19) return false;  // 10^19 > 2^63
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<uint64_t>(c - '0');  // at most 19 significant digits: no wrap
    }
    if (value > static_cast<uint64_t>(INT64_MAX)) return false;
    out = value;
    return true;
}

// Parses the field line starting at p (RFC 9112 5: field-name ":" OWS field-value OWS CRLF). The caller has already
// found the CRLF that ends the line, so every loop below stops at its CR at the latest (CR is in no class).
// Returns the start of the next line, or nullptr with `error` set.
inline const char* parse_field_line(const char* p, Header& out, std::string_view& error) {
    const char* name = p;
    while (is_token_char(*p)) ++p;
    if (*p != ':') {
        if (p == name && is_ows(*p)) {
            error = "obs-fold not allowed";  // RFC 9112 5.2: a server must reject it (we do in responses too)
        } else if (p == name && *p == '\r') {
            error = "empty field line";  // unreachable for a head (an empty line ends it), kept for safety
        } else if (is_ows(*p)) {
            error = "whitespace before colon";  // RFC 9112 5.1: must be rejected with 400
        } else if (*p == '\r') {
            error = "field line without colon";
        } else {
            error = "invalid character in field name";
        }
        return nullptr;
    }
    if (p == name) {
        error = "empty field name";
        return nullptr;
    }
    out.name = std::string_view(name, static_cast<size_t>(p - name));
    ++p;
    while (is_ows(*p)) ++p;
    const char* value = p;
    while (is_field_value_char(*p)) ++p;
    if (p[0] != '\r' || p[1] != '\n') {
        error = "invalid character in field value";  // NUL, a bare CR, another CTL or DEL (RFC 9110 5.5)
        return nullptr;
    }
    const char* value_end = p;
    while (value_end > value && is_ows(value_end[-1])) --value_end;
    out.value = std::string_view(value, static_cast<size_t>(value_end - value));
    return p + 2;
}

}  // namespace portico::http::syntax
