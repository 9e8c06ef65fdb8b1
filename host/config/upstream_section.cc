// [upstream.NAME]: the backends requests are forwarded to.
#include <Poco/Exception.h>

#include <algorithm>

#include "config/address.h"
#include "config/plugin_table.h"
#include "config/sections.h"
#include "config/units.h"

namespace portico::config {

namespace {

// Checks one endpoint's "host:port" and resolves it now: the workers never resolve names on the request path.
// `subject` names it in messages ("'upstream.app.endpoints' entry \"a:80\""); problems go to `where`.
std::optional<Poco::Net::SocketAddress> resolve_endpoint(const std::string& text, const std::string& subject,
                                                         const toml::source_region& where, Problems& problems) {
    std::optional<HostPort> parts = split_host_port(text);
    bool host_ok =
        parts && (is_ipv4_literal(parts->host) || is_ipv6_literal(parts->host) || is_host_name(parts->host));
    if (!host_ok || parts->port == 0) {
        problems.add(where, subject + " must be \"host:port\" or \"[IPv6]:port\" with a port 1..65535");
        return std::nullopt;
    }
    try {
        return Poco::Net::SocketAddress(parts->host, parts->port);
    } catch (const Poco::Exception& e) {
        problems.add(where, subject + ": cannot resolve host " + in_quotes(parts->host) + " (" + e.name() + ")");
        return std::nullopt;
    }
}

// `{ address = "host:port", weight = N }`: problems at its keys, a missing address at the table.
std::optional<Endpoint> read_endpoint_table(TableReader& upstream, const toml::table& table) {
    TableReader entry = upstream.nested("endpoints", table);
    Endpoint endpoint;
    std::string address;
    bool address_ok = false;
    if (entry.read_string("address", address)) {
        std::string subject = "'" + entry.name("address") + "' " + in_quotes(address);
        if (auto resolved = resolve_endpoint(address, subject, entry.where("address"), entry.problems())) {
            endpoint.address = *resolved;
            address_ok = true;
        }
    } else if (entry.node("address") == nullptr) {
        entry.problems().add(table.source(), "'" + entry.name("address") + "' is missing: an endpoint table " +
                                                 "needs one, like { address = \"10.0.0.1:8080\", weight = 2 }");
    }
    bool weight_ok =
        entry.node("weight") == nullptr || entry.read_integer<unsigned>("weight", 1, 1000, endpoint.weight);
    entry.report_unknown();
    if (!address_ok || !weight_ok) return std::nullopt;
    return endpoint;
}

// One entry of `endpoints`: "host:port" (weight 1) or a table.
std::optional<Endpoint> read_endpoint(TableReader& upstream, const toml::node& entry) {
    if (const toml::table* table = entry.as_table()) return read_endpoint_table(upstream, *table);
    std::string key_name = upstream.name("endpoints");
    const auto* string = entry.as_string();
    if (string == nullptr) {
        upstream.problems().add(entry.source(), "'" + key_name +
                                                    "' entries must be \"host:port\" strings or tables like "
                                                    "{ address = \"host:port\", weight = 2 }, not " +
                                                    type_name(entry.type()));
        return std::nullopt;
    }
    const std::string& text = string->get();
    std::string subject = "'" + key_name + "' entry " + in_quotes(text);
    std::optional<Poco::Net::SocketAddress> address =
        resolve_endpoint(text, subject, entry.source(), upstream.problems());
    if (!address) return std::nullopt;
    return Endpoint{*address, 1};
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
        if (auto endpoint = read_endpoint(upstream, entry)) out.endpoints.push_back(*endpoint);
    }
}

void read_hash_key(TableReader& upstream, HashKey& out) {
    std::string text;
    if (!upstream.read_string("hash_key", text)) return;
    constexpr std::string_view kHeader = "header:";
    constexpr std::string_view kCookie = "cookie:";
    std::string_view view = text;
    HashKey key;
    if (view == "client_ip") {
        key.source = HashKey::Source::ClientIp;
    } else if (view.substr(0, kHeader.size()) == kHeader && is_token(view.substr(kHeader.size()))) {
        key.source = HashKey::Source::Header;
        // Header names are case-insensitive (RFC 9110 5.1): one spelling for the host to look up.
        for (char c : view.substr(kHeader.size())) {
            key.name += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
        }
    } else if (view.substr(0, kCookie.size()) == kCookie && is_token(view.substr(kCookie.size()))) {
        // A cookie-name is a token (RFC 6265 4.1.1), and case-sensitive.
        key.source = HashKey::Source::Cookie;
        key.name = std::string(view.substr(kCookie.size()));
    } else {
        upstream.report("hash_key",
                        "'" + upstream.name("hash_key") +
                            "' must be \"client_ip\", \"header:NAME\" or \"cookie:NAME\" (NAME: letters, "
                            "digits and !#$%&'*+-.^_`|~), not " +
                            in_quotes(text));
        return;
    }
    out = std::move(key);
}

// The target of a check's GET, sent as written: origin-form (RFC 9112 3.2.1), so no spaces, controls or fragment.
std::string check_path_problem(std::string_view path) {
    if (path.empty() || path[0] != '/') return "must start with \"/\"";
    for (char c : path) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte >= 0x7f) return "must not contain spaces, control characters or non-ASCII bytes";
        if (c == '#') return "must not contain '#' (a fragment is never sent)";
    }
    return "";
}

