#include "tests/support/fault_proxy.hpp"

#include "tests/support/mqtt_frames.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace pilehub::test {
namespace {

std::int64_t now_us() {
    return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

[[noreturn]] void fail(const std::string& what) {
    throw std::runtime_error("FaultProxy: " + what + ": " + std::strerror(errno));
}

sockaddr_in loopback(int port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    return a;
}

/// Closes `fd`; with `rst` the kernel sends an RST instead of a FIN (SO_LINGER with time-out 0).
void close_fd(int fd, bool rst) {
    if (fd < 0)
        return;
    if (rst) {
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    ::close(fd);
}

/// A variable byte integer (MQTT 5 property length) at `at`; advances `at`. nullopt if incomplete.
std::optional<std::size_t> read_varint(std::string_view b, std::size_t& at) {
    std::size_t value = 0, mult = 1;
    for (int i = 0; i < 4; ++i) {
        if (at >= b.size())
            return std::nullopt;
        const auto byte = static_cast<std::uint8_t>(b[at++]);
        value += (byte & 0x7f) * mult;
        if ((byte & 0x80) == 0)
            return value;
        mult *= 128;
    }
    return std::nullopt;
}

} // namespace

std::optional<std::string> mqtt_connect_client_id(std::string_view b) {
    std::optional<mqtt_frames::Header> h;
    try {
        h = mqtt_frames::read_header(b);
    } catch (const std::runtime_error&) {
        return std::nullopt;
    }
    if (!h || (h->type_and_flags & 0xf0) != mqtt_frames::kConnect)
        return std::nullopt;
    std::size_t at = h->size;
    auto need = [&](std::size_t n) { return at + n <= b.size(); };
    if (!need(2))
        return std::nullopt;
    at += 2 + mqtt_frames::read_u16(b, at); // protocol name
    if (!need(4))
        return std::nullopt;
    const auto level = static_cast<std::uint8_t>(b[at]);
    at += 4; // level, flags, keep-alive
    if (level >= 5) {
        const auto props = read_varint(b, at);
        if (!props)
            return std::nullopt;
        at += *props;
    }
    if (!need(2))
        return std::nullopt;
    const std::size_t len = mqtt_frames::read_u16(b, at);
    at += 2;
    if (!need(len))
        return std::nullopt;
    return std::string(b.substr(at, len));
}

FaultProxy::FaultProxy(int upstream_port, int listen_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (listen_fd_ < 0)
        fail("socket");
    const int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    auto a = loopback(listen_port);
    socklen_t len = sizeof a;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(listen_fd_, 4096) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(listen_fd_);
        fail("cannot listen on 127.0.0.1:" + std::to_string(listen_port));
    }
    port_ = ntohs(a.sin_port);
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epoll_fd_ < 0 || wake_fd_ < 0)
        fail("epoll/eventfd");
    for (int fd : {listen_fd_, wake_fd_}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    }
    thread_ = std::thread([this] { run(); });
}

FaultProxy::~FaultProxy() {
    {
        std::lock_guard l(m_);
        stop_ = true;
    }
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    thread_.join();
    for (auto& [id, c] : conns_) {
        close_fd(c.client_fd, false);
        close_fd(c.server_fd, false);
    }
    ::close(listen_fd_);
    ::close(wake_fd_);
    ::close(epoll_fd_);
}

std::vector<FaultProxy::Connection> FaultProxy::connections() const {
    std::lock_guard l(m_);
    std::map<int, Connection> all = closed_;
    for (const auto& [id, c] : conns_)
        all[id] = c.info;
    std::vector<Connection> out;
    for (auto& [id, c] : all)
        out.push_back(c);
    return out;
}

std::optional<int> FaultProxy::find(const std::string& client_id) const {
    std::lock_guard l(m_);
    std::optional<int> found;
    for (const auto& [id, c] : conns_)
        if (c.info.client_id == client_id)
            found = id;
    return found;
}

std::optional<int> FaultProxy::wait_for_client(const std::string& client_id, std::chrono::milliseconds timeout) const {
    std::unique_lock l(m_);
    std::optional<int> found;
    cv_.wait_for(l, timeout, [&] {
        for (const auto& [id, c] : conns_)
            if (c.info.client_id == client_id)
                found = id;
        return found.has_value();
    });
    return found;
}

std::size_t FaultProxy::accepted() const {
    std::lock_guard l(m_);
    return static_cast<std::size_t>(next_id_ - 1);
}

std::uint64_t FaultProxy::bytes_up() const {
    std::lock_guard l(m_);
    return bytes_up_;
}

std::uint64_t FaultProxy::bytes_down() const {
    std::lock_guard l(m_);
    return bytes_down_;
}

void FaultProxy::call(std::function<void()> f) {
    std::unique_lock l(m_);
    calls_.push_back(std::move(f));
    const auto ticket = ++calls_posted_;
    const std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    cv_.wait(l, [&] { return calls_done_ >= ticket; });
}

