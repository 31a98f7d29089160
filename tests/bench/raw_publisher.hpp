#pragma once
// A load generator's MQTT connection: MQTT 3.1.1 over a plain TCP socket to the broker on
// 127.0.0.1, written to directly, without Paho. Paho's publish path (a heap copy, a command queue,
// a wake-up of its send thread and one write per message) caps one process at about 20 000 QoS 0
// messages/s here, below what the broker delivers to one subscriber; this publisher appends many
// PUBLISH frames to one buffer and hands it to the kernel with one non-blocking send(). It
// publishes QoS 0, or QoS 1 whose PUBACKs it reads and throws away (clean session: nothing is
// resent), and keeps the connection alive with PINGREQ.
//
// Non-blocking, because Mosquitto reads one packet per ready connection per turn of its event
// loop: a generator that blocks on one full connection leaves the broker one connection to read
// from, and the broker's intake falls to a fraction of what it takes from all of them at once.
#include <chrono>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>

namespace pilehub::bench {

class RawPublisher {
public:
    /// Connects to 127.0.0.1:`port` and logs in as `username` (also the client id, clean session).
    /// Throws std::runtime_error when nothing accepts the connection or the broker refuses the
    /// login (with its CONNACK code).
    RawPublisher(int port, const std::string& username, const std::string& password,
                 std::chrono::seconds keepalive = std::chrono::seconds(30));
    /// Sends DISCONNECT (if the kernel takes it at once) and closes.
    ~RawPublisher();
    RawPublisher(const RawPublisher&) = delete;
    RawPublisher& operator=(const RawPublisher&) = delete;

    /// Appends one QoS 0 PUBLISH to the outgoing bytes; the payload is the concatenation of its
    /// parts (a template split around a counter needs no copy of its own).
    void add(std::string_view topic, std::string_view p1, std::string_view p2 = {}, std::string_view p3 = {});
    /// Appends one PUBLISH of `payload` at `qos` (0 or 1; QoS 1 takes the next packet id, its
    /// PUBACK is discarded by flush()), `retained` or not.
    void publish(std::string_view topic, std::string_view payload, int qos, bool retained);
    /// Hands as much of the outgoing bytes to the kernel as it takes now, without waiting (plus a
    /// PINGREQ when half the keep-alive has passed since the last one), and discards what the
    /// broker sent (PINGRESPs). Returns how many PUBLISH frames were completely handed over by
    /// this call; once the connection has failed, ok() is false and nothing more is sent.
    std::size_t flush();
    /// Bytes added and not yet handed to the kernel.
    std::size_t unsent_bytes() const { return out_.size() - out_pos_; }
    /// The socket, to poll() for POLLOUT while unsent_bytes() > 0.
    int fd() const { return fd_; }
    /// false once a write failed or the broker closed the connection.
    bool ok() const { return fd_ >= 0; }
    /// Frames lost with a failed connection.
    std::uint64_t lost() const { return lost_; }

private:
    void fail();
    int fd_ = -1;
    std::string out_;
    std::size_t out_pos_ = 0;
    /// Bytes handed over so far and frames added so far, and for each flush() with new frames
    /// the byte offset its last frame ends at and the frame count up to it.
    std::uint64_t bytes_done_ = 0, bytes_added_ = 0, frames_added_ = 0, frames_done_ = 0;
    std::deque<std::pair<std::uint64_t, std::uint64_t>> marks_;
    std::uint64_t lost_ = 0;
    std::uint16_t packet_id_ = 0;
    std::chrono::steady_clock::time_point last_ping_;
    std::chrono::milliseconds ping_every_;
};

} // namespace pilehub::bench
