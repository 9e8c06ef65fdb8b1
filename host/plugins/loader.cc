// A plugin is refused before any of its hooks runs when the host cannot speak to it: each refusal names the file
// and the reason, since the person reading it is deciding which file to replace.
#include "plugins/loader.h"

#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

namespace portico::plugins {

namespace {

// The sizes of ABI 1.0's structs: a plugin's struct must be at least this long. Today they are the sizeof of the
// header's types; the first minor that appends a field must freeze them at their 1.0 values (the golden layout
// test in sdk/tests has the numbers), hence the assertion.
static_assert(PORTICO_ABI_MINOR == 0, "freeze the ABI 1.0 struct sizes below before bumping PORTICO_ABI_MINOR");
constexpr uint32_t kDescriptorSize_1_0 = sizeof(portico_plugin_desc);
constexpr uint32_t kFactorySize_1_0 = sizeof(portico_factory);
constexpr uint32_t kFilterOpsSize_1_0 = sizeof(portico_http_filter_ops);
constexpr uint32_t kTransportOpsSize_1_0 = sizeof(portico_transport_ops);
constexpr uint32_t kBalancerOpsSize_1_0 = sizeof(portico_balancer_ops);

// Majors a plugin built for another host may name its entry after, to say "other major" rather than "no entry".
constexpr int kOtherMajorsProbed = 9;

// RTLD_NODELETE: a plugin's code stays mapped even when its handle is closed (a refused file, or the process
// ending while a plugin thread still runs), so no call into it can land on unmapped memory.
const boost::dll::load_mode::type kLoadMode = boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local |
                                              static_cast<boost::dll::load_mode::type>(RTLD_NODELETE);

bool is_plugin_name(const char* name) {
    if (name == nullptr || *name == '\0') return false;
    for (const char* c = name; *c; ++c) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-')) return false;
    }
    return true;
}

std::string version_text(uint32_t major, uint32_t minor) {
    return std::to_string(major) + "." + std::to_string(minor);
}

// The size an ops table of `kind` must have at least; 0 for kinds the host does not know.
uint32_t ops_size_1_0(portico_kind kind) {
    switch (kind) {
        case PORTICO_KIND_HTTP_FILTER:
            return kFilterOpsSize_1_0;
        case PORTICO_KIND_TRANSPORT:
            return kTransportOpsSize_1_0;
        case PORTICO_KIND_BALANCER:
            return kBalancerOpsSize_1_0;
        default:
            return 0;
    }
}

// "" when the version fields allow the host to read the rest of the descriptor.
std::string check_version(const portico_plugin_desc& desc) {
    constexpr size_t kVersionEnd = offsetof(portico_plugin_desc, abi_minor) + sizeof(desc.abi_minor);
    if (desc.struct_size < kVersionEnd) {
        return "descriptor too small (" + std::to_string(desc.struct_size) + " bytes, ABI 1.0 needs " +
               std::to_string(kDescriptorSize_1_0) + ")";
    }
    if (desc.abi_major != PORTICO_ABI_MAJOR) {
        return "built for ABI " + std::to_string(desc.abi_major) + ".x, this host speaks ABI " +
               std::to_string(PORTICO_ABI_MAJOR);
    }
    if (desc.abi_minor > PORTICO_ABI_MINOR) {
        return "needs ABI " + version_text(desc.abi_major, desc.abi_minor) + ", this host has " +
               version_text(PORTICO_ABI_MAJOR, PORTICO_ABI_MINOR);
    }
    if (desc.struct_size < kDescriptorSize_1_0) {
        return "descriptor too small (" + std::to_string(desc.struct_size) + " bytes, ABI 1.0 needs " +
               std::to_string(kDescriptorSize_1_0) + ")";
    }
    return "";
}

// "" when the factory can be used (or skipped, for an unknown kind); else why the file is refused.
std::string check_factory(const portico_factory* factory, uint32_t index, std::set<std::string>& names) {
    std::string which = "factory " + std::to_string(index);
    if (factory == nullptr) return which + " is NULL";
    if (factory->struct_size < kFactorySize_1_0) {
        return which + " too small (" + std::to_string(factory->struct_size) + " bytes, ABI 1.0 needs " +
               std::to_string(kFactorySize_1_0) + ")";
    }
    if (!is_plugin_name(factory->name)) {
        return which + ": name " + (factory->name ? "\"" + std::string(factory->name) + "\"" : "NULL") +
               " must match [a-z0-9_-]+";
    }
    which = "factory '" + std::string(factory->name) + "'";
    if (!names.insert(factory->name).second) return "two factories named '" + std::string(factory->name) + "'";
    if (!is_known_kind(factory->kind)) return "";  // listed and skipped, with a warning
    if (factory->config_new == nullptr) return which + " has no config_new";
    if (factory->ops == nullptr) return which + " has no ops table";
    // Every ops table begins with its struct_size (abi.h rule 2).
    uint32_t ops_size = *static_cast<const uint32_t*>(factory->ops);
    if (ops_size < ops_size_1_0(factory->kind)) {
        return which + ": ops table too small (" + std::to_string(ops_size) + " bytes, ABI 1.0 needs " +
               std::to_string(ops_size_1_0(factory->kind)) + ")";
    }
    return "";
}

// "" when the descriptor is usable.
std::string check_descriptor(const portico_plugin_desc& desc, const std::string& file,
                             std::vector<std::string>& warnings) {
    std::string problem = check_version(desc);
    if (!problem.empty()) return problem;
    if (!is_plugin_name(desc.name)) {
        return "plugin name " + (desc.name ? "\"" + std::string(desc.name) + "\"" : std::string("NULL")) +
               " must match [a-z0-9_-]+";
    }
    if (desc.n_factories > 0 && desc.factories == nullptr) return "descriptor has factories but no array of them";
    std::set<std::string> names;
    for (uint32_t i = 0; i < desc.n_factories; ++i) {
        problem = check_factory(desc.factories[i], i, names);
        if (!problem.empty()) return problem;
        if (!is_known_kind(desc.factories[i]->kind)) {
            warnings.push_back("plugin " + file + ": factory '" + desc.factories[i]->name + "' has " +
                               kind_name(desc.factories[i]->kind) + ", which this host does not know: skipped");
        }
    }
    return "";
}

// The entry, or null with the reason.
const portico_plugin_desc* find_descriptor(boost::dll::shared_library& library, std::string& problem) {
    if (!library.has(PORTICO_ENTRY_SYMBOL)) {
        for (int major = 2; major <= kOtherMajorsProbed; ++major) {
            if (major != PORTICO_ABI_MAJOR && library.has("portico_plugin_v" + std::to_string(major))) {
                problem = "built for ABI " + std::to_string(major) + ".x (entry portico_plugin_v" +
                          std::to_string(major) + "), this host speaks ABI " + std::to_string(PORTICO_ABI_MAJOR);
                return nullptr;
            }
        }
        problem = "no entry symbol " PORTICO_ENTRY_SYMBOL " (not a Portico plugin?)";
        return nullptr;
    }
    auto& entry = library.get<const portico_plugin_desc*()>(PORTICO_ENTRY_SYMBOL);
    const portico_plugin_desc* desc = entry();
    if (desc == nullptr) problem = PORTICO_ENTRY_SYMBOL " returned no descriptor";
    return desc;
}

}  // namespace

