// Loads the main TOML file and the conf.d fragments into a validated Config, collecting every problem with its
// FILE:LINE:COL. The rules are documented in docs/config.md.
#include <Poco/Exception.h>
#include <Poco/Net/SocketAddress.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <toml++/toml.h>

#include "config/config.h"
#include "config/units.h"

namespace portico::config {

namespace fs = std::filesystem;

std::string Problem::to_string() const {
    std::string text = file;
    if (line != 0) text += ":" + std::to_string(line) + ":" + std::to_string(column);
    return text + ": " + message;
}

namespace {

const char* type_name(const toml::node& node) {
    switch (node.type()) {
        case toml::node_type::table: return "a table";
        case toml::node_type::array: return "an array";
        case toml::node_type::string: return "a string";
        case toml::node_type::integer: return "an integer";
        case toml::node_type::floating_point: return "a float";
        case toml::node_type::boolean: return "a boolean";
        case toml::node_type::date: return "a date";
        case toml::node_type::time: return "a time";
        case toml::node_type::date_time: return "a date-time";
        default: return "nothing";
    }
}

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t up = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = up;
        }
    }
    return row[b.size()];
}

struct Position {
    std::string file;
    uint32_t line = 0;
    uint32_t column = 0;
};

// Reads one configuration into `config`, file after file, remembering where each setting came from.
class Loader {
public:
    explicit Loader(Config& config) : config_(config) {}

    std::vector<Problem> problems;

    void load_file(const fs::path& path, bool is_main);
    void finish();

    std::string conf_dir;       // from the main file, if set
    Position conf_dir_position;

private:
    using Known = std::initializer_list<std::string_view>;

    void report(const toml::source_region& where, std::string message) {
        problems.push_back(Problem{current_file_, static_cast<uint32_t>(where.begin.line),
                                   static_cast<uint32_t>(where.begin.column), std::move(message)});
    }
    void report_at(const Position& where, std::string message) {
        problems.push_back(Problem{where.file, where.line, where.column, std::move(message)});
    }
    Position position(const toml::source_region& where) const {
        return Position{current_file_, static_cast<uint32_t>(where.begin.line),
                        static_cast<uint32_t>(where.begin.column)};
    }

    // Unknown keys are errors; a near miss gets a suggestion.
    bool check_key(const toml::key& key, const std::string& path, Known known) {
        for (auto name : known) {
            if (key.str() == name) return true;
        }
        std::string message = "unknown key '" + path + "'";
        std::string_view best;
        size_t best_distance = 3;
        for (auto name : known) {
            size_t distance = edit_distance(key.str(), name);
            if (distance < best_distance) {
                best_distance = distance;
                best = name;
            }
        }
        if (!best.empty()) message += "; did you mean '" + std::string(best) + "'?";
        report(key.source(), message);
        return false;
    }

    // The same setting in two files (or twice in one table, which toml++ already refuses) is an error.
    bool first_definition(const std::string& path, const toml::source_region& where) {
        auto [it, inserted] = seen_.emplace(path, position(where));
        if (!inserted) {
            const Position& first = it->second;
            report(where, "duplicate key '" + path + "' (first set at " + first.file + ":" +
                              std::to_string(first.line) + ":" + std::to_string(first.column) + ")");
        }
        return inserted;
    }

    const toml::table* as_table(const toml::node& node, const std::string& path) {
        if (const auto* table = node.as_table()) return table;
        report(node.source(), "'" + path + "' must be a table, not " + type_name(node));
        return nullptr;
    }

    std::optional<int64_t> integer(const toml::node& node, const std::string& path, int64_t min, int64_t max) {
        const auto* value = node.as_integer();
        if (!value) {
            report(node.source(), "'" + path + "' must be an integer, not " + type_name(node));
            return std::nullopt;
        }
        int64_t v = value->get();
        if (v < min || v > max) {
            report(node.source(), "'" + path + "' must be between " + std::to_string(min) + " and " +
                                      std::to_string(max) + ", not " + std::to_string(v));
            return std::nullopt;
        }
        return v;
    }

    std::optional<std::string> string(const toml::node& node, const std::string& path) {
        const auto* value = node.as_string();
        if (!value) {
            report(node.source(), "'" + path + "' must be a string, not " + type_name(node));
            return std::nullopt;
        }
        return value->get();
    }

