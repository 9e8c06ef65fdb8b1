// The key a consistent-hashing balancer hashes, taken from the request as the upstream's `hash_key` says: the
// client's address, a header's value or a cookie's value (empty when the request has none).
#pragma once

#include <string>
#include <string_view>

#include "config/config.h"
#include "http/message.h"

namespace portico::proxy {

void compute_hash_key(const config::HashKey& key, const http::RequestHead& request, std::string_view client_ip,
                      std::string& out);

// The value of cookie `name` in one Cookie field value ("a=1; b=2"), or nullopt-like empty with found = false.
bool find_cookie(std::string_view cookies, std::string_view name, std::string_view& value);

}  // namespace portico::proxy
