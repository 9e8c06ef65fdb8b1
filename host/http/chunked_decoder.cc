#include "http/chunked_decoder.h"

#include <algorithm>
#include <cstring>

#include "http/field_syntax.h"

namespace portico::http {

namespace {

enum class LineCheck { Valid, Invalid, Prefix };

// Checks `chunk-size [ chunk-ext ]` (RFC 9112 7.1, 7.1.1) in line[0..n):
//   chunk-size = 1*HEXDIG
//   chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//   chunk-ext-name = token; chunk-ext-val = token / quoted-string
// With `complete`, the line ends at n (its CRLF follows). Without, the bytes are the start of a line still
// arriving: the answer is Prefix as long as they can still become a valid line, so garbage is refused at once
// rather than after max_line bytes.
class SizeLine {
public:
    SizeLine(const char* line, size_t n, bool complete) : line_(line), n_(n), complete_(complete) {}

    LineCheck check() {
        uint64_t value = 0;
        size_t i = 0;
        for (; i < n_ && hex(line_[i]) >= 0; ++i) {
            // Leading zeros keep `value` at 0, so only significant digits can overflow. Past 2^63-1 no signed
            // 64-bit length downstream could hold it.
            if (value > (static_cast<uint64_t>(INT64_MAX) >> 4)) return invalid("chunk size too large");
            value = value << 4 | static_cast<uint64_t>(hex(line_[i]));
        }
        if (i == 0) return i == n_ ? end("invalid chunk size") : invalid("invalid chunk size");
        if (i < n_ && line_[i] != ';' && !syntax::is_ows(line_[i])) return invalid("invalid chunk size");
        size_ = value;
        while (true) {
            const size_t before_ws = i;
            i = skip_ows(i);
            if (i == n_) return i == before_ws ? end(nullptr) : end("whitespace at end of chunk size line");
            if (line_[i] != ';') return invalid("invalid chunk extension");
            i = skip_ows(i + 1);
            const size_t name = i;
            while (i < n_ && syntax::is_token_char(line_[i])) ++i;
            if (i == n_) return i == name ? end("invalid chunk extension") : end(nullptr);
            if (i == name) return invalid("invalid chunk extension");
            const size_t after_name = i;
            i = skip_ows(i);
            if (i == n_) return end("whitespace at end of chunk size line");
            if (line_[i] != '=') {
                i = after_name;  // no value: the next extension (or garbage) follows
                continue;
            }
            i = skip_ows(i + 1);
            if (i == n_) return end("invalid chunk extension");
            if (line_[i] == '"') {
                LineCheck quoted = quoted_string(i);
                if (quoted != LineCheck::Valid) return quoted;
            } else {
                const size_t value_start = i;
                while (i < n_ && syntax::is_token_char(line_[i])) ++i;
                if (i == value_start) return invalid("invalid chunk extension");
            }
        }
    }

    uint64_t size() const { return size_; }
    const char* error() const { return error_; }

private:
    static int hex(char c) { return syntax::kChars.hex[static_cast<unsigned char>(c)]; }

    size_t skip_ows(size_t i) const {
        while (i < n_ && syntax::is_ows(line_[i])) ++i;
        return i;
    }

    // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 5.6.4); `i` is at the opening DQUOTE and
    // ends past the closing one.
    LineCheck quoted_string(size_t& i) {
        for (++i; i < n_; ++i) {
            const unsigned char c = static_cast<unsigned char>(line_[i]);
            if (c == '"') {
                ++i;
                return LineCheck::Valid;
            }
            if (c == '\\') {
                if (++i == n_) break;
                if (!syntax::is_field_value_char(line_[i])) return invalid("invalid chunk extension");
            } else if (!syntax::kChars.qdtext[c]) {
                return invalid("invalid chunk extension");
            }
        }
        return end("unterminated quoted string in chunk extension");
    }

    // The line ends here: valid if `error` is null, else invalid; a line still arriving may go on, though.
    LineCheck end(const char* error) {
        if (!complete_) return LineCheck::Prefix;
        if (error == nullptr) return LineCheck::Valid;
        return invalid(error);
    }

    LineCheck invalid(const char* error) {
        error_ = error;
        return LineCheck::Invalid;
    }

