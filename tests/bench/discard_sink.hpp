#pragma once
// A stand-in for the broker that takes everything, to measure what the load generator can offer
// when the broker is not the limit: it accepts MQTT connections on 127.0.0.1, answers every
// CONNECT with CONNACK 0 (any login), and reads and discards everything after it.
#include <atomic>
#include <cstdint>
#include <thread>

namespace pilehub::bench {

class DiscardSink {
public:
    /// Listens on a free loopback port and serves from its own thread. Throws std::runtime_error
    /// if it cannot listen.
    DiscardSink();
    /// Stops the thread and closes every connection.
    ~DiscardSink();
    DiscardSink(const DiscardSink&) = delete;
    DiscardSink& operator=(const DiscardSink&) = delete;

    int port() const { return port_; }
    /// Bytes read after the CONNECTs so far.
    std::uint64_t bytes() const { return bytes_; }

private:
    void run();
    int listen_fd_ = -1;
    int port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<std::uint64_t> bytes_{0};
    std::thread thread_;
};

} // namespace pilehub::bench
