#include "net/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace portico::net {

namespace {
std::runtime_error socket_failure(const char* what, const Poco::Net::SocketAddress& address) {
    return std::runtime_error(std::string(what) + " " + address.toString() + ": " + strerror(errno));
}
}  // namespace

int listen_reuseport(const Poco::Net::SocketAddress& address, int backlog) {
    int fd = ::socket(address.family() == Poco::Net::SocketAddress::IPv6 ? AF_INET6 : AF_INET,
                      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) throw socket_failure("socket", address);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (::bind(fd, address.addr(), address.length()) != 0) {
        auto error = socket_failure("cannot bind", address);
        ::close(fd);
        throw error;
    }
    if (::listen(fd, backlog) != 0) {
        auto error = socket_failure("cannot listen on", address);
        ::close(fd);
        throw error;
    }
    return fd;
}

Poco::Net::SocketAddress local_address(int fd) {
    sockaddr_storage storage{};
    socklen_t length = sizeof storage;
    getsockname(fd, reinterpret_cast<sockaddr*>(&storage), &length);
    return Poco::Net::SocketAddress(reinterpret_cast<sockaddr*>(&storage), length);
}

int connect_nonblocking(const Poco::Net::SocketAddress& address) {
    int fd = ::socket(address.family() == Poco::Net::SocketAddress::IPv6 ? AF_INET6 : AF_INET,
                      SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, address.addr(), address.length()) != 0 && errno != EINPROGRESS) {
        int saved = errno;
        ::close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int socket_error(int fd) {
    int error = 0;
    socklen_t length = sizeof error;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
    return error;
}

std::string peer_ip(const sockaddr_storage& peer) {
    char text[INET6_ADDRSTRLEN] = "";
    if (peer.ss_family == AF_INET) {
        inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(peer).sin_addr, text, sizeof text);
    } else if (peer.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(peer).sin6_addr, text, sizeof text);
    }
    return text;
}

Received receive(int fd, Buffer& buffer, bool& readable, bool hangup) {
    size_t room = buffer.writable();
    if (room == 0) return Received::NoRoom;
    ssize_t n;
    do {
        n = ::recv(fd, buffer.write_ptr(), room, 0);
    } while (n < 0 && errno == EINTR);
    if (n > 0) {
        buffer.commit(static_cast<size_t>(n));
        if (static_cast<size_t>(n) < room && !hangup) readable = false;
        return Received::Data;
    }
    readable = false;
    if (n == 0) return Received::Eof;
    return errno == EAGAIN ? Received::Again : Received::Error;
}

}  // namespace portico::net