    const char* line_;
    size_t n_;
    bool complete_;
    uint64_t size_ = 0;
    const char* error_ = "";
};

ChunkedDecoder::Result failure(std::string_view why) {
    ChunkedDecoder::Result result;
    result.status = ChunkedDecoder::Status::Error;
    result.error = why;
    return result;
}

// trailer-section = *( field-line CRLF ), then the CRLF that ends the chunked body (RFC 9112 7.1, 7.1.2). The
// section is used whole once complete; until then nothing of it is consumed, and `resume` (the start of the
// first line not yet checked) lets the next call go on where this one stopped, so it is scanned once.
struct TrailerScan {
    enum class Outcome { Complete, Partial, Invalid } outcome = Outcome::Partial;
    size_t fields = 0;  // Complete: bytes of the field lines, excluding the final CRLF
    size_t resume = 0;  // Partial: where the next call goes on
    std::string_view error;
};

TrailerScan scan_trailers(const char* section, size_t avail, size_t resume, size_t max_size) {
    TrailerScan scan;
    const size_t window = std::min(avail, max_size);
    size_t at = resume <= window ? resume : 0;
    while (at < window) {
        const void* found = std::memchr(section + at, '\n', window - at);
        if (found == nullptr) break;
        const size_t lf = static_cast<size_t>(static_cast<const char*>(found) - section);
        if (lf == at || section[lf - 1] != '\r') {
            scan.outcome = TrailerScan::Outcome::Invalid;
            scan.error = "bare LF in trailer section";
            return scan;
        }
        if (lf - 1 == at) {
            scan.outcome = TrailerScan::Outcome::Complete;
            scan.fields = at;
            return scan;
        }
        // Trailer fields follow the header field rules: no obs-fold, token names, no CTLs (RFC 9110 6.5).
        Header field;
        if (syntax::parse_field_line(section + at, field, scan.error) == nullptr) {
            scan.outcome = TrailerScan::Outcome::Invalid;
            return scan;
        }
        at = lf + 1;
    }
    if (avail >= max_size) {
        scan.outcome = TrailerScan::Outcome::Invalid;
        scan.error = "trailer section too large";
        return scan;
    }
    scan.resume = at;
    return scan;
}

}  // namespace

ChunkedDecoder::Result ChunkedDecoder::feed(const char* input, size_t len) {
    Result result;
    size_t pos = 0;
    auto fail = [this](std::string_view why) {
        state_ = State::Failed;
        remaining_ = 0;
        return failure(why);
    };
    auto need_more = [&result, &pos]() {
        result.status = Status::NeedMore;
        result.consumed = pos;
        return result;
    };

    while (true) {
        switch (state_) {
            case State::Size: {
                // A size line is used whole or not at all, so the caller keeps a partial one for the next call.
                const size_t avail = len - pos;
                const char* line = input + pos;
                const void* found = std::memchr(line, '\n', std::min(avail, limits_.max_line + 2));
                if (found == nullptr) {
                    if (avail >= limits_.max_line + 2) return fail("chunk size line too long");
                    // A final CR may be the first half of the CRLF, so it is not judged yet.
                    const size_t n = avail - (avail > 0 && line[avail - 1] == '\r' ? 1 : 0);
                    SizeLine partial(line, n, false);
                    if (partial.check() == LineCheck::Invalid) return fail(partial.error());
                    return need_more();
                }
                const size_t lf = static_cast<size_t>(static_cast<const char*>(found) - line);
                if (lf == 0 || line[lf - 1] != '\r') return fail("bare LF in chunk size line");  // RFC 9112 7.1
                SizeLine complete(line, lf - 1, true);
                if (complete.check() != LineCheck::Valid) return fail(complete.error());
                pos += lf + 1;
                remaining_ = complete.size();
                // last-chunk = 1*("0") [ chunk-ext ] CRLF; the trailer section follows (RFC 9112 7.1).
                // remaining_ now tracks how far that section has been scanned, relative to its first byte.
                state_ = remaining_ == 0 ? State::Trailers : State::Data;
                break;
            }
            case State::Data: {
                if (pos == len) return need_more();
                const size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, len - pos));
                result.status = Status::Data;
                result.data = std::string_view(input + pos, n);
                remaining_ -= n;
                if (remaining_ == 0) state_ = State::DataCrlf;
                result.consumed = pos + n;
                return result;
            }
            case State::DataCrlf: {
                // chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF. A chunk longer or shorter than its size
                // shows up here, as anything but CRLF after the data.
                if (pos == len) return need_more();
                if (input[pos] != '\r') return fail("missing CRLF after chunk data");
                if (pos + 1 == len) return need_more();
                if (input[pos + 1] != '\n') return fail("missing CRLF after chunk data");
                pos += 2;
                state_ = State::Size;
                break;
            }
            case State::Trailers: {
                const TrailerScan scan =
                    scan_trailers(input + pos, len - pos, remaining_, limits_.max_trailer_size);
                if (scan.outcome == TrailerScan::Outcome::Invalid) return fail(scan.error);
                if (scan.outcome == TrailerScan::Outcome::Partial) {
                    remaining_ = scan.resume;
                    return need_more();
                }
                state_ = State::Finished;
                remaining_ = 0;
                result.status = Status::Done;
                result.trailers = std::string_view(input + pos, scan.fields);
                result.consumed = pos + scan.fields + 2;
                return result;
            }
            case State::Finished: {
                result.status = Status::Done;  // idempotent: nothing more belongs to this body
                return result;
            }
            case State::Failed:
                return failure("chunked body already failed");
        }
    }
}

void ChunkedDecoder::reset() {
    state_ = State::Size;
    remaining_ = 0;
}

}  // namespace portico::http
