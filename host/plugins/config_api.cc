// The getters answer from the filter's PluginTable and report a wrong value at its key, in the host's own format,
// so a plugin author writes no error text for the common cases and users see one style of message.
#include "plugins/config_api.h"

#include <algorithm>
#include <limits>

#include "config/diagnostics.h"
#include "config/units.h"

// The host's side of the opaque handle: one table of the plugin's configuration and what was asked of it. The
// plugin sees it as read-only; what the host notes about the questions is `mutable`.
struct portico_config {
    portico::plugins::ConfigSession* session = nullptr;
    const toml::table* table = nullptr;
    std::string path;                        // the table's name inside the plugin's table: "", "limits", "rules[2]"
    std::vector<std::string> hidden;         // the host's keys (root only)
    mutable std::vector<std::string> asked;  // every key a getter asked for, present or not: for "did you mean"

    std::string name(std::string_view key) const {
        return path.empty() ? std::string(key) : path + "." + std::string(key);
    }
};

namespace portico::plugins {

namespace {

const char kDurationForm[] =
    "a duration (a string like \"250ms\", \"2s\", \"5m\" or \"1h\", or an integer of milliseconds)";
const char kSizeForm[] =
    "a size (an integer of bytes, or a string like \"512\", \"64KiB\", \"256MiB\" or \"1GiB\")";

bool is_hidden(const portico_config& cfg, std::string_view key) {
    return std::find(cfg.hidden.begin(), cfg.hidden.end(), key) != cfg.hidden.end();
}

// The value at `key`, noting the question; nullptr when absent or hidden.
const toml::node* lookup(const portico_config& cfg, const char* key) {
    if (std::find(cfg.asked.begin(), cfg.asked.end(), key) == cfg.asked.end()) cfg.asked.emplace_back(key);
    if (is_hidden(cfg, key)) return nullptr;
    return cfg.table->get(key);
}

const toml::source_region& key_place(const portico_config& cfg, std::string_view key) {
    auto it = cfg.table->find(key);
    return it == cfg.table->end() ? cfg.session->source().place(*cfg.table) : it->first.source();
}

// "<key>: expected <what>, not <actual>" at the key, as the ABI documents; PORTICO_E_CONFIG for the getter.
portico_status wrong(const portico_config& cfg, const char* key, const std::string& what,
                     const std::string& actual) {
    cfg.session->add(key_place(cfg, key), cfg.name(key) + ": expected " + what + ", not " + actual);
    return PORTICO_E_CONFIG;
}

portico_status wrong_type(const portico_config& cfg, const char* key, const std::string& what,
                          const toml::node& n) {
    return wrong(cfg, key, what, config::type_name(n.type()));
}

// A value's text for messages: strings quoted, integers as written.
std::string shown(const toml::node& node) {
    if (const auto* s = node.as_string()) return config::in_quotes(s->get());
    if (const auto* i = node.as_integer()) return std::to_string(i->get());
    return config::type_name(node.type());
}

#define PORTICO_CHECK_ARGS(cfg, key, out) \
    if ((cfg) == nullptr || (key) == nullptr || (out) == nullptr) return PORTICO_E_BAD_ARG

portico_status get_string(const portico_config* cfg, const char* key, portico_view* out) {
    PORTICO_CHECK_ARGS(cfg, key, out);
    const toml::node* node = lookup(*cfg, key);
    if (node == nullptr) return PORTICO_E_NOT_FOUND;
    const auto* value = node->as_string();
    if (value == nullptr) return wrong_type(*cfg, key, "a string", *node);
    *out = portico_view{value->get().data(), value->get().size()};
    return PORTICO_OK;
}

portico_status get_int(const portico_config* cfg, const char* key, int64_t* out) {
    PORTICO_CHECK_ARGS(cfg, key, out);
    const toml::node* node = lookup(*cfg, key);
    if (node == nullptr) return PORTICO_E_NOT_FOUND;
    const auto* value = node->as_integer();
    if (value == nullptr) return wrong_type(*cfg, key, "an integer", *node);
    *out = value->get();
    return PORTICO_OK;
}

portico_status get_bool(const portico_config* cfg, const char* key, bool* out) {
    PORTICO_CHECK_ARGS(cfg, key, out);
    const toml::node* node = lookup(*cfg, key);
    if (node == nullptr) return PORTICO_E_NOT_FOUND;
    const auto* value = node->as_boolean();
    if (value == nullptr) return wrong_type(*cfg, key, "a boolean (true or false)", *node);
    *out = value->get();
    return PORTICO_OK;
}

// An integer is a number too: `ratio = 1` must not need to be written `ratio = 1.0`.
portico_status get_double(const portico_config* cfg, const char* key, double* out) {
    PORTICO_CHECK_ARGS(cfg, key, out);
    const toml::node* node = lookup(*cfg, key);
    if (node == nullptr) return PORTICO_E_NOT_FOUND;
    if (const auto* value = node->as_floating_point()) {
        *out = value->get();
    } else if (const auto* integer = node->as_integer()) {
        *out = static_cast<double>(integer->get());
    } else {
        return wrong_type(*cfg, key, "a number", *node);
    }
    return PORTICO_OK;
}

portico_status get_duration_ms(const portico_config* cfg, const char* key, uint64_t* out) {
    PORTICO_CHECK_ARGS(cfg, key, out);
    const toml::node* node = lookup(*cfg, key);
    if (node == nullptr) return PORTICO_E_NOT_FOUND;
    if (const auto* integer = node->as_integer()) {
        if (integer->get() < 0) return wrong(*cfg, key, kDurationForm, shown(*node));
        *out = static_cast<uint64_t>(integer->get());
        return PORTICO_OK;
    }
    const auto* text = node->as_string();
    if (text == nullptr) return wrong_type(*cfg, key, kDurationForm, *node);
    std::optional<config::Duration> duration = config::parse_duration(text->get());
    if (!duration) return wrong(*cfg, key, kDurationForm, shown(*node));
    *out = static_cast<uint64_t>(duration->count());
    return PORTICO_OK;
}

portico_status get_size(const portico_config* cfg, const char* key, uint64_t* out) {
    PORTICO_CHECK_ARGS(cfg, key, out);
    const toml::node* node = lookup(*cfg, key);
    if (node == nullptr) return PORTICO_E_NOT_FOUND;
    if (const auto* integer = node->as_integer()) {
        if (integer->get() < 0) return wrong(*cfg, key, kSizeForm, shown(*node));
        *out = static_cast<uint64_t>(integer->get());
        return PORTICO_OK;
    }
    const auto* text = node->as_string();
    if (text == nullptr) return wrong_type(*cfg, key, kSizeForm, *node);
    const std::string& value = text->get();
    // The ABI lists "512" (bytes, no unit) among the forms; the host's own sizes want the unit.
    bool digits_only =
        !value.empty() && std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; });
    std::optional<uint64_t> size = config::parse_size(digits_only ? value + "B" : value);
    if (!size) return wrong(*cfg, key, kSizeForm, shown(*node));
    *out = *size;
    return PORTICO_OK;
}

