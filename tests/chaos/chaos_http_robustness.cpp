// Target #22, HTTP robustness behind nginx: pilehub-api holds one of its threads per open
// connection, so it must sit behind the proxy we ship, broker-config/nginx-pilehub.conf (run here
// as it is, but on loopback ports and without its TLS lines). Against that proxy, at once: slowloris clients trickling
// their headers from many addresses, idle keep-alive connections, slow bodies and header floods. A rider's requests
// from another address keep being answered: none fails and their p99 stays low. The same slowloris straight at the API
// shows why the proxy is needed (figure only).
#include "tests/chaos/chaos.hpp"
#include "tests/integration/api_stack.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <sstream>
#include <thread>

using namespace pilehub;
using namespace pilehub::test;
using namespace pilehub::test::api;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

/// A TCP connection from `src` (any 127.x.y.z: all of 127/8 is loopback) to 127.0.0.1:`port`,
/// non-blocking once connected; -1 if refused.
int connect_from(const std::string& src, int port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, src.c_str(), &a.sin_addr);
    sockaddr_in b{};
    b.sin_family = AF_INET;
    b.sin_port = htons(static_cast<std::uint16_t>(port));
    ::inet_pton(AF_INET, "127.0.0.1", &b.sin_addr);
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::connect(fd, reinterpret_cast<sockaddr*>(&b), sizeof b) != 0) {
        ::close(fd);
        return -1;
    }
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/// Sends what the socket takes now (non-blocking); false once the peer has closed it.
bool send_some(int fd, std::string_view data) {
    const auto n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    return n >= 0 || errno == EAGAIN || errno == EWOULDBLOCK;
}

/// Reads whatever has arrived (non-blocking); false once the peer has closed the connection.
bool drain(int fd, std::string* into = nullptr) {
    char buf[4096];
    for (;;) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n > 0) {
            if (into)
                into->append(buf, static_cast<std::size_t>(n));
            continue;
        }
        return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

/// One complete request on a fresh connection from `src`, answered within `limit`: its status
/// (0: no answer) and how long it took.
std::pair<int, std::int64_t> probe(const std::string& src, int port, const std::string& path,
                                   std::chrono::milliseconds limit, const std::string& token = "") {
    const auto t0 = monotonic_ms();
    const int fd = connect_from(src, port);
    if (fd < 0)
        return {0, monotonic_ms() - t0};
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: pilehub\r\nConnection: close\r\n" +
                            (token.empty() ? "" : "Authorization: Bearer " + token + "\r\n") + "\r\n";
    std::string got;
    bool sent = false;
    while (monotonic_ms() - t0 < limit.count()) {
        pollfd p{fd, static_cast<short>(sent ? POLLIN : POLLOUT), 0};
        ::poll(&p, 1, 50);
        if (!sent) {
            sent = ::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
            continue;
        }
        if (!drain(fd, &got))
            break; // closed: the whole answer is in
    }
    ::close(fd);
    int status = 0;
    if (got.rfind("HTTP/1.1 ", 0) == 0 && got.size() >= 12)
        status = std::atoi(got.substr(9, 3).c_str());
    return {status, monotonic_ms() - t0};
}

std::int64_t percentile(std::vector<std::int64_t> v, double p) {
    if (v.empty())
        return -1;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
}

/// The rider's side: a request every 100 ms from 127.0.0.2 while `running` (the proxy allows 20/s).
struct Prober {
    std::string token;
    std::vector<std::int64_t> ms;
    int failed = 0;
    std::map<int, int> statuses; ///< how many of each status (0: no answer)
    void run(int port, const std::atomic<bool>& running) {
        while (running) {
            const auto [status, took] =
                probe("127.0.0.2", port, "/api/v1/stations/nearby?lat=22.54&lon=114.05", 5000ms, token);
            ms.push_back(took);
            failed += status != 200;
            ++statuses[status];
            std::this_thread::sleep_for(100ms);
        }
    }
};

/// The attackers, all at once for `seconds`: slowloris (`slow` connections over `ips` addresses,
/// one header line each every 2 s), idle keep-alive connections (`idle`), slow bodies and header
/// floods. Counts how many of its connections the server closed.
struct Attack {
    int slow_cut = 0, idle_cut = 0, floods = 0, floods_refused = 0, refused_connects = 0;

