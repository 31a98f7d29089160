// pilehub-ocpp: wiring only. The protocol is in ChargePoint (ocpp_core), the network edge in
// ocpp_server.cpp, the glue between them and the broker in ocpp_gateway.cpp.
#include "common/daemon.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/ocpp_endpoints.hpp"
#include "common/ocpp_identity.hpp"
#include "gateway/mqtt_asio.hpp"
#include "gateway/ocpp_gateway.hpp"
#include "gateway/ocpp_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <chrono>
#include <future>
#include <thread>

namespace {

using namespace pilehub;
namespace net = boost::asio;

class Service final : public daemon::Service {
public:
    explicit Service(const Config& cfg)
        : db_(cfg.get_string("db.path"), daemon::db_options(cfg)),
          gateway_(ioc_, db_, SystemClock::instance(), gateway_options(cfg),
                   // Each charger's MQTT connection lives on the io_context too: no threads of its own.
                   [this](const mqtt::Options& o) { return ocpp::make_asio_client(ioc_, o); }),
          server_(ioc_, server_options(cfg), gateway_.hooks()) {}

    void start() {
        server_.start();
        gateway_.start();
        thread_ = std::thread([this] {
            ioc_.run();
            ran_out_.set_value();
        });
        log::info("pilehub-ocpp listening: ws://{}:{}/ocpp/<id>{}", bind_, server_.port(),
                  server_.tls_port() ? fmt::format(", wss://{}:{}/ocpp/<id>", bind_, server_.tls_port()) : "");
    }

    void stop() override {
        // On the io thread: stop accepting, tell every charger's MQTT identity `shutdown`, close the
        // links; then let the loop finish that (each client waits at most 2 s for the broker's
        // acknowledgement, then disconnects) and stop it if it has not run out of work by then.
        std::promise<void> done;
        net::post(ioc_, [this, &done] {
            server_.stop();
            gateway_.stop();
            done.set_value();
        });
        done.get_future().wait_for(std::chrono::seconds(30));
        ran_out_.get_future().wait_for(std::chrono::seconds(3));
        ioc_.stop();
        if (thread_.joinable())
            thread_.join();
    }

private:
    static ocpp::GatewayOptions gateway_options(const Config& cfg) {
        ocpp::GatewayOptions o;
        o.charge_point.heartbeat_s = cfg.get_int32("pilehub-ocpp.heartbeat_s");
        o.charge_point.platform_timeout_ms = cfg.get_int("pilehub-ocpp.platform_timeout_ms");
        o.charge_point.call_timeout_ms = cfg.get_int("pilehub-ocpp.call_timeout_ms");
        o.charge_point.record_resend_ms = cfg.get_int("pilehub-ocpp.record_resend_s") * 1000;
        o.mqtt.host = cfg.get_string("mqtt.host");
        o.mqtt.port = cfg.get_int32("mqtt.port");
        o.mqtt.keepalive_s = cfg.get_int32("mqtt.keepalive_s");
        o.mqtt.max_buffered = 10'000;
        o.gateway_key = ocpp_identity::load_or_create_key(ocpp_identity::key_path(cfg.get_string("data_dir")));
        return o;
    }
    ocpp::ServerOptions server_options(const Config& cfg) {
        ocpp::ServerOptions o;
        o.bind = bind_ = cfg.get_string("pilehub-ocpp.bind");
        const auto endpoints = ocpp_endpoints::Endpoints::from(cfg);
        o.port = endpoints.port;
        o.tls_port = endpoints.tls_port;
        o.tls_cert_file = cfg.get_string("pilehub-ocpp.tls_cert_file");
        o.tls_key_file = cfg.get_string("pilehub-ocpp.tls_key_file");
        o.max_message_bytes = static_cast<std::size_t>(cfg.get_int("pilehub-ocpp.max_message_bytes"));
        o.idle_timeout_s = cfg.get_int32("pilehub-ocpp.idle_timeout_s");
        return o;
    }

    std::string bind_;
    db::Database db_;
    net::io_context ioc_{1};
    ocpp::Gateway gateway_;
    ocpp::Server server_;
    std::promise<void> ran_out_;
    std::thread thread_;
};

} // namespace

int main(int argc, char** argv) {
    daemon::Spec spec;
    spec.name = "pilehub-ocpp";
    spec.add_keys = [](ConfigSchema& s) {
        ocpp_endpoints::add_keys(s); // ocpp.port, ocpp.tls_port (shared with the registration paths)
        s.add_string("pilehub-ocpp.bind", "0.0.0.0", "The address both OCPP listeners bind to.");
        s.add_string("pilehub-ocpp.tls_cert_file", "${data_dir}/tls/broker.crt",
                     "The TLS certificate chain (PEM) of the wss:// listener (the broker's by default).");
        s.add_string("pilehub-ocpp.tls_key_file", "${data_dir}/tls/broker.key", "Its private key (PEM).");
        s.add_int("pilehub-ocpp.heartbeat_s", 300, 10, 86'400,
                  "BootNotification.conf interval: the chargers' Heartbeat period.");
        s.add_int("pilehub-ocpp.idle_timeout_s", 120, 5, 86'400,
                  "A connection with no frame (a pong counts; a ping goes out at half of it) this long is closed "
                  "and its charger goes offline.");
        s.add_int("pilehub-ocpp.platform_timeout_ms", 20'000, 100, 300'000,
                  "How long an Authorize or StartTransaction waits for sessiond before it is answered "
                  "InternalError (the charger sends it again).");
        s.add_int("pilehub-ocpp.call_timeout_ms", 30'000, 100, 300'000,
                  "How long our CALL (RemoteStart, Reset, ...) waits for the charger before the command fails.");
        s.add_int("pilehub-ocpp.record_resend_s", 30, 1, 3'600,
                  "How often a session record sessiond has not acknowledged is published again.");
        s.add_int("pilehub-ocpp.max_message_bytes", 65'536, 1'024, 16 * 1024 * 1024,
                  "The largest WebSocket message accepted from a charger.");
    };
    spec.start = [](daemon::Context& ctx) -> std::unique_ptr<daemon::Service> {
        daemon::migrate_core(ctx.config);
        auto svc = std::make_unique<Service>(ctx.config);
        svc->start();
        ctx.ready();
        return svc;
    };
    return daemon::run(argc, argv, spec);
}
