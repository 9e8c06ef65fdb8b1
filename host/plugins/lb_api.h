// The host's portico_lb_api table (plugins/lb_api.cc).
#pragma once

#include <portico/abi.h>

namespace portico::plugins {

const portico_lb_api* lb_api();

}  // namespace portico::plugins
