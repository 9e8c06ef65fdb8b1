// RFC 9110 12.5.3:
//   Accept-Encoding = #( codings [ weight ] )
//   codings         = content-coding / "identity" / "*"
//   weight          = OWS ";" OWS "q=" qvalue                             (12.4.2)
//   qvalue          = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
#include "accept_encoding.h"

#include <algorithm>

#include "field_text.h"

namespace portico::compression {

namespace {

using text::equals_ignore_case;
using text::is_ows;
using text::is_tchar;

// A cursor over the field value; every method advances, so the parse is one pass.
class Scanner {
public:
    explicit Scanner(std::string_view text) : text_(text) {}

    bool at_end() const { return pos_ == text_.size(); }
    char peek() const { return text_[pos_]; }
    void advance() { ++pos_; }

    void skip_ows() {
        while (!at_end() && is_ows(peek())) ++pos_;
    }

    std::string_view token() {
        const size_t start = pos_;
        while (!at_end() && is_tchar(peek())) ++pos_;
        return text_.substr(start, pos_ - start);
    }

    // quoted-string (RFC 9110 5.6.4), for the value of a parameter we do not know; false if unterminated.
    bool quoted_string() {
        ++pos_;  // the opening DQUOTE
        while (!at_end()) {
            const char c = text_[pos_++];
            if (c == '"') return true;
            if (c == '\\' && !at_end()) ++pos_;
        }
        return false;
    }

    // After a malformed member: on to the next comma that is not inside a quoted-string.
    void skip_member() {
        while (!at_end() && peek() != ',') {
            if (peek() == '"') {
                quoted_string();
            } else {
                ++pos_;
            }
        }
    }

private:
    std::string_view text_;
    size_t pos_ = 0;
};

// qvalue in thousandths, or kNotListed when malformed.
int parse_qvalue(std::string_view text) {
    if (text.empty() || (text[0] != '0' && text[0] != '1')) return kNotListed;
    const int whole = text[0] - '0';
    if (text.size() == 1) return whole * kWeightMax;
    if (text[1] != '.' || text.size() > 5) return kNotListed;
    int fraction = 0;
    int scale = 100;
    for (char c : text.substr(2)) {
        if (c < '0' || c > '9') return kNotListed;
        fraction += (c - '0') * scale;
        scale /= 10;
    }
    if (whole == 1 && fraction != 0) return kNotListed;  // above 1
    return whole * kWeightMax + fraction;
}

// The parameters after a coding: the weight, or kNotListed when any parameter is malformed or is not "q".
int parse_weight(Scanner& scan) {
    int weight = kWeightMax;
    bool seen_q = false;
    while (true) {
        scan.skip_ows();
        if (scan.at_end() || scan.peek() == ',') return weight;
        if (scan.peek() != ';') break;
        scan.advance();
        scan.skip_ows();
        const std::string_view name = scan.token();
        scan.skip_ows();
        if (name.empty() || scan.at_end() || scan.peek() != '=') break;
        scan.advance();
        scan.skip_ows();
        if (!equals_ignore_case(name, "q") || seen_q) {
            // Only the weight is defined here; skip a token or quoted-string value and refuse the coding.
            if (!scan.at_end() && scan.peek() == '"') {
                scan.quoted_string();
            } else {
                scan.token();
            }
            break;
        }
        weight = parse_qvalue(scan.token());
        seen_q = true;
        if (weight == kNotListed) break;
    }
    scan.skip_member();
    return kNotListed;
}

void record(int& slot, int weight) {
    slot = slot == kNotListed ? weight : std::min(slot, weight);
}

}  // namespace

int AcceptEncoding::weight(Coding c) const {
    const int own = listed(c);
    if (own != kNotListed) return own;
    return wildcard != kNotListed ? wildcard : 0;
}

AcceptEncoding parse_accept_encoding(std::string_view field_value) noexcept {
    AcceptEncoding accept;
    Scanner scan(field_value);
    while (true) {
        // Empty list members are allowed (RFC 9110 5.6.1.2).
        while (!scan.at_end() && (scan.peek() == ',' || is_ows(scan.peek()))) scan.advance();
        if (scan.at_end()) return accept;

        const std::string_view coding = scan.token();
        if (coding.empty()) {
            scan.skip_member();
            continue;
        }
        int weight = parse_weight(scan);
        if (weight == kNotListed) weight = 0;  // malformed: refuse rather than guess
        if (coding == "*") {
            record(accept.wildcard, weight);
        } else if (equals_ignore_case(coding, "identity")) {
            record(accept.identity, weight);
        } else if (std::optional<Coding> known = coding_from_token(coding)) {
            record(accept.coding[static_cast<size_t>(*known)], weight);
        }
    }
}

std::optional<Coding> choose_coding(const AcceptEncoding& accept,
                                    const std::vector<Coding>& server_preference) noexcept {
    std::optional<Coding> best;
    int best_weight = 0;
    for (Coding c : server_preference) {
        const int w = accept.weight(c);
        if (w > best_weight) {  // strictly: on a tie the earlier (preferred) coding stays
            best = c;
            best_weight = w;
        }
    }
    const int identity = accept.identity != kNotListed ? accept.identity : accept.wildcard;
    if (best && identity > best_weight) return std::nullopt;
    return best;
}

std::optional<Coding> choose_coding(std::string_view field_value,
                                    const std::vector<Coding>& server_preference) noexcept {
    return choose_coding(parse_accept_encoding(field_value), server_preference);
}

}  // namespace portico::compression
