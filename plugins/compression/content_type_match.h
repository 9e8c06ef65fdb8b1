// Which responses are worth compressing, by Content-Type (RFC 9110 8.3): a configurable list of media-type
// patterns.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace portico::compression {

// Patterns, matched case-insensitively (RFC 9110 8.3.1):
//   "application/json"    that media type exactly
//   "text/*"              any subtype of the type
//   "application/*+json"  any subtype with that structured syntax suffix (RFC 6838 4.2.8)
//   "*/..."               any type, with one of the three subtype forms above
// Patterns carry no parameters; a Content-Type's parameters (";charset=utf-8") are ignored when matching.
class ContentTypeMatcher {
public:
    // Adds a pattern; false (the matcher unchanged) when it is none of the forms above. May throw std::bad_alloc:
    // it runs when the configuration is read, not on the request path.
    bool add(std::string_view pattern);
    bool empty() const { return patterns_.empty(); }

    // Whether a Content-Type field value matches a pattern. A missing, empty or malformed value never matches.
    bool matches(std::string_view content_type) const noexcept;

private:
    struct Pattern {
        std::string type;     // lowercase; empty for "*"
        std::string subtype;  // lowercase; empty for "*"; the suffix with its "+" when `suffix`
        bool suffix = false;
    };
    std::vector<Pattern> patterns_;
};

// The default list: text, JSON, JavaScript, XML, SVG, WebAssembly and manifests; already-compressed formats
// (images other than SVG, video, archives) are left out as compressing them again gains nothing.
const std::vector<std::string_view>& default_compressible_types();

// A matcher over default_compressible_types().
ContentTypeMatcher default_content_type_matcher();

}  // namespace portico::compression
