// Strict, incremental response-head parser for what upstreams send back (RFC 9112). Same conventions as
// RequestParser; an upstream response with ambiguous framing is an error (the proxy answers 502).
#pragma once

#include "http/message.h"
#include "http/request_parser.h"

namespace portico::http {

class ResponseParser {
public:
    explicit ResponseParser(const Limits& limits) : limits_(limits) {}

    // request_method decides whether the response has a body at all (HEAD never does; neither do 1xx, 204, 304).
    ParseStatus parse(const char* data, size_t len, Method request_method, ResponseHead& out);

    const ParseError& error() const { return error_; }
    void reset() { scanned_ = 0; error_ = {}; }

private:
    Limits limits_;
    size_t scanned_ = 0;
    ParseError error_;
};

}  // namespace portico::http
