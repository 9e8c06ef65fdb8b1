// Syntax of the addresses in the configuration: listener binds ("IPv4:port", "[IPv6]:port"), upstream endpoints
// ("host:port" where host may also be a name) and route host patterns. No name resolution happens here.
#pragma once

#include <Poco/Net/SocketAddress.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace portico::config {

struct HostPort {
    std::string host;  // without the brackets of an IPv6 literal
    uint16_t port = 0;
};

// "host:port" or "[IPv6]:port"; the host is non-empty and the port decimal 0..65535. nullopt if malformed.
std::optional<HostPort> split_host_port(std::string_view text);

bool is_ipv4_literal(std::string_view host);  // dotted quad exactly: "127.1" is refused
bool is_ipv6_literal(std::string_view host);  // without brackets and without a zone ("%eth0")

// A DNS name: letters, digits, '-', '_' in labels separated by single dots (an optional final dot).
bool is_host_name(std::string_view host);

// A numeric "IPv4:port" or "[IPv6]:port" as a socket address; nullopt for anything else (names included: a
// listener binds an address, it does not look one up).
std::optional<Poco::Net::SocketAddress> parse_bind_address(std::string_view text);

// A route's host pattern normalized the way the router compares hosts: lowercase, no final dot. Accepts a name,
// "*.name", an IPv4 literal or a bracketed IPv6 literal; nullopt for anything else (a port, a path, spaces...).
std::optional<std::string> normalize_host_pattern(std::string_view pattern);

}  // namespace portico::config
