// The `portico` application shell: options, configuration, logging, workers, signals.
#pragma once

#include <Poco/Util/ServerApplication.h>

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"

namespace portico {

class App : public Poco::Util::ServerApplication {
public:
    App();

protected:
    void defineOptions(Poco::Util::OptionSet& options) override;
    void handleOption(const std::string& name, const std::string& value) override;
    int main(const std::vector<std::string>& args) override;

private:
    int serve(std::shared_ptr<const config::Config> config, const std::string& path);

    std::string config_path_;
    bool check_only_ = false;
    bool show_version_ = false;
    bool show_help_ = false;
};

}  // namespace portico
