// [upstream.NAME]: the backends requests are forwarded to.
#include <Poco/Exception.h>

#include <algorithm>

#include "config/address.h"
#include "config/sections.h"

namespace portico::config {

namespace {

// One "host:port" entry of `endpoints`, resolved now: the workers never resolve names on the request path.
std::optional<Poco::Net::SocketAddress> read_endpoint(const toml::node& entry, const std::string& key_name,
                                                      Problems& problems) {
    const auto* string = entry.as_string();
    if (string == nullptr) {
        problems.add(entry.source(),
                     "'" + key_name + "' entries must be \"host:port\" strings, not " + type_name(entry.type()));
        return std::nullopt;
    }
    const std::string& text = string->get();
    std::optional<HostPort> parts = split_host_port(text);
    bool host_ok =
        parts && (is_ipv4_literal(parts->host) || is_ipv6_literal(parts->host) || is_host_name(parts->host));
    if (!host_ok || parts->port == 0) {
        problems.add(entry.source(), "'" + key_name + "' entry " + in_quotes(text) +
                                         " must be \"host:port\" or \"[IPv6]:port\" with a port 1..65535");
        return std::nullopt;
    }
    try {
        return Poco::Net::SocketAddress(parts->host, parts->port);
    } catch (const Poco::Exception& e) {
        problems.add(entry.source(), "'" + key_name + "' entry " + in_quotes(text) + ": cannot resolve host " +
                                         in_quotes(parts->host) + " (" + e.name() + ")");
        return std::nullopt;
    }
}

void read_endpoints(TableReader& upstream, const toml::key& name, Upstream& out) {
    const toml::node* node = upstream.node("endpoints");
    std::string key_name = upstream.name("endpoints");
    if (node == nullptr) {
        upstream.problems().add(name.source(),
                                "'" + key_name + "' is missing: an upstream needs at least one \"host:port\"");
        return;
    }
    const toml::array* entries = node->as_array();
    if (entries == nullptr || entries->empty()) {
        std::string actual = entries == nullptr ? type_name(node->type()) : "an empty array";
        upstream.report("endpoints",
                        "'" + key_name + "' must be a non-empty array of \"host:port\" strings, not " + actual);
        return;
    }
    for (const toml::node& entry : *entries) {
        if (auto address = read_endpoint(entry, key_name, upstream.problems())) out.endpoints.push_back(*address);
    }
}

void read_upstream(TableReader& upstream, const toml::key& name, Upstream& out) {
    read_endpoints(upstream, name, out);
    upstream.read_integer<unsigned>("keepalive", 0, 100'000, out.keepalive);
    upstream.read_duration("connect_timeout", out.connect_timeout);
    upstream.read_duration("response_timeout", out.response_timeout);
    upstream.report_unknown();
}

}  // namespace

void read_upstreams(TableReader& root, const Timeouts& timeouts, std::vector<Upstream>& out) {
    const toml::table* table = root.table("upstream");
    if (table == nullptr) return;
    TableReader upstreams = root.nested("upstream", *table);
    for (auto&& [key, value] : *table) {
        Upstream upstream;
        upstream.name = key.str();
        upstream.connect_timeout = timeouts.upstream_connect;
        upstream.response_timeout = timeouts.upstream_response;
        if (!is_valid_name(upstream.name)) {
            root.problems().add(key.source(), "upstream name " + in_quotes(upstream.name) +
                                                  " must consist of letters, digits, '-' and '_'");
        }
        if (const toml::table* body = value.as_table()) {
            TableReader reader = upstreams.nested(key.str(), *body);
            read_upstream(reader, key, upstream);
        } else {
            root.problems().add(key.source(), "'" + upstreams.name(key.str()) + "' must be a table, not " +
                                                  type_name(value.type()));
        }
        out.push_back(std::move(upstream));
    }
    // Routes refer to upstreams by index into this order (the contract of Config::upstreams).
    std::stable_sort(out.begin(), out.end(), [](const Upstream& a, const Upstream& b) { return a.name < b.name; });
}

}  // namespace portico::config
