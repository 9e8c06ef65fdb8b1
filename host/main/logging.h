// Error log and access log through POCO logging. Both go through an AsyncChannel with a bounded queue
// (bounded_log_queue.h), so workers only enqueue, and a slow target costs dropped lines, not memory.
#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Logger.h>

#include <memory>

#include "config/config.h"
#include "main/bounded_log_queue.h"
#include "proxy/access_log.h"

namespace portico {

class Logging {
public:
    // Throws Poco::Exception (e.g. a log file that cannot be opened) with the path in the message.
    explicit Logging(const config::Server& server);
    ~Logging();  // flushes what is queued

    proxy::AccessLog& access_log() { return *access_log_; }

private:
    std::unique_ptr<LogQueueState> error_queue_;   // declared before the channels: they refer to it
    std::unique_ptr<LogQueueState> access_queue_;
    Poco::AutoPtr<Poco::Channel> error_channel_;
    Poco::AutoPtr<Poco::Channel> access_channel_;
    std::unique_ptr<proxy::AccessLog> access_log_;
};

}  // namespace portico
