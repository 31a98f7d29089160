#pragma once
#include "common/broker_auth.hpp"
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/mqtt.hpp"
#include "gateway/charge_point.hpp"
#include "gateway/gateway_store.hpp"
#include "gateway/ocpp_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

/// The glue of pilehub-ocpp: each authenticated WebSocket link gets a ChargePoint and an MQTT
/// connection under the charger's own identity (common/ocpp_identity.hpp); frames, MQTT messages
/// and a one-second tick are fed to the ChargePoint on the io_context's one thread, and what it
/// produces is sent and published. The daemon's MQTT clients (mqtt_asio) call back on that thread
/// already; MQTT callbacks are still posted into the io_context, so a client on threads of its own
/// (the Paho one, `mqtt::make_client`) is safe too.
namespace pilehub::ocpp {

struct GatewayOptions {
    ChargePointOptions charge_point;
    /// Broker address, TLS, keep-alive and buffering for every charger's connection; the client id,
    /// username, password and Will are set per charger.
    mqtt::Options mqtt;
    /// The gateway key (common/ocpp_identity.hpp) the chargers' MQTT passwords derive from.
    std::string gateway_key;
};

/// Counters for logs and benchmarks.
struct GatewayStats {
    std::uint64_t links_opened = 0;
    std::uint64_t links_replaced = 0;
    std::uint64_t refused = 0;
    std::uint64_t frames_in = 0;
    std::uint64_t frames_out = 0;
    std::uint64_t published = 0;
    std::uint64_t delivered = 0; ///< MQTT messages handed to a ChargePoint
};

class Gateway {
public:
    using MqttFactory = std::function<std::unique_ptr<mqtt::Client>(const mqtt::Options&)>;

    Gateway(boost::asio::io_context& ioc, db::Database& db, const Clock& clock, GatewayOptions options,
            MqttFactory make_mqtt);
    ~Gateway();

    /// The hooks the WebSocket server calls.
    ServerHooks hooks();
    /// Starts the one-second tick.
    void start();
    /// Every connected charger: presence offline (`shutdown`), MQTT disconnected, link closed.
    void stop();

    std::size_t connected() const { return conns_.size(); }
    const GatewayStats& stats() const { return stats_; }

private:
    struct Conn {
        std::shared_ptr<Link> link;
        std::unique_ptr<ChargePoint> cp;
        std::unique_ptr<mqtt::Client> mqtt;
    };

    bool authenticate(const std::string& id, std::string_view password);
    void opened(const std::shared_ptr<Link>& link);
    void message(const std::shared_ptr<Link>& link, std::string text);
    void closed(const std::shared_ptr<Link>& link, const std::string& reason);
    /// The connection of `id` if it is still the one with `serial`.
    Conn* current(const std::string& id, std::uint64_t serial);
    void apply(Conn& c, Effects e);
    void drop(const std::string& id, const std::string& reason);
    void tick();

    boost::asio::io_context& ioc_;
    GatewayStore store_;
    const Clock& clock_;
    GatewayOptions opt_;
    MqttFactory make_mqtt_;
    boost::asio::steady_timer timer_;
    std::map<std::string, Conn> conns_;
    GatewayStats stats_;
    bool stopping_ = false;
};

} // namespace pilehub::ocpp