    void run(int port, int slow, int idle, int ips, int seconds) {
        auto ip = [&](int i) { return fmt::format("127.0.{}.{}", 10 + i % ips / 250, 1 + i % ips % 250); };
        std::vector<int> slow_fds, idle_fds;
        for (int i = 0; i < slow; ++i) {
            const int fd = connect_from(ip(i), port);
            if (fd < 0) {
                ++refused_connects;
                continue;
            }
            // Half the slow ones trickle a header, the other half a declared 100 kB body.
            send_some(fd, i % 2 ? "GET /api/v1/health HTTP/1.1\r\nHost: pilehub\r\n"
                                : "POST /api/v1/sessions HTTP/1.1\r\nHost: pilehub\r\nContent-Type: "
                                  "application/json\r\nContent-Length: 100000\r\n\r\n{\"socket\":\"");
            slow_fds.push_back(fd);
        }
        for (int i = 0; i < idle; ++i) {
            const int fd = connect_from(ip(slow + i), port);
            if (fd < 0) {
                ++refused_connects;
                continue;
            }
            send_some(fd, "GET /api/v1/health HTTP/1.1\r\nHost: pilehub\r\n\r\n");
            idle_fds.push_back(fd);
        }
        const std::string huge_header = "X-Flood: " + std::string(64 * 1024, 'a') + "\r\n";
        std::string many_headers;
        for (int h = 0; h < 2000; ++h)
            many_headers += fmt::format("X-H{}: v\r\n", h);
        const auto end = monotonic_ms() + seconds * 1000;
        std::vector<bool> slow_open(slow_fds.size(), true), idle_open(idle_fds.size(), true);
        for (int tick = 0; monotonic_ms() < end; ++tick) {
            if (tick % 20 == 0) // every 2 s: one more byte pair from each slow client
                for (std::size_t i = 0; i < slow_fds.size(); ++i)
                    if (slow_open[i] && !(send_some(slow_fds[i], i % 2 ? "X-a: b\r\n" : "1") && drain(slow_fds[i]))) {
                        slow_open[i] = false;
                        ++slow_cut;
                    }
            for (std::size_t i = 0; i < idle_fds.size(); ++i)
                if (idle_open[i] && !drain(idle_fds[i])) {
                    idle_open[i] = false;
                    ++idle_cut;
                }
            // A header flood each tick from another address: refused with a 4xx, or the connection closed.
            const int fd = connect_from("127.0.9.9", port);
            if (fd >= 0) {
                ++floods;
                const bool sent = send_some(fd, "GET /api/v1/health HTTP/1.1\r\nHost: pilehub\r\n") &&
                                  send_some(fd, tick % 2 ? huge_header : many_headers) && send_some(fd, "\r\n");
                std::string got;
                const auto t0 = monotonic_ms();
                while (sent && monotonic_ms() - t0 < 2000 && drain(fd, &got) && got.empty())
                    std::this_thread::sleep_for(5ms);
                floods_refused += !sent || got.empty() || got.rfind("HTTP/1.1 4", 0) == 0;
                ::close(fd);
            }
            std::this_thread::sleep_for(100ms);
        }
        for (int fd : slow_fds)
            ::close(fd);
        for (int fd : idle_fds)
            ::close(fd);
    }
};

/// Baseline latencies for `ms` without attack, then the same under attack for `seconds`.
struct Run {
    Prober before, during;
    Attack attack;
};
Run measure(int port, int slow, int idle, int ips, int seconds, const std::string& token) {
    Run r;
    r.before.token = r.during.token = token;
    std::atomic<bool> running{true};
    std::thread b([&] { r.before.run(port, running); });
    std::this_thread::sleep_for(2s);
    running = false;
    b.join();
    running = true;
    std::thread d([&] { r.during.run(port, running); });
    r.attack.run(port, slow, idle, ips, seconds);
    running = false;
    d.join();
    return r;
}

/// broker-config/nginx-pilehub.conf as a whole nginx.conf for a test: its upstream on `api_port`,
/// its HTTPS server plain on 127.0.0.1:`port` and its redirect on 127.0.0.1:`redirect_port` (no
/// IPv6 listeners, no certificate), pid, logs and temporary files under `prefix`.
std::string nginx_conf(const std::string& prefix, int api_port, int port, int redirect_port) {
    std::istringstream shipped(slurp(std::string(PILEHUB_SOURCE_DIR) + "/broker-config/nginx-pilehub.conf"));
    std::string http;
    for (std::string line; std::getline(shipped, line);) {
        const auto first = line.find_first_not_of(' ');
        const auto text = first == std::string::npos ? std::string() : line.substr(first);
        if (text.rfind("listen [::]", 0) == 0 || text.rfind("ssl_", 0) == 0)
            continue;
        if (text.rfind("server 127.0.0.1:18080;", 0) == 0)
            line = fmt::format("        server 127.0.0.1:{};", api_port);
        else if (text.rfind("listen 443 ssl", 0) == 0)
            line = fmt::format("    listen 127.0.0.1:{};", port);
        else if (text.rfind("listen 80;", 0) == 0)
            line = fmt::format("    listen 127.0.0.1:{};", redirect_port);
        http += line + "\n";
    }
    REQUIRE_MESSAGE(http.find(fmt::format("127.0.0.1:{};", port)) != std::string::npos,
                    "the shipped nginx config no longer has the lines this test adapts");
    return fmt::format("worker_processes 2;\nworker_rlimit_nofile 16384;\npid {0}/nginx.pid;\n"
                       "error_log {0}/error.log warn;\nevents {{ worker_connections 8192; }}\n"
                       "http {{\naccess_log {0}/access.log;\nclient_body_temp_path {0}/tmp/body;\n"
                       "proxy_temp_path {0}/tmp/proxy;\nfastcgi_temp_path {0}/tmp/fastcgi;\n"
                       "uwsgi_temp_path {0}/tmp/uwsgi;\nscgi_temp_path {0}/tmp/scgi;\n{1}}}\n",
                       prefix, http);
}

