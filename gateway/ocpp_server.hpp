#pragma once
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

/// The gateway's network edge (CONTRACT D.2): WebSocket at `/ocpp/<charge point id>`, subprotocol
/// `ocpp1.6`, HTTP Basic auth checked before any upgrade (security profile 1), the same over TLS 1.2+
/// on its own port (profile 2), ping/pong and a read time-out. Everything runs on one io_context;
/// Boost.Beast is used only in ocpp_server.cpp. The protocol itself is elsewhere (ChargePoint).
namespace pilehub::ocpp {

struct ServerOptions {
    std::string bind = "127.0.0.1";
    int port = 18090;  ///< ws://; 0 = any free port (see Server::port)
    int tls_port = -1; ///< wss://; -1 = no TLS listener, 0 = any free port
    std::string tls_cert_file;
    std::string tls_key_file;
    std::size_t max_message_bytes = 64 * 1024;
    int handshake_timeout_s = 10;
    /// No frame (a pong counts) for this long closes the connection; a ping goes out at half of it.
    int idle_timeout_s = 120;
};

/// One accepted charger connection.
class Link {
public:
    virtual ~Link() = default;
    const std::string& charger_id() const { return id_; }
    /// Unique per connection of this process (a reconnect of the same charger gets a new one).
    std::uint64_t serial() const { return serial_; }
    bool tls() const { return tls_; }
    /// Queues a text message.
    virtual void send(std::string text) = 0;
    /// Sends a close frame (1000, `reason`); `closed` follows.
    virtual void close(std::string reason) = 0;

protected:
    Link(std::string id, std::uint64_t serial, bool tls) : id_(std::move(id)), serial_(serial), tls_(tls) {}

private:
    std::string id_;
    std::uint64_t serial_;
    bool tls_;
};

/// What the server asks of the gateway; each runs on the io_context's thread.
struct ServerHooks {
    /// Whether `password` is charger `id`'s key (the id is known and enabled).
    std::function<bool(const std::string& id, std::string_view password)> authenticate;
    std::function<void(const std::shared_ptr<Link>&)> opened;
    std::function<void(const std::shared_ptr<Link>&, std::string text)> message;
    /// Once per opened link, whatever ended it.
    std::function<void(const std::shared_ptr<Link>&, const std::string& reason)> closed;
    /// A handshake refused (status and why), for the log.
    std::function<void(const std::string& peer, int status, const std::string& why)> refused;
};

class Server {
public:
    Server(boost::asio::io_context& ioc, ServerOptions options, ServerHooks hooks);
    ~Server();
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Binds and listens (throws std::runtime_error with the reason on failure).
    void start();
    /// The bound ports (after start).
    int port() const;
    int tls_port() const;
    /// Stops accepting.
    void stop();

    struct Impl; ///< ocpp_server.cpp's (public only so that its connection classes can name it)

private:
    std::unique_ptr<Impl> impl_;
};

} // namespace pilehub::ocpp
