// The host calls a filter makes about its stream (portico_http_api), implemented over FilterChain.
#pragma once

#include <portico/abi.h>

namespace portico::proxy {

const portico_http_api* http_filter_api();

}  // namespace portico::proxy
