#include "plugins/host_api.h"

#include "plugins/config_api.h"
#include "plugins/core_api.h"
#include "plugins/lb_api.h"
#include "plugins/transport_conn.h"
#include "proxy/filter_api.h"

namespace portico::plugins {

void make_host_api(const portico_plugin* plugin, portico_host_api& out) {
    PORTICO_INIT(&out);
    out.abi_major = PORTICO_ABI_MAJOR;
    out.abi_minor = PORTICO_ABI_MINOR;
    out.plugin = plugin;
    out.core = core_api();
    out.config = config_api();
    out.http = proxy::http_filter_api();
    out.transport = transport_api();
    out.lb = lb_api();
}

}  // namespace portico::plugins