// The Host header of a check: "name", "name:port", an IPv4 literal or "[IPv6]", with or without a port.
bool is_check_host(std::string_view host) {
    if (std::optional<HostPort> parts = split_host_port(host)) {
        bool bracketed = host[0] == '[';
        return bracketed || is_ipv4_literal(parts->host) || is_host_name(parts->host);
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
        return is_ipv6_literal(host.substr(1, host.size() - 2));
    }
    return is_ipv4_literal(host) || is_host_name(host);
}

// "200" or "200-399", codes 100..599.
bool parse_status_range(std::string_view text, unsigned& min, unsigned& max) {
    auto status = [](std::string_view digits, unsigned& out) {
        if (digits.size() != 3) return false;
        unsigned value = 0;
        for (char c : digits) {
            if (c < '0' || c > '9') return false;
            value = value * 10 + static_cast<unsigned>(c - '0');
        }
        out = value;
        return value >= 100 && value <= 599;
    };
    size_t dash = text.find('-');
    if (dash == std::string_view::npos) {
        if (!status(text, min)) return false;
        max = min;
        return true;
    }
    return status(text.substr(0, dash), min) && status(text.substr(dash + 1), max);
}

void read_expect(TableReader& health, HealthCheck& out) {
    const toml::node* node = health.node("expect");
    if (node == nullptr) return;
    std::string key_name = health.name("expect");
    const auto* string = node->as_string();
    if (string == nullptr) {
        health.report("expect", "'" + key_name + "' must be a string like \"200\" or \"200-399\", not " +
                                    type_name(node->type()));
        return;
    }
    unsigned min = 0, max = 0;
    if (!parse_status_range(string->get(), min, max)) {
        health.report("expect", "'" + key_name + "' must be a status code \"NNN\" or a range \"NNN-NNN\" of " +
                                    "codes 100..599, not " + in_quotes(string->get()));
        return;
    }
    if (min > max) {
        health.report("expect",
                      "'" + key_name + "' must be a range from low to high, not " + in_quotes(string->get()));
        return;
    }
    out.status_min = min;
    out.status_max = max;
}

