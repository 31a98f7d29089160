// The fault proxy (tests/support/fault_proxy.hpp) between a blocking loopback client and a real
// loopback echo server: what each fault does to the bytes and to the peers.
#include "tests/support/fault_proxy.hpp"
#include "tests/support/loopback.hpp"
#include "tests/support/mqtt_frames.hpp"

#include <doctest/doctest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace pilehub;
using namespace std::chrono_literals;
using test::FaultProxy;

namespace {

/// Echoes every byte back on every connection; counts what it received. One thread, poll().
class EchoServer {
public:
    EchoServer() {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        REQUIRE(::listen(fd_, 64) == 0);
        REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
        port_ = ntohs(a.sin_port);
        thread_ = std::thread([this] { run(); });
    }
    ~EchoServer() {
        stop_ = true;
        thread_.join();
        ::close(fd_);
        for (const auto& p : peers_)
            ::close(p.fd);
    }
    int port() const { return port_; }
    std::uint64_t received() const { return received_; }
    /// How the last closed peer went away: 0 EOF, else the errno of its recv (ECONNRESET).
    int last_close() const { return last_close_; }
    int closed() const { return closed_; }

private:
    void run() {
        while (!stop_) {
            std::vector<pollfd> fds{{fd_, POLLIN, 0}};
            for (const auto& p : peers_)
                fds.push_back({p.fd, POLLIN, 0});
            if (::poll(fds.data(), fds.size(), 20) <= 0)
                continue;
            if (fds[0].revents & POLLIN)
                peers_.push_back({::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)});
            for (std::size_t i = 1; i < fds.size(); ++i) {
                if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                char buf[65536];
                const auto n = ::recv(fds[i].fd, buf, sizeof buf, 0);
                if (n > 0) {
                    received_ += static_cast<std::uint64_t>(n);
                    test::send_all(fds[i].fd, std::string_view(buf, static_cast<std::size_t>(n)));
                    continue;
                }
                last_close_ = n == 0 ? 0 : errno;
                ++closed_;
                ::close(fds[i].fd);
                std::erase_if(peers_, [&](const Peer& p) { return p.fd == fds[i].fd; });
            }
        }
    }
    struct Peer {
        int fd;
    };
    int fd_ = -1;
    int port_ = 0;
    std::vector<Peer> peers_;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> received_{0};
    std::atomic<int> last_close_{-1};
    std::atomic<int> closed_{0};
    std::thread thread_;
};

/// Reads exactly `n` bytes (the socket's receive time-out bounds each wait); what it got.
std::string recv_n(int fd, std::size_t n) {
    std::string out;
    char buf[65536];
    while (out.size() < n) {
        const auto got = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
        if (got <= 0)
            break;
        out.append(buf, static_cast<std::size_t>(got));
    }
    return out;
}

/// The result of one recv: bytes, 0 for EOF, -errno.
long recv_result(int fd) {
    char c;
    const auto n = ::recv(fd, &c, 1, 0);
    return n >= 0 ? static_cast<long>(n) : -errno;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 5s) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > until)
            return false;
        std::this_thread::yield();
    }
    return true;
}

} // namespace

TEST_CASE("fault proxy: forwards both ways unchanged, also more than its buffers hold") {
    EchoServer echo;
    FaultProxy proxy(echo.port());
    const int fd = test::connect_loopback(proxy.port(), 5s);
    REQUIRE(fd >= 0);
    std::string big(3 * FaultProxy::kMaxQueued + 12345, '\0');
    for (std::size_t i = 0; i < big.size(); ++i)
        big[i] = static_cast<char>(i * 7 + i / 251);
    std::thread writer([&] { CHECK(test::send_all(fd, big)); });
    const auto back = recv_n(fd, big.size());
    writer.join();
    CHECK(back.size() == big.size());
    CHECK(back == big);
    CHECK(proxy.bytes_up() == big.size());
    CHECK(proxy.bytes_down() == big.size());
    CHECK(proxy.accepted() == 1);
    ::close(fd);
}

TEST_CASE("fault proxy: a delay holds each direction at least as long as set") {
    EchoServer echo;
    FaultProxy proxy(echo.port());
    proxy.delay(120ms, 80ms);
    const int fd = test::connect_loopback(proxy.port(), 5s);
    REQUIRE(fd >= 0);
    for (int i = 0; i < 3; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        REQUIRE(test::send_all(fd, "ping"));
        CHECK(recv_n(fd, 4) == "ping");
        const auto rtt = std::chrono::steady_clock::now() - t0;
        CHECK(rtt >= 200ms);
        CHECK(rtt < 2s);
    }
    // Healed: no delay left (a loopback round trip is far under the 200 ms above).
    proxy.heal();
    const auto t0 = std::chrono::steady_clock::now();
    REQUIRE(test::send_all(fd, "pong"));
    CHECK(recv_n(fd, 4) == "pong");
    CHECK(std::chrono::steady_clock::now() - t0 < 100ms);
    ::close(fd);
}

