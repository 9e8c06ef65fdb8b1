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

// The path of an origin-form or absolute-form request-target, without the query ("/a/b?x" -> "/a/b").
std::string_view target_path(std::string_view target);

// "Example.COM:8080" -> "example.com" written into `out` (at most out_size bytes; longer hosts never match).
std::string_view normalize_host(std::string_view host, char* out, size_t out_size);

}  // namespace portico::proxy
