// Accept-Encoding negotiation (RFC 9110 12.5.3): weights, ties, the wildcard, identity, malformed members,
// hostile input and case.
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "accept_encoding.h"

using namespace portico::compression;

namespace {

const std::vector<Coding> kAll = {Coding::Zstd, Coding::Brotli, Coding::Gzip};  // server preference
const std::vector<Coding> kGzipOnly = {Coding::Gzip};

std::string chosen(std::string_view field, const std::vector<Coding>& preference = kAll) {
    std::optional<Coding> coding = choose_coding(field, preference);
    return coding ? std::string(name(*coding)) : std::string("identity");
}

}  // namespace

TEST_CASE("qvalues parse to thousandths") {
    auto gzip_weight = [](std::string_view field) { return parse_accept_encoding(field).listed(Coding::Gzip); };
    CHECK(gzip_weight("gzip") == 1000);
    CHECK(gzip_weight("gzip;q=1") == 1000);
    CHECK(gzip_weight("gzip;q=1.") == 1000);
    CHECK(gzip_weight("gzip;q=1.000") == 1000);
    CHECK(gzip_weight("gzip;q=0") == 0);
    CHECK(gzip_weight("gzip;q=0.") == 0);
    CHECK(gzip_weight("gzip;q=0.5") == 500);
    CHECK(gzip_weight("gzip;q=0.05") == 50);
    CHECK(gzip_weight("gzip;q=0.001") == 1);
    CHECK(gzip_weight("gzip;q=0.999") == 999);
    CHECK(gzip_weight("gzip;Q=0.25") == 250);
    CHECK(gzip_weight("gzip ; q=0.25") == 250);
    CHECK(gzip_weight("gzip\t;\tq=0.25\t") == 250);
    CHECK(gzip_weight("br") == kNotListed);
    CHECK(gzip_weight("") == kNotListed);
}

TEST_CASE("malformed weights refuse the coding rather than guess") {
    for (const char* field : {"gzip;q=1.5", "gzip;q=2", "gzip;q=-1", "gzip;q=0.5000", "gzip;q=.5", "gzip;q=",
                              "gzip;q", "gzip;q=0.5x", "gzip;q=0.5;q=1", "gzip;level=1", "gzip;", "gzip foo",
                              "gzip;q=1.001", "gzip;q=00.5", "gzip/x", "gzip;q=\"1\"", "gzip;foo=\"a,b\""}) {
        CAPTURE(field);
        CHECK(parse_accept_encoding(field).listed(Coding::Gzip) == 0);
        // ...even when a wildcard would otherwise allow it.
        CHECK(chosen(std::string(field) + ", *", kGzipOnly) == "identity");
    }
}

TEST_CASE("malformed members are skipped and the rest still counts") {
    CHECK(chosen("\"gzip\", br") == "br");
    CHECK(chosen("@@@, br;q=0.5") == "br");
    CHECK(chosen(";q=1, gzip") == "gzip");
    CHECK(chosen("gzip;foo=\"x, zstd\", br") == "br");  // the quoted comma does not start a member
    CHECK(chosen("=, ;, \", br") == "identity");        // an unterminated quote runs to the end
    CHECK(chosen("\x80\xff, gzip") == "gzip");
    CHECK(chosen(",,, ,\t,gzip,,") == "gzip");
}

TEST_CASE("the client's highest weight wins") {
    CHECK(chosen("gzip;q=1, br;q=0.5, zstd;q=0.1") == "gzip");
    CHECK(chosen("gzip;q=0.2, br;q=0.9") == "br");
    CHECK(chosen("gzip;q=0.001") == "gzip");
}

TEST_CASE("ties go to the server's preference order") {
    CHECK(chosen("gzip, br, zstd") == "zstd");
    CHECK(chosen("gzip, br") == "br");
    CHECK(chosen("gzip, deflate, br, zstd", {Coding::Brotli, Coding::Gzip}) == "br");
    CHECK(chosen("gzip, deflate, br, zstd", {Coding::Gzip, Coding::Brotli}) == "gzip");
    CHECK(chosen("gzip;q=0.8, br;q=0.8", {Coding::Gzip, Coding::Brotli}) == "gzip");
    CHECK(chosen("br, gzip", kGzipOnly) == "gzip");  // only enabled codings are candidates
    CHECK(chosen("gzip, br", {}) == "identity");
}

TEST_CASE("q=0 means not acceptable") {
    CHECK(chosen("gzip;q=0") == "identity");
    CHECK(chosen("gzip;q=0, br;q=0.1") == "br");
    CHECK(chosen("gzip;q=0.000, br;q=0, zstd;q=0") == "identity");
}