void raise_fd_limit() {
    rlimit l{};
    ::getrlimit(RLIMIT_NOFILE, &l);
    l.rlim_cur = l.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &l);
}

} // namespace

TEST_CASE("chaos #22: behind nginx the API keeps answering riders through slowloris, idle keep-alives and floods") {
    raise_fd_limit();
    const int slow = chaos::scaled(400, 2000), idle = chaos::scaled(200, 1000), ips = chaos::scaled(20, 60);
    const int seconds = chaos::scaled(12, 60);
    Stack st(StackOptions{true, {"pilehub-api.trusted_proxies=127.0.0.1"}, {}, true});
    // A station for the rider's list, so the request reads the database.
    st.post("/api/v1/admin/stations", R"({"name":"Robustness","lat":22.54,"lon":114.05})", st.admin());

    const auto dir = st.dir() + "/nginx";
    fs::create_directories(dir + "/tmp");
    const int nginx_port = free_tcp_port();
    const auto conf = dir + "/nginx.conf";
    std::ofstream(conf) << nginx_conf(dir, st.port(), nginx_port, free_tcp_port());
    // nginx's workers drop root for nobody: they must reach their temporary folders.
    for (const auto& sub : {"", "/tmp"})
        fs::permissions(dir + sub, fs::perms::all);
    SpawnOptions so;
    so.output = dir + "/nginx.out";
    auto nginx = Process::spawn({"nginx", "-p", dir, "-c", conf, "-g", "daemon off;"}, so);
    REQUIRE_MESSAGE(
        eventually([&] { return probe("127.0.0.2", nginx_port, "/api/v1/health", 1000ms).first == 200; }, 10s),
        slurp(so.output) << slurp(dir + "/error.log"));

    const auto rider = st.rider("13800000022");
    const auto proxied = measure(nginx_port, slow, idle, ips, seconds, rider);
    nginx.stop();
    const auto p99_before = percentile(proxied.before.ms, 0.99), p99 = percentile(proxied.during.ms, 0.99);
    INFO(tail(slurp(dir + "/error.log"), 20));
    for (const auto& [status, n] : proxied.during.statuses)
        MESSAGE("rider requests under attack: status " << status << " × " << n);
    for (const auto& [status, n] : proxied.before.statuses)
        MESSAGE("rider requests before: status " << status << " × " << n);
    CHECK(proxied.during.ms.size() > 10);
    CHECK(chaos::report(chaos::Figure{
        "#22 HTTP robustness behind nginx",
        fmt::format("{} s of {} slow clients (headers and bodies) from {} addresses, {} idle keep-alives, {} header "
                    "floods: rider requests {} failed of {}, p99 {} ms (before: {} ms); nginx cut {} slow and {} idle "
                    "connections, refused {} floods",
                    seconds, slow, ips, idle, proxied.attack.floods, proxied.during.failed, proxied.during.ms.size(),
                    p99, p99_before, proxied.attack.slow_cut, proxied.attack.idle_cut, proxied.attack.floods_refused),
        "0 failed, p99 ≤ 1000 ms, every flood refused",
        proxied.during.failed == 0 && p99 >= 0 && p99 <= 1000 &&
            proxied.attack.floods_refused == proxied.attack.floods}));
    // Slow clients must be cut by the proxy's time-outs (10 s) within a run that lasts longer.
    if (seconds > 12)
        CHECK(proxied.attack.slow_cut > 0);

    // The same slowloris straight at the API: what the proxy is for. A figure, not a bar.
    const auto bare = measure(st.port(), std::min(slow, 200), 0, ips, std::min(seconds, 12), rider);
    chaos::report(chaos::Figure{
        "#22 the bare API under slowloris (why it sits behind nginx)",
        fmt::format("{} slow clients straight at pilehub-api ({} threads): rider requests {} failed of {}, "
                    "p99 {} ms",
                    std::min(slow, 200), 32, bare.during.failed, bare.during.ms.size(),
                    percentile(bare.during.ms, 0.99)),
        "none (measured, not a pass bar)", true});
}