void FaultProxy::apply(const std::function<void(Conn&)>& f, int conn) {
    if (conn == kAll) {
        for (auto& [id, c] : conns_)
            f(c);
    } else if (auto it = conns_.find(conn); it != conns_.end()) {
        f(it->second);
    }
}

void FaultProxy::delay(std::chrono::milliseconds up, std::chrono::milliseconds down, int conn) {
    call([=, this] {
        if (conn == kAll) {
            all_delay_up_ = up;
            all_delay_down_ = down;
        }
        apply(
            [&](Conn& c) {
                c.up.delay = c.info.delay_up = up;
                c.down.delay = c.info.delay_down = down;
            },
            conn);
    });
}

void FaultProxy::stall(int conn) {
    call([=, this] {
        if (conn == kAll)
            all_stalled_ = true;
        apply(
            [&](Conn& c) {
                c.info.stalled = true;
                update_interest(c);
            },
            conn);
    });
}

void FaultProxy::heal(int conn) {
    call([=, this] {
        if (conn == kAll) {
            all_stalled_ = false;
            all_delay_up_ = all_delay_down_ = std::chrono::milliseconds(0);
        }
        // Held chunks go out now: a healed link has no delay left to wait for.
        const auto now = now_us();
        apply(
            [&](Conn& c) {
                c.info.stalled = false;
                c.up.delay = c.down.delay = c.info.delay_up = c.info.delay_down = std::chrono::milliseconds(0);
                for (auto* d : {&c.up, &c.down})
                    for (auto& chunk : d->queue)
                        chunk.due_us = std::min(chunk.due_us, now);
            },
            conn);
        for (int id : ids_of(conn))
            flush_both(id, now);
    });
}

void FaultProxy::reset(int conn) {
    call([=, this] {
        for (int id : ids_of(conn))
            close_conn(id, Close::Reset);
    });
}

void FaultProxy::cut(int conn) {
    call([=, this] {
        for (int id : ids_of(conn))
            close_conn(id, Close::Normal);
    });
}

std::vector<int> FaultProxy::ids_of(int conn) const {
    std::vector<int> ids;
    for (const auto& [id, c] : conns_)
        if (conn == kAll || id == conn)
            ids.push_back(id);
    return ids;
}

void FaultProxy::flush_both(int id, std::int64_t now) {
    auto it = conns_.find(id);
    if (it == conns_.end() || !flush(it->second, true, now))
        return;
    if ((it = conns_.find(id)) == conns_.end() || !flush(it->second, false, now))
        return;
    if ((it = conns_.find(id)) != conns_.end())
        update_interest(it->second);
}

void FaultProxy::close_conn(int id, Close how) {
    const auto it = conns_.find(id);
    if (it == conns_.end())
        return;
    auto& c = it->second;
    fd_to_conn_.erase(c.client_fd);
    fd_to_conn_.erase(c.server_fd);
    close_fd(c.client_fd, how == Close::Reset);
    close_fd(c.server_fd, how == Close::Reset);
    c.info.open = false;
    closed_[id] = c.info;
    conns_.erase(it);
}

void FaultProxy::update_interest(Conn& c) {
    // A direction reads its source while it is not stalled, not at EOF and has room; it wants to write
    // when its last write found the destination full.
    const bool st = c.info.stalled;
    std::uint32_t cl = 0, sv = 0;
    if (!st && !c.up.eof && c.up.queued < kMaxQueued)
        cl |= EPOLLIN;
    if (!st && !c.down.eof && c.down.queued < kMaxQueued && !c.connecting)
        sv |= EPOLLIN;
    if (!st && c.down.blocked)
        cl |= EPOLLOUT;
    if (c.connecting || (!st && c.up.blocked))
        sv |= EPOLLOUT;
    auto set = [&](int fd, std::uint32_t& current, std::uint32_t want, bool& parked) {
        if (parked && !st) {
            epoll_event ev{};
            ev.data.fd = fd;
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
            parked = false;
            current = 0;
        }
        if (fd < 0 || parked || current == want)
            return;
        epoll_event ev{};
        ev.events = want;
        ev.data.fd = fd;
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
        current = want;
    };
    set(c.client_fd, c.client_events, cl, c.client_parked);
    set(c.server_fd, c.server_events, sv, c.server_parked);
}