    std::optional<bool> boolean(const toml::node& node, const std::string& path) {
        const auto* value = node.as_boolean();
        if (!value) {
            report(node.source(), "'" + path + "' must be a boolean, not " + type_name(node));
            return std::nullopt;
        }
        return value->get();
    }

    std::optional<Duration> duration(const toml::node& node, const std::string& path) {
        auto text = string(node, path);
        if (!text) return std::nullopt;
        auto value = parse_duration(*text);
        if (!value || value->count() == 0) {
            report(node.source(), "'" + path + "' must be a duration above zero such as \"500ms\", \"10s\", " +
                                      "\"5m\" or \"1h\", not \"" + *text + "\"");
            return std::nullopt;
        }
        return value;
    }

    std::optional<uint64_t> size(const toml::node& node, const std::string& path, uint64_t min, uint64_t max) {
        std::optional<uint64_t> value;
        if (const auto* integer_value = node.as_integer()) {
            if (integer_value->get() >= 0) value = static_cast<uint64_t>(integer_value->get());
        } else if (const auto* text = node.as_string()) {
            value = parse_size(text->get());
        } else {
            report(node.source(), "'" + path + "' must be a size (bytes, or a string such as \"16KiB\"), not " +
                                      type_name(node));
            return std::nullopt;
        }
        if (!value) {
            report(node.source(), "'" + path + "' must be a size: a number of bytes or a string such as \"512\", " +
                                      "\"16KiB\", \"1MiB\" or \"1GiB\"");
            return std::nullopt;
        }
        if (*value < min || *value > max) {
            report(node.source(), "'" + path + "' must be between " + std::to_string(min) + " and " +
                                      std::to_string(max) + " bytes");
            return std::nullopt;
        }
        return value;
    }

    std::optional<Poco::Net::SocketAddress> address(const toml::node& node, const std::string& path) {
        auto text = string(node, path);
        if (!text) return std::nullopt;
        size_t colon = text->rfind(':');
        if (colon == std::string::npos || colon + 1 == text->size()) {
            report(node.source(), "'" + path + "' must be \"HOST:PORT\" (e.g. \"127.0.0.1:8080\" or " +
                                      "\"[::1]:8080\"), not \"" + *text + "\"");
            return std::nullopt;
        }
        try {
            return Poco::Net::SocketAddress(*text);
        } catch (const Poco::Exception& error) {
            report(node.source(), "'" + path + "': cannot use \"" + *text + "\": " + error.displayText());
            return std::nullopt;
        }
    }

    void read_server(const toml::table& table, bool is_main);
    void read_timeouts(const toml::table& table);
    void read_limits(const toml::table& table);
    void read_listeners(const toml::table& table);
    void read_upstreams(const toml::table& table);
    void read_routes(const toml::node& node);
    void read_route(const toml::table& table, const std::string& path);
    void read_log(const toml::node& node, const std::string& path, bool access);

    Config& config_;
    std::string current_file_;
    std::map<std::string, Position> seen_;
    // Per-upstream settings whose defaults come from [timeouts], resolved in finish().
    std::map<std::string, std::pair<bool, bool>> upstream_explicit_;
    std::vector<Position> route_upstream_positions_;  // per route, for "no upstream named" errors
    Position header_size_position_;
};

void Loader::load_file(const fs::path& path, bool is_main) {
    current_file_ = path.string();
    toml::table root;
    try {
        root = toml::parse_file(current_file_);
    } catch (const toml::parse_error& error) {
        report(error.source(), std::string(error.description()));
        return;
    }
    for (const auto& [key, node] : root) {
        std::string name(key.str());
        if (!check_key(key, name, {"server", "timeouts", "limits", "listener", "upstream", "route"})) continue;
        if (name == "route") {
            read_routes(node);
            continue;
        }
        const toml::table* table = as_table(node, name);
        if (!table) continue;
        if (name == "server") read_server(*table, is_main);
        if (name == "timeouts") read_timeouts(*table);
        if (name == "limits") read_limits(*table);
        if (name == "listener") read_listeners(*table);
        if (name == "upstream") read_upstreams(*table);
    }
}

