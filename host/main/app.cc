#include "main/app.h"

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <thread>

#include "build_info.h"
#include "main/logging.h"
#include "net/socket.h"
#include "plugins/loaded_plugin.h"
#include "plugins/plugin_set.h"
#include "proxy/worker.h"
#include "upstream/health_checker.h"
#include "upstream/upstream_state.h"

namespace portico {

using Poco::Util::Option;

namespace {

unsigned resolved_workers(const config::Config& config) {
    unsigned workers = config.server.workers;
    return workers != 0 ? workers : std::max(1u, std::thread::hardware_concurrency());
}

// Loads the configured plugins and makes every route filter's config; prints each problem on its own line.
bool start_plugins(const config::Config& config, unsigned workers, plugins::PluginSet& plugin_set) {
    std::vector<std::string> errors;
    if (plugin_set.load(config.server.plugin_dirs, config.server.plugin_dirs_default, errors)) {
        plugin_set.configure(config, workers, errors);
    }
    for (const std::string& error : errors) std::cerr << error << "\n";
    return errors.empty();
}

// "compression (filter), p2c (balancer)"
std::string factories_text(const plugins::PluginListing& plugin) {
    std::string text;
    for (const auto& [name, kind] : plugin.factories) {
        text += (text.empty() ? "" : ", ") + name + " (" + plugins::kind_name(kind) + ")";
    }
    return text.empty() ? "-" : text;
}

// One aligned row per plugin that could be loaded; refusals and init failures on stderr, as at startup.
int list_plugins(const config::Config& config) {
    plugins::PluginSet plugin_set;
    std::vector<std::string> errors;
    plugin_set.load(config.server.plugin_dirs, config.server.plugin_dirs_default, errors);
    std::vector<plugins::PluginListing> listing = plugin_set.listing();
    if (listing.empty()) {
        std::string dirs;
        for (const std::string& dir : config.server.plugin_dirs) dirs += (dirs.empty() ? "" : ", ") + dir;
        std::cout << "no plugins in " << (dirs.empty() ? "(no plugin_dirs)" : dirs) << "\n";
    } else {
        std::vector<std::vector<std::string>> rows = {{"NAME", "VERSION", "ABI", "FACTORIES", "FILE"}};
        for (const auto& plugin : listing) {
            rows.push_back({plugin.name, plugin.version.empty() ? "-" : plugin.version,
                            std::to_string(plugin.abi_major) + "." + std::to_string(plugin.abi_minor),
                            factories_text(plugin), plugin.file});
        }
        std::vector<size_t> widths(rows[0].size(), 0);
        for (const auto& row : rows) {
            for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
        }
        for (const auto& row : rows) {
            std::string line;
            for (size_t c = 0; c < row.size(); ++c) {
                line += row[c];
                if (c + 1 < row.size()) line += std::string(widths[c] - row[c].size() + 2, ' ');
            }
            std::cout << line << "\n";
        }
    }
    for (const std::string& error : errors) std::cerr << error << "\n";
    return errors.empty() ? Poco::Util::Application::EXIT_OK : 1;
}

}  // namespace

App::App() { setUnixOptions(true); }

void App::defineOptions(Poco::Util::OptionSet& options) {
    ServerApplication::defineOptions(options);
    options.addOption(Option("config", "c", "main configuration file, or a directory of *.toml fragments")
                          .required(false)
                          .repeatable(false)
                          .argument("PATH"));
    options.addOption(Option("check", "t", "check the configuration, print problems, and exit"));
    options.addOption(Option("list-plugins", "", "list the plugins found in the configured plugin_dirs and exit"));
    options.addOption(Option("version", "v", "print the version and exit"));
    options.addOption(Option("help", "h", "show this help and exit"));
}

void App::handleOption(const std::string& name, const std::string& value) {
    ServerApplication::handleOption(name, value);
    if (name == "config") config_path_ = value;
    if (name == "check") check_only_ = true;
    // Kept in the application's configuration rather than a member: app.h stays as it is.
    if (name == "list-plugins") config().setBool("portico.list-plugins", true);
    if (name == "version") show_version_ = true;
    if (name == "help") show_help_ = true;
    if (show_help_ || show_version_) stopOptionsProcessing();
}

int App::main(const std::vector<std::string>&) {
    if (show_help_) {
        Poco::Util::HelpFormatter help(options());
        help.setCommand(commandName());
        help.setUsage("[-t | --list-plugins] [-c PATH]");
        help.setHeader("Portico, a reverse proxy. Default configuration: " PORTICO_DEFAULT_CONFIG);
        help.format(std::cout);
        return EXIT_OK;
    }
    if (show_version_) {
        std::cout << "portico " PORTICO_VERSION "\n";
        return EXIT_OK;
    }
    std::string path = config_path_.empty() ? PORTICO_DEFAULT_CONFIG : config_path_;
    config::LoadResult loaded = config::load(path);
    if (!loaded.problems.empty()) {
        for (const auto& problem : loaded.problems) std::cerr << problem.to_string() << "\n";
        return 1;
    }
    if (config().getBool("portico.list-plugins", false)) return list_plugins(*loaded.config);
    if (check_only_) {
        // Plugins check their own configuration (config_new has no side effects), so -t runs them too.
        plugins::PluginSet plugin_set;
        if (!start_plugins(*loaded.config, resolved_workers(*loaded.config), plugin_set)) return 1;
        std::cout << "configuration ok\n";
        return EXIT_OK;
    }
    return serve(*loaded.config);
}

namespace {

// Listening sockets for every worker: result[w][l] is worker w's socket for listener l. A port of 0 is resolved
// by the first bind and reused for the other workers, so they share it through SO_REUSEPORT.
std::vector<std::vector<int>> open_listeners(const config::Config& config, unsigned workers,
                                             std::vector<Poco::Net::SocketAddress>& bound) {
    std::vector<std::vector<int>> fds(workers);
    try {
        for (const auto& listener : config.listeners) {
            Poco::Net::SocketAddress address = listener.address;
            for (unsigned w = 0; w < workers; ++w) {
                int fd = net::listen_reuseport(address, listener.backlog);
                fds[w].push_back(fd);
                if (w == 0) address = net::local_address(fd);
            }
            bound.push_back(address);
        }
    } catch (...) {
        for (auto& list : fds) {
            for (int fd : list) ::close(fd);
        }
        throw;
    }
    return fds;
}

sigset_t control_signals() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGQUIT);
    sigaddset(&set, SIGHUP);
    return set;
}

}  // namespace

