#include "net/event_loop.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace portico::net {

namespace {
// Marks the eventfd in epoll_event.data; handlers are never at this address.
IoHandler* const kWakeTag = nullptr;
constexpr int kMaxEvents = 256;
}  // namespace

EventLoop::EventLoop() {
    epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0) throw std::runtime_error(std::string("epoll/eventfd: ") + strerror(errno));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = kWakeTag;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    now_ms_ = monotonic_ms();
}

EventLoop::~EventLoop() {
    free_retired();
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

void EventLoop::add(int fd, IoHandler& handler, uint32_t events) {
    epoll_event ev{};
    ev.events = events;
    ev.data.ptr = &handler;
    if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        throw std::runtime_error(std::string("epoll_ctl add: ") + strerror(errno));
    }
}

void EventLoop::remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

TimerQueue& EventLoop::timers(std::chrono::milliseconds duration) {
    auto& queue = timer_queues_[duration.count()];
    if (!queue) queue = std::make_unique<TimerQueue>(duration.count());
    return *queue;
}

int EventLoop::next_timeout_ms() const {
    int64_t earliest = -1;
    for (const auto& [duration, queue] : timer_queues_) {
        int64_t deadline = queue->next_deadline();
        if (deadline >= 0 && (earliest < 0 || deadline < earliest)) earliest = deadline;
    }
    if (!scheduled_.empty()) return 0;
    if (earliest < 0) return -1;
    int64_t wait = earliest - monotonic_ms();
    return wait <= 0 ? 0 : static_cast<int>(wait + 1);  // +1: never wake a hair before the deadline
}

void EventLoop::run() {
    running_ = true;
    epoll_event events[kMaxEvents];
    while (running_) {
        int n = epoll_wait(epoll_fd_, events, kMaxEvents, next_timeout_ms());
        now_ms_ = monotonic_ms();
        if (!scheduled_.empty()) {
            std::vector<IoHandler*> batch;
            batch.swap(scheduled_);
            for (IoHandler* handler : batch) {
                if (handler) handler->on_io(0);
            }
        }
        if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("epoll_wait: ") + strerror(errno));
        for (int i = 0; i < n; ++i) {
            auto* handler = static_cast<IoHandler*>(events[i].data.ptr);
            if (handler == kWakeTag) {
                drain_posted();
            } else {
                handler->on_io(events[i].events);
            }
        }
        for (auto& [duration, queue] : timer_queues_) queue->expire(now_ms_);
        free_retired();
    }
}

void EventLoop::unschedule(IoHandler& handler) {
    for (auto& entry : scheduled_) {
        if (entry == &handler) entry = nullptr;
    }
}

void EventLoop::post(std::function<void()> task) {
    {
        std::lock_guard<std::mutex> lock(posted_mutex_);
        posted_.push_back(std::move(task));
    }
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::drain_posted() {
    uint64_t count;
    [[maybe_unused]] ssize_t n = ::read(wake_fd_, &count, sizeof count);
    std::vector<std::function<void()>> tasks;
    {
        std::lock_guard<std::mutex> lock(posted_mutex_);
        tasks.swap(posted_);
    }
    for (auto& task : tasks) task();
}

void EventLoop::free_retired() {
    // Deleting may retire more objects (an owner releasing its parts), so loop until none is left.
    while (!retired_.empty()) {
        std::vector<Retirable*> batch;
        batch.swap(retired_);
        for (Retirable* object : batch) delete object;
    }
}

}  // namespace portico::net