void Loader::read_server(const toml::table& table, bool is_main) {
    Server& server = config_.server;
    for (const auto& [key, node] : table) {
        std::string name(key.str());
        std::string path = "server." + name;
        if (!check_key(key, path,
                       {"workers", "conf_dir", "drain_timeout", "pass_server_header", "via", "request_id_header",
                        "access_log", "error_log"})) {
            continue;
        }
        if (!first_definition(path, key.source())) continue;
        if (name == "workers") {
            if (auto v = integer(node, path, 0, 1024)) server.workers = static_cast<unsigned>(*v);
        } else if (name == "conf_dir") {
            if (!is_main) {
                report(key.source(), "'server.conf_dir' belongs in the main file, not in a conf.d fragment");
            } else if (auto v = string(node, path)) {
                conf_dir = *v;
                conf_dir_position = position(node.source());
            }
        } else if (name == "drain_timeout") {
            if (auto v = duration(node, path)) server.drain_timeout = *v;
        } else if (name == "pass_server_header") {
            if (auto v = boolean(node, path)) server.pass_server_header = *v;
        } else if (name == "via") {
            if (auto v = string(node, path)) {
                bool ok = !v->empty() && std::all_of(v->begin(), v->end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("-._~").find(c) !=
                                                                              std::string_view::npos;
                });
                if (ok) {
                    server.via_name = *v;
                } else {
                    report(node.source(), "'server.via' must be a pseudonym of letters, digits and -._~");
                }
            }
        } else if (name == "request_id_header") {
            if (auto v = string(node, path)) {
                bool ok = !v->empty() && std::all_of(v->begin(), v->end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
                });
                if (ok) {
                    server.request_id_header = *v;
                } else {
                    report(node.source(), "'server.request_id_header' must be a header name (letters, digits, -)");
                }
            }
        } else if (name == "access_log") {
            read_log(node, path, true);
        } else if (name == "error_log") {
            read_log(node, path, false);
        }
    }
}

void Loader::read_log(const toml::node& node, const std::string& path, bool access) {
    const toml::table* table = as_table(node, path);
    if (!table) return;
    for (const auto& [key, value] : *table) {
        std::string name(key.str());
        std::string key_path = path + "." + name;
        if (!check_key(key, key_path, access ? Known{"path", "format"} : Known{"path", "level"})) continue;
        auto text = string(value, key_path);
        if (!text) continue;
        if (name == "path") {
            if (text->empty()) {
                report(value.source(), "'" + key_path + "' must not be empty");
            } else if (access) {
                config_.server.access_log.path = *text;
            } else if (*text == "off") {
                report(value.source(), "'" + key_path + "' cannot be \"off\": use a level to quiet it");
            } else {
                config_.server.error_log.path = *text;
            }
        } else if (name == "format") {
            if (*text == "combined" || *text == "json") {
                config_.server.access_log.format = *text;
            } else {
                report(value.source(), "'" + key_path + "' must be \"combined\" or \"json\", not \"" + *text + "\"");
            }
        } else if (name == "level") {
            static const std::set<std::string> levels = {"fatal",  "critical",    "error", "warning",
                                                         "notice", "information", "debug", "trace"};
            if (levels.count(*text)) {
                config_.server.error_log.level = *text;
            } else {
                report(value.source(), "'" + key_path + "' must be one of fatal, critical, error, warning, notice, " +
                                           "information, debug, trace; not \"" + *text + "\"");
            }
        }
    }
}

void Loader::read_timeouts(const toml::table& table) {
    Timeouts& t = config_.timeouts;
    const std::pair<std::string_view, Duration*> fields[] = {
        {"client_header", &t.client_header},       {"client_body", &t.client_body},
        {"client_idle", &t.client_idle},           {"client_send", &t.client_send},
        {"upstream_connect", &t.upstream_connect}, {"upstream_response", &t.upstream_response},
        {"upstream_read", &t.upstream_read},       {"upstream_idle", &t.upstream_idle},
        {"tunnel_idle", &t.tunnel_idle},
    };
    for (const auto& [key, node] : table) {
        std::string path = "timeouts." + std::string(key.str());
        if (!check_key(key, path,
                       {"client_header", "client_body", "client_idle", "client_send", "upstream_connect",
                        "upstream_response", "upstream_read", "upstream_idle", "tunnel_idle"})) {
            continue;
        }
        if (!first_definition(path, key.source())) continue;
        for (const auto& [name, target] : fields) {
            if (key.str() == name) {
                if (auto v = duration(node, path)) *target = *v;
            }
        }
    }
}

