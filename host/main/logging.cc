#include "main/logging.h"

#include <Poco/AsyncChannel.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/PatternFormatter.h>
#include <Poco/StreamChannel.h>

#include <iostream>
#include <string>

#include "main/bounded_log_queue.h"

namespace portico {

namespace {

Poco::AutoPtr<Poco::Channel> open_target(const std::string& path) {
    if (path == "stderr") return new Poco::StreamChannel(std::cerr);
    if (path == "stdout") return new Poco::StreamChannel(std::cout);
    Poco::AutoPtr<Poco::FileChannel> file = new Poco::FileChannel(path);
    file->open();  // fail now, with the path, rather than on the first line
    return file;
}

// Lines a log may hold back while its target is slow; past this they are dropped and counted (a few MiB).
constexpr size_t kMaxQueuedLines = 16384;

void report_dropped(const char* log, uint64_t count) {
    Poco::Logger::get("portico").warning(std::to_string(count) + " " + log +
                                         " lines dropped: the log could not keep up");
}

}  // namespace

Poco::AutoPtr<Poco::Channel> bounded_async(Poco::AutoPtr<Poco::Channel> target, LogQueueState& state,
                                           std::function<void(uint64_t)> report) {
    Poco::AutoPtr<Poco::Channel> exit = new LogQueueExit(state, target, std::move(report));
    Poco::AutoPtr<Poco::Channel> async = new Poco::AsyncChannel(exit);
    return new LogQueueEntry(state, async);
}

namespace {

Poco::AutoPtr<Poco::Channel> formatted(Poco::AutoPtr<Poco::Channel> target, const std::string& pattern) {
    Poco::AutoPtr<Poco::PatternFormatter> formatter = new Poco::PatternFormatter(pattern);
    return new Poco::FormattingChannel(formatter, target);
}

}  // namespace

Logging::Logging(const config::Server& server) {
    error_queue_ = std::make_unique<LogQueueState>(kMaxQueuedLines);
    access_queue_ = std::make_unique<LogQueueState>(kMaxQueuedLines);
    error_channel_ = bounded_async(formatted(open_target(server.error_log.path), "%Y-%m-%d %H:%M:%S.%i [%p] %t"),
                                   *error_queue_, [](uint64_t n) { report_dropped("error log", n); });
    Poco::Logger& root = Poco::Logger::root();
    root.setChannel(error_channel_);
    root.setLevel(server.error_log.level);
    Poco::Logger& portico = Poco::Logger::get("portico");
    portico.setChannel(error_channel_);
    portico.setLevel(server.error_log.level);

    Poco::Logger* access = nullptr;
    if (server.access_log.path != "off") {
        access_channel_ = bounded_async(formatted(open_target(server.access_log.path), "%t"), *access_queue_,
                                        [](uint64_t n) { report_dropped("access log", n); });
        access = &Poco::Logger::get("access");
        access->setChannel(access_channel_);
        access->setLevel(Poco::Message::PRIO_INFORMATION);
    }
    auto format = server.access_log.format == "json" ? proxy::AccessLog::Format::Json
                                                     : proxy::AccessLog::Format::Combined;
    access_log_ = std::make_unique<proxy::AccessLog>(access, format);
}

Logging::~Logging() {
    // AsyncChannel::close() writes out what is still queued before its thread ends.
    if (access_channel_) access_channel_->close();
    error_channel_->close();
}

}  // namespace portico
