#include "proxy/access_log.h"

#include <Poco/Message.h>

#include <charconv>
#include <ctime>

namespace portico::proxy {

namespace {

void append_number(std::string& out, int64_t value) {
    char digits[24];
    auto result = std::to_chars(digits, digits + sizeof digits, value);
    out.append(digits, result.ptr - digits);
}

// Combined log quotes fields; escape quotes, backslashes and control bytes so a hostile header cannot forge lines.
void append_escaped(std::string& out, std::string_view text, bool json) {
    static const char kHex[] = "0123456789abcdef";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(c));
        } else if (c < 0x20 || c >= 0x7f) {
            out.append(json ? "\\u00" : "\\x");
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 15]);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
}

void append_or_dash(std::string& out, std::string_view text) {
    if (text.empty()) {
        out.push_back('-');
    } else {
        append_escaped(out, text, false);
    }
}

}  // namespace

void AccessLog::write(const AccessRecord& record) {
    if (!logger_) return;
    std::string line;
    line.reserve(256);
    if (format_ == Format::Json) {
        format_json(record, line);
    } else {
        format_combined(record, line);
    }
    logger_->log(Poco::Message(logger_->name(), line, Poco::Message::PRIO_INFORMATION));
}

void AccessLog::format_combined(const AccessRecord& record, std::string& line) {
    char when[64];
    std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    std::strftime(when, sizeof when, "[%d/%b/%Y:%H:%M:%S %z]", &local);
    line.append(record.client_ip).append(" - - ").append(when).append(" \"");
    append_escaped(line, record.method, false);
    line.push_back(' ');
    append_escaped(line, record.target, false);
    line.push_back(' ');
    line.append(record.protocol).append("\" ");
    append_number(line, record.status);
    line.push_back(' ');
    append_number(line, static_cast<int64_t>(record.bytes_sent));
    line.append(" \"");
    append_or_dash(line, record.referer);
    line.append("\" \"");
    append_or_dash(line, record.user_agent);
    line.push_back('"');
}

void AccessLog::format_json(const AccessRecord& record, std::string& line) {
    char when[64];
    std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &utc);
    auto field = [&](const char* name, std::string_view value) {
        line.append(",\"").append(name).append("\":\"");
        append_escaped(line, value, true);
        line.push_back('"');
    };
    line.append("{\"time\":\"").append(when).push_back('"');
    field("client", record.client_ip);
    field("method", record.method);
    field("path", record.target);
    field("protocol", record.protocol);
    line.append(",\"status\":");
    append_number(line, record.status);
    line.append(",\"bytes_sent\":");
    append_number(line, static_cast<int64_t>(record.bytes_sent));
    line.append(",\"duration_us\":");
    append_number(line, record.duration_us);
    field("referer", record.referer);
    field("user_agent", record.user_agent);
    field("request_id", record.request_id);
    field("upstream", record.upstream);
    line.push_back('}');
}

}  // namespace portico::proxy