void Loader::read_limits(const toml::table& table) {
    Limits& limits = config_.limits;
    for (const auto& [key, node] : table) {
        std::string name(key.str());
        std::string path = "limits." + name;
        if (!check_key(key, path,
                       {"max_request_line", "max_header_size", "max_headers", "max_body_size", "buffer_size",
                        "max_connections"})) {
            continue;
        }
        if (!first_definition(path, key.source())) continue;
        if (name == "max_request_line") {
            if (auto v = size(node, path, 64, 1 << 20)) limits.head.max_request_line = *v;
        } else if (name == "max_header_size") {
            if (auto v = size(node, path, 256, 16 << 20)) {
                limits.head.max_head_size = *v;
                header_size_position_ = position(node.source());
            }
        } else if (name == "max_headers") {
            if (auto v = integer(node, path, 1, 10000)) limits.head.max_headers = static_cast<size_t>(*v);
        } else if (name == "max_body_size") {
            if (auto v = size(node, path, 0, UINT64_MAX)) limits.max_body_size = *v;
        } else if (name == "buffer_size") {
            if (auto v = size(node, path, 4096, 16 << 20)) limits.buffer_size = *v;
        } else if (name == "max_connections") {
            if (auto v = integer(node, path, 0, 10'000'000)) limits.max_connections = static_cast<uint32_t>(*v);
        }
    }
}

void Loader::read_listeners(const toml::table& table) {
    for (const auto& [key, node] : table) {
        std::string name(key.str());
        std::string path = "listener." + name;
        if (!first_definition(path, key.source())) continue;
        const toml::table* listener_table = as_table(node, path);
        if (!listener_table) continue;
        Listener listener;
        listener.name = name;
        bool has_bind = false;
        for (const auto& [field, value] : *listener_table) {
            std::string field_path = path + "." + std::string(field.str());
            if (!check_key(field, field_path, {"bind", "backlog"})) continue;
            if (field.str() == "bind") {
                if (auto address = this->address(value, field_path)) {
                    listener.address = *address;
                    has_bind = true;
                }
            } else if (field.str() == "backlog") {
                if (auto v = integer(value, field_path, 1, 65535)) listener.backlog = static_cast<int>(*v);
            }
        }
        if (!has_bind) {
            if (!listener_table->contains("bind")) report(key.source(), "'" + path + "' needs a 'bind' address");
            continue;
        }
        config_.listeners.push_back(listener);
    }
}

void Loader::read_upstreams(const toml::table& table) {
    for (const auto& [key, node] : table) {
        std::string name(key.str());
        std::string path = "upstream." + name;
        if (!first_definition(path, key.source())) continue;
        const toml::table* upstream_table = as_table(node, path);
        if (!upstream_table) continue;
        Upstream upstream;
        upstream.name = name;
        bool connect_set = false, response_set = false, endpoints_ok = false;
        for (const auto& [field, value] : *upstream_table) {
            std::string field_name(field.str());
            std::string field_path = path + "." + field_name;
            if (!check_key(field, field_path, {"endpoints", "keepalive", "connect_timeout", "response_timeout"})) {
                continue;
            }
            if (field_name == "endpoints") {
                const toml::array* array = value.as_array();
                if (!array) {
                    report(value.source(), "'" + field_path + "' must be an array of \"HOST:PORT\" strings, not " +
                                               type_name(value));
                    continue;
                }
                if (array->empty()) {
                    report(value.source(), "'" + field_path + "' must name at least one endpoint");
                    continue;
                }
                endpoints_ok = true;
                for (const toml::node& element : *array) {
                    if (auto address = this->address(element, field_path)) {
                        upstream.endpoints.push_back(*address);
                    } else {
                        endpoints_ok = false;
                    }
                }
            } else if (field_name == "keepalive") {
                if (auto v = integer(value, field_path, 0, 100000)) upstream.keepalive = static_cast<unsigned>(*v);
            } else if (field_name == "connect_timeout") {
                if (auto v = duration(value, field_path)) {
                    upstream.connect_timeout = *v;
                    connect_set = true;
                }
            } else if (field_name == "response_timeout") {
                if (auto v = duration(value, field_path)) {
                    upstream.response_timeout = *v;
                    response_set = true;
                }
            }
        }
        if (!upstream_table->contains("endpoints")) {
            report(key.source(), "'" + path + "' needs 'endpoints'");
            continue;
        }
        if (!endpoints_ok) continue;
        upstream_explicit_[name] = {connect_set, response_set};
        config_.upstreams.push_back(upstream);
    }
}