void read_health(TableReader& upstream, HealthCheck& out) {
    const toml::table* table = upstream.table("health");
    if (table == nullptr) return;
    TableReader health = upstream.nested("health", *table);
    out.enabled = true;
    std::string path;
    if (health.read_string("path", path)) {
        std::string problem = check_path_problem(path);
        if (problem.empty()) {
            out.path = path;
        } else {
            health.report("path", "'" + health.name("path") + "' " + problem + ", not " + in_quotes(path));
        }
    }
    std::string host;
    if (health.read_string("host", host)) {
        if (host.empty() || is_check_host(host)) {
            out.host = host;
        } else {
            health.report("host", "'" + health.name("host") + "' must be a host name or address, with an " +
                                      "optional port (\"example.com\", \"10.0.0.1:8080\", \"[::1]\"), not " +
                                      in_quotes(host));
        }
    }
    read_expect(health, out);
    bool interval_given = health.read_duration("interval", out.interval);
    bool timeout_given = health.read_duration("timeout", out.timeout);
    // A check still running when the next is due would overlap it.
    if (out.timeout >= out.interval && (interval_given || timeout_given)) {
        std::string timeout_text = format_duration(out.timeout) + (timeout_given ? "" : ", the default");
        std::string interval_text = format_duration(out.interval) + (interval_given ? "" : ", the default");
        std::string message = "'" + health.name("timeout") + "' (" + timeout_text + ") must be shorter than '" +
                              health.name("interval") + "' (" + interval_text + ")";
        health.report(timeout_given ? "timeout" : "interval", message);
    }
    health.read_integer<unsigned>("rise", 1, 100, out.rise);
    health.read_integer<unsigned>("fall", 1, 100, out.fall);
    health.report_unknown();
}

void read_outlier(TableReader& upstream, OutlierDetection& out) {
    const toml::table* table = upstream.table("outlier");
    if (table == nullptr) return;
    TableReader outlier = upstream.nested("outlier", *table);
    outlier.read_integer<unsigned>("consecutive_failures", 0, 1000, out.consecutive_failures);
    bool base_given = outlier.read_duration("base_ejection", out.base_ejection);
    bool max_given = outlier.read_duration("max_ejection", out.max_ejection);
    if (out.max_ejection < out.base_ejection && (base_given || max_given)) {
        std::string base_text = format_duration(out.base_ejection) + (base_given ? "" : ", the default");
        std::string max_text = format_duration(out.max_ejection) + (max_given ? "" : ", the default");
        outlier.report(max_given ? "max_ejection" : "base_ejection",
                       "'" + outlier.name("max_ejection") + "' (" + max_text + ") must be at least '" +
                           outlier.name("base_ejection") + "' (" + base_text + ")");
    }
    outlier.read_integer<unsigned>("max_ejected_percent", 0, 100, out.max_ejected_percent);
    outlier.report_unknown();
}

void read_upstream(TableReader& upstream, const toml::key& name, Upstream& out) {
    read_endpoints(upstream, name, out);
    upstream.read_integer<unsigned>("keepalive", 0, 100'000, out.keepalive);
    upstream.read_duration("connect_timeout", out.connect_timeout);
    upstream.read_duration("response_timeout", out.response_timeout);
    bool balancer_ok = read_plugin_use(upstream, "balancer", "least_request", out.balancer);
    read_plugin_use(upstream, "transport", "tls", out.transport);
    read_hash_key(upstream, out.hash_key);
    read_health(upstream, out.health);
    read_outlier(upstream, out.outlier);
    upstream.read_duration_or_zero("slow_start", out.slow_start);
    // Settings only a balancer plugin acts on: without one they would be silently ignored.
    if (balancer_ok && out.balancer.use.empty()) {
        bool weighted = std::any_of(out.endpoints.begin(), out.endpoints.end(),
                                    [](const Endpoint& endpoint) { return endpoint.weight != 1; });
        if (weighted) {
            upstream.report("endpoints", "'" + upstream.name("endpoints") +
                                             "' sets weights, but the built-in round robin ignores them: add a "
                                             "balancer that uses them, like balancer = { use = \"round_robin\" }");
        }
        if (out.hash_key.source != HashKey::Source::None) {
            upstream.report("hash_key", "'" + upstream.name("hash_key") +
                                            "' needs a hashing balancer (set 'balancer'): the built-in round "
                                            "robin does not hash");
        }
        if (out.slow_start.count() > 0) {
            upstream.report("slow_start", "'" + upstream.name("slow_start") +
                                              "' ramps weights up, but the built-in round robin ignores weights: "
                                              "add a balancer that uses them, like balancer = { use = "
                                              "\"round_robin\" }");
        }
    }
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
