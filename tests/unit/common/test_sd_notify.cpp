#include "common/sd_notify.hpp"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <string>

using namespace pilehub;

namespace {

/// A datagram socket bound to `name` (a path, or `@abstract`), as systemd's notify socket is.
struct Listener {
    int fd = -1;
    explicit Listener(const std::string& name) {
        fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_un a{};
        a.sun_family = AF_UNIX;
        std::memcpy(a.sun_path, name.data(), name.size());
        if (name[0] == '@')
            a.sun_path[0] = '\0';
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a),
                       static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())) == 0);
    }
    ~Listener() { ::close(fd); }
    /// The next datagram (the send has completed before we read: no waiting).
    std::string next() {
        char buf[512];
        const auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
    }
};

} // namespace

TEST_CASE("sd_notify: the ready message says READY=1 with the main pid and a status") {
    CHECK(sd_notify::ready_message(4242, "connected") == "READY=1\nMAINPID=4242\nSTATUS=connected");
}

TEST_CASE("sd_notify: one datagram reaches a socket named by a path and one named in the abstract namespace") {
    const auto path =
        (std::filesystem::temp_directory_path() / ("pilehub-notify-" + std::to_string(::getpid()))).string();
    std::filesystem::remove(path);
    {
        Listener l(path);
        std::string why;
        CHECK(sd_notify::send(path, sd_notify::ready_message(::getpid(), "ok"), &why));
        CHECK(why.empty());
        CHECK(l.next() == sd_notify::ready_message(::getpid(), "ok"));
        CHECK(sd_notify::send(path, "STOPPING=1"));
        CHECK(l.next() == "STOPPING=1");
    }
    std::filesystem::remove(path);
    const auto abstract = "@pilehub-notify-test-" + std::to_string(::getpid());
    Listener l(abstract);
    CHECK(sd_notify::send(abstract, "READY=1"));
    CHECK(l.next() == "READY=1");

    ::setenv("NOTIFY_SOCKET", abstract.c_str(), 1);
    CHECK(sd_notify::notify("STATUS=via the environment"));
    CHECK(l.next() == "STATUS=via the environment");
    ::unsetenv("NOTIFY_SOCKET");
    std::string why;
    CHECK_FALSE(sd_notify::notify("READY=1", &why));
    CHECK(why.empty()); // not under systemd: nothing to say
}

TEST_CASE("sd_notify: an unusable NOTIFY_SOCKET is refused with a reason") {
    std::string why;
    CHECK_FALSE(sd_notify::send("relative/path", "READY=1", &why));
    CHECK(why.find("neither a path") != std::string::npos);
    CHECK_FALSE(sd_notify::send("/nonexistent/pilehub/notify", "READY=1", &why));
    CHECK(why.find("sendto") != std::string::npos);
    CHECK_FALSE(sd_notify::send("/" + std::string(200, 'x'), "READY=1", &why));
    CHECK(why.find("too long") != std::string::npos);
}
