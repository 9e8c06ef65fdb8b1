// A limit on the lines waiting in a Poco::AsyncChannel. POCO's queue has none, so a log target slower than the
// traffic (a stalled disk, a pipe nobody reads) would grow the proxy's memory without bound. Here the worker
// never waits either: past the limit a line is dropped and counted, and the count is reported in the error log
// once lines flow again.
#pragma once

#include <Poco/AutoPtr.h>
#include <Poco/Channel.h>
#include <Poco/Message.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace portico {

struct LogQueueState {
    explicit LogQueueState(size_t max_lines) : limit(max_lines) {}
    const size_t limit;
    std::atomic<size_t> pending{0};
    std::atomic<uint64_t> dropped{0};
};

// In front of the AsyncChannel, on the logging thread (a worker): admits a line or drops it.
class LogQueueEntry final : public Poco::Channel {
public:
    LogQueueEntry(LogQueueState& state, Poco::AutoPtr<Poco::Channel> next)
        : state_(state), next_(std::move(next)) {}
    void log(const Poco::Message& message) override {
        if (state_.pending.fetch_add(1, std::memory_order_relaxed) >= state_.limit) {
            state_.pending.fetch_sub(1, std::memory_order_relaxed);
            state_.dropped.fetch_add(1, std::memory_order_relaxed);
            return;
        }
        next_->log(message);
    }
    void open() override { next_->open(); }
    void close() override { next_->close(); }

private:
    LogQueueState& state_;
    Poco::AutoPtr<Poco::Channel> next_;
};

// Behind the AsyncChannel, on its thread: a line left the queue; reports drops through `report`.
class LogQueueExit final : public Poco::Channel {
public:
    LogQueueExit(LogQueueState& state, Poco::AutoPtr<Poco::Channel> next, std::function<void(uint64_t)> report)
        : state_(state), next_(std::move(next)), report_(std::move(report)) {}
    void log(const Poco::Message& message) override {
        next_->log(message);
        state_.pending.fetch_sub(1, std::memory_order_relaxed);
        uint64_t dropped = state_.dropped.exchange(0, std::memory_order_relaxed);
        if (dropped != 0 && report_) report_(dropped);
    }
    void open() override { next_->open(); }
    void close() override { next_->close(); }

private:
    LogQueueState& state_;
    Poco::AutoPtr<Poco::Channel> next_;
    std::function<void(uint64_t)> report_;
};

// entry -> AsyncChannel -> exit -> target. `state` must outlive the channels.
Poco::AutoPtr<Poco::Channel> bounded_async(Poco::AutoPtr<Poco::Channel> target, LogQueueState& state,
                                           std::function<void(uint64_t)> report);

}  // namespace portico