int App::serve(const config::Config& config) {
    std::unique_ptr<Logging> logging;
    try {
        logging = std::make_unique<Logging>(config.server);
    } catch (const Poco::Exception& error) {
        std::cerr << "portico: cannot open log: " << error.displayText() << "\n";
        return 1;
    }
    Poco::Logger& log = Poco::Logger::get("portico");

    // Signals are taken by sigwait() on this thread only; workers inherit the blocked mask.
    signal(SIGPIPE, SIG_IGN);
    sigset_t signals = control_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // Before any socket opens: a plugin problem stops startup as a configuration problem does. After the logs,
    // so that what plugins log while starting is written where the configuration says.
    unsigned workers = resolved_workers(config);
    plugins::PluginSet plugin_set;  // outlives the workers (declared before them)
    if (!start_plugins(config, workers, plugin_set)) return 1;

    std::vector<Poco::Net::SocketAddress> bound;
    std::vector<std::vector<int>> fds;
    try {
        fds = open_listeners(config, workers, bound);
    } catch (const std::exception& error) {
        log.critical(std::string("cannot start: ") + error.what());
        return 1;
    }

    // What every worker and the health checker share about the endpoints; outlives both (declared before them).
    upstream::UpstreamStates upstreams;
    for (const auto& upstream : config.upstreams) {
        upstreams.push_back(std::make_unique<upstream::UpstreamState>(upstream, log));
    }
    std::vector<std::unique_ptr<proxy::Worker>> pool;
    for (unsigned w = 0; w < workers; ++w) {
        pool.push_back(
            std::make_unique<proxy::Worker>(config, w, fds[w], logging->access_log(), upstreams, &plugin_set));
    }
    std::vector<std::future<bool>> ready;
    for (auto& worker : pool) {
        ready.push_back(worker->ready());
        worker->start();
    }
    bool all_ready = true;
    for (auto& worker_ready : ready) all_ready = worker_ready.get() && all_ready;
    if (!all_ready) {
        log.critical("cannot start: a worker could not set up its plugins (see above)");
        for (auto& worker : pool) worker->stop_now();
        for (auto& worker : pool) worker->join();
        return 1;
    }
    for (size_t l = 0; l < config.listeners.size(); ++l) {
        log.information("listener " + config.listeners[l].name + " listening on " + bound[l].toString());
    }
    upstream::HealthChecker health_checker(upstreams);
    health_checker.start();
    log.information("portico " PORTICO_VERSION " started with " + std::to_string(workers) + " workers");

    for (;;) {
        int signal_number = 0;
        sigwait(&signals, &signal_number);
        if (signal_number == SIGHUP) {
            log.warning("SIGHUP: configuration reload is not implemented yet; still running the old configuration");
            continue;
        }
        break;
    }

    auto drain_timeout = config.server.drain_timeout;
    log.information("stopping: finishing in-flight requests (up to " + std::to_string(drain_timeout.count()) +
                    " ms)");
    for (auto& worker : pool) worker->drain();
    auto deadline = std::chrono::steady_clock::now() + drain_timeout;
    auto all_finished = [&] {
        for (auto& worker : pool) {
            if (!worker->finished()) return false;
        }
        return true;
    };
    while (!all_finished() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // main thread only, not the request path
    }
    if (!all_finished()) {
        log.warning("drain timeout: closing the remaining connections");
        for (auto& worker : pool) worker->stop_now();
    }
    for (auto& worker : pool) worker->join();
    pool.clear();
    health_checker.stop();
    log.information("stopped");
    return EXIT_OK;
}

}  // namespace portico
