// Accept-Encoding negotiation (RFC 9110 12.5.3): which content coding, if any, to compress a response with.
#pragma once

#include <array>
#include <optional>
#include <string_view>
#include <vector>

#include "codec.h"

namespace portico::compression {

// Weights are qvalues in thousandths (RFC 9110 12.4.2 allows at most three decimals), so comparisons are exact.
inline constexpr int kNotListed = -1;
inline constexpr int kWeightMax = 1000;

// What a client's Accept-Encoding says about the codings we can produce, "identity" and "*".
struct AcceptEncoding {
    std::array<int, kCodingCount> coding{kNotListed, kNotListed, kNotListed};  // indexed by Coding
    int identity = kNotListed;
    int wildcard = kNotListed;  // "*": every coding not listed explicitly

    int listed(Coding c) const { return coding[static_cast<size_t>(c)]; }
    // The weight that applies to `c`: its own, else the wildcard's, else 0 (not acceptable).
    int weight(Coding c) const;
};

// Parses a field value; a request with several Accept-Encoding field lines passes them joined by ", " (RFC 9110
// 5.3). One pass, no allocation, whatever the input. Tolerant where the grammar allows (OWS, empty list members,
// case) and cautious elsewhere: a member whose coding is not a token is skipped; a coding with a malformed or
// unknown parameter counts as refused (weight 0), so a garbled "gzip;q=0" never falls back to the wildcard. A
// coding listed twice keeps its lowest weight. "x-gzip" is gzip (RFC 9110 8.4.1.3).
AcceptEncoding parse_accept_encoding(std::string_view field_value) noexcept;

// The coding to use, or nullopt for identity (no compression). `server_preference` lists the codings enabled in
// the configuration, most preferred first. The client's highest weight wins, ties going to the server's order; a
// weight of 0 means "not acceptable". Identity wins only when the client weighs it (explicitly or through "*")
// strictly above the best coding. A request without Accept-Encoding should pass an empty value: RFC 9110 would
// allow any coding then, but clients that send none are in practice those that cannot decode, and an empty value
// means "no coding" (RFC 9110 12.5.3).
std::optional<Coding> choose_coding(const AcceptEncoding& accept,
                                    const std::vector<Coding>& server_preference) noexcept;
std::optional<Coding> choose_coding(std::string_view field_value,
                                    const std::vector<Coding>& server_preference) noexcept;

}  // namespace portico::compression
