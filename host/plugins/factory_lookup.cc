#include "plugins/factory_lookup.h"

#include <algorithm>

namespace portico::plugins {

namespace {

std::string qualified(const FactoryRef& ref) {
    return ref.plugin->name() + "." + ref.factory->name;
}

std::string joined(const std::vector<std::string>& words, const std::string& separator) {
    std::string text;
    for (const std::string& word : words) text += (text.empty() ? "" : separator) + word;
    return text;
}

// Every usable factory that `use` could mean, of any kind.
std::vector<FactoryRef> candidates(const std::vector<std::unique_ptr<LoadedPlugin>>& plugins,
                                   const std::string& use) {
    // Plugin and factory names cannot contain a dot, so the first one splits a qualified name unambiguously.
    size_t dot = use.find('.');
    std::string plugin_name = dot == std::string::npos ? "" : use.substr(0, dot);
    std::string factory_name = dot == std::string::npos ? use : use.substr(dot + 1);
    std::vector<FactoryRef> out;
    for (const auto& plugin : plugins) {
        if (!plugin->initialized || (!plugin_name.empty() && plugin->name() != plugin_name)) continue;
        for (uint32_t i = 0; i < plugin->factory_count(); ++i) {
            const portico_factory* factory = plugin->factory(i);
            if (is_known_kind(factory->kind) && factory_name == factory->name)
                out.push_back({plugin.get(), factory});
        }
    }
    return out;
}

// How each factory of `kind` can be written: its own name when unique, else qualified.
std::vector<std::string> names_of_kind(const std::vector<std::unique_ptr<LoadedPlugin>>& plugins,
                                       portico_kind kind) {
    std::vector<FactoryRef> all;
    for (const auto& plugin : plugins) {
        if (!plugin->initialized) continue;
        for (uint32_t i = 0; i < plugin->factory_count(); ++i) {
            if (plugin->factory(i)->kind == kind) all.push_back({plugin.get(), plugin->factory(i)});
        }
    }
    std::vector<std::string> out;
    for (const FactoryRef& ref : all) {
        size_t same = std::count_if(all.begin(), all.end(), [&](const FactoryRef& other) {
            return std::string(other.factory->name) == ref.factory->name;
        });
        out.push_back(same == 1 ? std::string(ref.factory->name) : qualified(ref));
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

FactoryRef find_factory(const std::vector<std::unique_ptr<LoadedPlugin>>& plugins, const std::string& use,
                        portico_kind kind, std::string& problem) {
    std::vector<FactoryRef> found = candidates(plugins, use);
    std::vector<FactoryRef> of_kind;
    std::copy_if(found.begin(), found.end(), std::back_inserter(of_kind),
                 [&](const FactoryRef& ref) { return ref.factory->kind == kind; });
    if (of_kind.size() == 1) return of_kind.front();

    std::string kind_text = kind_name(kind);
    if (of_kind.size() > 1) {
        std::vector<std::string> choices;
        for (const FactoryRef& ref : of_kind) choices.push_back("'" + qualified(ref) + "'");
        problem =
            kind_text + " factory '" + use + "' is offered by several plugins: write " + joined(choices, " or ");
    } else if (!found.empty()) {
        const FactoryRef& other = found.front();
        problem = "'" + use + "' is a " + kind_name(other.factory->kind) + " factory (plugin '" +
                  other.plugin->name() + "'), not a " + kind_text;
    } else {
        std::vector<std::string> loaded = names_of_kind(plugins, kind);
        problem = "no " + kind_text + " factory '" + use + "' (" +
                  (loaded.empty() ? "none loaded" : "loaded: " + joined(loaded, ", ")) + ")";
    }
    return FactoryRef{};
}

}  // namespace portico::plugins
