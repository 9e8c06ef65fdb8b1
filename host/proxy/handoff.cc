#include "proxy/handoff.h"

#include "proxy/worker.h"

namespace portico::proxy {

void Handoff::set_target(Worker* worker) {
    std::lock_guard<std::mutex> lock(mutex_);
    target_ = worker;
}

bool Handoff::pass(HandedOver& connection) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (target_ == nullptr) return false;
    target_->adopt(std::move(connection));
    return true;
}

void Handoff::retire(Worker* worker) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (target_ == worker) target_ = nullptr;
}

}  // namespace portico::proxy
