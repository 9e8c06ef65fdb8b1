#include "net/timer.h"

namespace portico::net {

void Timer::cancel() {
    if (queue_) queue_->unlink(*this);
}

TimerQueue::~TimerQueue() {
    while (head_) unlink(*head_);
}

void TimerQueue::arm(Timer& timer, int64_t now_ms) {
    timer.cancel();
    timer.queue_ = this;
    timer.deadline_ms_ = now_ms + duration_ms_;
    timer.prev_ = tail_;
    timer.next_ = nullptr;
    if (tail_) {
        tail_->next_ = &timer;
    } else {
        head_ = &timer;
    }
    tail_ = &timer;
}

void TimerQueue::unlink(Timer& timer) {
    if (timer.prev_) {
        timer.prev_->next_ = timer.next_;
    } else {
        head_ = timer.next_;
    }
    if (timer.next_) {
        timer.next_->prev_ = timer.prev_;
    } else {
        tail_ = timer.prev_;
    }
    timer.prev_ = timer.next_ = nullptr;
    timer.queue_ = nullptr;
}

unsigned TimerQueue::expire(int64_t now_ms) {
    unsigned fired = 0;
    while (head_ && head_->deadline_ms_ <= now_ms) {
        Timer& timer = *head_;
        unlink(timer);
        ++fired;
        timer.client_->on_timeout(timer);  // may re-arm or destroy the timer's owner
    }
    return fired;
}

}  // namespace portico::net
