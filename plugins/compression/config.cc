#include "config.h"

#include <string>

namespace portico::compression {

namespace {

const char* const kLevelKeys[kCodingCount] = {"gzip_level", "brotli_level", "zstd_level"};

portico_status read_codings(const portico_config_api& api, const portico_config* cfg, FilterConfig& out) {
    size_t count = 0;
    portico_status status = api.array_len(cfg, "codings", &count);
    if (status == PORTICO_E_NOT_FOUND) return PORTICO_OK;
    if (status != PORTICO_OK) return status;
    if (count == 0)
        return api.error(cfg, "codings", "'codings' must name at least one of \"zstd\", \"br\", \"gzip\"");
    out.preference.clear();
    for (size_t i = 0; i < count; ++i) {
        portico_view token;
        if ((status = api.array_string(cfg, "codings", i, &token)) != PORTICO_OK) return status;
        std::optional<Coding> coding = coding_from_token(std::string_view(token.data, token.len));
        if (!coding) {
            std::string message = "'codings' has an unknown coding \"" + std::string(token.data, token.len) +
                                  "\" (known: \"zstd\", \"br\", \"gzip\")";
            return api.error(cfg, "codings", message.c_str());
        }
        for (Coding seen : out.preference) {
            if (seen == *coding) return api.error(cfg, "codings", "'codings' names a coding twice");
        }
        out.preference.push_back(*coding);
    }
    return PORTICO_OK;
}

portico_status read_levels(const portico_config_api& api, const portico_config* cfg, FilterConfig& out) {
    for (size_t i = 0; i < kCodingCount; ++i) {
        LevelRange range = level_range(static_cast<Coding>(i));
        out.level[i] = range.default_level;
        int64_t level = 0;
        portico_status status = api.get_int(cfg, kLevelKeys[i], &level);
        if (status == PORTICO_E_NOT_FOUND) continue;
        if (status != PORTICO_OK) return status;
        if (level < range.min || level > range.max) {
            std::string message = std::string("'") + kLevelKeys[i] + "' must be between " +
                                  std::to_string(range.min) + " and " + std::to_string(range.max);
            return api.error(cfg, kLevelKeys[i], message.c_str());
        }
        out.level[i] = static_cast<int>(level);
    }
    return PORTICO_OK;
}

portico_status read_types(const portico_config_api& api, const portico_config* cfg, FilterConfig& out) {
    size_t count = 0;
    portico_status status = api.array_len(cfg, "types", &count);
    if (status == PORTICO_E_NOT_FOUND) {
        out.types = default_content_type_matcher();
        return PORTICO_OK;
    }
    if (status != PORTICO_OK) return status;
    for (size_t i = 0; i < count; ++i) {
        portico_view pattern;
        if ((status = api.array_string(cfg, "types", i, &pattern)) != PORTICO_OK) return status;
        if (!out.types.add(std::string_view(pattern.data, pattern.len))) {
            std::string message = "'types' has \"" + std::string(pattern.data, pattern.len) +
                                  "\", which is not a media type pattern like \"text/*\", \"application/json\" "
                                  "or \"application/*+json\"";
            return api.error(cfg, "types", message.c_str());
        }
    }
    return PORTICO_OK;
}

}  // namespace

portico_status read_config(const portico_host_api* host, const portico_config* cfg, FilterConfig& out) {
    const portico_config_api& api = *host->config;
    out.host = host;
    portico_status status;
    if ((status = read_codings(api, cfg, out)) != PORTICO_OK) return status;
    if ((status = read_levels(api, cfg, out)) != PORTICO_OK) return status;
    if ((status = read_types(api, cfg, out)) != PORTICO_OK) return status;
    status = api.get_size(cfg, "min_length", &out.min_length);
    if (status != PORTICO_OK && status != PORTICO_E_NOT_FOUND) return status;
    return PORTICO_OK;
}

}  // namespace portico::compression