void Loader::read_routes(const toml::node& node) {
    const toml::array* array = node.as_array();
    if (!array || !array->is_array_of_tables()) {
        report(node.source(), "'route' must be an array of tables: write each route as [[route]]");
        return;
    }
    for (const toml::node& element : *array) {
        read_route(*element.as_table(), "route[" + std::to_string(config_.routes.size()) + "]");
    }
}

void Loader::read_route(const toml::table& table, const std::string& path) {
    Route route;
    route.max_body_size = UINT64_MAX;  // marks "not set": resolved in finish()
    bool has_upstream = false;
    for (const auto& [key, value] : table) {
        std::string name(key.str());
        std::string field_path = path + "." + name;
        if (!check_key(key, field_path, {"match", "upstream", "max_body_size"})) continue;
        if (name == "upstream") {
            if (auto v = string(value, field_path)) {
                route.upstream = *v;
                has_upstream = true;
                route_upstream_positions_.push_back(position(value.source()));
            }
        } else if (name == "max_body_size") {
            if (auto v = size(value, field_path, 0, UINT64_MAX - 1)) route.max_body_size = *v;
        } else if (name == "match") {
            const toml::table* match = as_table(value, field_path);
            if (!match) continue;
            for (const auto& [match_key, match_value] : *match) {
                std::string match_name(match_key.str());
                std::string match_path = field_path + "." + match_name;
                if (!check_key(match_key, match_path, {"host", "path", "prefix"})) continue;
                auto text = string(match_value, match_path);
                if (!text) continue;
                if (match_name == "host") {
                    std::string host = *text;
                    std::transform(host.begin(), host.end(), host.begin(),
                                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
                    bool ok = std::all_of(host.begin(), host.end(), [](char c) {
                        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '*' ||
                               c == '[' || c == ']' || c == ':';
                    });
                    bool wildcard_ok = host.find('*') == std::string::npos ||
                                       (host.rfind("*.", 0) == 0 && host.find('*', 1) == std::string::npos &&
                                        host.size() > 2);
                    if (!ok || !wildcard_ok) {
                        report(match_value.source(), "'" + match_path + "' must be a host name, or \"*.\" " +
                                                         "followed by one (e.g. \"*.example.com\")");
                        continue;
                    }
                    route.match.host = host;
                } else {
                    if (text->empty() || (*text)[0] != '/') {
                        report(match_value.source(), "'" + match_path + "' must start with \"/\"");
                        continue;
                    }
                    (match_name == "path" ? route.match.path : route.match.prefix) = *text;
                }
            }
            if (!route.match.path.empty() && !route.match.prefix.empty()) {
                report(value.source(), "'" + field_path + "' may have 'path' or 'prefix', not both");
            }
        }
    }
    if (!has_upstream) {
        report(table.source(), "'" + path + "' needs an 'upstream'");
        return;
    }
    config_.routes.push_back(route);
}

void Loader::finish() {
    std::sort(config_.listeners.begin(), config_.listeners.end(),
              [](const Listener& a, const Listener& b) { return a.name < b.name; });
    std::sort(config_.upstreams.begin(), config_.upstreams.end(),
              [](const Upstream& a, const Upstream& b) { return a.name < b.name; });
    for (auto& upstream : config_.upstreams) {
        auto [connect_set, response_set] = upstream_explicit_[upstream.name];
        if (!connect_set) upstream.connect_timeout = config_.timeouts.upstream_connect;
        if (!response_set) upstream.response_timeout = config_.timeouts.upstream_response;
    }
    for (size_t i = 0; i < config_.routes.size(); ++i) {
        Route& route = config_.routes[i];
        if (route.max_body_size == UINT64_MAX) route.max_body_size = config_.limits.max_body_size;
        auto it = std::find_if(config_.upstreams.begin(), config_.upstreams.end(),
                               [&](const Upstream& u) { return u.name == route.upstream; });
        if (it == config_.upstreams.end()) {
            report_at(route_upstream_positions_[i], "route " + std::to_string(i) + ": no upstream named '" +
                                                         route.upstream + "' is defined");
        } else {
            route.upstream_index = static_cast<size_t>(it - config_.upstreams.begin());
        }
    }
    if (config_.limits.head.max_head_size + 1024 > config_.limits.buffer_size) {
        report_at(header_size_position_.file.empty() ? Position{config_.main_file, 0, 0} : header_size_position_,
                  "'limits.max_header_size' (" + std::to_string(config_.limits.head.max_head_size) +
                      ") must be at least 1KiB below 'limits.buffer_size' (" +
                      std::to_string(config_.limits.buffer_size) + "): a request head must fit in one buffer");
    }
    std::map<std::string, size_t> binds;
    for (size_t i = 0; i < config_.listeners.size(); ++i) {
        const auto& address = config_.listeners[i].address;
        if (address.port() == 0) continue;  // port 0: the kernel picks distinct ports
        auto [it, inserted] = binds.emplace(address.toString(), i);
        if (!inserted) {
            problems.push_back(Problem{config_.main_file, 0, 0,
                                       "listeners '" + config_.listeners[it->second].name + "' and '" +
                                           config_.listeners[i].name + "' bind the same address " +
                                           address.toString()});
        }
    }
    if (config_.listeners.empty()) {
        problems.push_back(Problem{config_.main_file, 0, 0, "no listener is defined: add a [listener.NAME] table"});
    }
    if (config_.routes.empty()) {
        problems.push_back(Problem{config_.main_file, 0, 0, "no route is defined: add a [[route]] table"});
    }
}

std::vector<fs::path> toml_files_in(const fs::path& directory, std::error_code& error) {
    std::vector<fs::path> files;
    for (fs::directory_iterator it(directory, error), end; !error && it != end; it.increment(error)) {
        if (it->path().extension() == ".toml" && !it->is_directory()) files.push_back(it->path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

}  // namespace

LoadResult load(const std::string& path) {
    auto config = std::make_shared<Config>();
    config->main_file = path;
    Loader loader(*config);
    std::error_code error;
    fs::path main_path(path);
    std::vector<fs::path> order;  // files in load order, for sorting problems

    if (fs::is_directory(main_path, error)) {
        auto files = toml_files_in(main_path, error);
        if (error) {
            loader.problems.push_back(Problem{path, 0, 0, "cannot read directory: " + error.message()});
        } else if (files.empty()) {
            loader.problems.push_back(Problem{path, 0, 0, "no *.toml files in this directory"});
        }
        for (const auto& file : files) {
            order.push_back(file);
            loader.load_file(file, false);
        }
    } else if (!fs::exists(main_path, error)) {
        loader.problems.push_back(Problem{path, 0, 0, "cannot read: no such file or directory"});
    } else {
        order.push_back(main_path);
        loader.load_file(main_path, true);
        bool explicit_dir = !loader.conf_dir.empty();
        fs::path conf_dir = explicit_dir ? fs::path(loader.conf_dir) : fs::path("conf.d");
        if (conf_dir.is_relative()) conf_dir = main_path.parent_path() / conf_dir;
        if (fs::is_directory(conf_dir, error)) {
            auto files = toml_files_in(conf_dir, error);
            for (const auto& file : files) {
                order.push_back(file);
                loader.load_file(file, false);
            }
        } else if (explicit_dir) {
            const Position& where = loader.conf_dir_position;
            loader.problems.push_back(Problem{where.file, where.line, where.column,
                                              "'server.conf_dir': " + conf_dir.string() + " is not a directory"});
        }
    }
    if (loader.problems.empty()) loader.finish();

    LoadResult result;
    if (!loader.problems.empty()) {
        auto rank = [&](const Problem& p) {
            auto it = std::find(order.begin(), order.end(), fs::path(p.file));
            return static_cast<size_t>(it - order.begin());
        };
        std::stable_sort(loader.problems.begin(), loader.problems.end(), [&](const Problem& a, const Problem& b) {
            return std::make_tuple(rank(a), a.line, a.column) < std::make_tuple(rank(b), b.line, b.column);
        });
        result.problems = std::move(loader.problems);
        return result;
    }
    result.config = std::move(config);
    return result;
}

}  // namespace portico::config
