// hello: the smallest useful Portico filter, written the way a third party would write one (docs/plugin-guide.md
// walks through it). It adds `X-Hello: <greeting>` to every response and counts the requests it saw in the metric
// hello_requests, showing the running count in `X-Hello-Count` so that a test can see the counter move.
//
//   [[route]]
//   filters = [ { use = "hello", greeting = "hi there" } ]     # greeting is optional, default "hello"
#include <portico/sdk.hpp>

#include <charconv>
#include <string>

namespace {

class Hello {
public:
    static constexpr char name[] = "hello";  // the factory: what `use = "hello"` names

    // One per `use` in the configuration, built on the main thread, then shared read-only by every worker.
    struct Settings {
        explicit Settings(portico::Config& config)
            : greeting(config.string("greeting").value_or("hello")),
              requests(config.host().metric("requests", PORTICO_METRIC_COUNTER)) {
            if (greeting.find_first_of("\r\n", 0) != std::string::npos || greeting.find('\0') != std::string::npos)
                config.error("greeting", "greeting: must not contain CR, LF or NUL");
        }
        std::string greeting;      // copied: the config's views do not outlive config_new
        portico::Metric requests;  // hello_requests; updated atomically from every worker
    };

    Hello(const Settings& settings, portico::Stream&) : settings_(settings) {}

    portico_action on_request_headers(portico::Stream&, bool) {
        settings_.requests.add(1);
        return PORTICO_ACTION_CONTINUE;
    }

    portico_action on_response_headers(portico::Stream& stream, bool) {
        portico::Headers headers = stream.response_headers();
        if (headers.set("X-Hello", settings_.greeting) != PORTICO_OK) return PORTICO_ACTION_ERROR;
        char count[24];  // formatted on the stack: no allocation per response
        auto [end, ec] = std::to_chars(count, count + sizeof count, settings_.requests.get());
        if (ec != std::errc()) return PORTICO_ACTION_ERROR;
        headers.set("X-Hello-Count", std::string_view(count, static_cast<size_t>(end - count)));
        return PORTICO_ACTION_CONTINUE;
    }

private:
    const Settings& settings_;
};

}  // namespace

PORTICO_SDK_PLUGIN("hello", "1.0.0", "Adds X-Hello to responses and counts requests",
                   &portico::http_filter_factory<Hello>);
