#include "ticket_keys.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstring>

namespace portico::tls {

TicketKeyRing::TicketKeyRing(uint64_t rotation_ns, uint64_t (*now_ns)())
    : rotation_ns_(rotation_ns), now_ns_(now_ns) {
    std::lock_guard<std::mutex> lock(mutex_);
    rotate_locked(now_ns_ != nullptr ? now_ns_() : 0);
}

TicketKeyRing::~TicketKeyRing() {
    OPENSSL_cleanse(keys_.data(), sizeof keys_);
}

uint64_t TicketKeyRing::generation() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return generation_;
}

bool TicketKeyRing::make_key(Key& key) {
    key.valid = RAND_bytes(key.name.data(), static_cast<int>(key.name.size())) == 1 &&
                RAND_bytes(key.aes.data(), static_cast<int>(key.aes.size())) == 1 &&
                RAND_bytes(key.hmac.data(), static_cast<int>(key.hmac.size())) == 1;
    return key.valid;
}

void TicketKeyRing::rotate_locked(uint64_t now) {
    Key fresh;
    if (!make_key(fresh)) return;  // no randomness now: keep sealing with the current key, try again next time
    for (size_t i = kKeys - 1; i > 0; --i) keys_[i] = keys_[i - 1];
    keys_[0] = fresh;
    OPENSSL_cleanse(&fresh, sizeof fresh);
    rotated_at_ = now;
    ++generation_;
}

int TicketKeyRing::seal_or_open(unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher,
                                EVP_MAC_CTX* mac, int enc) {
    std::lock_guard<std::mutex> lock(mutex_);
    const uint64_t now = now_ns_ != nullptr ? now_ns_() : 0;
    if (rotation_ns_ != 0 && now >= rotated_at_ && now - rotated_at_ >= rotation_ns_) {
        // One rotation per period that passed (a quiet listener may not have sealed anything for days), at most
        // enough to replace every key.
        const uint64_t periods = std::min<uint64_t>((now - rotated_at_) / rotation_ns_, kKeys);
        for (uint64_t i = 0; i < periods; ++i) rotate_locked(now);
    }

    const Key* key = nullptr;
    int result = 1;
    if (enc == 1) {
        key = &keys_[0];
        if (!key->valid) return -1;
        if (RAND_bytes(iv, EVP_CIPHER_get_iv_length(EVP_aes_256_cbc())) != 1) return -1;
        std::memcpy(key_name, key->name.data(), key->name.size());
    } else {
        for (size_t i = 0; i < kKeys && key == nullptr; ++i) {
            if (keys_[i].valid && std::memcmp(key_name, keys_[i].name.data(), keys_[i].name.size()) == 0) {
                key = &keys_[i];
                result = i == 0 ? 1 : 2;
            }
        }
        if (key == nullptr) return 0;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, const_cast<unsigned char*>(key->hmac.data()),
                                          key->hmac.size()),
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>("SHA256"), 0),
        OSSL_PARAM_construct_end(),
    };
    if (EVP_MAC_CTX_set_params(mac, params) != 1) return -1;
    const int ok = enc == 1 ? EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv)
                            : EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key->aes.data(), iv);
    return ok == 1 ? result : -1;
}

std::shared_ptr<TicketKeyRing> TicketKeyStore::ring(uint64_t rotation_ns, uint64_t (*now_ns)()) {
    std::shared_ptr<TicketKeyRing>& slot = rings_[rotation_ns];
    if (!slot) slot = std::make_shared<TicketKeyRing>(rotation_ns, now_ns);
    return slot;
}

}  // namespace portico::tls