TEST_CASE("fault proxy: a stalled link passes nothing, keeps the socket open, and delivers all once healed") {
    EchoServer echo;
    FaultProxy proxy(echo.port());
    const int fd = test::connect_loopback(proxy.port(), 300ms);
    REQUIRE(fd >= 0);
    REQUIRE(test::send_all(fd, "before"));
    CHECK(recv_n(fd, 6) == "before");
    const auto up = proxy.bytes_up();

    proxy.stall();
    REQUIRE(test::send_all(fd, "during the stall"));
    // The client's read times out (300 ms): neither EOF nor an error, and the server got nothing.
    CHECK(recv_result(fd) == -EAGAIN);
    CHECK(echo.received() == up);
    CHECK(proxy.bytes_up() == up);
    CHECK(proxy.connections().at(0).stalled);
    CHECK(echo.closed() == 0);

    proxy.heal();
    CHECK(recv_n(fd, 16) == "during the stall");
    ::close(fd);
}

TEST_CASE("fault proxy: a stall of all covers connections accepted later") {
    EchoServer echo;
    FaultProxy proxy(echo.port());
    proxy.stall();
    const int fd = test::connect_loopback(proxy.port(), 300ms);
    REQUIRE(fd >= 0);
    REQUIRE(test::send_all(fd, "x"));
    CHECK(recv_result(fd) == -EAGAIN);
    CHECK(echo.received() == 0);
    proxy.heal();
    CHECK(recv_n(fd, 1) == "x");
    ::close(fd);
}

TEST_CASE("fault proxy: reset gives the client ECONNRESET (and the server too), cut gives EOF") {
    EchoServer echo;
    FaultProxy proxy(echo.port());
    const int a = test::connect_loopback(proxy.port(), 5s);
    const int b = test::connect_loopback(proxy.port(), 5s);
    REQUIRE(a >= 0);
    REQUIRE(b >= 0);
    for (int fd : {a, b}) {
        REQUIRE(test::send_all(fd, "hi"));
        CHECK(recv_n(fd, 2) == "hi");
    }
    const auto conns = proxy.connections();
    REQUIRE(conns.size() == 2);

    proxy.reset(conns[0].id);
    CHECK(recv_result(a) == -ECONNRESET);
    REQUIRE(eventually([&] { return echo.closed() == 1; }));
    CHECK(echo.last_close() == ECONNRESET);
    // The other connection is untouched.
    REQUIRE(test::send_all(b, "still"));
    CHECK(recv_n(b, 5) == "still");

    proxy.cut(conns[1].id);
    CHECK(recv_result(b) == 0);
    REQUIRE(eventually([&] { return echo.closed() == 2; }));
    CHECK(echo.last_close() == 0);
    for (const auto& c : proxy.connections())
        CHECK_FALSE(c.open);
    ::close(a);
    ::close(b);
}

TEST_CASE("fault proxy: connections are found by the MQTT client id of their CONNECT") {
    EchoServer echo;
    FaultProxy proxy(echo.port());
    const int fd = test::connect_loopback(proxy.port(), 5s);
    REQUIRE(fd >= 0);
    mqtt_frames::Connect c;
    c.client_id = "pile-0042";
    c.username = "pile-0042";
    c.password = "secret";
    REQUIRE(test::send_all(fd, mqtt_frames::connect(c)));
    const auto id = proxy.wait_for_client("pile-0042", 5s);
    REQUIRE(id.has_value());
    CHECK(proxy.find("pile-0042") == id);
    CHECK_FALSE(proxy.find("pile-0043").has_value());
    proxy.cut(*id);
    CHECK_FALSE(proxy.find("pile-0042").has_value());
    ::close(fd);
}

TEST_CASE("fault proxy: the client id of an MQTT 3.1.1 and an MQTT 5 CONNECT, arriving in pieces") {
    mqtt_frames::Connect c;
    c.client_id = "dev-7";
    const auto v311 = mqtt_frames::connect(c);
    CHECK(test::mqtt_connect_client_id(v311) == "dev-7");
    for (std::size_t n = 0; n < v311.size(); ++n)
        CHECK_FALSE(test::mqtt_connect_client_id(v311.substr(0, n)).has_value());
    // MQTT 5: level 5 and a property block (session expiry, 5 bytes) before the payload.
    std::string body;
    mqtt_frames::put_string(body, "MQTT");
    body += std::string{5, 0x02, 0x00, 0x3c};
    body += std::string{5, 0x11, 0, 0, 0x0e, 0x10};
    mqtt_frames::put_string(body, "dev-8");
    std::string v5(1, static_cast<char>(mqtt_frames::kConnect));
    mqtt_frames::put_remaining_length(v5, body.size());
    v5 += body;
    CHECK(test::mqtt_connect_client_id(v5) == "dev-8");
    CHECK_FALSE(test::mqtt_connect_client_id("GET / HTTP/1.1\r\n").has_value());
}

TEST_CASE("fault proxy: a server that is down refuses the client") {
    const int dead_port = test::free_tcp_port();
    FaultProxy proxy(dead_port);
    const int fd = test::connect_loopback(proxy.port(), 2s);
    REQUIRE(fd >= 0);
    const auto r = recv_result(fd);
    CHECK((r == 0 || r == -ECONNRESET));
    ::close(fd);
}