portico_status get_table(const portico_config* cfg, const char* key, const portico_config** out) {
    PORTICO_CHECK_ARGS(cfg, key, out);
    const toml::node* node = lookup(*cfg, key);
    if (node == nullptr) return PORTICO_E_NOT_FOUND;
    const toml::table* table = node->as_table();
    if (table == nullptr) return wrong_type(*cfg, key, "a table", *node);
    *out = cfg->session->handle(*table, cfg->name(key));
    return PORTICO_OK;
}

// The array at `key`: PORTICO_E_NOT_FOUND when absent, PORTICO_E_CONFIG (reported) when not an array.
portico_status find_array(const portico_config& cfg, const char* key, const toml::array*& out) {
    const toml::node* node = lookup(cfg, key);
    if (node == nullptr) return PORTICO_E_NOT_FOUND;
    out = node->as_array();
    return out == nullptr ? wrong_type(cfg, key, "an array", *node) : PORTICO_OK;
}

portico_status array_len(const portico_config* cfg, const char* key, size_t* out) {
    PORTICO_CHECK_ARGS(cfg, key, out);
    const toml::array* array = nullptr;
    portico_status status = find_array(*cfg, key, array);
    if (status == PORTICO_OK) *out = array->size();
    return status;
}

// An element of the wrong type is reported at the element itself.
portico_status wrong_element(const portico_config& cfg, const char* key, size_t index, const std::string& what,
                             const toml::node& element) {
    std::string name = cfg.name(key) + "[" + std::to_string(index) + "]";
    cfg.session->add(cfg.session->source().place(element),
                     name + ": expected " + what + ", not " + config::type_name(element.type()));
    return PORTICO_E_CONFIG;
}

