// A fake host for portico-tls.so: a TOML-like config tree behind portico_config_api, a clock, a log, and
// connections (portico_conn) that collect what the plugin emits and delivers. Pair drives a SERVER-role and a
// CLIENT-role instance of the plugin against each other by moving bytes between them.
#pragma once

#include <portico/abi.h>

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

// The host's opaque handles, as this fake host defines them.
struct portico_config {
    std::map<std::string, std::string> strings;
    std::map<std::string, bool> bools;
    std::map<std::string, int64_t> ints;
    std::map<std::string, std::string> durations;  // "12h", "5m", "250ms"
    std::map<std::string, std::vector<std::string>> string_arrays;
    std::map<std::string, std::vector<std::shared_ptr<portico_config>>> table_arrays;
    std::string name = "transport";  // for error records: "transport" or "certificates[1]"
    mutable std::set<std::string> asked;

    portico_config& set(const std::string& key, const std::string& value) {
        strings[key] = value;
        return *this;
    }
    portico_config& set(const std::string& key, const char* value) { return set(key, std::string(value)); }
    portico_config& set(const std::string& key, bool value) {
        bools[key] = value;
        return *this;
    }
    portico_config& set(const std::string& key, int64_t value) {
        ints[key] = value;
        return *this;
    }
    portico_config& duration(const std::string& key, const std::string& value) {
        durations[key] = value;
        return *this;
    }
    portico_config& list(const std::string& key, std::vector<std::string> values) {
        string_arrays[key] = std::move(values);
        return *this;
    }
    // Appends a table to `certificates` (or another array of tables) and returns it.
    portico_config& add(const std::string& key) {
        auto& tables = table_arrays[key];
        tables.push_back(std::make_shared<portico_config>());
        tables.back()->name = key + "[" + std::to_string(tables.size() - 1) + "]";
        return *tables.back();
    }
};

struct portico_metric {
    int64_t value = 0;
};

struct portico_conn {
    std::string wire;                 // emitted by the plugin, not yet moved to the peer
    std::string scratch;              // emit_reserve memory
    std::string plaintext;            // delivered by the plugin
    size_t deliver_limit = SIZE_MAX;  // deliver answers BACKPRESSURE once this many bytes arrived since a drain
    size_t since_drain = 0;
    bool stalled = false;  // the last deliver answered BACKPRESSURE
    size_t backpressure_hits = 0;
    bool refuse_emit = false;  // emit_reserve answers PORTICO_E_LIMIT
    int handshakes = 0;        // handshake_done calls
    std::string address = "192.0.2.7:40000";
};

namespace tlstest {

struct ConfigError {
    std::string table;
    std::string key;
    std::string message;
};

struct LogLine {
    portico_log_level level;
    std::string text;
};

// The fake host's state, shared by all tests (reset what a test depends on).
extern std::vector<ConfigError> config_errors;
extern std::vector<LogLine> log_lines;
extern uint64_t clock_ns;
// Counters the plugin defined, by name ("handshakes", ...).
int64_t metric(const std::string& name);

const portico_host_api* host_api();
const portico_plugin_desc* descriptor();  // dlopens the built plugin once, calls global_init once
void* global_state();
const portico_factory* tls_factory();
const portico_transport_ops& ops();

// config_new; returns null and leaves the errors in config_errors on failure.
void* try_config(const portico_config& cfg, portico_status* status = nullptr);
// config_new that must succeed (fails the test otherwise).
void* make_config(const portico_config& cfg);
void free_config(void* config);

// Configurations the tests start from.
portico_config server_table();  // certificates: default, rsa, ecdsa, cn-only, other (names = ["explicit.test"])
portico_config client_table();  // verify against the test CA

struct Info {
    std::string sni, alpn, version, cipher, peer_subject, error;
    bool resumed = false;
};

struct Side {
    void* transport = nullptr;
    portico_conn conn;
    std::string inbox;     // bytes from the peer not yet consumed
    std::string received;  // plaintext drained from conn.plaintext
    portico_io last = PORTICO_IO_OK;
    bool done() const { return last == PORTICO_IO_ERROR || last == PORTICO_IO_CLOSE; }
    Info info() const;
};

class Pair {
public:
    // params: the SNI and ALPN (wire format) the host passes to the CLIENT conn_new.
    Pair(void* server_config, void* client_config, const std::string& sni = "example.com",
         const std::string& alpn = "");
    ~Pair();
    Pair(const Pair&) = delete;
    Pair& operator=(const Pair&) = delete;

    // Starts the client (an empty on_output) and moves bytes until nothing moves. True when both sides called
    // handshake_done and neither failed.
    bool handshake();
    // Moves bytes both ways until nothing moves; drains backpressured receivers and feeds them again.
    void pump();
    // Sends plaintext from one side through on_output, pumping as it goes; returns false when it stalled.
    bool send(Side& from, const std::string& data);

    Side server;
    Side client;
    bool valid() const { return server.transport != nullptr && client.transport != nullptr; }
};

// A line in log_lines at `level` containing every one of `parts`.
bool logged(portico_log_level level, const std::vector<std::string>& parts);

}  // namespace tlstest
