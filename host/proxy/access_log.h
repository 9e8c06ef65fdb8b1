// The access log: one line per request, "combined" (as nginx and Apache) or JSON, handed to a Poco::Logger whose
// channel is an AsyncChannel, so a worker only formats and enqueues and never waits on the disk or a pipe.
#pragma once

#include <Poco/Logger.h>

#include <string>
#include <string_view>

namespace portico::proxy {

struct AccessRecord {
    std::string_view client_ip;
    std::string_view method;
    std::string_view target;
    std::string_view protocol;  // "HTTP/1.1"
    int status = 0;
    uint64_t bytes_sent = 0;    // body bytes sent to the client
    std::string_view referer;
    std::string_view user_agent;
    std::string_view request_id;
    std::string_view upstream;  // upstream name ("" when the proxy answered itself)
    int64_t duration_us = 0;
};

class AccessLog {
public:
    enum class Format { Combined, Json };

    // logger null: the access log is off.
    AccessLog(Poco::Logger* logger, Format format) : logger_(logger), format_(format) {}

    bool enabled() const { return logger_ != nullptr; }
    void write(const AccessRecord& record);

private:
    void format_combined(const AccessRecord& record, std::string& line);
    void format_json(const AccessRecord& record, std::string& line);

    Poco::Logger* logger_;
    Format format_;
};

}  // namespace portico::proxy
