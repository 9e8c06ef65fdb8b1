// portico_config_api: typed getters over a plugin's own TOML table, for config_new. The host keeps track of which
// keys the plugin asked for, so that a key nobody reads (a typo) is an error instead of a silent default.
#pragma once

#include <portico/abi.h>

#include <memory>
#include <string>
#include <vector>

#include "config/plugin_table.h"

namespace portico::plugins {

const portico_config_api* config_api();

// The config handles of one config_new call: the root table and every nested table handed out (they live as long
// as the session, which outlives the call), what was asked of each, and the problems the getters reported.
class ConfigSession {
public:
    // `hidden`: keys of the root table that belong to the host (`use`, `on_error`): the plugin does not see them,
    // and they are never unknown.
    ConfigSession(const config::PluginTable& table, std::vector<std::string> hidden);
    ~ConfigSession();
    ConfigSession(const ConfigSession&) = delete;
    ConfigSession& operator=(const ConfigSession&) = delete;

    const portico_config* root() const;

    // After a successful config_new: every key of a table the plugin was given that no getter asked for, as
    // "FILE:LINE:COL: unknown key 'k' for <owner>" (owner: "filter 'compression'").
    void report_unknown(const std::string& owner);

    // "FILE:LINE:COL: message" at the root table's place.
    void report_at_table(const std::string& message);

    // Everything reported so far, "FILE:LINE:COL: message" each, in the order found.
    const std::vector<std::string>& problems() const { return problems_; }

    // For the handles: a handle of this session for `table`, created once per table.
    portico_config* handle(const toml::table& table, std::string path);
    const config::PluginTable& source() const { return table_; }
    void add(const toml::source_region& where, const std::string& message);

private:
    const config::PluginTable& table_;
    std::vector<std::unique_ptr<portico_config>> handles_;  // handles_[0] is the root
    std::vector<std::string> problems_;
};

}  // namespace portico::plugins