void FaultProxy::on_accept() {
    for (;;) {
        const int cfd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (cfd < 0)
            return;
        const int sfd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        const auto a = loopback(upstream_port_);
        if (sfd < 0 || (::connect(sfd, reinterpret_cast<const sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS)) {
            // The server is down: the client sees its connection refused as an RST.
            close_fd(sfd, false);
            close_fd(cfd, true);
            continue;
        }
        const int one = 1;
        ::setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ::setsockopt(sfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        const int id = next_id_++;
        Conn& c = conns_[id];
        c.info.id = id;
        c.info.open = true;
        c.info.stalled = all_stalled_;
        c.up.delay = c.info.delay_up = all_delay_up_;
        c.down.delay = c.info.delay_down = all_delay_down_;
        c.client_fd = cfd;
        c.server_fd = sfd;
        fd_to_conn_[cfd] = id;
        fd_to_conn_[sfd] = id;
        for (int fd : {cfd, sfd}) {
            epoll_event ev{};
            ev.data.fd = fd;
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
        }
        update_interest(c);
    }
}

bool FaultProxy::read_side(Conn& c, bool from_client) {
    auto& d = from_client ? c.up : c.down;
    const int fd = from_client ? c.client_fd : c.server_fd;
    const auto id = c.info.id;
    char buf[16384];
    while (d.queued < kMaxQueued) {
        const auto n = ::recv(fd, buf, sizeof buf, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0) {
            // The peer reset its side: reset the other one too.
            close_conn(id, Close::Reset);
            return false;
        }
        if (n == 0) {
            d.eof = true;
            break;
        }
        const std::string_view got(buf, static_cast<std::size_t>(n));
        if (from_client && c.info.client_id.empty() && c.hello.size() < 4096) {
            c.hello.append(got.substr(0, 4096 - c.hello.size()));
            if (auto cid = mqtt_connect_client_id(c.hello)) {
                c.info.client_id = *cid;
                cv_.notify_all();
            }
        }
        d.queue.push_back(Chunk{now_us() + d.delay.count() * 1000, std::string(got)});
        d.queued += got.size();
    }
    return true;
}

bool FaultProxy::flush(Conn& c, bool to_server, std::int64_t now) {
    if (c.info.stalled || c.connecting)
        return true;
    auto& d = to_server ? c.up : c.down;
    const int fd = to_server ? c.server_fd : c.client_fd;
    const auto id = c.info.id;
    d.blocked = false;
    while (!d.queue.empty() && d.queue.front().due_us <= now) {
        auto& chunk = d.queue.front();
        const auto n = ::send(fd, chunk.bytes.data() + chunk.off, chunk.bytes.size() - chunk.off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            d.blocked = true;
            return true;
        }
        if (n < 0) {
            close_conn(id, Close::Reset);
            return false;
        }
        chunk.off += static_cast<std::size_t>(n);
        d.queued -= static_cast<std::size_t>(n);
        (to_server ? bytes_up_ : bytes_down_) += static_cast<std::uint64_t>(n);
        if (chunk.off == chunk.bytes.size())
            d.queue.pop_front();
    }
    if (d.eof && d.queue.empty() && !d.shut) {
        ::shutdown(fd, SHUT_WR);
        d.shut = true;
    }
    if (c.up.shut && c.down.shut) {
        close_conn(id, Close::Normal);
        return false;
    }
    return true;
}

void FaultProxy::on_event(int fd, std::uint32_t events) {
    const auto f = fd_to_conn_.find(fd);
    if (f == fd_to_conn_.end())
        return;
    const int id = f->second;
    auto& c = conns_.at(id);
    const bool is_client = fd == c.client_fd;
    if (!is_client && c.connecting) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            close_conn(id, Close::Reset);
            return;
        }
        c.connecting = false;
    }
    if (c.info.stalled) {
        if (events & (EPOLLHUP | EPOLLERR)) {
            ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
            (is_client ? c.client_parked : c.server_parked) = true;
            (is_client ? c.client_events : c.server_events) = 0;
        }
        update_interest(c);
        return;
    }
    const auto now = now_us();
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (!read_side(c, is_client))
            return;
    }
    // Whatever arrived may be due at once; whatever was blocked may go now.
    if (!flush(c, true, now) || !conns_.count(id))
        return;
    if (!flush(c, false, now) || !conns_.count(id))
        return;
    update_interest(c);
}

std::int64_t FaultProxy::next_due_us() const {
    std::int64_t next = -1;
    for (const auto& [id, c] : conns_) {
        if (c.info.stalled || c.connecting)
            continue;
        for (const auto* d : {&c.up, &c.down})
            if (!d->queue.empty() && !d->blocked && (next < 0 || d->queue.front().due_us < next))
                next = d->queue.front().due_us;
    }
    return next;
}

void FaultProxy::run() {
    std::vector<epoll_event> events(256);
    for (;;) {
        int timeout_ms = -1;
        {
            std::lock_guard l(m_);
            if (stop_)
                return;
            if (const auto due = next_due_us(); due >= 0)
                timeout_ms = static_cast<int>(std::max<std::int64_t>(0, (due - now_us() + 999) / 1000));
        }
        const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), timeout_ms);
        std::lock_guard l(m_);
        if (stop_)
            return;
        for (int i = 0; i < n; ++i) {
            const int fd = events[static_cast<std::size_t>(i)].data.fd;
            if (fd == wake_fd_) {
                std::uint64_t v;
                [[maybe_unused]] auto r = ::read(wake_fd_, &v, sizeof v);
            } else if (fd == listen_fd_) {
                on_accept();
            } else {
                on_event(fd, events[static_cast<std::size_t>(i)].events);
            }
        }
        // Chunks whose delay has passed.
        const auto now = now_us();
        for (int id : ids_of(kAll))
            flush_both(id, now);
        for (auto& f : calls_)
            f();
        calls_done_ += calls_.size();
        calls_.clear();
        cv_.notify_all();
    }
}

} // namespace pilehub::test
