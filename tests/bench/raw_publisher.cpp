#include "raw_publisher.hpp"

#include "tests/support/loopback.hpp"
#include "tests/support/mqtt_frames.hpp"

#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

namespace pilehub::bench {

namespace frames = test::mqtt_frames;
using namespace std::chrono_literals;

RawPublisher::RawPublisher(int port, const std::string& username, const std::string& password,
                           std::chrono::seconds keepalive)
    : last_ping_(std::chrono::steady_clock::now()), ping_every_(keepalive / 2) {
    fd_ = test::connect_loopback(port, 5s);
    if (fd_ < 0)
        throw std::runtime_error("raw publisher: cannot connect to 127.0.0.1:" + std::to_string(port));
    // Batches are written whole; without this a small batch (a low rate) could wait for the
    // broker's delayed ACK of the previous one.
    const int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    frames::Connect c;
    c.client_id = username;
    c.username = username;
    c.password = password;
    c.keepalive_s = static_cast<std::uint16_t>(keepalive.count());
    std::string ack;
    if (test::send_all(fd_, frames::connect(c))) {
        char buf[4];
        while (ack.size() < sizeof buf) {
            const auto n = ::recv(fd_, buf, sizeof buf - ack.size(), 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            ack.append(buf, static_cast<std::size_t>(n));
        }
    }
    const auto code = frames::connack_code(ack);
    if (code != 0) {
        fail();
        throw std::runtime_error("raw publisher: " + username + " not accepted (CONNACK " +
                                 (code ? std::to_string(*code) : std::string("missing")) + ")");
    }
}

RawPublisher::~RawPublisher() {
    if (fd_ >= 0 && unsent_bytes() == 0)
        ::send(fd_, frames::disconnect().data(), 2, MSG_DONTWAIT | MSG_NOSIGNAL);
    fail();
}

void RawPublisher::fail() {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
    lost_ += frames_added_ - frames_done_;
    frames_done_ = frames_added_;
    marks_.clear();
    out_.clear();
    out_pos_ = 0;
}

void RawPublisher::add(std::string_view topic, std::string_view p1, std::string_view p2, std::string_view p3) {
    if (fd_ < 0) {
        ++lost_;
        return;
    }
    const auto before = out_.size();
    frames::append_publish_qos0(out_, topic, p1, p2, p3);
    bytes_added_ += out_.size() - before;
    ++frames_added_;
}

void RawPublisher::publish(std::string_view topic, std::string_view payload, int qos, bool retained) {
    if (fd_ < 0) {
        ++lost_;
        return;
    }
    if (qos > 0 && ++packet_id_ == 0)
        packet_id_ = 1;
    const auto before = out_.size();
    frames::append_publish(out_, topic, payload, qos > 0 ? 1 : 0, retained, false, packet_id_);
    bytes_added_ += out_.size() - before;
    ++frames_added_;
}

std::size_t RawPublisher::flush() {
    if (fd_ < 0)
        return 0;
    if (frames_added_ > (marks_.empty() ? frames_done_ : marks_.back().second))
        marks_.emplace_back(bytes_added_, frames_added_);
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ping_ >= ping_every_) {
        out_ += frames::pingreq();
        bytes_added_ += 2;
        last_ping_ = now;
    }
    bool broken = false;
    while (out_pos_ < out_.size()) {
        const auto n = ::send(fd_, out_.data() + out_pos_, out_.size() - out_pos_, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n > 0) {
            out_pos_ += static_cast<std::size_t>(n);
            bytes_done_ += static_cast<std::uint64_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        } else {
            broken = true;
            break;
        }
    }
    if (out_pos_ == out_.size()) {
        out_.clear();
        out_pos_ = 0;
    } else if (out_pos_ > (1u << 20)) {
        out_.erase(0, out_pos_);
        out_pos_ = 0;
    }
    const auto before = frames_done_;
    while (!marks_.empty() && marks_.front().first <= bytes_done_) {
        frames_done_ = marks_.front().second;
        marks_.pop_front();
    }
    // The broker only ever sends PINGRESP and PUBACK here (nothing is subscribed); 0 means it closed.
    char sink[256];
    while (!broken) {
        const auto n = ::recv(fd_, sink, sizeof sink, MSG_DONTWAIT);
        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        broken = n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK);
        break;
    }
    const auto done = frames_done_ - before;
    if (broken)
        fail();
    return static_cast<std::size_t>(done);
}

} // namespace pilehub::bench
