// Every call checks its phase and arguments and answers with a status: a plugin's mistake never crashes the host.
#include "proxy/filter_api.h"

#include <chrono>
#include <string_view>

#include "proxy/filter_chain.h"

namespace portico::proxy {

namespace {

using Dir = FilterSlot::Dir;

std::string_view view_of(portico_view view) {
    return view.data ? std::string_view(view.data, view.len) : std::string_view();
}

portico_view to_view(std::string_view text) {
    return portico_view{text.data(), text.size()};
}

// The stream's slot if the call is allowed now: on the worker, before the stream ended.
FilterSlot* live(portico_stream* s) {
    FilterSlot* slot = to_slot(s);
    if (!slot || slot->chain.finished() || !slot->state) return nullptr;
    return slot;
}

bool direction(portico_direction dir, Dir& out) {
    if (dir == PORTICO_DIR_REQUEST) {
        out = Dir::Request;
    } else if (dir == PORTICO_DIR_RESPONSE) {
        out = Dir::Response;
    } else {
        return false;
    }
    return true;
}

HeaderMap* header_map(FilterSlot& slot, portico_headers_kind which, bool for_writing, portico_status& error) {
    FilterChain& chain = slot.chain;
    Dir dir;
    if (which == PORTICO_REQUEST_HEADERS) {
        dir = Dir::Request;
    } else if (which == PORTICO_RESPONSE_HEADERS) {
        dir = Dir::Response;
    } else {
        error = PORTICO_E_BAD_ARG;
        return nullptr;
    }
    if (!chain.begun(dir) || (for_writing && chain.headers_sent[dir])) {
        error = PORTICO_E_WRONG_PHASE;
        return nullptr;
    }
    return dir == Dir::Request ? &chain.request_headers : &chain.response_headers;
}

portico_status attr_get(portico_stream* s, portico_attr attr, portico_view* out) {
    FilterSlot* slot = to_slot(s);
    if (!slot || !out) return PORTICO_E_BAD_ARG;
    const StreamAttributes& a = slot->chain.attributes;
    const std::string* value = nullptr;
    switch (attr) {
        case PORTICO_ATTR_METHOD:
            value = &a.method;
            break;
        case PORTICO_ATTR_PATH:
            value = &a.path;
            break;
        case PORTICO_ATTR_AUTHORITY:
            value = &a.authority;
            break;
        case PORTICO_ATTR_SCHEME:
            value = &a.scheme;
            break;
        case PORTICO_ATTR_PROTOCOL:
            value = &a.protocol;
            break;
        case PORTICO_ATTR_CLIENT_ADDRESS:
            value = &a.client_address;
            break;
        case PORTICO_ATTR_ROUTE:
            value = &a.route;
            break;
        case PORTICO_ATTR_UPSTREAM:
            value = &a.upstream;
            break;
        case PORTICO_ATTR_REQUEST_ID:
            value = &a.request_id;
            break;
        case PORTICO_ATTR_TLS_SNI:
            value = &a.tls_sni;
            break;
        case PORTICO_ATTR_TLS_VERSION:
            value = &a.tls_version;
            break;
        case PORTICO_ATTR_TLS_CIPHER:
            value = &a.tls_cipher;
            break;
        case PORTICO_ATTR_TLS_PEER_SUBJECT:
            value = &a.tls_peer_subject;
            break;
        default:
            return PORTICO_E_NOT_FOUND;
    }
    if (attr >= PORTICO_ATTR_TLS_SNI && attr <= PORTICO_ATTR_TLS_PEER_SUBJECT && !a.tls)
        return PORTICO_E_NOT_FOUND;  // a plain connection
    *out = to_view(*value);
    return PORTICO_OK;
}

portico_status status_get(portico_stream* s, uint32_t* status) {
    FilterSlot* slot = to_slot(s);
    if (!slot || !status) return PORTICO_E_BAD_ARG;
    if (!slot->chain.begun(Dir::Response)) return PORTICO_E_WRONG_PHASE;
    *status = slot->chain.status;
    return PORTICO_OK;
}

portico_status status_set(portico_stream* s, uint32_t status) {
    FilterSlot* slot = live(s);
    if (!slot) return PORTICO_E_CLOSED;
    if (status < 200 || status > 999) return PORTICO_E_BAD_ARG;  // an interim status cannot end a response
    FilterChain& chain = slot->chain;
    if (!chain.begun(Dir::Response) || chain.headers_sent[Dir::Response]) return PORTICO_E_WRONG_PHASE;
    chain.status = status;
    return PORTICO_OK;
}

portico_status header_get(portico_stream* s, portico_headers_kind which, portico_view name, size_t index,
                          portico_view* value, size_t* count) {
    FilterSlot* slot = to_slot(s);
    if (!slot) return PORTICO_E_BAD_ARG;
    portico_status error = PORTICO_OK;
    HeaderMap* map = header_map(*slot, which, false, error);
    if (!map) return error;
    const std::string* found = map->get(view_of(name), index, count);
    if (!found) return PORTICO_E_NOT_FOUND;
    if (value) *value = to_view(*found);
    return PORTICO_OK;
}

portico_status header_count(portico_stream* s, portico_headers_kind which, size_t* count) {
    FilterSlot* slot = to_slot(s);
    if (!slot || !count) return PORTICO_E_BAD_ARG;
    portico_status error = PORTICO_OK;
    HeaderMap* map = header_map(*slot, which, false, error);
    if (!map) return error;
    *count = map->size();
    return PORTICO_OK;
}

portico_status header_at(portico_stream* s, portico_headers_kind which, size_t index, portico_header* out) {
    FilterSlot* slot = to_slot(s);
    if (!slot || !out) return PORTICO_E_BAD_ARG;
    portico_status error = PORTICO_OK;
    HeaderMap* map = header_map(*slot, which, false, error);
    if (!map) return error;
    if (index >= map->size()) return PORTICO_E_NOT_FOUND;
    out->name = to_view(map->at(index).first);
    out->value = to_view(map->at(index).second);
    return PORTICO_OK;
}

portico_status header_change(portico_stream* s, portico_headers_kind which, portico_view name, portico_view value,
                             bool replace) {
    FilterSlot* slot = live(s);
    if (!slot) return PORTICO_E_CLOSED;
    std::string_view n = view_of(name), v = view_of(value);
    if (!valid_field_name(n) || !valid_field_value(v) || host_owned_field(n)) return PORTICO_E_BAD_ARG;
    if (http::equals_ignore_case(n, "content-length")) return PORTICO_E_BAD_ARG;  // only removable
    portico_status error = PORTICO_OK;
    HeaderMap* map = header_map(*slot, which, true, error);
    if (!map) return error;
    if (map->size() >= 1000) return PORTICO_E_LIMIT;
    if (replace) {
        map->set(n, v);
    } else {
        map->add(n, v);
    }
    return PORTICO_OK;
}

portico_status header_set(portico_stream* s, portico_headers_kind which, portico_view name, portico_view value) {
    return header_change(s, which, name, value, true);
}

portico_status header_add(portico_stream* s, portico_headers_kind which, portico_view name, portico_view value) {
    return header_change(s, which, name, value, false);
}

portico_status header_remove(portico_stream* s, portico_headers_kind which, portico_view name) {
    FilterSlot* slot = live(s);
    if (!slot) return PORTICO_E_CLOSED;
    std::string_view n = view_of(name);
    if (host_owned_field(n)) return PORTICO_E_BAD_ARG;
    portico_status error = PORTICO_OK;
    HeaderMap* map = header_map(*slot, which, true, error);
    if (!map) return error;
    return map->remove(n) > 0 ? PORTICO_OK : PORTICO_E_NOT_FOUND;
}

// The pending bytes of this filter in a direction; body calls are allowed once the direction began.
BodyQueue* pending(portico_stream* s, portico_direction d, portico_status& error) {
    FilterSlot* slot = live(s);
    Dir dir;
    if (!slot) {
        error = PORTICO_E_CLOSED;
        return nullptr;
    }
    if (!direction(d, dir)) {
        error = PORTICO_E_BAD_ARG;
        return nullptr;
    }
    if (!slot->chain.begun(dir)) {
        error = PORTICO_E_WRONG_PHASE;
        return nullptr;
    }
    return &slot->stage[dir].pending;
}

portico_status body_chunks(portico_stream* s, portico_direction d, portico_view* views, size_t max, size_t* count,
                           size_t* total) {
    portico_status error = PORTICO_OK;
    BodyQueue* queue = pending(s, d, error);
    if (!queue) return error;
    if (!count || (max > 0 && !views)) return PORTICO_E_BAD_ARG;
    *count = max > 0 ? queue->views(views, max) : 0;
    if (total) *total = queue->size();
    return PORTICO_OK;
}

portico_status body_drain(portico_stream* s, portico_direction d, size_t n) {
    portico_status error = PORTICO_OK;
    BodyQueue* queue = pending(s, d, error);
    if (!queue) return error;
    if (n > queue->size()) return PORTICO_E_BAD_ARG;
    queue->drain(n);
    return PORTICO_OK;
}

portico_status body_append(portico_stream* s, portico_direction d, const char* data, size_t len) {
    portico_status error = PORTICO_OK;
    BodyQueue* queue = pending(s, d, error);
    if (!queue) return error;
    if (len > 0 && !data) return PORTICO_E_BAD_ARG;
    Dir dir = d == PORTICO_DIR_REQUEST ? Dir::Request : Dir::Response;
    FilterChain& chain = to_slot(s)->chain;
    queue->append(data, len);
    if (chain.check_growth(dir) != PORTICO_OK) {
        return PORTICO_E_LIMIT;  // kept; the chain fails the stream when the hook returns
    }
    return PORTICO_OK;
}

portico_status body_reserve(portico_stream* s, portico_direction d, size_t min, portico_mut_view* out) {
    portico_status error = PORTICO_OK;
    BodyQueue* queue = pending(s, d, error);
    if (!queue) return error;
    if (!out || min > (64u << 20)) return PORTICO_E_BAD_ARG;
    size_t available = 0;
    out->data = queue->reserve(min, &available);
    out->len = available;
    return PORTICO_OK;
}

portico_status body_commit(portico_stream* s, portico_direction d, size_t n) {
    portico_status error = PORTICO_OK;
    BodyQueue* queue = pending(s, d, error);
    if (!queue) return error;
    queue->commit(n);
    Dir dir = d == PORTICO_DIR_REQUEST ? Dir::Request : Dir::Response;
    return to_slot(s)->chain.check_growth(dir);
}

portico_status resume(portico_stream* s, portico_direction d) {
    FilterSlot* slot = live(s);
    Dir dir;
    if (!slot) return PORTICO_E_CLOSED;
    if (!direction(d, dir)) return PORTICO_E_BAD_ARG;
    return slot->chain.resume(*slot, dir);
}

portico_status send_local_reply(portico_stream* s, uint32_t status, const portico_header* headers, size_t n_headers,
                                const char* body, size_t body_len, const char* details) {
    FilterSlot* slot = live(s);
    if (!slot) return PORTICO_E_CLOSED;
    if ((n_headers > 0 && !headers) || (body_len > 0 && !body)) return PORTICO_E_BAD_ARG;
    return slot->chain.local_reply(*slot, status, headers, n_headers, body, body_len, true, details);
}

portico_status send_headers(portico_stream* s, uint32_t status, const portico_header* headers, size_t n_headers,
                            bool end_stream) {
    FilterSlot* slot = live(s);
    if (!slot) return PORTICO_E_CLOSED;
    if (n_headers > 0 && !headers) return PORTICO_E_BAD_ARG;
    return slot->chain.local_reply(*slot, status, headers, n_headers, nullptr, 0, end_stream, nullptr);
}

portico_status send_body(portico_stream* s, const char* data, size_t len, bool end_stream) {
    FilterSlot* slot = to_slot(s);
    if (!slot || (len > 0 && !data)) return PORTICO_E_BAD_ARG;
    if (slot->chain.finished()) return PORTICO_E_CLOSED;
    return slot->chain.local_body(*slot, data, len, end_stream);
}

portico_status timer_arm(portico_stream* s, uint64_t ms, uint64_t token) {
    FilterSlot* slot = live(s);
    if (!slot) return PORTICO_E_CLOSED;
    slot->timer.cancel();
    if (ms == 0) return PORTICO_OK;
    if (ms > (uint64_t{1} << 40)) return PORTICO_E_BAD_ARG;
    slot->timer_token = token;
    net::EventLoop& loop = slot->chain.loop();
    loop.arm(slot->timer, loop.timers(std::chrono::milliseconds(plugin_timer_bucket_ms(ms))));
    return PORTICO_OK;
}

struct Poster {
    std::shared_ptr<PosterTarget> target;
};

portico_status poster_new(portico_stream* s, portico_poster** out) {
    FilterSlot* slot = live(s);
    if (!slot) return PORTICO_E_CLOSED;
    if (!out) return PORTICO_E_BAD_ARG;
    if (!slot->poster_target) {
        slot->poster_target = std::make_shared<PosterTarget>();
        slot->poster_target->slot = slot;
        slot->poster_target->loop = &slot->chain.loop();
    }
    *out = reinterpret_cast<portico_poster*>(new Poster{slot->poster_target});
    return PORTICO_OK;
}

// THREAD any.
portico_status poster_post(portico_poster* poster, uint64_t token) {
    if (!poster) return PORTICO_E_BAD_ARG;
    std::shared_ptr<PosterTarget> target = reinterpret_cast<Poster*>(poster)->target;
    std::lock_guard<std::mutex> lock(target->mutex);
    if (!target->slot) return PORTICO_E_CLOSED;
    // The stream may end before the task runs: the task looks the slot up again on the worker.
    target->loop->post([target, token] {
        FilterSlot* slot;
        {
            std::lock_guard<std::mutex> inner(target->mutex);
            slot = target->slot;
        }
        if (slot) slot->chain.deliver_event(*slot, PORTICO_EVENT_POST, token);
    });
    return PORTICO_OK;
}

void poster_free(portico_poster* poster) {
    delete reinterpret_cast<Poster*>(poster);
}

const portico_http_api kHttpApi = [] {
    portico_http_api api;
    PORTICO_INIT(&api);
    api.attr_get = attr_get;
    api.status_get = status_get;
    api.status_set = status_set;
    api.header_get = header_get;
    api.header_count = header_count;
    api.header_at = header_at;
    api.header_set = header_set;
    api.header_add = header_add;
    api.header_remove = header_remove;
    api.body_chunks = body_chunks;
    api.body_drain = body_drain;
    api.body_append = body_append;
    api.body_reserve = body_reserve;
    api.body_commit = body_commit;
    api.resume = resume;
    api.send_local_reply = send_local_reply;
    api.send_headers = send_headers;
    api.send_body = send_body;
    api.timer_arm = timer_arm;
    api.poster_new = poster_new;
    api.poster_post = poster_post;
    api.poster_free = poster_free;
    return api;
}();

}  // namespace

const portico_http_api* http_filter_api() {
    return &kHttpApi;
}

}  // namespace portico::proxy
