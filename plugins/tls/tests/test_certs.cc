#include "test_certs.h"

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

namespace tlstest {

namespace {

void check(bool ok, const char* what) {
    if (!ok) throw std::runtime_error(std::string("making test certificates: ") + what);
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    check(ext != nullptr, "extension");
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

struct Made {
    X509* cert;
    EVP_PKEY* key;
};

// Issued by `issuer` (self-signed when null), valid from now + from_days to now + to_days.
Made make(EVP_PKEY* key, const std::string& cn, const std::string& org, const std::string& san, const Made* issuer,
          long from_days, long to_days, const char* usage) {
    static long serial = 1;
    X509* cert = X509_new();
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
    X509_gmtime_adj(X509_getm_notBefore(cert), from_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(cert), to_days * 86400);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                               0);
    X509* issuer_cert = issuer != nullptr ? issuer->cert : cert;
    EVP_PKEY* issuer_key = issuer != nullptr ? issuer->key : key;
    X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
    add_ext(cert, issuer_cert, NID_subject_key_identifier, "hash");
    if (issuer == nullptr) {
        add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
        add_ext(cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(cert, issuer_cert, NID_ext_key_usage, usage);
    }
    if (!san.empty()) add_ext(cert, issuer_cert, NID_subject_alt_name, san);
    check(X509_sign(cert, issuer_key, EVP_sha256()) > 0, "sign");
    return {cert, key};
}

void write_cert(const std::string& path, X509* cert) {
    FILE* f = std::fopen(path.c_str(), "w");
    check(f != nullptr && PEM_write_X509(f, cert) == 1, "write cert");
    std::fclose(f);
}

void write_key(const std::string& path, EVP_PKEY* key) {
    FILE* f = std::fopen(path.c_str(), "w");
    check(f != nullptr && PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr) == 1, "write key");
    std::fclose(f);
}

EVP_PKEY* ec() {
    EVP_PKEY* key = EVP_EC_gen("P-256");
    check(key != nullptr, "EC key");
    return key;
}

void write_ocsp(const std::string& path, const Made& leaf, const Made& ca) {
    OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), leaf.cert, ca.cert);
    OCSP_BASICRESP* basic = OCSP_BASICRESP_new();
    ASN1_TIME* now = X509_gmtime_adj(nullptr, 0);
    ASN1_TIME* next = X509_gmtime_adj(nullptr, 7 * 86400);
    check(OCSP_basic_add1_status(basic, id, V_OCSP_CERTSTATUS_GOOD, 0, nullptr, now, next) != nullptr,
          "ocsp status");
    check(OCSP_basic_sign(basic, ca.cert, ca.key, EVP_sha256(), nullptr, 0) == 1, "ocsp sign");
    OCSP_RESPONSE* response = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
    unsigned char* der = nullptr;
    const int len = i2d_OCSP_RESPONSE(response, &der);
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(der), len);
    OPENSSL_free(der);
    OCSP_RESPONSE_free(response);
    OCSP_BASICRESP_free(basic);
    OCSP_CERTID_free(id);
    ASN1_TIME_free(now);
    ASN1_TIME_free(next);
}

std::string temp_dir;

void remove_dir() {
    if (!temp_dir.empty()) std::system(("rm -rf '" + temp_dir + "'").c_str());
}

Files make_files() {
    char pattern[] = "/tmp/portico-tls-test-XXXXXX";
    check(mkdtemp(pattern) != nullptr, "mkdtemp");
    temp_dir = pattern;
    std::atexit(remove_dir);
    Files f;
    f.dir = temp_dir;
    auto path = [&](const char* name) { return f.dir + "/" + name; };
    const char* server = "serverAuth";

    Made ca = make(ec(), "Portico Test CA", "test-ca", "", nullptr, -1, 3650, nullptr);
    Made other_ca = make(ec(), "Nobody's CA", "rogue-ca", "", nullptr, -1, 3650, nullptr);
    f.ca_cert = path("ca.pem");
    write_cert(f.ca_cert, ca.cert);
    f.other_ca_cert = path("other-ca.pem");
    write_cert(f.other_ca_cert, other_ca.cert);

    struct Spec {
        std::string* cert;
        std::string* key;
        const char* name;
        EVP_PKEY* key_value;
        const char* cn;
        const char* org;
        const char* san;
        const Made* issuer;
        long from, to;
        const char* usage;
    };
    EVP_PKEY* rsa = EVP_RSA_gen(2048);
    check(rsa != nullptr, "RSA key");
    const Spec specs[] = {
        {&f.rsa_cert, &f.rsa_key, "rsa", rsa, "example.com", "rsa", "DNS:example.com,DNS:*.example.com", &ca, -1,
         365, server},
        {&f.ecdsa_cert, &f.ecdsa_key, "ecdsa", ec(), "example.com", "ecdsa", "DNS:example.com,DNS:*.example.com",
         &ca, -1, 365, server},
        {&f.default_cert, &f.default_key, "default", ec(), "default.test", "default", "DNS:default.test", &ca, -1,
         365, server},
        {&f.other_cert, &f.other_key, "other", ec(), "other.test", "other", "DNS:other.test", &ca, -1, 365, server},
        {&f.cn_only_cert, &f.cn_only_key, "cn-only", ec(), "cn-only.test", "cn-only", "", &ca, -1, 365, server},
        {&f.expired_cert, &f.expired_key, "expired", ec(), "expired.test", "expired", "DNS:expired.test", &ca, -30,
         -1, server},
        {&f.future_cert, &f.future_key, "future", ec(), "future.test", "future", "DNS:future.test", &ca, 1, 30,
         server},
        {&f.client_cert, &f.client_key, "client", ec(), "client one", "client", "", &ca, -1, 365, "clientAuth"},
        {&f.rogue_cert, &f.rogue_key, "rogue", ec(), "example.com", "rogue", "DNS:example.com", &other_ca, -1, 365,
         server},
    };
    std::vector<Made> made;
    for (const Spec& s : specs) {
        Made m = make(s.key_value, s.cn, s.org, s.san, s.issuer, s.from, s.to, s.usage);
        *s.cert = path((std::string(s.name) + ".pem").c_str());
        *s.key = path((std::string(s.name) + ".key").c_str());
        write_cert(*s.cert, m.cert);
        write_key(*s.key, m.key);
        made.push_back(m);
    }
    f.rsa_ocsp = path("rsa.ocsp.der");
    write_ocsp(f.rsa_ocsp, made[0], ca);
    f.garbage = path("garbage.pem");
    std::ofstream(f.garbage) << "this is not a certificate\n";
    f.missing = path("does-not-exist.pem");
    for (Made& m : made) {
        X509_free(m.cert);
        EVP_PKEY_free(m.key);
    }
    for (Made* m : {&ca, &other_ca}) {
        X509_free(m->cert);
        EVP_PKEY_free(m->key);
    }
    return f;
}

}  // namespace

const Files& files() {
    static const Files made = make_files();
    return made;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

}  // namespace tlstest
