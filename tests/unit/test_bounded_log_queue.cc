#include <doctest/doctest.h>

#include <Poco/AsyncChannel.h>

#include <condition_variable>
#include <mutex>

#include "main/bounded_log_queue.h"

using namespace portico;

namespace {
// A log target that blocks until released: a stalled disk.
class StalledTarget final : public Poco::Channel {
public:
    void log(const Poco::Message&) override {
        std::unique_lock<std::mutex> lock(mutex);
        released.wait(lock, [&] { return open_; });
        ++written;
    }
    void unblock() {
        std::lock_guard<std::mutex> lock(mutex);
        open_ = true;
        released.notify_all();
    }
    std::mutex mutex;
    std::condition_variable released;
    bool open_ = false;
    int written = 0;
};
}  // namespace

TEST_CASE("a stalled log target drops lines past the limit instead of growing, and reports the count") {
    LogQueueState state(100);
    Poco::AutoPtr<StalledTarget> target = new StalledTarget;
    uint64_t reported = 0;
    Poco::AutoPtr<Poco::Channel> channel = bounded_async(target, state, [&](uint64_t n) { reported += n; });
    channel->open();
    for (int i = 0; i < 1000; ++i) channel->log(Poco::Message("test", "line", Poco::Message::PRIO_INFORMATION));
    CHECK(state.pending.load() <= 100);
    CHECK(state.dropped.load() >= 900 - 1);  // the async thread may have taken one line before stalling
    target->unblock();
    channel->close();  // writes out what was queued
    CHECK(target->written <= 101);
    CHECK(reported + static_cast<uint64_t>(target->written) == 1000);
    CHECK(state.pending.load() == 0);
}
