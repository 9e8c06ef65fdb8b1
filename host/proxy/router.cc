#include "proxy/router.h"

namespace portico::proxy {

namespace {

bool host_matches(const std::string& pattern, std::string_view host) {
    if (pattern.empty()) return true;
    if (pattern.size() > 2 && pattern[0] == '*' && pattern[1] == '.') {
        // "*.example.com" matches "a.example.com" and "a.b.example.com", not "example.com" (as nginx).
        std::string_view suffix(pattern.data() + 1, pattern.size() - 1);
        return host.size() > suffix.size() && host.substr(host.size() - suffix.size()) == suffix;
    }
    return host == pattern;
}

bool path_matches(const config::RouteMatch& match, std::string_view path) {
    if (!match.path.empty()) return path == match.path;
    if (match.prefix.empty()) return true;
    return path.substr(0, match.prefix.size()) == match.prefix;
}

}  // namespace

const config::Route* Router::match(std::string_view host, std::string_view path) const {
    char buffer[256];
    std::string_view normalized = normalize_host(host, buffer, sizeof buffer);
    for (const auto& route : routes_) {
        if (host_matches(route.match.host, normalized) && path_matches(route.match, path)) return &route;
    }
    return nullptr;
}

std::string_view target_path(std::string_view target) {
    size_t end = target.find_first_of("?#");
    return end == std::string_view::npos ? target : target.substr(0, end);
}

bool split_absolute_form(std::string_view target, std::string_view& scheme, std::string_view& authority,
                         std::string_view& rest) {
    if (target.empty() || target[0] == '/') return false;  // origin-form, the usual case: no scan
    size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return false;
    scheme = target.substr(0, scheme_end);
    std::string_view after = target.substr(scheme_end + 3);
    size_t end = after.find_first_of("/?#");
    authority = after.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : after.substr(end);
    return true;
}

bool http_scheme(std::string_view scheme) {
    return http::equals_ignore_case(scheme, "http") || http::equals_ignore_case(scheme, "https");
}

bool valid_authority(std::string_view authority) {
    if (authority.empty()) return false;
    for (char c : authority) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  std::string_view("-._~!$&'()*+,;=:[]%").find(c) != std::string_view::npos;
        if (!ok) return false;
    }
    return true;
}

std::string_view normalize_host(std::string_view host, char* out, size_t out_size) {
    // Strip ":port", but not inside an IPv6 literal "[::1]:8080".
    size_t end = host.size();
    size_t colon = host.rfind(':');
    size_t bracket = host.rfind(']');
    if (colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket)) end = colon;
    if (end >= out_size) return {};
    for (size_t i = 0; i < end; ++i) {
        char c = host[i];
        out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    }
    // A trailing dot names the same host (RFC 1034 3.1).
    if (end > 0 && out[end - 1] == '.') --end;
    return std::string_view(out, end);
}

}  // namespace portico::proxy
