// Session ticket keys: a ring of keys rotated on a clock, and the OpenSSL callback that seals and opens tickets
// with it (RFC 5077 layout: 16-byte key name, AES-256-CBC, HMAC-SHA256).
//
// The newest key seals every new ticket; the older ones still open tickets they sealed, and a ticket opened with an
// older key is renewed (the callback returns 2), so a regular client moves to the current key on its next visit.
// Rings live in the plugin's global state (made in global_init, kept for the whole process), keyed by rotation
// period, so a reload, which builds new SSL_CTXs, keeps the keys and resumption keeps working across it.
#pragma once

#include <openssl/ssl.h>

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>

namespace portico::tls {

class TicketKeyRing {
public:
    static constexpr size_t kKeys = 3;  // the current key and two retired ones

    // `now_ns` is the host's monotonic clock (core->now_ns); tests move it.
    TicketKeyRing(uint64_t rotation_ns, uint64_t (*now_ns)());
    ~TicketKeyRing();
    TicketKeyRing(const TicketKeyRing&) = delete;
    TicketKeyRing& operator=(const TicketKeyRing&) = delete;

    // The body of OpenSSL's ticket key callback (SSL_CTX_set_tlsext_ticket_key_evp_cb): 1 sealed or opened with
    // the current key, 2 opened with a retired key (renew the ticket), 0 unknown key (full handshake), -1 error.
    int seal_or_open(unsigned char key_name[16], unsigned char* iv, EVP_CIPHER_CTX* cipher, EVP_MAC_CTX* mac,
                     int enc);

    uint64_t rotation_ns() const { return rotation_ns_; }
    // How many keys were made so far (tests watch rotations through it).
    uint64_t generation() const;

private:
    struct Key {
        std::array<unsigned char, 16> name;
        std::array<unsigned char, 32> aes;
        std::array<unsigned char, 32> hmac;
        bool valid = false;
    };
    void rotate_locked(uint64_t now);  // mutex_ held
    bool make_key(Key& key);

    const uint64_t rotation_ns_;
    uint64_t (*const now_ns_)();
    mutable std::mutex mutex_;       // callbacks run on every worker thread
    std::array<Key, kKeys> keys_{};  // keys_[0] is current
    uint64_t rotated_at_ = 0;
    uint64_t generation_ = 0;
};

// The plugin's process-wide state: one ring per rotation period in use. THREAD main (global_init, config_new).
class TicketKeyStore {
public:
    std::shared_ptr<TicketKeyRing> ring(uint64_t rotation_ns, uint64_t (*now_ns)());

private:
    std::map<uint64_t, std::shared_ptr<TicketKeyRing>> rings_;
};

}  // namespace portico::tls
