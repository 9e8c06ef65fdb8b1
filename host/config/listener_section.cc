// [listener.NAME]: the addresses Portico accepts connections on.
#include <algorithm>

#include "config/address.h"
#include "config/units.h"
#include "config/sections.h"

namespace portico::config {

namespace {

struct Bind {
    std::string listener;
    Poco::Net::SocketAddress address;
    toml::source_region where;
};

// `redirect_https = true` (port 443) or `= PORT`: a plain listener that only sends clients to HTTPS.
void read_redirect_https(TableReader& listener, Listener& out) {
    const toml::node* node = listener.node("redirect_https");
    if (node == nullptr) return;
    if (const auto* flag = node->as_boolean()) {
        out.redirect_https = flag->get() ? 443 : 0;
    } else if (!listener.read_integer("redirect_https", uint16_t{1}, uint16_t{65535}, out.redirect_https)) {
        return;
    }
    if (out.redirect_https != 0 && !out.transport.use.empty()) {
        listener.report("redirect_https", "'" + listener.name("redirect_https") +
                                              "' is for plain listeners; this one has a transport (a TLS listener needs no "
                                              "redirect: remove one of the two)");
        out.redirect_https = 0;
    }
}

// `hsts = { max_age = "365d" | SECONDS, include_subdomains = false, preload = false }`, on a TLS listener: the
// Strict-Transport-Security value every response of the listener carries (RFC 6797).
void read_hsts(TableReader& listener, Listener& out) {
    const toml::table* table = listener.table("hsts");
    if (table == nullptr) return;
    TableReader hsts = listener.nested("hsts", *table);
    // Two years is common (and what preload lists ask for at least one): longer than other durations may be.
    constexpr int64_t kMaxAge = 10LL * 365 * 24 * 3600;
    int64_t seconds = 365LL * 24 * 3600;
    if (const toml::node* age = hsts.node("max_age"); age != nullptr && age->is_string()) {
        std::optional<Duration> duration = parse_duration(age->as_string()->get());
        if (!duration || duration->count() / 1000 > kMaxAge) {
            hsts.report("max_age", "'" + hsts.name("max_age") + "' must be a duration up to \"3650d\" or " +
                                       "an integer of seconds, not " + in_quotes(age->as_string()->get()));
        } else {
            seconds = duration->count() / 1000;
        }
    } else {
        hsts.read_integer("max_age", int64_t{0}, kMaxAge, seconds);
    }
    bool subdomains = false;
    bool preload = false;
    hsts.read_bool("include_subdomains", subdomains);
    hsts.read_bool("preload", preload);
    hsts.report_unknown();
    if (out.transport.use.empty()) {
        listener.report("hsts", "'" + listener.name("hsts") +
                                    "' needs a TLS listener (browsers ignore it over plain HTTP): add a transport");
        return;
    }
    out.hsts = "max-age=" + std::to_string(seconds);
    if (subdomains) out.hsts += "; includeSubDomains";
    if (preload) out.hsts += "; preload";
}

void read_listener(TableReader& listener, const toml::key& name, Listener& out, std::vector<Bind>& binds) {
    std::string bind;
    if (listener.read_string("bind", bind)) {
        if (std::optional<Poco::Net::SocketAddress> address = parse_bind_address(bind)) {
            out.address = *address;
            binds.push_back({out.name, *address, listener.where("bind")});
        } else {
            listener.report("bind", "'" + listener.name("bind") +
                                        "' must be \"IPv4:port\" or \"[IPv6]:port\" with a port 0..65535, not " +
                                        in_quotes(bind));
        }
    } else if (listener.node("bind") == nullptr) {
        listener.problems().add(
            name.source(),
            "'" + listener.name("bind") + "' is missing: a listener needs an address, like \"0.0.0.0:8080\"");
    }
    listener.read_integer("backlog", 1, 65535, out.backlog);
    read_plugin_use(listener, "transport", "tls", out.transport);
    read_redirect_https(listener, out);
    read_hsts(listener, out);
    listener.report_unknown();
}

// Two listeners on one address would both bind it (SO_REUSEPORT) and silently share its connections. Port 0 is
// exempt: the kernel gives each its own port.
void check_duplicate_binds(const std::vector<Bind>& binds, Problems& problems) {
    for (size_t i = 0; i < binds.size(); ++i) {
        if (binds[i].address.port() == 0) continue;
        for (size_t j = 0; j < i; ++j) {
            if (binds[j].address.toString() != binds[i].address.toString()) continue;
            problems.add(binds[i].where, "listener '" + binds[i].listener + "' binds " +
                                             binds[i].address.toString() + ", as listener '" + binds[j].listener +
                                             "' does (at " + describe(binds[j].where) + ")");
            break;
        }
    }
}

}  // namespace

void read_listeners(TableReader& root, std::vector<Listener>& out) {
    const toml::table* table = root.table("listener");
    if (table == nullptr) return;
    TableReader listeners = root.nested("listener", *table);
    std::vector<Bind> binds;
    for (auto&& [key, value] : *table) {
        Listener listener;
        listener.name = key.str();
        if (!is_valid_name(listener.name)) {
            root.problems().add(key.source(), "listener name " + in_quotes(listener.name) +
                                                  " must consist of letters, digits, '-' and '_'");
        }
        if (const toml::table* body = value.as_table()) {
            TableReader reader = listeners.nested(key.str(), *body);
            read_listener(reader, key, listener, binds);
        } else {
            root.problems().add(key.source(), "'" + listeners.name(key.str()) + "' must be a table, not " +
                                                  type_name(value.type()));
        }
        out.push_back(std::move(listener));
    }
    check_duplicate_binds(binds, root.problems());
    // toml++ tables iterate in key order already; sorting states the contract rather than relying on that.
    std::stable_sort(out.begin(), out.end(), [](const Listener& a, const Listener& b) { return a.name < b.name; });
}

}  // namespace portico::config
