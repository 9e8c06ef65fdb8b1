// Timeouts without allocation or sorting: every timer in one TimerQueue has the same duration, so appending at
// the tail keeps the queue ordered by deadline and re-arming is an O(1) unlink + append (the scheme h2o uses).
// The event loop keeps one queue per distinct duration; a config has only a handful of them.
#pragma once

#include <chrono>
#include <cstdint>

namespace portico::net {

class Timer;

class TimerClient {
public:
    virtual void on_timeout(Timer& timer) = 0;

protected:
    ~TimerClient() = default;
};

class Timer {
public:
    explicit Timer(TimerClient& client) : client_(&client) {}
    ~Timer() { cancel(); }
    Timer(const Timer&) = delete;
    Timer& operator=(const Timer&) = delete;

    bool armed() const { return queue_ != nullptr; }
    void cancel();
    int64_t deadline_ms() const { return deadline_ms_; }

private:
    friend class TimerQueue;
    TimerClient* client_;
    class TimerQueue* queue_ = nullptr;
    Timer* prev_ = nullptr;
    Timer* next_ = nullptr;
    int64_t deadline_ms_ = 0;
};

class TimerQueue {
public:
    explicit TimerQueue(int64_t duration_ms) : duration_ms_(duration_ms) {}
    ~TimerQueue();

    // (Re)arms `timer` to fire duration_ms after now_ms.
    void arm(Timer& timer, int64_t now_ms);
    // Fires every timer whose deadline has passed; returns how many fired.
    unsigned expire(int64_t now_ms);
    // Earliest deadline, or -1 when empty.
    int64_t next_deadline() const { return head_ ? head_->deadline_ms_ : -1; }
    int64_t duration_ms() const { return duration_ms_; }

private:
    friend class Timer;
    void unlink(Timer& timer);

    int64_t duration_ms_;
    Timer* head_ = nullptr;
    Timer* tail_ = nullptr;
};

inline int64_t monotonic_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace portico::net
