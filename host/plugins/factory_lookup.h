// What a TOML `use = "..."` names: a factory by its own name when no other plugin offers one of that name and
// kind, or "plugin.factory".
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "plugins/loaded_plugin.h"

namespace portico::plugins {

struct FactoryRef {
    LoadedPlugin* plugin = nullptr;
    const portico_factory* factory = nullptr;
};

// Looks among the factories of known kinds of the plugins whose global_init succeeded. Returns a null factory
// and sets `problem` (a message without position) when `use` names none of `kind`, names one of another kind, or
// is ambiguous.
FactoryRef find_factory(const std::vector<std::unique_ptr<LoadedPlugin>>& plugins, const std::string& use,
                        portico_kind kind, std::string& problem);

}  // namespace portico::plugins
