// [server], [timeouts] and [limits]: the process-wide settings.
#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>

#include "config/sections.h"
#include "config/units.h"

namespace portico::config {

namespace {

constexpr std::array<std::string_view, 8> kLogLevels = {"fatal",  "critical",    "error", "warning",
                                                        "notice", "information", "debug", "trace"};

std::string joined(const std::array<std::string_view, 8>& words) {
    std::string text;
    for (std::string_view word : words) text += (text.empty() ? "" : ", ") + std::string(word);
    return text;
}

void read_token(TableReader& table, std::string_view key, std::string_view what, std::string& out) {
    std::string value;
    if (!table.read_string(key, value)) return;
    if (!is_token(value)) {
        table.report(key, "'" + table.name(key) + "' must be " + std::string(what) +
                              " (letters, digits and !#$%&'*+-.^_`|~), not " + in_quotes(value));
        return;
    }
    out = value;
}

void read_log_path(TableReader& table, bool allow_off, std::string& out) {
    std::string path;
    if (!table.read_string("path", path)) return;
    if (path.empty() || (!allow_off && path == "off")) {
        std::string accepted = allow_off ? "\"stdout\", \"stderr\", \"off\" or a file path"
                                         : "\"stderr\", \"stdout\" or a file path (the error log cannot be off)";
        table.report("path", "'" + table.name("path") + "' must be " + accepted + ", not " + in_quotes(path));
        return;
    }
    out = path;
}

void read_access_log(TableReader& server, AccessLog& out) {
    const toml::table* table = server.table("access_log");
    if (table == nullptr) return;
    TableReader log = server.nested("access_log", *table);
    read_log_path(log, true, out.path);
    std::string format;
    if (log.read_string("format", format)) {
        if (format == "combined" || format == "json") {
            out.format = format;
        } else {
            log.report("format",
                       "'" + log.name("format") + "' must be \"combined\" or \"json\", not " + in_quotes(format));
        }
    }
    log.report_unknown();
}

void read_error_log(TableReader& server, ErrorLog& out) {
    const toml::table* table = server.table("error_log");
    if (table == nullptr) return;
    TableReader log = server.nested("error_log", *table);
    read_log_path(log, false, out.path);
    std::string level;
    if (log.read_string("level", level)) {
        if (std::find(kLogLevels.begin(), kLogLevels.end(), level) != kLogLevels.end()) {
            out.level = level;
        } else {
            log.report("level", "'" + log.name("level") + "' must be one of " + joined(kLogLevels) + ", not " +
                                    in_quotes(level));
        }
    }
    log.report_unknown();
}

// Relative directories are taken from the directory of the file that names them, as conf_dir is: the meaning of a
// configuration must not depend on the working directory the daemon was started from.
void read_plugin_dirs(TableReader& server, Server& out) {
    const toml::node* node = server.node("plugin_dirs");
    if (node == nullptr) return;
    const toml::array* dirs = node->as_array();
    if (dirs == nullptr) {
        server.report("plugin_dirs",
                      "'server.plugin_dirs' must be an array of directory paths, not " + type_name(node->type()));
        return;
    }
    const toml::source_region& where = server.where("plugin_dirs");
    std::filesystem::path base = where.path ? std::filesystem::path(*where.path).parent_path() : "";
    std::vector<std::string> result;
    for (const toml::node& dir : *dirs) {
        if (!dir.is_string() || dir.as_string()->get().empty()) {
            std::string actual = dir.is_string() ? "an empty string" : type_name(dir.type());
            server.problems().add(dir.source(),
                                  "'server.plugin_dirs' entries must be directory paths (strings), not " + actual);
            continue;
        }
        result.push_back((base / dir.as_string()->get()).lexically_normal().string());
    }
    out.plugin_dirs = std::move(result);
    out.plugin_dirs_default = false;
}

}  // namespace

bool is_token(std::string_view text) {
    constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
    return !text.empty() && std::all_of(text.begin(), text.end(), [&](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               kSpecials.find(c) != std::string_view::npos;
    });
}

bool is_valid_name(std::string_view name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    });
}

void read_server(TableReader& root, Server& out) {
    // The install's plugin directory (PORTICO_PLUGIN_DIR, from the build) unless plugin_dirs says otherwise.
    out.plugin_dirs = {PORTICO_PLUGIN_DIR};
    out.plugin_dirs_default = true;
    const toml::table* table = root.table("server");
    if (table == nullptr) return;
    TableReader server = root.nested("server", *table);
    server.read_integer<unsigned>("workers", 0, 4096, out.workers);
    read_plugin_dirs(server, out);
    server.allow("conf_dir");  // the loader takes it out of the main file before merging
    server.read_duration("drain_timeout", out.drain_timeout);
    server.read_bool("pass_server_header", out.pass_server_header);
    read_token(server, "via", "a token", out.via_name);
    read_token(server, "request_id_header", "a header name", out.request_id_header);
    read_access_log(server, out.access_log);
    read_error_log(server, out.error_log);
    server.report_unknown();
}

void read_timeouts(TableReader& root, Timeouts& out) {
    const toml::table* table = root.table("timeouts");
    if (table == nullptr) return;
    TableReader timeouts = root.nested("timeouts", *table);
    timeouts.read_duration("client_header", out.client_header);
    timeouts.read_duration("client_body", out.client_body);
    timeouts.read_duration("client_idle", out.client_idle);
    timeouts.read_duration("client_send", out.client_send);
    timeouts.read_duration("upstream_connect", out.upstream_connect);
    timeouts.read_duration("upstream_response", out.upstream_response);
    timeouts.read_duration("upstream_read", out.upstream_read);
    timeouts.read_duration("upstream_idle", out.upstream_idle);
    timeouts.read_duration("tunnel_idle", out.tunnel_idle);
    timeouts.read_duration("filter_pause", out.filter_pause);
    timeouts.report_unknown();
}

void read_limits(TableReader& root, Limits& out) {
    const toml::table* table = root.table("limits");
    if (table == nullptr) return;
    TableReader limits = root.nested("limits", *table);
    constexpr uint64_t kUnbounded = std::numeric_limits<uint64_t>::max();
    constexpr uint64_t kMinBuffer = 4 << 10, kMaxBuffer = 16 << 20, kBufferSlack = 1 << 10;

    uint64_t size = 0;
    if (limits.read_size("max_request_line", 1, kUnbounded, size)) out.head.max_request_line = size;
    bool head_set = limits.read_size("max_header_size", 1, kUnbounded, size);
    if (head_set) out.head.max_head_size = size;
    limits.read_integer<size_t>("max_headers", 1, 10'000, out.head.max_headers);
    limits.read_size("max_body_size", 0, kUnbounded, out.max_body_size);
    bool buffer_set = limits.read_size("buffer_size", kMinBuffer, kMaxBuffer, size);
    if (buffer_set) out.buffer_size = size;
    limits.read_integer<uint32_t>("max_connections", 0, std::numeric_limits<uint32_t>::max(), out.max_connections);

    // The session parses a request head in place, in one buffer; 1KiB stays free for the start of the body.
    uint64_t max_head = out.buffer_size - kBufferSlack;
    if (out.head.max_head_size > max_head && (head_set || buffer_set)) {
        limits.report(head_set ? "max_header_size" : "buffer_size",
                      "'limits.max_header_size' (" + format_size(out.head.max_head_size) +
                          ") must be at most 'limits.buffer_size' - 1KiB (" + format_size(max_head) +
                          "): a request head must fit in one buffer");
    }
    limits.report_unknown();
}

}  // namespace portico::config
