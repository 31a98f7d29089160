// gateway/mqtt_asio: the gateway's per-charger MQTT client on an io_context, against the real
// Mosquitto with the shipped configuration. The other side of every exchange is our Paho client
// as a service user (svc.sessiond: writes cmd/+, reads tele, presence and the device's events).
#include "common/topics.hpp"
#include "gateway/mqtt_asio.hpp"
#include "tests/support/broker.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <string>
#include <thread>
#include <vector>

using namespace pilehub;
using namespace pilehub::test;
using namespace std::chrono_literals;
namespace net = boost::asio;

namespace {

const std::string kDev = "pile-MA1";
const std::string kSvc = "svc.sessiond";

/// The io_context the clients run on, on its own thread (the gateway's one io thread).
struct IoThread {
    net::io_context ioc{1};
    net::executor_work_guard<net::io_context::executor_type> guard = net::make_work_guard(ioc);
    std::thread thread{[this] { ioc.run(); }};
    ~IoThread() {
        guard.reset();
        ioc.stop();
        thread.join();
    }
    /// Runs `f` on the io thread and waits for it.
    template <typename F> auto run(F f) {
        std::packaged_task<decltype(f())()> task(std::move(f));
        auto result = task.get_future();
        net::post(ioc, [&task] { task(); });
        return result.get();
    }
};

/// A fake broker on loopback for what the real one never does: it answers every CONNECT with
/// CONNACK 0 followed by `after_connack`, then reads nothing more (so no PINGRESP) and keeps the
/// connection open. Counts connections.
class FakeBroker {
public:
    explicit FakeBroker(std::string after_connack) : after_connack_(std::move(after_connack)) {
        accept();
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~FakeBroker() {
        ioc_.stop();
        thread_.join();
    }
    int port() const { return port_; }
    int accepted() const { return accepted_; }

private:
    using tcp = net::ip::tcp;
    void accept() {
        acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket s) {
            if (ec)
                return;
            ++accepted_;
            auto sock = std::make_shared<tcp::socket>(std::move(s));
            open_.push_back(sock); // kept open until the fake stops
            auto buf = std::make_shared<std::array<char, 1024>>();
            sock->async_read_some(
                net::buffer(*buf), [this, sock, buf](const boost::system::error_code& e, std::size_t) {
                    if (e)
                        return;
                    auto out = std::make_shared<std::string>(std::string{0x20, 2, 0, 0} + after_connack_);
                    net::async_write(*sock, net::buffer(*out),
                                     [sock, out](const boost::system::error_code&, std::size_t) {});
                });
            accept();
        });
    }
    std::string after_connack_;
    net::io_context ioc_;
    tcp::acceptor acceptor_{ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
    int port_ = acceptor_.local_endpoint().port();
    std::atomic<int> accepted_{0};
    std::vector<std::shared_ptr<tcp::socket>> open_;
    std::thread thread_;
};

mqtt::Options fake_options(const FakeBroker& fake) {
    mqtt::Options o;
    o.host = "127.0.0.1";
    o.port = fake.port();
    o.client_id = o.username = "pile-fake";
    o.password = "x";
    o.reconnect_min = 50ms;
    o.reconnect_max = 200ms;
    return o;
}

/// Polls `pred` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::sleep_for(10ms);
    }
    return true;
}

mqtt::Message msg(std::string topic, std::string payload, int qos, bool retained = false) {
    mqtt::Message m;
    m.topic = std::move(topic);
    m.payload = std::move(payload);
    m.qos = qos;
    m.retained = retained;
    return m;
}

/// The payloads of `inbox` on `topic`, in arrival order.
std::vector<std::string> payloads(const Inbox& inbox, const std::string& topic) {
    std::vector<std::string> out;
    for (const auto& m : inbox.messages())
        if (m.topic == topic)
            out.push_back(m.payload);
    return out;
}

/// A device client with the test's Will on its presence topic.
mqtt::Options device_options(const Broker& broker, const std::string& dev = kDev) {
    auto o = broker.client_options(dev);
    o.keepalive_s = 5;
    o.make_will = [dev] { return std::optional<mqtt::Message>(msg(topics::presence(dev), "offline lwt", 1, true)); };
    return o;
}

} // namespace

