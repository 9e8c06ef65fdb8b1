// Error log and access log through POCO logging. Both go through an AsyncChannel, so workers only enqueue.
#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>

#include <memory>

#include "config/config.h"
#include "proxy/access_log.h"

namespace portico {

class Logging {
public:
    // Throws Poco::Exception (e.g. a log file that cannot be opened) with the path in the message.
    explicit Logging(const config::Server& server);
    ~Logging();  // flushes what is queued

    proxy::AccessLog& access_log() { return *access_log_; }

private:
    Poco::AutoPtr<Poco::Channel> error_channel_;
    Poco::AutoPtr<Poco::Channel> access_channel_;
    std::unique_ptr<proxy::AccessLog> access_log_;
};

}  // namespace portico
