#include "config/address.h"

#include <arpa/inet.h>

namespace portico::config {

namespace {

std::optional<uint16_t> parse_port(std::string_view digits) {
    if (digits.empty() || digits.size() > 5) return std::nullopt;
    unsigned value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    if (value > 65535) return std::nullopt;
    return static_cast<uint16_t>(value);
}

bool inet_parses(int family, std::string_view host) {
    unsigned char buffer[sizeof(struct in6_addr)];
    return inet_pton(family, std::string(host).c_str(), buffer) == 1;
}

}  // namespace

std::optional<HostPort> split_host_port(std::string_view text) {
    HostPort result;
    std::string_view port;
    if (!text.empty() && text[0] == '[') {
        size_t close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        result.host = std::string(text.substr(1, close - 1));
        port = text.substr(close + 2);
        if (!is_ipv6_literal(result.host)) return std::nullopt;
    } else {
        size_t colon = text.rfind(':');
        if (colon == std::string_view::npos) return std::nullopt;
        result.host = std::string(text.substr(0, colon));
        // A bare IPv6 literal ("::1:80") is ambiguous about where the port starts: brackets are required.
        if (result.host.find(':') != std::string::npos) return std::nullopt;
        port = text.substr(colon + 1);
    }
    std::optional<uint16_t> number = parse_port(port);
    if (result.host.empty() || !number) return std::nullopt;
    result.port = *number;
    return result;
}

bool is_ipv4_literal(std::string_view host) {
    return inet_parses(AF_INET, host);
}

bool is_ipv6_literal(std::string_view host) {
    return host.find(':') != std::string_view::npos && inet_parses(AF_INET6, host);
}

bool is_host_name(std::string_view host) {
    if (!host.empty() && host.back() == '.') host.remove_suffix(1);
    if (host.empty() || host.size() > 253) return false;
    size_t label = 0;
    for (char c : host) {
        bool name_char =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
        } else if (!name_char || ++label > 63) {
            return false;
        }
    }
    return label != 0;
}

std::optional<Poco::Net::SocketAddress> parse_bind_address(std::string_view text) {
    std::optional<HostPort> parts = split_host_port(text);
    if (!parts) return std::nullopt;
    bool bracketed = text[0] == '[';
    if (bracketed ? !is_ipv6_literal(parts->host) : !is_ipv4_literal(parts->host)) return std::nullopt;
    // Numeric, so Poco parses it and never resolves.
    return Poco::Net::SocketAddress(parts->host, parts->port);
}

std::optional<std::string> normalize_host_pattern(std::string_view pattern) {
    std::string host;
    for (char c : pattern) host += (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        if (!is_ipv6_literal(std::string_view(host).substr(1, host.size() - 2))) return std::nullopt;
        return host;
    }
    // The router drops a final dot from the request's host (RFC 1034 3.1), so the pattern must not keep one.
    if (!host.empty() && host.back() == '.') host.pop_back();
    if (!host.empty() && host.back() == '.') return std::nullopt;
    std::string_view name = host;
    if (name.size() > 2 && name.substr(0, 2) == "*.") name.remove_prefix(2);
    if (!is_host_name(name)) return std::nullopt;
    return host;
}

}  // namespace portico::config
