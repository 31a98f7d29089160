#include "gateway/ocpp_gateway.hpp"

#include "common/log.hpp"
#include "common/ocpp_identity.hpp"

#include <boost/asio/post.hpp>

namespace pilehub::ocpp {

namespace net = boost::asio;

Gateway::Gateway(net::io_context& ioc, db::Database& db, const Clock& clock, GatewayOptions options,
                 MqttFactory make_mqtt)
    : ioc_(ioc), store_(db), clock_(clock), opt_(std::move(options)), make_mqtt_(std::move(make_mqtt)), timer_(ioc) {}

Gateway::~Gateway() = default;

ServerHooks Gateway::hooks() {
    ServerHooks h;
    h.authenticate = [this](const std::string& id, std::string_view pw) { return authenticate(id, pw); };
    h.opened = [this](const std::shared_ptr<Link>& l) { opened(l); };
    h.message = [this](const std::shared_ptr<Link>& l, std::string text) { message(l, std::move(text)); };
    h.closed = [this](const std::shared_ptr<Link>& l, const std::string& why) { closed(l, why); };
    h.refused = [this](const std::string& peer, int status, const std::string& why) {
        ++stats_.refused;
        log::info("ocpp: {} refused with HTTP {}: {}", peer, status, why);
    };
    return h;
}

bool Gateway::authenticate(const std::string& id, std::string_view password) {
    const auto c = store_.charger(id);
    return c && broker::verify_password(password, c->key_hash);
}

void Gateway::opened(const std::shared_ptr<Link>& link) {
    const auto& id = link->charger_id();
    if (stopping_)
        return link->close("the gateway is stopping");
    if (conns_.count(id)) {
        ++stats_.links_replaced;
        log::info(log::Ctx{id, {}}, "a new connection replaces the charger's previous one");
        drop(id, "replaced");
    }
    const auto charger = store_.charger(id);
    if (!charger) // removed between the handshake and now
        return link->close("unknown charge point");
    ++stats_.links_opened;
    const auto boot = store_.next_boot(id, clock_.now_ms());
    Conn c;
    c.link = link;
    c.cp = std::make_unique<ChargePoint>(id, charger->guns, boot, store_, clock_, opt_.charge_point);
    auto mo = opt_.mqtt;
    mo.client_id = id;
    mo.username = id;
    mo.password = ocpp_identity::mqtt_password(opt_.gateway_key, id);
    mo.clean_session = false;
    const auto will = c.cp->offline("lwt");
    mo.make_will = [will] { return std::optional<mqtt::Message>(will); };
    c.mqtt = make_mqtt_(mo);
    for (const auto& f : c.cp->subscriptions())
        c.mqtt->subscribe(f, 1);
    const auto serial = link->serial();
    c.mqtt->on_message([this, id, serial](const mqtt::Message& m) {
        net::post(ioc_, [this, id, serial, m] {
            if (auto* conn = current(id, serial)) {
                ++stats_.delivered;
                apply(*conn, conn->cp->on_mqtt(m));
            }
        });
    });
    // Presence goes first (queued before the client connects, so the broker gets it before anything
    // the charger says); after a lost MQTT connection it is said again with the stops not acknowledged.
    auto connects = std::make_shared<int>(0);
    c.mqtt->on_connect([this, id, serial, connects] {
        if ((*connects)++ == 0)
            return;
        net::post(ioc_, [this, id, serial] {
            if (auto* conn = current(id, serial))
                apply(*conn, conn->cp->connected());
        });
    });
    c.mqtt->on_lost([id](const std::string& why) { log::warn(log::Ctx{id, {}}, "MQTT connection lost: {}", why); });
    apply(c, c.cp->connected());
    c.mqtt->start();
    log::info(log::Ctx{id, {}}, "connected ({}, boot {})", link->tls() ? "wss" : "ws", boot);
    conns_.emplace(id, std::move(c));
}

Gateway::Conn* Gateway::current(const std::string& id, std::uint64_t serial) {
    const auto it = conns_.find(id);
    if (it == conns_.end() || it->second.link->serial() != serial)
        return nullptr;
    return &it->second;
}

void Gateway::message(const std::shared_ptr<Link>& link, std::string text) {
    auto* c = current(link->charger_id(), link->serial());
    if (!c)
        return;
    ++stats_.frames_in;
    apply(*c, c->cp->on_text(text));
}

void Gateway::closed(const std::shared_ptr<Link>& link, const std::string& reason) {
    if (!current(link->charger_id(), link->serial()))
        return; // replaced, or dropped at stop
    log::info(log::Ctx{link->charger_id(), {}}, "disconnected: {}", reason);
    drop(link->charger_id(), "ws_closed");
}

void Gateway::apply(Conn& c, Effects e) {
    for (auto& m : e.publish) {
        ++stats_.published;
        if (!c.mqtt->publish(m))
            log::warn(log::Ctx{c.link->charger_id(), {}}, "could not queue {}", m.topic);
    }
    for (auto& t : e.send) {
        ++stats_.frames_out;
        c.link->send(std::move(t));
    }
}

void Gateway::drop(const std::string& id, const std::string& reason) {
    const auto it = conns_.find(id);
    if (it == conns_.end())
        return;
    auto c = std::move(it->second);
    conns_.erase(it);
    c.mqtt->stop(c.cp->offline(reason));
    c.link->close(reason);
}

void Gateway::start() {
    timer_.expires_after(std::chrono::seconds(1));
    timer_.async_wait([this](const boost::system::error_code& ec) {
        if (ec || stopping_)
            return;
        tick();
        start();
    });
}

void Gateway::tick() {
    for (auto& [id, c] : conns_)
        apply(c, c.cp->tick());
}

void Gateway::stop() {
    stopping_ = true;
    timer_.cancel();
    std::vector<std::string> ids;
    for (const auto& [id, c] : conns_)
        ids.push_back(id);
    for (const auto& id : ids)
        drop(id, "shutdown");
}

} // namespace pilehub::ocpp
