#include "proxy/hash_key.h"

namespace portico::proxy {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

bool find_cookie(std::string_view cookies, std::string_view name, std::string_view& value) {
    // RFC 6265 5.4: cookie-pairs separated by "; " (tolerating other whitespace around them).
    while (!cookies.empty()) {
        size_t end = cookies.find(';');
        std::string_view pair = trim(cookies.substr(0, end));
        cookies = end == std::string_view::npos ? std::string_view() : cookies.substr(end + 1);
        size_t equals = pair.find('=');
        if (equals == std::string_view::npos || trim(pair.substr(0, equals)) != name) continue;
        value = trim(pair.substr(equals + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
        return true;
    }
    return false;
}

void compute_hash_key(const config::HashKey& key, const http::RequestHead& request, std::string_view client_ip,
                      std::string& out) {
    out.clear();
    switch (key.source) {
        case config::HashKey::Source::None:
            return;
        case config::HashKey::Source::ClientIp:
            out.assign(client_ip);
            return;
        case config::HashKey::Source::Header:
            for (const http::Header& header : request.headers) {
                if (http::equals_ignore_case(header.name, key.name)) {
                    out.assign(header.value);
                    return;
                }
            }
            return;
        case config::HashKey::Source::Cookie:
            for (const http::Header& header : request.headers) {
                std::string_view value;
                if (http::equals_ignore_case(header.name, "cookie") && find_cookie(header.value, key.name, value)) {
                    out.assign(value);
                    return;
                }
            }
            return;
    }
}

}  // namespace portico::proxy
