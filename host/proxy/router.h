// Route matching: host (exact or "*.suffix"), then path (exact or prefix); the first matching route wins.
#pragma once

#include <string_view>
#include <vector>

#include "config/config.h"

namespace portico::proxy {

class Router {
public:
    explicit Router(const std::vector<config::Route>& routes) : routes_(routes) {}

    // host: the Host field value (port and letter case are ignored); path: the request-target's path part.
    const config::Route* match(std::string_view host, std::string_view path) const;

private:
    const std::vector<config::Route>& routes_;
};

// The path of an origin-form request-target, without the query ("/a/b?x" -> "/a/b").
std::string_view target_path(std::string_view target);

// absolute-form "http://example.com:8080/p?q" (RFC 9112 3.2.2): true, with `scheme` ("http"), `authority`
// ("example.com:8080") and `rest` ("/p?q"; "" when the target has neither path nor query). False for origin,
// authority and asterisk forms. The session turns absolute-form into origin-form before anything routes.
bool split_absolute_form(std::string_view target, std::string_view& scheme, std::string_view& authority,
                         std::string_view& rest);

// http or https, the schemes a reverse proxy serves (RFC 9110 4.2).
bool http_scheme(std::string_view scheme);

// Whether an authority from an absolute-form target is one we forward: reg-name or IP literal, optional port,
// no userinfo (RFC 9110 4.2.4 deprecates it; an "@" there is a classic way to confuse parsers).
bool valid_authority(std::string_view authority);

// "Example.COM:8080" -> "example.com" written into `out` (at most out_size bytes; longer hosts never match).
std::string_view normalize_host(std::string_view host, char* out, size_t out_size);

}  // namespace portico::proxy
