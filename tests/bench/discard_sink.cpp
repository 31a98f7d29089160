#include "discard_sink.hpp"

#include "tests/support/mqtt_frames.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace pilehub::bench {

namespace frames = test::mqtt_frames;

DiscardSink::DiscardSink() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::listen(listen_fd_, 64) != 0 || ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        const std::string why = std::strerror(errno);
        if (listen_fd_ >= 0)
            ::close(listen_fd_);
        throw std::runtime_error("discard sink: cannot listen: " + why);
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
}

DiscardSink::~DiscardSink() {
    stop_ = true;
    thread_.join();
    ::close(listen_fd_);
}

void DiscardSink::run() {
    struct Conn {
        int fd;
        std::string head; // bytes of the CONNECT so far; cleared once answered
        bool connected = false;
    };
    std::vector<Conn> conns;
    std::vector<char> buf(256 * 1024);
    std::vector<pollfd> fds;
    while (!stop_) {
        fds.assign(1, {listen_fd_, POLLIN, 0});
        for (const auto& c : conns)
            fds.push_back({c.fd, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), 50) <= 0)
            continue;
        if (fds[0].revents & POLLIN) {
            const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
            if (fd >= 0)
                conns.push_back({fd, {}, false});
        }
        for (std::size_t i = 1; i < fds.size(); ++i) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            auto& c = conns[i - 1];
            const auto n = ::recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
                ::close(c.fd);
                c.fd = -1;
                continue;
            }
            if (n < 0)
                continue;
            if (c.connected) {
                bytes_ += static_cast<std::uint64_t>(n);
                continue;
            }
            c.head.append(buf.data(), static_cast<std::size_t>(n));
            const auto h = frames::read_header(c.head);
            if (!h || c.head.size() < h->size + h->remaining)
                continue;
            const std::string connack{static_cast<char>(frames::kConnack), 2, 0, 0};
            ::send(c.fd, connack.data(), connack.size(), MSG_NOSIGNAL);
            bytes_ += c.head.size() - h->size - h->remaining;
            c.head.clear();
            c.connected = true;
        }
        std::erase_if(conns, [](const Conn& c) { return c.fd < 0; });
    }
    for (const auto& c : conns)
        ::close(c.fd);
}

} // namespace pilehub::bench