std::string kind_name(portico_kind kind) {
    switch (kind) {
        case PORTICO_KIND_HTTP_FILTER:
            return "filter";
        case PORTICO_KIND_TRANSPORT:
            return "transport";
        case PORTICO_KIND_BALANCER:
            return "balancer";
        default:
            return "unknown kind " + std::to_string(kind);
    }
}

bool list_plugin_files(const std::string& dir, std::vector<std::string>& out, std::string& error, bool& missing) {
    missing = false;
    DIR* handle = ::opendir(dir.c_str());
    if (handle == nullptr) {
        missing = errno == ENOENT;
        error = std::strerror(errno);
        return false;
    }
    std::vector<std::string> names;
    while (const dirent* entry = ::readdir(handle)) {
        std::string name = entry->d_name;
        if (name.empty() || name[0] == '.' || name.size() <= 3 || name.compare(name.size() - 3, 3, ".so") != 0) {
            continue;
        }
        struct stat info {};
        std::string path = dir + "/" + name;  // only for stat: "a//b" is fine there
        if (::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode)) names.push_back(name);
    }
    ::closedir(handle);
    std::sort(names.begin(), names.end());
    std::string prefix = !dir.empty() && dir.back() == '/' ? dir : dir + "/";
    for (const std::string& name : names) out.push_back(prefix + name);
    return true;
}

std::unique_ptr<LoadedPlugin> open_plugin(const std::string& file, std::string& error,
                                          std::vector<std::string>& warnings) {
    auto plugin = std::make_unique<LoadedPlugin>();
    plugin->file = file;
    boost::dll::fs::error_code ec;
    plugin->library.load(boost::dll::fs::path(file), ec, kLoadMode);
    if (ec) {
        // Boost.DLL keeps dlerror()'s text pending after a failed load: it names the missing symbol or library.
        const char* reason = ::dlerror();
        error = "plugin " + file + ": cannot load: " + (reason ? reason : ec.message());
        return nullptr;
    }
    std::string problem;
    std::vector<std::string> notes;  // only worth reading when the file is accepted
    plugin->desc = find_descriptor(plugin->library, problem);
    if (plugin->desc != nullptr) problem = check_descriptor(*plugin->desc, file, notes);
    if (!problem.empty()) {
        error = "plugin " + file + ": " + problem;
        return nullptr;
    }
    warnings.insert(warnings.end(), notes.begin(), notes.end());
    return plugin;
}

}  // namespace portico::plugins
