#include "plugins/host_api.h"

#include "plugins/config_api.h"
#include "plugins/core_api.h"
#include "plugins/lb_api.h"
#include "proxy/filter_api.h"

namespace portico::plugins {

namespace {

portico_status deliver(portico_conn*, const char*, size_t) {
    return PORTICO_E_UNIMPLEMENTED;
}
portico_status emit_reserve(portico_conn*, size_t, portico_mut_view*) {
    return PORTICO_E_UNIMPLEMENTED;
}
portico_status emit_commit(portico_conn*, size_t) {
    return PORTICO_E_UNIMPLEMENTED;
}
portico_status handshake_done(portico_conn*) {
    return PORTICO_E_UNIMPLEMENTED;
}
portico_status peer_address(portico_conn*, portico_view*) {
    return PORTICO_E_UNIMPLEMENTED;
}

}  // namespace

const portico_transport_api* transport_api_unimplemented() {
    static const portico_transport_api table = [] {
        portico_transport_api t;
        PORTICO_INIT(&t);
        t.deliver = deliver;
        t.emit_reserve = emit_reserve;
        t.emit_commit = emit_commit;
        t.handshake_done = handshake_done;
        t.peer_address = peer_address;
        return t;
    }();
    return &table;
}

void make_host_api(const portico_plugin* plugin, portico_host_api& out) {
    PORTICO_INIT(&out);
    out.abi_major = PORTICO_ABI_MAJOR;
    out.abi_minor = PORTICO_ABI_MINOR;
    out.plugin = plugin;
    out.core = core_api();
    out.config = config_api();
    out.http = proxy::http_filter_api();
    out.transport = transport_api_unimplemented();
    out.lb = lb_api();
}

}  // namespace portico::plugins