TEST_CASE("a coding listed twice keeps its lowest weight") {
    CHECK(chosen("gzip;q=1, gzip;q=0", kGzipOnly) == "identity");
    CHECK(chosen("gzip;q=0, x-gzip", kGzipOnly) == "identity");
    CHECK(parse_accept_encoding("gzip;q=0.7, GZIP;q=0.3").listed(Coding::Gzip) == 300);
}

TEST_CASE("the wildcard covers the codings not listed") {
    CHECK(chosen("*") == "zstd");
    CHECK(chosen("*;q=0.5, zstd;q=0") == "br");
    CHECK(chosen("*;q=0") == "identity");
    CHECK(chosen("gzip, *;q=0") == "gzip");
    CHECK(chosen("*;q=0.2, gzip;q=0.5") == "gzip");
    CHECK(chosen("*;q=0.9, gzip;q=0.5", kGzipOnly) == "identity");  // the wildcard speaks for identity too
    CHECK(chosen("*;q=0.9, gzip;q=0.5, identity;q=0.1", kGzipOnly) == "gzip");
}

TEST_CASE("identity") {
    CHECK(chosen("identity") == "identity");
    CHECK(chosen("identity;q=0") == "identity");  // nothing else offered: identity it is, whatever it says
    CHECK(chosen("gzip, identity;q=0") == "gzip");
    CHECK(chosen("gzip;q=0.5, identity") == "identity");    // the client prefers no coding
    CHECK(chosen("gzip;q=0.5, identity;q=0.5") == "gzip");  // a tie: compress
    CHECK(parse_accept_encoding("IDENTITY;q=0.3").identity == 300);
}

TEST_CASE("absent or empty field: no coding") {
    CHECK(chosen("") == "identity");
    CHECK(chosen("   ") == "identity");
    CHECK(chosen(",") == "identity");
}

TEST_CASE("tokens are case-insensitive and x-gzip is gzip") {
    CHECK(chosen("GZIP", kGzipOnly) == "gzip");
    CHECK(chosen("X-Gzip", kGzipOnly) == "gzip");
    CHECK(chosen("Br") == "br");
    CHECK(chosen("ZSTD;Q=0.5, gzip;q=0.4") == "zstd");
}

TEST_CASE("unknown codings are ignored") {
    CHECK(chosen("deflate, compress, exi", kAll) == "identity");
    CHECK(chosen("deflate, compress, br", kAll) == "br");
    CHECK(chosen("gzipx, brotli, zst") == "identity");
}

TEST_CASE("several field lines joined by the caller") {
    CHECK(chosen(std::string("gzip;q=0.5") + ", " + "br;q=0.9") == "br");
    CHECK(chosen(std::string("gzip") + ", " + "gzip;q=0", kGzipOnly) == "identity");
    CHECK(chosen(std::string("") + ", " + "zstd") == "zstd");
}

TEST_CASE("hostile input: megabytes of junk are handled in one linear pass") {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::string> fields;
    fields.push_back(std::string(4 << 20, ',') + "gzip");
    fields.push_back(std::string(4 << 20, ';'));
    fields.push_back("gzip;q=0.5" + std::string(4 << 20, ' ') + ", br");
    fields.push_back(std::string(4 << 20, 'a') + ", br");
    fields.push_back("x;a=\"" + std::string((4 << 20) + 1, '\\') + "\", zstd");  // the last \ escapes the "
    fields.push_back("x;a=\"" + std::string(4 << 20, '\\') + "\", zstd");
    std::string many;
    for (int i = 0; i < 200000; ++i) many += "gzip;q=0.9, br;q=0.8, ";
    fields.push_back(many + "zstd;q=0.95");
    std::string deep;
    for (int i = 0; i < 200000; ++i) deep += ";a=\"b\"";
    fields.push_back("gzip" + deep + ", br");

    CHECK(chosen(fields[0]) == "gzip");
    CHECK(chosen(fields[1]) == "identity");
    CHECK(chosen(fields[2]) == "br");
    CHECK(chosen(fields[3]) == "br");
    CHECK(chosen(fields[4]) == "identity");  // one unterminated quoted-string to the end
    CHECK(chosen(fields[5]) == "zstd");
    CHECK(chosen(fields[6]) == "zstd");
    CHECK(chosen(fields[7]) == "br");
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CHECK(seconds < 10);  // linear: well under a second even under sanitizers; quadratic would take hours
}
