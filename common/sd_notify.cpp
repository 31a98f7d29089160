#include "common/sd_notify.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pilehub::sd_notify {

std::string ready_message(long pid, std::string_view status) {
    return fmt::format("READY=1\nMAINPID={}\nSTATUS={}", pid, status);
}

bool send(const std::string& socket_path, std::string_view state, std::string* why) {
    const auto say = [why](std::string text) {
        if (why)
            *why = std::move(text);
        return false;
    };
    if (socket_path.empty())
        return false;
    if (socket_path[0] != '/' && socket_path[0] != '@')
        return say("NOTIFY_SOCKET is neither a path nor an abstract name: " + socket_path);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof addr.sun_path)
        return say("NOTIFY_SOCKET is too long");
    std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
    if (socket_path[0] == '@')
        addr.sun_path[0] = '\0'; // abstract namespace
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
    const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return say(std::string("socket: ") + std::strerror(errno));
    const auto n =
        ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
    const int err = errno;
    ::close(fd);
    if (n != static_cast<ssize_t>(state.size()))
        return say(std::string("sendto: ") + std::strerror(err));
    return true;
}

bool notify(std::string_view state, std::string* why) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    return path && send(path, state, why);
}

} // namespace pilehub::sd_notify