TEST_CASE("mqtt_asio: a device receives QoS 1 from the platform and publishes QoS 0 and 1 that arrive in order") {
    Broker broker({{kDev, ""}, {kSvc, ""}});
    IoThread io;
    Inbox svc_inbox;
    auto svc = connect_client(broker.client_options(kSvc), {topics::tele(kDev)}, &svc_inbox);

    Inbox dev_inbox;
    auto dev = ocpp::make_asio_client(io.ioc, device_options(broker));
    std::atomic<int> connects{0};
    dev->subscribe(topics::cmd(kDev, "+"), 1);
    dev->on_message(dev_inbox.handler());
    dev->on_connect([&] { ++connects; });
    dev->start();
    REQUIRE(dev->wait_ready(5s));
    CHECK(dev->connected());
    CHECK(connects == 1);
    CHECK(dev->client_id() == kDev);

    REQUIRE(svc->publish(msg(topics::cmd(kDev, "reset"), "cmd-1", 1)));
    const auto got = dev_inbox.wait_for(topics::cmd(kDev, "reset"), "cmd-1", 5s);
    REQUIRE(got);
    CHECK(got->qos == 1);
    CHECK_FALSE(got->duplicate);

    for (int i = 0; i < 20; ++i)
        REQUIRE(dev->publish(msg(topics::tele(kDev), "t" + std::to_string(i), i % 2)));
    REQUIRE(svc_inbox.wait_for(topics::tele(kDev), "t19", 5s));
    std::vector<std::string> want;
    for (int i = 0; i < 20; ++i)
        want.push_back("t" + std::to_string(i));
    CHECK(payloads(svc_inbox, topics::tele(kDev)) == want);
    CHECK(eventually([&] { return dev->stats().published == 20; }));
    CHECK(dev->stats().received == 1);
    dev->stop();
}

TEST_CASE("mqtt_asio: a handler that throws is logged and its message acknowledged all the same") {
    Broker broker({{kDev, ""}, {kSvc, ""}});
    IoThread io;
    auto svc = connect_client(broker.client_options(kSvc));
    auto dev = ocpp::make_asio_client(io.ioc, device_options(broker));
    Inbox seen;
    dev->subscribe(topics::cmd(kDev, "+"), 1);
    dev->on_message([record = seen.handler()](const mqtt::Message& m) {
        record(m);
        throw std::runtime_error("handler bug");
    });
    dev->start();
    REQUIRE(dev->wait_ready(5s));
    REQUIRE(svc->publish(msg(topics::cmd(kDev, "reset"), "boom", 1)));
    REQUIRE(eventually([&] { return dev->stats().handler_errors == 1; }));
    // Acknowledged: reconnecting with the same persistent session brings no redelivery.
    dev->kill_connection();
    REQUIRE(eventually([&] { return dev->stats().connects == 2 && dev->connected(); }));
    REQUIRE(dev->wait_ready(5s));
    REQUIRE(svc->publish(msg(topics::cmd(kDev, "reset"), "after", 1)));
    REQUIRE(seen.wait_for(topics::cmd(kDev, "reset"), "after", 5s));
    CHECK(payloads(seen, topics::cmd(kDev, "reset")) == std::vector<std::string>{"boom", "after"});
    CHECK(eventually([&] { return dev->stats().handler_errors == 2; })); // counted after the handler
}

TEST_CASE("mqtt_asio: a wrong password is refused, retried with back-off, and never connects") {
    Broker broker({{kDev, ""}});
    IoThread io;
    auto o = device_options(broker);
    o.password = "wrong";
    o.reconnect_min = 50ms;
    o.reconnect_max = 200ms;
    auto dev = ocpp::make_asio_client(io.ioc, o);
    std::atomic<int> connects{0};
    dev->on_connect([&] { ++connects; });
    dev->start();
    CHECK_FALSE(dev->wait_ready(1500ms));
    CHECK_FALSE(dev->connected());
    CHECK(dev->stats().connects == 0);
    CHECK(connects == 0);
    CHECK(dev->publish(msg(topics::tele(kDev), "queued", 1))); // queued while down
    dev->stop();
}

