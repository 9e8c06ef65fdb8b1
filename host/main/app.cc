#include "main/app.h"

#include <Poco/Util/HelpFormatter.h>
#include <Poco/Util/Option.h>
#include <Poco/Util/OptionSet.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <chrono>
#include <iostream>
#include <thread>

#include "build_info.h"
#include "main/logging.h"
#include "net/socket.h"
#include "plugins/loaded_plugin.h"
#include "plugins/plugin_set.h"
#include "main/generation.h"

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
    return serve(loaded.config, path);
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

namespace {

// Waits for one of `signals` up to timeout_ms (-1: forever); 0 when the time ran out.
int wait_signal(const sigset_t& signals, int timeout_ms) {
    if (timeout_ms < 0) {
        int number = 0;
        sigwait(&signals, &number);
        return number;
    }
    timespec timeout{timeout_ms / 1000, (timeout_ms % 1000) * 1'000'000L};
    int number = sigtimedwait(&signals, nullptr, &timeout);
    return number < 0 ? 0 : number;
}

// Each generation gets its own copies of the listening sockets (dup: the same sockets), so that the old one can
// close its copies while draining and no queued connection is lost.
std::vector<std::vector<int>> copy_sockets(const std::vector<std::vector<int>>& fds) {
    std::vector<std::vector<int>> copies(fds.size());
    for (size_t w = 0; w < fds.size(); ++w) {
        for (int fd : fds[w]) {
            int copy = ::dup(fd);
            if (copy < 0) {
                for (auto& list : copies) {
                    for (int c : list) ::close(c);
                }
                throw std::runtime_error(std::string("cannot copy a listening socket: ") + strerror(errno));
            }
            copies[w].push_back(copy);
        }
    }
    return copies;
}

bool same_listeners(const config::Config& a, const config::Config& b) {
    if (a.listeners.size() != b.listeners.size()) return false;
    for (size_t i = 0; i < a.listeners.size(); ++i) {
        const auto& x = a.listeners[i];
        const auto& y = b.listeners[i];
        if (x.name != y.name || x.address != y.address || x.backlog != y.backlog) return false;
    }
    return true;
}

// A generation being drained after a reload, and when it must be done.
struct Draining {
    std::unique_ptr<Generation> generation;
    std::chrono::steady_clock::time_point deadline;
};

}  // namespace

