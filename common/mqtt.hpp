#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace pilehub::mqtt {

/// One MQTT message, inbound or outbound.
struct Message {
    std::string topic;
    std::string payload;
    int qos = 1;
    bool retained = false;
    /// Inbound only: the broker flagged this as a possible redelivery.
    bool duplicate = false;
};

/// How a client connects. One client id per process (or per simulated device).
struct Options {
    std::string host = "127.0.0.1";
    int port = 1883;
    /// Connect over TLS, trusting `ca_file` (the development CA or a real one).
    bool tls = false;
    std::string ca_file;
    std::string client_id;
    std::string username;
    std::string password;
    /// false = persistent session: the broker keeps our subscriptions and queues QoS 1 while we are away.
    bool clean_session = false;
    int keepalive_s = 60;
    /// Messages kept while disconnected, published on reconnect.
    int max_buffered = 100000;
    /// QoS 1 messages in flight before publish() buffers.
    int max_inflight = 1000;
    /// Reconnect back-off bounds.
    std::chrono::milliseconds reconnect_min{500};
    std::chrono::milliseconds reconnect_max{30000};
    /// Called before every connect attempt to build the Will (a device's Will carries its new `boot`).
    std::function<std::optional<Message>()> make_will;
};

/// Runs for every inbound message, on the client's callback thread. It must not block on the
/// network. The QoS 1 acknowledgement (PUBACK) follows its return, whatever happened: a handler
/// that throws is logged and its message acknowledged all the same. So a handler either commits
/// before returning under worker::Loop::run_inline (which never returns when the commit cannot be
/// made), or posts into a worker::Loop, which spools what it cannot commit (docs/architecture.md).
using MessageHandler = std::function<void(const Message&)>;
/// Runs on the callback thread after every successful connect, once subscriptions are renewed.
using ConnectHandler = std::function<void()>;
/// Runs on the callback thread when the connection is lost (cause as text).
using LostHandler = std::function<void(const std::string&)>;

/// Counters a client keeps, for lag and health reports.
struct Stats {
    std::uint64_t received = 0;
    std::uint64_t published = 0;
    std::uint64_t publish_failed = 0;
    std::uint64_t connects = 0;
    std::uint64_t handler_errors = 0;
    std::uint64_t subscribe_denied = 0;
};

/// PileHub's MQTT client. The Paho implementation is in mqtt_paho.cpp; tests of pure logic use FakeClient.
class Client {
public:
    virtual ~Client() = default;
    /// Adds a subscription, kept for the client's life and renewed on every connect.
    /// Call before start(); later calls also subscribe at once when connected.
    virtual void subscribe(const std::string& filter, int qos = 1) = 0;
    virtual void on_message(MessageHandler h) = 0;
    virtual void on_connect(ConnectHandler h) = 0;
    virtual void on_lost(LostHandler h) = 0;
    /// Starts connecting in the background and keeps reconnecting until stop(). Returns at once.
    virtual void start() = 0;
    /// Waits until connected and every subscription is acknowledged by the broker.
    virtual bool wait_ready(std::chrono::milliseconds timeout) = 0;
    /// Queues a message (never blocks). false if it could not be queued.
    virtual bool publish(const Message& m) = 0;
    /// Publishes `last` (e.g. an offline status) if given, disconnects cleanly, stops reconnecting.
    virtual void stop(const std::optional<Message>& last = std::nullopt) = 0;
    /// Closes the network connection without DISCONNECT, so the broker publishes the Will (tests, simulator).
    virtual void kill_connection() = 0;
    virtual bool connected() const = 0;
    virtual Stats stats() const = 0;
    virtual const std::string& client_id() const = 0;
};

/// Creates the Paho-backed client.
std::unique_ptr<Client> make_client(const Options& options);

} // namespace pilehub::mqtt