TEST_CASE("mqtt_asio: kill_connection leaves the Will to the broker; stop(last) publishes last and no Will") {
    Broker broker({{kDev, ""}, {kSvc, ""}});
    IoThread io;
    Inbox svc_inbox;
    auto svc = connect_client(broker.client_options(kSvc), {topics::presence(kDev)}, &svc_inbox);
    auto dev = ocpp::make_asio_client(io.ioc, device_options(broker));
    dev->start();
    REQUIRE(dev->wait_ready(5s));
    REQUIRE(dev->publish(msg(topics::presence(kDev), "online 1", 1, true)));
    REQUIRE(svc_inbox.wait_for(topics::presence(kDev), "online 1", 5s));

    dev->kill_connection();
    REQUIRE(svc_inbox.wait_for(topics::presence(kDev), "offline lwt", 5s));
    REQUIRE(eventually([&] { return dev->connected(); }));
    REQUIRE(dev->publish(msg(topics::presence(kDev), "online 2", 1, true)));
    REQUIRE(svc_inbox.wait_for(topics::presence(kDev), "online 2", 5s));

    // stop() on the io thread, the client destroyed right after (as Gateway::drop does).
    io.run([&] {
        dev->stop(msg(topics::presence(kDev), "offline shutdown", 1, true));
        dev.reset();
        return 0;
    });
    REQUIRE(svc_inbox.wait_for(topics::presence(kDev), "offline shutdown", 5s));
    // A clean DISCONNECT: no second Will (the broker would publish it at once).
    const auto lwts = [&] {
        int n = 0;
        for (const auto& p : payloads(svc_inbox, topics::presence(kDev)))
            n += p == "offline lwt";
        return n;
    };
    CHECK_FALSE(eventually([&] { return lwts() > 1; }, 1s));
    CHECK(payloads(svc_inbox, topics::presence(kDev)).back() == "offline shutdown");
}

TEST_CASE("mqtt_asio: after a broker restart it reconnects, renews subscriptions, calls on_connect again and sends "
          "what was published while down") {
    Broker broker({{kDev, ""}, {kSvc, ""}});
    IoThread io;
    Inbox dev_inbox;
    auto dev = ocpp::make_asio_client(io.ioc, device_options(broker));
    std::atomic<int> connects{0};
    std::atomic<int> lost{0};
    dev->subscribe(topics::cmd(kDev, "+"), 1);
    dev->on_message(dev_inbox.handler());
    dev->on_connect([&] { ++connects; });
    dev->on_lost([&](const std::string&) { ++lost; });
    dev->start();
    REQUIRE(dev->wait_ready(5s));
    Inbox svc_inbox; // its persistent session keeps the subscription over the restart
    auto svc = connect_client(broker.client_options(kSvc), {topics::tele(kDev)}, &svc_inbox);

    broker.restart();
    REQUIRE(eventually([&] { return lost >= 1; }));
    for (int i = 0; i < 5; ++i)
        REQUIRE(dev->publish(msg(topics::tele(kDev), "down" + std::to_string(i), 1)));
    REQUIRE(eventually([&] { return connects >= 2 && dev->connected(); }, 15s));
    REQUIRE(svc_inbox.wait_for(topics::tele(kDev), "down4", 10s));
    CHECK(payloads(svc_inbox, topics::tele(kDev)) ==
          std::vector<std::string>{"down0", "down1", "down2", "down3", "down4"});
    REQUIRE(svc->publish(msg(topics::cmd(kDev, "reset"), "after restart", 1)));
    CHECK(dev_inbox.wait_for(topics::cmd(kDev, "reset"), "after restart", 5s));
    dev->stop();
}

