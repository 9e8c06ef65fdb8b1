// One epoll event loop per worker thread. epoll is wrapped directly, not through Poco::Net::PollSet, because
// PollSet allocates and copies a result map on every poll: a cost on each wake-up of the hot path.
// Sockets are registered once, edge-triggered; handlers keep "ready" flags and read/write until EAGAIN or until
// their bounded buffer is full, so no epoll_ctl is needed per request.
#pragma once

#include <sys/epoll.h>

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "net/timer.h"

namespace portico::net {

class IoHandler {
public:
    virtual void on_io(uint32_t events) = 0;

protected:
    ~IoHandler() = default;
};

// Objects closed during an event batch are deleted after it, so later events of the same batch never point to
// freed memory (they see the object's closed flag instead).
class Retirable {
public:
    virtual ~Retirable() = default;
};

class EventLoop {
public:
    EventLoop();
    ~EventLoop();
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;

    void add(int fd, IoHandler& handler, uint32_t events);
    void remove(int fd);

    // The queue for timers of this duration (created on first use, lives as long as the loop).
    TimerQueue& timers(std::chrono::milliseconds duration);
    void arm(Timer& timer, TimerQueue& queue) { queue.arm(timer, now_ms_); }

    // Cached monotonic time of the current iteration.
    int64_t now_ms() const { return now_ms_; }

    void retire(Retirable* object) { retired_.push_back(object); }

    // Calls handler.on_io(0) at the start of the next iteration: a handler that stopped early to let others run
    // (its sockets may still be ready, and edge-triggered epoll will not say so again) continues there.
    void schedule(IoHandler& handler) { scheduled_.push_back(&handler); }
    // A handler being destroyed takes itself off the schedule.
    void unschedule(IoHandler& handler);

    // Runs until stop(). Called on the loop's own thread.
    void run();
    void stop() { running_ = false; }

    // Thread-safe: runs `task` on the loop's thread soon.
    void post(std::function<void()> task);
    // After run() returned: runs what was posted meanwhile (on the loop's thread).
    void run_posted() { drain_posted(); }

private:
    void drain_posted();
    void free_retired();
    int next_timeout_ms() const;

    int epoll_fd_ = -1;
    int wake_fd_ = -1;
    bool running_ = false;
    int64_t now_ms_ = 0;
    std::map<int64_t, std::unique_ptr<TimerQueue>> timer_queues_;
    std::vector<Retirable*> retired_;
    std::vector<IoHandler*> scheduled_;
    std::mutex posted_mutex_;
    std::vector<std::function<void()>> posted_;
};

}  // namespace portico::net
