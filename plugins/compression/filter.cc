#include "filter.h"

#include <algorithm>
#include <string>
#include <string_view>

#include "accept_encoding.h"

namespace portico::compression {

namespace {

// Output is written straight into host buffers of at least this size (body_reserve / body_commit).
constexpr size_t kOutputPiece = 16 * 1024;

portico_view view(std::string_view text) {
    return portico_view{text.data(), text.size()};
}
std::string_view text(portico_view v) {
    return std::string_view(v.data, v.len);
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + 32);
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + 32);
        if (x != y) return false;
    }
    return true;
}

// Whether a comma-separated field (all its lines) lists `token` (case-insensitive, directives may have "=...").
bool lists_token(const portico_http_api& http, portico_stream* s, portico_headers_kind which, std::string_view name,
                 std::string_view token) {
    size_t count = 0;
    portico_view value;
    if (http.header_get(s, which, view(name), 0, &value, &count) != PORTICO_OK) return false;
    for (size_t i = 0; i < count; ++i) {
        if (i > 0 && http.header_get(s, which, view(name), i, &value, nullptr) != PORTICO_OK) break;
        std::string_view list = text(value);
        while (!list.empty()) {
            size_t comma = list.find(',');
            std::string_view item = list.substr(0, comma);
            size_t eq = item.find('=');
            if (eq != std::string_view::npos) item = item.substr(0, eq);
            while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
            while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
            if (equals_ignore_case(item, token)) return true;
            if (comma == std::string_view::npos) break;
            list.remove_prefix(comma + 1);
        }
    }
    return false;
}

}  // namespace

// Everything but the client's Accept-Encoding: is this response one we would compress for some client?
bool StreamFilter::eligible(portico_stream* s, bool end_stream) const {
    const portico_http_api& http = *config_.host->http;
    if (end_stream) return false;  // no body (HEAD, 204, 304 come here too)
    portico_view method;
    if (http.attr_get(s, PORTICO_ATTR_METHOD, &method) == PORTICO_OK && text(method) == "HEAD") return false;
    uint32_t status = 0;
    http.status_get(s, &status);
    // 206 carries a range of the identity representation: compressing it would make the ranges meaningless.
    if (status < 200 || status == 204 || status == 206 || status == 304) return false;
    portico_view value;
    if (http.header_get(s, PORTICO_RESPONSE_HEADERS, view("content-encoding"), 0, &value, nullptr) == PORTICO_OK &&
        !equals_ignore_case(text(value), "identity")) {
        return false;  // already encoded
    }
    if (lists_token(http, s, PORTICO_RESPONSE_HEADERS, "cache-control", "no-transform"))
        return false;  // RFC 9111 5.2.2.6
    if (http.header_get(s, PORTICO_RESPONSE_HEADERS, view("content-type"), 0, &value, nullptr) != PORTICO_OK ||
        !config_.types.matches(text(value))) {
        return false;
    }
    // Server-sent events must reach the client as they come; an encoder would hold them back.
    std::string_view type = text(value);
    if (type.size() >= 17 && equals_ignore_case(type.substr(0, 17), "text/event-stream")) return false;
    if (http.header_get(s, PORTICO_RESPONSE_HEADERS, view("content-length"), 0, &value, nullptr) == PORTICO_OK) {
        uint64_t length = 0;
        for (char c : text(value)) length = length * 10 + static_cast<uint64_t>(c - '0');
        if (length < config_.min_length) return false;
    }
    return true;
}

// The response depends on Accept-Encoding from here on (RFC 9110 12.5.5), whether we compress it or not.
void StreamFilter::mark_vary(portico_stream* s) const {
    const portico_http_api& http = *config_.host->http;
    if (lists_token(http, s, PORTICO_RESPONSE_HEADERS, "vary", "accept-encoding") ||
        lists_token(http, s, PORTICO_RESPONSE_HEADERS, "vary", "*")) {
        return;
    }
    http.header_add(s, PORTICO_RESPONSE_HEADERS, view("Vary"), view("Accept-Encoding"));
}