TEST_CASE("mqtt_asio: 1000 QoS 1 messages queued before the connection all arrive, in order") {
    Broker broker({{kDev, ""}, {kSvc, ""}});
    IoThread io;
    Inbox svc_inbox;
    auto svc = connect_client(broker.client_options(kSvc), {topics::tele(kDev)}, &svc_inbox);
    auto o = device_options(broker);
    o.max_inflight = 100; // the rest waits in the queue
    auto dev = ocpp::make_asio_client(io.ioc, o);
    std::vector<std::string> want;
    for (int i = 0; i < 1000; ++i) {
        want.push_back("m" + std::to_string(i));
        REQUIRE(dev->publish(msg(topics::tele(kDev), want.back(), 1)));
    }
    dev->start();
    REQUIRE(svc_inbox.wait_for(topics::tele(kDev), "m999", 20s));
    CHECK(payloads(svc_inbox, topics::tele(kDev)) == want);
    CHECK(eventually([&] { return dev->stats().published == 1000; }));
    dev->stop();
}

TEST_CASE("mqtt_asio: beyond max_buffered while disconnected publish() refuses") {
    Broker broker({{kDev, ""}});
    IoThread io;
    auto o = device_options(broker);
    o.max_buffered = 3;
    auto dev = ocpp::make_asio_client(io.ioc, o);
    for (int i = 0; i < 3; ++i)
        CHECK(dev->publish(msg(topics::tele(kDev), "x", 1)));
    CHECK_FALSE(dev->publish(msg(topics::tele(kDev), "x", 1)));
    CHECK(dev->stats().publish_failed == 1);
    CHECK_THROWS_AS(ocpp::make_asio_client(io.ioc, broker.client_options(kDev, Listener::Tls)), std::invalid_argument);
}

TEST_CASE("mqtt_asio: a persistent session gets the QoS 1 sent while the client was stopped") {
    Broker broker({{kDev, ""}, {kSvc, ""}});
    IoThread io;
    auto svc = connect_client(broker.client_options(kSvc));
    {
        auto dev = ocpp::make_asio_client(io.ioc, device_options(broker));
        dev->subscribe(topics::cmd(kDev, "+"), 1);
        dev->start();
        REQUIRE(dev->wait_ready(5s));
        dev->stop();
        REQUIRE(eventually([&] { return !dev->connected(); }));
    }
    REQUIRE(svc->publish(msg(topics::cmd(kDev, "reset"), "while away", 1)));
    REQUIRE(eventually([&] { return svc->stats().published == 1; })); // the broker has it

    Inbox dev_inbox;
    auto dev = ocpp::make_asio_client(io.ioc, device_options(broker));
    dev->subscribe(topics::cmd(kDev, "+"), 1);
    dev->on_message(dev_inbox.handler());
    dev->start();
    CHECK(dev_inbox.wait_for(topics::cmd(kDev, "reset"), "while away", 5s));
    dev->stop();
}

TEST_CASE("mqtt_asio: a malformed packet from the broker closes the connection and it reconnects") {
    struct Row {
        const char* what;
        std::string bytes;
    };
    const Row rows[] = {
        {"a fifth remaining-length byte", std::string("\x30\xff\xff\xff\xff\x01", 6)},
        {"a packet over 1 MB", std::string("\x30\x80\x80\x80\x01", 5)},
        {"a QoS 2 PUBLISH", std::string("\x34\x05\x00\x01t\x00\x01", 7)},
        {"a packet type a client never receives (CONNECT)", std::string("\x10\x00", 2)},
        {"a PUBACK of the wrong size", std::string("\x40\x03\x00\x01\x00", 5)},
        {"a PUBLISH whose topic runs past its end", std::string("\x30\x03\x00\x09t", 5)},
    };
    for (const auto& row : rows) {
        CAPTURE(row.what);
        IoThread io;
        FakeBroker fake(row.bytes);
        auto c = ocpp::make_asio_client(io.ioc, fake_options(fake));
        c->start();
        CHECK(eventually([&] { return fake.accepted() >= 2; }, 5s));
        CHECK(c->stats().connects >= 1);
        c->stop();
    }
}

TEST_CASE("mqtt_asio: a PINGREQ after a quiet keep-alive, and no answer within the next one reconnects") {
    IoThread io;
    FakeBroker fake("");
    auto o = fake_options(fake);
    o.keepalive_s = 1;
    auto c = ocpp::make_asio_client(io.ioc, o);
    c->start();
    REQUIRE(eventually([&] { return c->connected(); }, 5s));
    CHECK(eventually([&] { return fake.accepted() >= 2; }, 5s));
    c->stop();
}
