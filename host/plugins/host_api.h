// The portico_host_api table each plugin receives: one per plugin (it carries the plugin's handle for core->log and
// metric names), pointing at the host's shared tables of calls.
#pragma once

#include <portico/abi.h>

namespace portico::plugins {

// Fills `out` for the plugin `plugin` (which must outlive it, as the table does: the plugin may keep both for the
// process's life).
void make_host_api(const portico_plugin* plugin, portico_host_api& out);

}  // namespace portico::plugins
