#include "http/chunked_decoder.h"

#include <cstring>

#include "http/field_syntax.h"

namespace portico::http {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), chunk-ext-val = token / quoted-string
// (RFC 9112 7.1.1). Extensions are checked and then ignored.
bool valid_extensions(std::string_view ext) {
    size_t i = 0;
    auto skip_bws = [&] {
        while (i < ext.size() && (ext[i] == ' ' || ext[i] == '\t')) ++i;
    };
    auto token = [&] {
        size_t begin = i;
        while (i < ext.size() && syntax::kChars.token[static_cast<unsigned char>(ext[i])]) ++i;
        return i > begin;
    };
    while (i < ext.size()) {
        skip_bws();
        if (i == ext.size() || ext[i] != ';') return false;
        ++i;
        skip_bws();
        if (!token()) return false;
        skip_bws();
        if (i < ext.size() && ext[i] == '=') {
            ++i;
            skip_bws();
            if (i < ext.size() && ext[i] == '"') {
                ++i;
                bool closed = false;
                while (i < ext.size()) {
                    unsigned char c = static_cast<unsigned char>(ext[i]);
                    if (c == '"') {
                        closed = true;
                        ++i;
                        break;
                    }
                    if (c == '\\') {
                        if (++i == ext.size()) return false;
                        c = static_cast<unsigned char>(ext[i]);
                    }
                    if (!syntax::kChars.field_value[c]) return false;
                    ++i;
                }
                if (!closed) return false;
            } else if (!token()) {
                return false;
            }
        }
    }
    return true;
}

}  // namespace

void ChunkedDecoder::reset() {
    state_ = State::Size;
    remaining_ = 0;
}

ChunkedDecoder::Result ChunkedDecoder::feed(const char* input, size_t len) {
    Result result;
    auto fail = [&](const char* why) {
        state_ = State::Failed;
        result.status = Status::Error;
        result.error = why;
        return result;
    };
    size_t pos = 0;
    while (true) {
        switch (state_) {
            case State::Size: {
                const void* found = std::memchr(input + pos, '\n', len - pos);
                if (!found) {
                    if (len - pos > limits_.max_line) return fail("chunk size line too long");
                    result.consumed = pos;
                    return result;  // NeedMore: keep the partial line
                }
                size_t lf = static_cast<const char*>(found) - input;
                if (lf - pos + 1 > limits_.max_line) return fail("chunk size line too long");
                if (lf == pos || input[lf - 1] != '\r') return fail("bare LF in chunk size line");
                std::string_view line(input + pos, lf - 1 - pos);
                size_t digits = 0;
                uint64_t size = 0;
                while (digits < line.size() && hex_value(line[digits]) >= 0) {
                    // 16 hex digits hold 2^64-1; we refuse anything past 2^63-1 (RFC 9112 7.1: guard overflow).
                    if (digits == 16) return fail("chunk size too large");
                    size = size * 16 + static_cast<uint64_t>(hex_value(line[digits]));
                    ++digits;
                }
                if (digits == 0) return fail("invalid chunk size");
                if (size > static_cast<uint64_t>(INT64_MAX)) return fail("chunk size too large");
                if (!valid_extensions(line.substr(digits))) return fail("invalid chunk size or extension");
                pos = lf + 1;
                remaining_ = size;
                state_ = size == 0 ? State::Trailers : State::Data;
                break;
            }
            case State::Data: {
                size_t available = len - pos;
                if (available == 0) {
                    result.consumed = pos;
                    return result;
                }
                size_t take = available < remaining_ ? available : static_cast<size_t>(remaining_);
                remaining_ -= take;
                if (remaining_ == 0) state_ = State::DataCrlf;
                result.status = Status::Data;
                result.data = std::string_view(input + pos, take);
                result.consumed = pos + take;
                return result;
            }
            case State::DataCrlf: {
                if (len - pos < 2) {
                    if (len - pos == 1 && input[pos] != '\r') return fail("missing CRLF after chunk data");
                    result.consumed = pos;
                    return result;
                }
                if (input[pos] != '\r' || input[pos + 1] != '\n') return fail("missing CRLF after chunk data");
                pos += 2;
                state_ = State::Size;
                break;
            }
            case State::Trailers: {
                // trailer-section = *( field-line CRLF ), then CRLF (RFC 9112 7.1.2).
                size_t line_start = 0;
                size_t end = 0;
                if (len - pos >= 2 && input[pos] == '\r' && input[pos + 1] == '\n') {
                    end = pos + 2;
                } else {
                    if (len - pos >= 1 && input[pos] == '\n') return fail("bare LF in trailers");
                    size_t scan_end = syntax::find_head_end(input, len, pos, line_start);
                    if (scan_end == SIZE_MAX) return fail("bare LF in trailers");
                    end = scan_end;
                }
                if (end == 0) {
                    if (len - pos > limits_.max_trailer_size) return fail("trailer section too large");
                    result.consumed = pos;
                    return result;
                }
                if (end - pos > limits_.max_trailer_size) return fail("trailer section too large");
                // Validate every field line.
                size_t line = pos;
                while (line < end - 2) {
                    const char* cr = static_cast<const char*>(std::memchr(input + line, '\r', end - line));
                    if (cr[1] != '\n') return fail("CR without LF in trailers");
                    std::string_view name, value;
                    auto error = syntax::parse_field_line(std::string_view(input + line, cr - (input + line)),
                                                          name, value);
                    if (error != syntax::FieldError::None) return fail(syntax::describe(error));
                    line = static_cast<size_t>(cr - input) + 2;
                }
                state_ = State::Finished;
                result.status = Status::Done;
                result.trailers = std::string_view(input + pos, end - 2 - pos);
                result.consumed = end;
                return result;
            }
            case State::Finished:
                result.status = Status::Done;
                result.consumed = pos;
                return result;
            case State::Failed:
                return fail("chunked body already failed");
        }
    }
}

}  // namespace portico::http
