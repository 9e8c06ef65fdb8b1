// Thin helpers over the socket system calls used on the hot path. Addresses come from Poco::Net::SocketAddress;
// the calls themselves are direct so that every accept/read/write is exactly one system call.
#pragma once

#include <cerrno>

#include <Poco/Net/SocketAddress.h>

#include <string>

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

// The peer's IP address as text ("127.0.0.1", "::1") for X-Forwarded-For and logs.
std::string peer_ip(const sockaddr_storage& peer);

}  // namespace portico::net
