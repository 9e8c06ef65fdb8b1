/* The abidiff probe: a shared object whose exported functions take every ABI struct by pointer (and each scalar
 * typedef by value), so that its debug info describes the whole ABI. The sdk.abi_abidiff test compares a fresh
 * build of it with the committed baseline sdk/abi/abi-MAJOR.MINOR.xml. It is not a plugin and is never loaded.
 * sdk/abi/gen_layout.py refuses to run while a struct of abi.h is missing here. */
#include <portico/abi.h>

#define PROBE(type)                                                      \
    PORTICO_EXPORT const void* portico_abi_probe_##type(const type* p);  \
    PORTICO_EXPORT const void* portico_abi_probe_##type(const type* p) { \
        return p;                                                        \
    }

PROBE(portico_view)
PROBE(portico_mut_view)
PROBE(portico_header)
PROBE(portico_error)
PROBE(portico_core_api)
PROBE(portico_config_api)
PROBE(portico_http_api)
PROBE(portico_transport_api)
PROBE(portico_endpoint)
PROBE(portico_lb_api)
PROBE(portico_host_api)
PROBE(portico_stream_summary)
PROBE(portico_http_filter_ops)
PROBE(portico_transport_info)
PROBE(portico_conn_params)
PROBE(portico_transport_ops)
PROBE(portico_lb_context)
PROBE(portico_balancer_ops)
PROBE(portico_factory)
PROBE(portico_plugin_desc)

/* The entry point's type, and the scalar typedefs that only appear as values. */
PORTICO_EXPORT portico_plugin_entry portico_abi_probe_entry(portico_plugin_entry entry);
PORTICO_EXPORT portico_plugin_entry portico_abi_probe_entry(portico_plugin_entry entry) {
    return entry;
}

PORTICO_EXPORT uint32_t portico_abi_probe_scalars(portico_status status, portico_log_level level, portico_kind kind,
                                                  portico_headers_kind headers, portico_attr attr,
                                                  portico_direction dir, portico_health health,
                                                  portico_endpoint_stat stat, portico_action action,
                                                  portico_event event, portico_done_reason reason, portico_io io,
                                                  portico_role role, portico_lb_outcome outcome);
PORTICO_EXPORT uint32_t portico_abi_probe_scalars(portico_status status, portico_log_level level, portico_kind kind,
                                                  portico_headers_kind headers, portico_attr attr,
                                                  portico_direction dir, portico_health health,
                                                  portico_endpoint_stat stat, portico_action action,
                                                  portico_event event, portico_done_reason reason, portico_io io,
                                                  portico_role role, portico_lb_outcome outcome) {
    return (uint32_t)status + level + kind + headers + attr + dir + health + stat + action + event + reason + io +
           role + outcome;
}