portico_action StreamFilter::on_response_headers(portico_stream* s, bool end_stream) {
    const portico_http_api& http = *config_.host->http;
    if (!eligible(s, end_stream)) return PORTICO_ACTION_CONTINUE;
    mark_vary(s);

    // Several Accept-Encoding lines form one list (RFC 9110 5.3).
    std::string accept;
    size_t count = 0;
    portico_view value;
    if (http.header_get(s, PORTICO_REQUEST_HEADERS, view("accept-encoding"), 0, &value, &count) == PORTICO_OK) {
        for (size_t i = 0; i < count; ++i) {
            if (i > 0) {
                if (http.header_get(s, PORTICO_REQUEST_HEADERS, view("accept-encoding"), i, &value, nullptr) !=
                    PORTICO_OK) {
                    break;
                }
                accept.append(", ");
            }
            accept.append(value.data, value.len);
        }
    }
    std::optional<Coding> coding = choose_coding(accept, config_.preference);
    if (!coding) return PORTICO_ACTION_CONTINUE;
    int level = config_.level[static_cast<size_t>(*coding)];
    if (*coding == Coding::Gzip) {
        arena_ = std::make_unique<Arena>(kGzipArenaSize);
        Allocator allocator = arena_->allocator();
        encoder_ = make_encoder(*coding, level, &allocator);
    } else {
        encoder_ = make_encoder(*coding, level);
    }
    if (!encoder_) return PORTICO_ACTION_CONTINUE;  // out of memory: identity is still a correct answer

    http.header_set(s, PORTICO_RESPONSE_HEADERS, view("Content-Encoding"), view(name(*coding)));
    http.header_remove(s, PORTICO_RESPONSE_HEADERS, view("Content-Length"));  // the host chunks instead
    http.header_remove(s, PORTICO_RESPONSE_HEADERS, view("Accept-Ranges"));  // ranges of the identity no longer fit
    // A strong validator names exact bytes; ours differ from the origin's (RFC 9110 8.8.1).
    if (http.header_get(s, PORTICO_RESPONSE_HEADERS, view("etag"), 0, &value, nullptr) == PORTICO_OK &&
        !(value.len >= 2 && value.data[0] == 'W' && value.data[1] == '/')) {
        std::string weak = "W/" + std::string(value.data, value.len);
        http.header_set(s, PORTICO_RESPONSE_HEADERS, view("ETag"), view(weak));
    }
    if (config_.compressed) config_.host->core->metric_add(config_.compressed, 1);
    return PORTICO_ACTION_CONTINUE;
}

// Compresses `len` bytes (and, with Finish, ends the stream) into host memory after the pending input.
bool StreamFilter::encode(portico_stream* s, const uint8_t* data, size_t len, Flush mode) {
    const portico_http_api& http = *config_.host->http;
    size_t produced_total = 0;
    for (;;) {
        portico_mut_view out;
        if (http.body_reserve(s, PORTICO_DIR_RESPONSE, kOutputPiece, &out) != PORTICO_OK) return false;
        size_t consumed = 0, produced = 0;
        Result result =
            encoder_->encode(data, len, &consumed, reinterpret_cast<uint8_t*>(out.data), out.len, &produced, mode);
        if (result == Result::Error) return false;
        if (http.body_commit(s, PORTICO_DIR_RESPONSE, produced) != PORTICO_OK) return false;
        produced_total += produced;
        data += consumed;
        len -= consumed;
        if (result == Result::NeedOutput) continue;
        if (result == Result::Done) finished_ = true;
        break;
    }
    if (config_.bytes_out) config_.host->core->metric_add(config_.bytes_out, static_cast<int64_t>(produced_total));
    return true;
}

portico_action StreamFilter::on_response_body(portico_stream* s, bool end_stream) {
    if (!encoder_ || finished_) return PORTICO_ACTION_CONTINUE;
    const portico_http_api& http = *config_.host->http;
    // The pending bytes are the input; the output goes after them, and each batch of input is drained once
    // encoded, so the front of the queue is always input still to do.
    size_t remaining = 0, count = 0;
    if (http.body_chunks(s, PORTICO_DIR_RESPONSE, nullptr, 0, &count, &remaining) != PORTICO_OK) {
        return PORTICO_ACTION_ERROR;
    }
    if (config_.bytes_in) config_.host->core->metric_add(config_.bytes_in, static_cast<int64_t>(remaining));
    while (remaining > 0) {
        portico_view views[32];
        if (http.body_chunks(s, PORTICO_DIR_RESPONSE, views, 32, &count, nullptr) != PORTICO_OK || count == 0) {
            return PORTICO_ACTION_ERROR;
        }
        size_t batch = 0;
        for (size_t i = 0; i < count && batch < remaining; ++i) {
            size_t n = std::min(views[i].len, remaining - batch);
            if (!encode(s, reinterpret_cast<const uint8_t*>(views[i].data), n, Flush::None)) {
                return PORTICO_ACTION_ERROR;
            }
            batch += n;
        }
        if (http.body_drain(s, PORTICO_DIR_RESPONSE, batch) != PORTICO_OK) return PORTICO_ACTION_ERROR;
        remaining -= batch;
    }
    if (end_stream && !encode(s, nullptr, 0, Flush::Finish)) return PORTICO_ACTION_ERROR;
    return PORTICO_ACTION_CONTINUE;
}

}  // namespace portico::compression