int App::serve(std::shared_ptr<const config::Config> first, const std::string& path) {
    const config::Config& config = *first;
    std::unique_ptr<Logging> logging;
    try {
        logging = std::make_unique<Logging>(config.server);
    } catch (const Poco::Exception& error) {
        std::cerr << "portico: cannot open log: " << error.displayText() << "\n";
        return 1;
    }
    Poco::Logger& log = Poco::Logger::get("portico");

    // Signals are taken by sigtimedwait() on this thread only; workers inherit the blocked mask.
    signal(SIGPIPE, SIG_IGN);
    sigset_t signals = control_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // Before any socket opens: a plugin problem stops startup as a configuration problem does. After the logs,
    // so that what plugins log while starting is written where the configuration says.
    unsigned workers = resolved_workers(config);
    auto plugin_set = std::make_unique<plugins::PluginSet>();
    if (!start_plugins(config, workers, *plugin_set)) return 1;

    std::vector<Poco::Net::SocketAddress> bound;
    std::vector<std::vector<int>> fds;  // the originals, kept here; every generation works on copies
    std::unique_ptr<Generation> current;
    // Worker w of each generation hands its connections to worker w of the next (a reload closes none).
    std::vector<std::shared_ptr<proxy::Handoff>> handoffs;
    for (unsigned w = 0; w < workers; ++w) handoffs.push_back(std::make_shared<proxy::Handoff>());
    try {
        fds = open_listeners(config, workers, bound);
        current = Generation::start(first, std::move(plugin_set), copy_sockets(fds), logging->access_log(), handoffs,
                                    nullptr);
    } catch (const std::exception& error) {
        log.critical(std::string("cannot start: ") + error.what());
        return 1;
    }
    auto close_originals = [&] {
        for (auto& list : fds) {
            for (int fd : list) ::close(fd);
        }
        fds.clear();
    };
    if (!current) {
        log.critical("cannot start: a worker could not set up its plugins (see above)");
        close_originals();
        return 1;
    }
    for (size_t l = 0; l < config.listeners.size(); ++l) {
        log.information("listener " + config.listeners[l].name + " listening on " + bound[l].toString());
    }
    log.information("portico " PORTICO_VERSION " started with " + std::to_string(workers) + " workers");

    std::vector<Draining> draining;
    auto reload = [&] {
        log.information("SIGHUP: reloading the configuration from " + path);
        config::LoadResult loaded = config::load(path);
        auto fail = [&](const std::string& why) {
            log.error("reload failed: " + why + "; still running the previous configuration");
        };
        if (!loaded.problems.empty()) {
            for (const auto& problem : loaded.problems) log.error(problem.to_string());
            fail(std::to_string(loaded.problems.size()) + " problem(s) in the configuration");
            return;
        }
        const config::Config& next = *loaded.config;
        const config::Config& now = current->config();
        // Sockets and threads stay: changing them needs a restart.
        if (!same_listeners(now, next) || resolved_workers(next) != workers) {
            fail("listeners or the number of workers changed, which needs a restart");
            return;
        }
        if (next.server.plugin_dirs != now.server.plugin_dirs) {
            log.warning("reload: server.plugin_dirs changed; plugins are loaded at start only (restart to apply)");
        }
        if (next.server.error_log.path != now.server.error_log.path ||
            next.server.error_log.level != now.server.error_log.level ||
            next.server.access_log.path != now.server.access_log.path ||
            next.server.access_log.format != now.server.access_log.format) {
            log.warning("reload: log settings changed; they take effect at restart");
        }
        auto plugins = std::make_unique<plugins::PluginSet>();
        plugins->share_plugins(current->plugins());
        std::vector<std::string> errors;
        if (!plugins->configure(next, workers, errors)) {
            for (const std::string& error : errors) log.error(error);
            fail("plugin configuration failed");
            return;
        }
        std::unique_ptr<Generation> started;
        try {
            started = Generation::start(loaded.config, std::move(plugins), copy_sockets(fds), logging->access_log(),
                                        handoffs, current.get());
        } catch (const std::exception& error) {
            fail(error.what());
            return;
        }
        if (!started) {
            fail("the new workers could not start");
            return;
        }
        current->drain(true);
        draining.push_back({std::move(current), std::chrono::steady_clock::now() + next.server.drain_timeout});
        current = std::move(started);
        log.information("configuration reloaded: new requests use it; " + std::to_string(draining.size()) +
                        " previous generation(s) finishing their requests");
    };
    // Old generations leave when their requests are done, or at their drain deadline.
    auto reap = [&] {
        for (auto& old : draining) {
            if (!old.generation->finished() && std::chrono::steady_clock::now() >= old.deadline) {
                log.warning("reload: drain timeout; closing the previous configuration's remaining connections");
                old.generation->stop_now();
                old.deadline = std::chrono::steady_clock::time_point::max();
            }
        }
        // Oldest first: joins its threads and frees its plugins' configs.
        while (!draining.empty() && draining.front().generation->finished()) draining.erase(draining.begin());
    };

    for (;;) {
        int signal_number = wait_signal(signals, draining.empty() ? -1 : 100);
        reap();
        if (signal_number == 0) continue;
        if (signal_number == SIGHUP) {
            reload();
            continue;
        }
        break;
    }

    auto drain_timeout = current->config().server.drain_timeout;
    log.information("stopping: finishing in-flight requests (up to " + std::to_string(drain_timeout.count()) +
                    " ms)");
    close_originals();
    for (auto& handoff : handoffs) handoff->set_target(nullptr);  // leaving: nothing is handed over any more
    current->drain(false);
    for (auto& old : draining) old.generation->drain(false);
    auto deadline = std::chrono::steady_clock::now() + drain_timeout;
    auto all_finished = [&] {
        if (!current->finished()) return false;
        for (auto& old : draining) {
            if (!old.generation->finished()) return false;
        }
        return true;
    };
    while (!all_finished() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));  // main thread only, not the request path
    }
    if (!all_finished()) {
        log.warning("drain timeout: closing the remaining connections");
        current->stop_now();
        for (auto& old : draining) old.generation->stop_now();
    }
    draining.clear();
    current.reset();
    log.information("stopped");
    return EXIT_OK;
}

}  // namespace portico
