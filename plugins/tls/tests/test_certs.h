// Certificates for the tests, made once per run with OpenSSL into a temporary directory: a CA, RSA and ECDSA
// server certificates for example.com and *.example.com, a default one, a CN-only one, an expired and a
// not-yet-valid one, a client certificate, a CA nobody trusts, and an OCSP response for the RSA certificate.
#pragma once

#include <string>

namespace tlstest {

struct Files {
    std::string dir;
    std::string ca_cert, other_ca_cert;
    std::string rsa_cert, rsa_key;          // O=rsa, CN=example.com, SAN example.com, *.example.com
    std::string ecdsa_cert, ecdsa_key;      // O=ecdsa, same names
    std::string default_cert, default_key;  // O=default, SAN default.test
    std::string other_cert, other_key;      // O=other, SAN other.test
    std::string cn_only_cert, cn_only_key;  // O=cn-only, CN=cn-only.test, no SAN
    std::string expired_cert, expired_key;  // expired yesterday
    std::string future_cert, future_key;    // valid from tomorrow
    std::string client_cert, client_key;    // CN=client one, signed by the CA
    std::string rogue_cert, rogue_key;      // example.com, signed by the other CA
    std::string garbage;                    // not PEM at all
    std::string missing;                    // a path that does not exist
    std::string rsa_ocsp;                   // DER OCSP response (good) for rsa_cert
};

// Made on first use; the directory is removed at exit.
const Files& files();

std::string read_file(const std::string& path);

}  // namespace tlstest
