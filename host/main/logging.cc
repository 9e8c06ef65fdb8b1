#include "main/logging.h"

#include <Poco/AsyncChannel.h>
#include <Poco/ConsoleChannel.h>
#include <Poco/FileChannel.h>
#include <Poco/FormattingChannel.h>
#include <Poco/PatternFormatter.h>
#include <Poco/StreamChannel.h>

#include <iostream>

namespace portico {

namespace {

Poco::AutoPtr<Poco::Channel> open_target(const std::string& path) {
    if (path == "stderr") return new Poco::StreamChannel(std::cerr);
    if (path == "stdout") return new Poco::StreamChannel(std::cout);
    Poco::AutoPtr<Poco::FileChannel> file = new Poco::FileChannel(path);
    file->open();  // fail now, with the path, rather than on the first line
    return file;
}

Poco::AutoPtr<Poco::Channel> async(Poco::AutoPtr<Poco::Channel> target, const std::string& pattern) {
    Poco::AutoPtr<Poco::PatternFormatter> formatter = new Poco::PatternFormatter(pattern);
    Poco::AutoPtr<Poco::FormattingChannel> formatting = new Poco::FormattingChannel(formatter, target);
    return new Poco::AsyncChannel(formatting);
}

}  // namespace

Logging::Logging(const config::Server& server) {
    error_channel_ = async(open_target(server.error_log.path), "%Y-%m-%d %H:%M:%S.%i [%p] %t");
    Poco::Logger& root = Poco::Logger::root();
    root.setChannel(error_channel_);
    root.setLevel(server.error_log.level);
    Poco::Logger& portico = Poco::Logger::get("portico");
    portico.setChannel(error_channel_);
    portico.setLevel(server.error_log.level);

    Poco::Logger* access = nullptr;
    if (server.access_log.path != "off") {
        access_channel_ = async(open_target(server.access_log.path), "%t");
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
