// Thin helpers over the socket system calls used on the hot path. Addresses come from Poco::Net::SocketAddress;
// the calls themselves are direct so that every accept/read/write is exactly one system call.
#pragma once

#include <cerrno>

#include <Poco/Net/SocketAddress.h>

#include <string>

#include "net/buffer.h"

namespace portico::net {

// A listening socket with SO_REUSEPORT, so each worker can own one for the same address and the kernel spreads
// new connections across workers. Throws std::runtime_error with the address and errno text.
int listen_reuseport(const Poco::Net::SocketAddress& address, int backlog);

// The address a socket is bound to (to learn the port the kernel picked for port 0).
Poco::Net::SocketAddress local_address(int fd);

// Starts a non-blocking connect. Returns the fd (connect may still be in progress) or -1 with errno set.
int connect_nonblocking(const Poco::Net::SocketAddress& address);

// The pending error of a socket (SO_ERROR), 0 if none.
int socket_error(int fd);

// errno values that say this process ran out of descriptors or memory: nothing about the peer.
inline bool is_local_resource_error(int error) {
    return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

// One recv into the free room of `buffer` on an edge-triggered socket. `readable` is cleared when the socket is
// drained (a short read, EAGAIN, EOF), except that after a hang-up (`hangup`) it stays set until recv says 0: a FIN
// that came with data is reported only once.
enum class Received : uint8_t {
    Data,     // bytes were appended
    NoRoom,   // the buffer is full: nothing read
    Again,    // nothing to read now
    Eof,      // the peer closed its direction
    Error,    // errno says why (ECONNRESET...)
};
Received receive(int fd, Buffer& buffer, bool& readable, bool hangup);

// The peer's IP address as text ("127.0.0.1", "::1") for X-Forwarded-For and logs.
std::string peer_ip(const sockaddr_storage& peer);

}  // namespace portico::net
