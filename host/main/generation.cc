#include "main/generation.h"

#include <Poco/Logger.h>

#include <future>

namespace portico {

std::unique_ptr<Generation> Generation::start(std::shared_ptr<const config::Config> config,
                                              std::unique_ptr<plugins::PluginSet> plugins,
                                              std::vector<std::vector<int>> fds, proxy::AccessLog& access_log,
                                              const std::vector<std::shared_ptr<proxy::Handoff>>& handoffs,
                                              const Generation* previous) {
    Poco::Logger& log = Poco::Logger::get("portico");
    std::unique_ptr<Generation> g(new Generation);
    g->config_ = std::move(config);
    g->plugins_ = std::move(plugins);
    for (const auto& upstream : g->config_->upstreams) {
        auto state = std::make_unique<upstream::UpstreamState>(upstream, log);
        if (previous != nullptr) {
            for (const auto& before : previous->upstreams_) {
                if (before->name() == upstream.name) state->inherit(*before);
            }
        }
        g->upstreams_.push_back(std::move(state));
    }
    for (unsigned w = 0; w < fds.size(); ++w) {
        g->workers_.push_back(std::make_unique<proxy::Worker>(*g->config_, w, std::move(fds[w]), access_log,
                                                              g->upstreams_, g->plugins_.get()));
        g->workers_.back()->set_handoff(handoffs[w]);
    }
    std::vector<std::future<bool>> ready;
    for (auto& worker : g->workers_) {
        ready.push_back(worker->ready());
        worker->start();
    }
    bool all_ready = true;
    for (auto& worker_ready : ready) all_ready = worker_ready.get() && all_ready;
    if (!all_ready) {
        log.critical("a worker could not set up its plugins or balancers (see above)");
        g->stop_now();
        return nullptr;
    }
    for (size_t w = 0; w < g->workers_.size(); ++w) handoffs[w]->set_target(g->workers_[w].get());
    g->health_ = std::make_unique<upstream::HealthChecker>(g->upstreams_, g->plugins_.get());
    g->health_->start();
    return g;
}

Generation::~Generation() {
    if (health_) health_->stop();
    for (auto& worker : workers_) worker->stop_now();
    for (auto& worker : workers_) worker->join();
    workers_.clear();
}

void Generation::drain(bool hand_over) {
    if (health_) health_->stop();
    for (auto& worker : workers_) worker->drain(hand_over);
}

bool Generation::finished() const {
    for (const auto& worker : workers_) {
        if (!worker->finished()) return false;
    }
    return true;
}

void Generation::stop_now() {
    for (auto& worker : workers_) worker->stop_now();
}

}  // namespace portico
