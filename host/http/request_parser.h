// Strict, incremental request-head parser (RFC 9112). Zero-copy: the RequestHead it fills holds views into the
// caller's buffer, valid as long as that buffer is. Ambiguous framing is rejected, never repaired.
#pragma once

#include "http/message.h"

namespace portico::http {

enum class ParseStatus { Incomplete, Complete, Error };

struct ParseError {
    int status = 0;               // 400, 414 or 431 (or 501 for a method we refuse to proxy)
    std::string_view reason;      // short, static, safe to log and to show to the client
};

class RequestParser {
public:
    explicit RequestParser(const Limits& limits) : limits_(limits) {}

    // data[0..len) is everything received so far for this message, starting at its first byte. Call again with
    // the same start and a larger len after more bytes arrive; bytes already scanned are not scanned again for the
    // end of the head. On Complete, out.head_size bytes belong to the head. On Error, see error().
    ParseStatus parse(const char* data, size_t len, RequestHead& out);

    const ParseError& error() const { return error_; }

    // Ready for the next message on the connection.
    void reset() { scanned_ = 0; error_ = {}; }

private:
    Limits limits_;
    size_t scanned_ = 0;
    ParseError error_;
};

}  // namespace portico::http
