#pragma once
// A TCP proxy on 127.0.0.1 that injects network faults between clients (devices) and a server (the
// broker), for the chaos suite and integration tests: this kernel has no netem.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace pilehub::test {

/// The MQTT client id in the first bytes a client sends (a CONNECT of MQTT 3.1.1 or 5); nullopt while
/// more bytes are needed or when the bytes are not a CONNECT.
std::optional<std::string> mqtt_connect_client_id(std::string_view first_bytes);

/// Listens on a loopback port and forwards each accepted connection to 127.0.0.1:`upstream_port`.
/// Faults apply to one connection (its id) or to all (`kAll`: every open connection and every
/// connection accepted later, until heal()):
/// - delay(up, down): each chunk is held `up` (client → server) or `down` (server → client) before
///   it is written on;
/// - stall(): nothing is read or written any more, the sockets stay open (a half-open link: the
///   peers notice only through their own time-outs);
/// - reset(): both sockets closed with SO_LINGER 0, so both peers get an RST (ECONNRESET);
/// - cut(): both sockets closed normally, so both peers read EOF;
/// - heal(): delays and stalls lifted (closed connections stay closed).
/// One thread runs epoll over every socket; each direction holds at most kMaxQueued bytes (beyond
/// that it stops reading, so the sender's kernel buffers fill as on a slow link). Every control
/// call returns once the proxy thread has applied it. Stopped and its sockets closed on destruction.
class FaultProxy {
public:
    /// Every connection, for the fault calls.
    static constexpr int kAll = -1;
    /// Bytes one direction of one connection holds before the proxy stops reading its source.
    static constexpr std::size_t kMaxQueued = 256 * 1024;

    /// Starts forwarding to 127.0.0.1:`upstream_port`, listening on `listen_port` (0: a free
    /// port the kernel picks). Throws std::runtime_error if it cannot listen.
    explicit FaultProxy(int upstream_port, int listen_port = 0);
    ~FaultProxy();
    FaultProxy(const FaultProxy&) = delete;
    FaultProxy& operator=(const FaultProxy&) = delete;

    /// The port clients connect to.
    int port() const { return port_; }

    /// One accepted connection.
    struct Connection {
        int id = 0;
        /// The MQTT client id of its CONNECT ("" until seen, or when the client speaks no MQTT).
        std::string client_id;
        bool open = false;
        bool stalled = false;
        std::chrono::milliseconds delay_up{0};
        std::chrono::milliseconds delay_down{0};
    };
    /// Every connection accepted so far (closed ones too), oldest first.
    std::vector<Connection> connections() const;
    /// The newest open connection whose MQTT client id is `client_id`.
    std::optional<int> find(const std::string& client_id) const;
    /// Waits until find(client_id) has an answer; nullopt after `timeout`.
    std::optional<int> wait_for_client(const std::string& client_id, std::chrono::milliseconds timeout) const;
    /// Connections accepted so far.
    std::size_t accepted() const;
    /// Bytes written on towards the server and towards the clients so far.
    std::uint64_t bytes_up() const;
    std::uint64_t bytes_down() const;

    void delay(std::chrono::milliseconds up, std::chrono::milliseconds down, int conn = kAll);
    void stall(int conn = kAll);
    void reset(int conn = kAll);
    void cut(int conn = kAll);
    void heal(int conn = kAll);

private:
    struct Chunk {
        std::int64_t due_us;
        std::string bytes;
        std::size_t off = 0;
    };
    struct Direction {
        std::deque<Chunk> queue;
        std::size_t queued = 0;
        bool eof = false;     ///< the source said EOF
        bool shut = false;    ///< EOF passed on (shutdown SHUT_WR of the destination)
        bool blocked = false; ///< the destination's send buffer was full
        std::chrono::milliseconds delay{0};
    };
    struct Conn {
        Connection info;
        int client_fd = -1;
        int server_fd = -1;
        bool connecting = true;
        std::uint32_t client_events = 0;
        std::uint32_t server_events = 0;
        /// Taken out of epoll while stalled because its peer hung up (epoll reports that whatever
        /// one asks for); put back by heal().
        bool client_parked = false;
        bool server_parked = false;
        std::string hello; ///< the first bytes from the client, for its MQTT client id
        Direction up;      ///< client → server
        Direction down;    ///< server → client
    };
    enum class Close { Normal, Reset };

    void run();
    void on_accept();
    void on_event(int fd, std::uint32_t events);
    bool read_side(Conn& c, bool from_client);
    bool flush(Conn& c, bool to_server, std::int64_t now_us);
    /// Flushes both directions of connection `id` (if still open) and updates its epoll interest.
    void flush_both(int id, std::int64_t now_us);
    /// The open connections `conn` names (kAll: every one).
    std::vector<int> ids_of(int conn) const;
    void update_interest(Conn& c);
    void close_conn(int id, Close how);
    void apply(const std::function<void(Conn&)>& f, int conn);
    /// Runs `f` on the proxy thread and waits until it has run.
    void call(std::function<void()> f);
    std::int64_t next_due_us() const;

    int upstream_port_;
    int port_ = 0;
    int listen_fd_ = -1;
    int epoll_fd_ = -1;
    int wake_fd_ = -1;

    mutable std::mutex m_;
    mutable std::condition_variable cv_;
    std::vector<std::function<void()>> calls_;
    std::uint64_t calls_done_ = 0;
    std::uint64_t calls_posted_ = 0;
    bool stop_ = false;

    // Owned by the proxy thread; read by the accessors under m_ (the thread writes them under m_ too).
    std::map<int, Conn> conns_;
    std::map<int, int> fd_to_conn_;
    std::map<int, Connection> closed_; ///< connections closed so far, by id
    std::uint64_t bytes_up_ = 0, bytes_down_ = 0;
    int next_id_ = 1;
    bool all_stalled_ = false;
    std::chrono::milliseconds all_delay_up_{0}, all_delay_down_{0};

    std::thread thread_;
};

} // namespace pilehub::test
