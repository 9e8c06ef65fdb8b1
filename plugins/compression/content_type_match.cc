// media-type = type "/" subtype parameters;  parameters = *( OWS ";" OWS [ parameter ] )  (RFC 9110 8.3.1)
#include "content_type_match.h"

#include "field_text.h"

namespace portico::compression {

namespace {

using text::equals_ignore_case;
using text::is_tchar;
using text::to_lower;
using text::trim_ows;

bool is_token(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s) {
        if (!is_tchar(c)) return false;
    }
    return true;
}

// Splits "type/subtype" into two tokens; false when it is not that shape.
bool split_media_type(std::string_view text, std::string_view& type, std::string_view& subtype) {
    const size_t slash = text.find('/');
    if (slash == std::string_view::npos) return false;
    type = text.substr(0, slash);
    subtype = text.substr(slash + 1);
    return is_token(type) && is_token(subtype);
}

// A name in a pattern starts with a letter or digit, as registered type and subtype names do (RFC 6838 4.2);
// this refuses likely slips such as "text/+json" (meant: "text/*+json").
bool starts_alnum(std::string_view s) {
    const char c = s.empty() ? '\0' : s.front();
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = to_lower(c);
    return out;
}

}  // namespace

bool ContentTypeMatcher::add(std::string_view pattern) {
    std::string_view type;
    std::string_view subtype;
    if (!split_media_type(trim_ows(pattern), type, subtype)) return false;
    Pattern p;
    if (type != "*") {
        if (type.find('*') != std::string_view::npos || !starts_alnum(type)) return false;
        p.type = lowercase(type);
    }
    if (subtype.size() > 2 && subtype.substr(0, 2) == "*+") {
        subtype.remove_prefix(1);  // keep the "+": a suffix match must start at one
        if (subtype.find_first_of("*+", 1) != std::string_view::npos || !starts_alnum(subtype.substr(1))) {
            return false;
        }
        p.suffix = true;
        p.subtype = lowercase(subtype);
    } else if (subtype != "*") {
        if (subtype.find('*') != std::string_view::npos || !starts_alnum(subtype)) return false;
        p.subtype = lowercase(subtype);
    }
    patterns_.push_back(std::move(p));
    return true;
}

bool ContentTypeMatcher::matches(std::string_view content_type) const noexcept {
    const size_t semicolon = content_type.find(';');
    std::string_view type;
    std::string_view subtype;
    if (!split_media_type(trim_ows(content_type.substr(0, semicolon)), type, subtype)) return false;
    for (const Pattern& p : patterns_) {
        if (!p.type.empty() && !equals_ignore_case(type, p.type)) continue;
        if (p.subtype.empty()) return true;
        if (!p.suffix) {
            if (equals_ignore_case(subtype, p.subtype)) return true;
        } else if (subtype.size() > p.subtype.size() &&
                   equals_ignore_case(subtype.substr(subtype.size() - p.subtype.size()), p.subtype)) {
            return true;
        }
    }
    return false;
}

const std::vector<std::string_view>& default_compressible_types() {
    static const std::vector<std::string_view> types = {
        "text/*",
        "application/json",
        "application/javascript",
        "text/javascript",  // also covered by text/*; listed as the registered JavaScript type (RFC 9239)
        "application/xml",
        "application/*+json",
        "application/*+xml",
        "image/svg+xml",
        "application/wasm",
        "application/x-javascript",
        "application/ld+json",        // also covered by application/*+json
        "application/manifest+json",  // also covered by application/*+json
    };
    return types;
}

ContentTypeMatcher default_content_type_matcher() {
    ContentTypeMatcher matcher;
    for (std::string_view type : default_compressible_types()) matcher.add(type);
    return matcher;
}

}  // namespace portico::compression