portico_status array_string(const portico_config* cfg, const char* key, size_t index, portico_view* out) {
    PORTICO_CHECK_ARGS(cfg, key, out);
    const toml::array* array = nullptr;
    portico_status status = find_array(*cfg, key, array);
    if (status != PORTICO_OK) return status;
    if (index >= array->size()) return PORTICO_E_BAD_ARG;  // the plugin's mistake, not the user's
    const toml::node& element = *array->get(index);
    const auto* value = element.as_string();
    if (value == nullptr) return wrong_element(*cfg, key, index, "a string", element);
    *out = portico_view{value->get().data(), value->get().size()};
    return PORTICO_OK;
}

portico_status array_table(const portico_config* cfg, const char* key, size_t index, const portico_config** out) {
    PORTICO_CHECK_ARGS(cfg, key, out);
    const toml::array* array = nullptr;
    portico_status status = find_array(*cfg, key, array);
    if (status != PORTICO_OK) return status;
    if (index >= array->size()) return PORTICO_E_BAD_ARG;
    const toml::node& element = *array->get(index);
    const toml::table* table = element.as_table();
    if (table == nullptr) return wrong_element(*cfg, key, index, "a table", element);
    *out = cfg->session->handle(*table, cfg->name(key) + "[" + std::to_string(index) + "]");
    return PORTICO_OK;
}

portico_status error(const portico_config* cfg, const char* key, const char* message) {
    if (cfg == nullptr) return PORTICO_E_BAD_ARG;
    bool at_key = key != nullptr && !is_hidden(*cfg, key) && cfg->table->contains(key);
    const toml::source_region& where = at_key ? key_place(*cfg, key) : cfg->session->source().place(*cfg->table);
    cfg->session->add(where, message != nullptr && *message != '\0' ? message : "invalid configuration");
    return PORTICO_E_CONFIG;
}

#undef PORTICO_CHECK_ARGS

}  // namespace

const portico_config_api* config_api() {
    static const portico_config_api table = [] {
        portico_config_api t;
        PORTICO_INIT(&t);
        t.get_string = get_string;
        t.get_int = get_int;
        t.get_bool = get_bool;
        t.get_double = get_double;
        t.get_duration_ms = get_duration_ms;
        t.get_size = get_size;
        t.get_table = get_table;
        t.array_len = array_len;
        t.array_string = array_string;
        t.array_table = array_table;
        t.error = error;
        return t;
    }();
    return &table;
}

ConfigSession::ConfigSession(const config::PluginTable& table, std::vector<std::string> hidden) : table_(table) {
    handle(table.table, "")->hidden = std::move(hidden);
}

ConfigSession::~ConfigSession() = default;

const portico_config* ConfigSession::root() const {
    return handles_.front().get();
}

portico_config* ConfigSession::handle(const toml::table& table, std::string path) {
    // Asking twice for one table gives the same handle, so its questions add up for the unknown-key check.
    for (auto& existing : handles_) {
        if (existing->table == &table) return existing.get();
    }
    auto created = std::make_unique<portico_config>();
    created->session = this;
    created->table = &table;
    created->path = std::move(path);
    handles_.push_back(std::move(created));
    return handles_.back().get();
}

void ConfigSession::add(const toml::source_region& where, const std::string& message) {
    problems_.push_back(config::describe(where) + ": " + message);
}

void ConfigSession::report_at_table(const std::string& message) {
    add(table_.place(table_.table), message);
}

void ConfigSession::report_unknown(const std::string& owner) {
    struct Unknown {
        const toml::source_region* where;
        std::string message;
    };
    std::vector<Unknown> found;
    for (const auto& cfg : handles_) {
        for (auto&& [key, value] : *cfg->table) {
            std::string_view name = key.str();
            if (is_hidden(*cfg, name)) continue;
            if (std::find(cfg->asked.begin(), cfg->asked.end(), name) != cfg->asked.end()) continue;
            found.push_back({&key.source(), "unknown key '" + cfg->name(name) + "' for " + owner +
                                                config::did_you_mean(name, cfg->asked)});
        }
    }
    // Tables iterate in key order; a reader goes through the file top to bottom.
    std::stable_sort(found.begin(), found.end(),
                     [](const Unknown& a, const Unknown& b) { return a.where->begin < b.where->begin; });
    for (const Unknown& unknown : found) add(*unknown.where, unknown.message);
}

}  // namespace portico::plugins
