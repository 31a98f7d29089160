// Alerts end to end: a real Mosquitto, the real pilehub-api and alertd as child processes on real
// SQLite, a device client publishing as the device user (its Will carries its boot), a webhook
// receiver (a local httplib server) and a subscriber on ph/v1/svc/alert/+.
#include "common/crypto.hpp"
#include "common/payloads.hpp"
#include "tests/integration/api_stack.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

using namespace pilehub;
using namespace pilehub::test::api;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = "alert-webhook-secret-1";

/// The webhook receiver: answers 500 to the first POST, 200 to the rest, and keeps each one.
class Receiver {
public:
    struct Hit {
        std::string body, signature, alert_id;
        int answered = 0;
    };
    Receiver() : port_(free_tcp_port()) {
        server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lk(m_);
            Hit h{req.body, req.get_header_value("X-PileHub-Signature"), req.get_header_value("X-PileHub-Alert-Id"),
                  hits_.empty() ? 500 : 200};
            res.status = h.answered;
            hits_.push_back(std::move(h));
        });
        thread_ = std::thread([this] { server_.listen("127.0.0.1", port_); });
        while (!server_.is_running())
            std::this_thread::sleep_for(10ms);
    }
    ~Receiver() {
        server_.stop();
        thread_.join();
    }
    std::string url() const { return fmt::format("http://127.0.0.1:{}/hook", port_); }
    std::vector<Hit> hits() const {
        std::lock_guard lk(m_);
        return hits_;
    }

private:
    int port_;
    httplib::Server server_;
    mutable std::mutex m_;
    std::vector<Hit> hits_;
    std::thread thread_;
};

/// Whether `header` (`t=<unix>,v1=<hex>`) signs `body` with kSecret.
bool signed_by_secret(const std::string& header, const std::string& body) {
    const auto comma = header.find(",v1=");
    if (header.rfind("t=", 0) != 0 || comma == std::string::npos)
        return false;
    const auto t = header.substr(2, comma - 2);
    return crypto::equal_constant_time(header.substr(comma + 4), crypto::hmac_sha256_hex(kSecret, t + "." + body));
}

/// A pile as the broker sees it: its own user, a Will with the boot of its connection, and a
/// heartbeat (`tele` every 300 ms) while it is up.
class Pile {
public:
    Pile(Stack& st, std::string id, std::string password, std::int64_t boot) : id_(std::move(id)), boot_(boot) {
        auto o = st.broker().client_options(id_);
        o.password = std::move(password);
        o.make_will = [this] {
            return std::optional<mqtt::Message>(
                mqtt::Message{topics::presence(id_),
                              fmt::format(R"({{"v":1,"online":false,"boot":{},"reason":"lwt"}})", boot_), 1, true});
        };
        client_ = mqtt::make_client(o);
        client_->start();
        REQUIRE(client_->wait_ready(10s));
        REQUIRE(
            client_->publish({topics::presence(id_),
                              fmt::format(R"({{"v":1,"online":true,"boot":{},"ts":1,"fw":"1.0"}})", boot_), 1, true}));
        beat_ = std::thread([this] {
            while (!stop_) {
                payloads::EbikeTele t;
                t.temp_c = 30;
                client_->publish({topics::tele(id_),
                                  payloads::encode(payloads::Message<payloads::EbikeTele>{
                                      payloads::make_envelope(1'732'183'200'000, boot_, ++seq_), t}),
                                  0, false});
                std::this_thread::sleep_for(300ms);
            }
        });
    }
    ~Pile() {
        quiet();
        client_->stop();
    }
    /// A fault raised (or cleared) on socket `n` (evt/fault).
    void fault(int n, const std::string& code, bool active) {
        payloads::EbikeFault f{code, 3, active, n};
        REQUIRE(client_->publish({topics::evt(id_, "fault"),
                                  payloads::encode(payloads::Message<payloads::EbikeFault>{
                                      payloads::make_event_envelope(1'732'183'200'000, boot_, ++seq_,
                                                                    fmt::format("e-{}-{}", boot_, seq_.load())),
                                      f}),
                                  1, false}));
    }
    /// The network goes away: no more heartbeats, the broker publishes the Will.
    void drop() {
        quiet();
        client_->kill_connection();
    }

private:
    void quiet() {
        stop_ = true;
        if (beat_.joinable())
            beat_.join();
    }
    std::string id_;
    std::int64_t boot_;
    std::atomic<std::int64_t> seq_{0};
    std::atomic<bool> stop_{false};
    std::unique_ptr<mqtt::Client> client_;
    std::thread beat_;
};

std::int64_t alerts_of(Stack& st, const std::string& kind) {
    auto d = st.db();
    db::Statement s(d, "SELECT count(*) FROM alerts WHERE kind = ?1");
    s.bind(1, kind);
    REQUIRE(s.step());
    return s.int64(0);
}

std::string state_of(Stack& st, std::int64_t id) {
    auto d = st.db();
    db::Statement s(d, "SELECT state || '/' || ifnull(resolved_by, '') FROM alerts WHERE id = ?1");
    s.bind(1, id);
    REQUIRE(s.step());
    return s.text(0);
}

std::size_t count_on(const test::Inbox& inbox, const std::string& topic, const std::string& needle) {
    std::size_t n = 0;
    for (const auto& m : inbox.messages())
        if (m.topic == topic && m.payload.find(needle) != std::string::npos)
            ++n;
    return n;
}

} // namespace

TEST_CASE("alerts: a dropped pile raises one offline alert in time, delivered once to the webhook (signed, after a "
          "retry) and on ph/v1/svc/alert/offline; acknowledged it stays closed while offline and across an alertd "
          "restart; back online resolves it; a fault opens a fault alert") {
    Stack st;
    const auto admin = st.admin();
    const auto station = st.station(admin, "Alert Garden");
    const auto dev = st.device(admin, "al-p1", station, 4);
    std::ofstream(st.dir() + "/secrets/alert-webhook.secret") << kSecret << "\n";
    Receiver receiver;
    test::Inbox inbox;
    auto monitor = test::connect_client(st.broker().client_options("svc.monitor"), {topics::all_alerts()}, &inbox);
    const std::vector<std::string> sets{
        "alert.offline_after_s=2",          "alert.silent_after_s=2", "alert.webhook_url=" + receiver.url(),
        "alert.webhook_retry_first_ms=300", "alertd.tick_ms=100",     "log.level=debug"};
    auto alertd = std::make_unique<Worker>(st, "alertd", sets);

    auto pile = std::make_unique<Pile>(st, "al-p1", dev.str("mqtt_password"), 1);
    std::this_thread::sleep_for(2500ms); // alive (heartbeats) past silent_after_s: nothing raised
    CHECK(alerts_of(st, "offline") == 0);

    const auto dropped = std::chrono::steady_clock::now();
    pile->drop();
    const auto opened = inbox.wait_for(topics::alert("offline"), R"("state":"open")", 8s);
    REQUIRE_MESSAGE(opened, slurp(st.dir() + "/alertd.log"));
    const auto took = std::chrono::steady_clock::now() - dropped;
    CHECK(took >= 1900ms);
    CHECK(took < 5s);
    const auto alert = svc::decode<svc::Alert>(opened->payload);
    REQUIRE(alert);
    CHECK(alert->device_id == "al-p1");
    CHECK(alert->severity == "major");
    const auto id = alert->id;
    REQUIRE(id > 0);

    // The webhook: refused once (500), retried, accepted (200), then never again.
    REQUIRE(eventually([&] { return receiver.hits().size() >= 2; }, 5s));
    std::this_thread::sleep_for(1s);
    const auto hits = receiver.hits();
    REQUIRE(hits.size() == 2);
    CHECK(hits[0].answered == 500);
    CHECK(hits[1].answered == 200);
    for (const auto& h : hits) {
        CHECK(h.alert_id == std::to_string(id));
        CHECK(signed_by_secret(h.signature, h.body));
        const auto body = svc::decode<svc::Alert>(h.body);
        REQUIRE(body);
        CHECK(body->kind == "offline");
        CHECK(body->id == id);
    }
    CHECK_FALSE(signed_by_secret(hits[1].signature, hits[1].body + " "));

    // The operator's list shows it; acknowledged, it stays closed while the pile stays offline.
    auto list = st.get("/api/v1/admin/alerts?state=open&kind=offline", admin);
    REQUIRE_MESSAGE(list.status == 200, list);
    REQUIRE(list.size("alerts") == 1);
    CHECK(list.i64("alerts.0.id") == id);
    CHECK(list.str("alerts.0.device_id") == "al-p1");
    auto ack = st.post(fmt::format("/api/v1/admin/alerts/{}/ack", id), "{}", admin);
    REQUIRE_MESSAGE(ack.status == 200, ack);
    CHECK(ack.str("state") == "acknowledged");
    CHECK(ack.str("acked_by") == "admin");
    CHECK(st.post(fmt::format("/api/v1/admin/alerts/{}/ack", id), "{}", admin).status == 409);
    std::this_thread::sleep_for(2500ms);
    CHECK(alerts_of(st, "offline") == 1);
    CHECK(count_on(inbox, topics::alert("offline"), R"("state":"open")") == 1);

    alertd.reset();
    alertd = std::make_unique<Worker>(st, "alertd", sets);
    std::this_thread::sleep_for(3s);
    CHECK(alerts_of(st, "offline") == 1);
    CHECK(state_of(st, id) == "acknowledged/");
    CHECK(receiver.hits().size() == 2);

    // Back online (a new boot): resolved by the system.
    pile = std::make_unique<Pile>(st, "al-p1", dev.str("mqtt_password"), 2);
    REQUIRE(inbox.wait_for(topics::alert("offline"), R"("state":"resolved")", 5s));
    CHECK(state_of(st, id) == "resolved/system");
    CHECK(st.get(fmt::format("/api/v1/admin/alerts/{}", id), admin).str("resolved_by") == "system");

    // A fault raised opens a fault alert for its socket.
    pile->fault(2, "relay_stuck", true);
    const auto fault = inbox.wait_for(topics::alert("fault"), R"("state":"open")", 5s);
    REQUIRE(fault);
    const auto f = svc::decode<svc::Alert>(fault->payload);
    REQUIRE(f);
    CHECK(f->n == 2);
    CHECK(f->subject == "al-p1-2");
    CHECK(f->msg == "faults: relay_stuck");
    REQUIRE(eventually([&] { return receiver.hits().size() == 3; }, 5s));
    CHECK(receiver.hits()[2].alert_id == std::to_string(f->id));
    pile->fault(2, "relay_stuck", false);
    REQUIRE(inbox.wait_for(topics::alert("fault"), R"("state":"resolved")", 5s));
}

TEST_CASE("alerts API: list with filters, one alert, ack and resolve with who and when, 404 unknown or out of "
          "scope, 409 in the wrong state") {
    Stack st;
    const auto admin = st.admin();
    const auto s1 = st.station(admin, "North");
    const auto s2 = st.station(admin, "South");
    st.device(admin, "api-p1", s1, 4);
    st.device(admin, "api-p2", s2, 4);
    {
        auto d = st.db();
        for (const auto& [kind, dev, key] :
             std::vector<std::tuple<std::string, std::string, std::string>>{{"offline", "api-p1", "offline:api-p1:0"},
                                                                            {"fault", "api-p1", "fault:api-p1:1"},
                                                                            {"offline", "api-p2", "offline:api-p2:0"}})
            db::Statement(d, "INSERT INTO alerts (kind, device_id, subject, dedup_key, severity, detail, opened_at, "
                             "last_seen) VALUES (?1, ?2, ?2, ?3, 'major', 'seen', 1732183200000, 1732183200000)")
                .bind_all(kind, dev, key)
                .run();
        db::Statement(d, "INSERT INTO alerts (kind, subject, dedup_key, severity, detail, opened_at, last_seen) VALUES "
                         "('payment_anomaly', 'P-1', 'payment_anomaly:P-1', 'major', 'paid late', 1732183300000, "
                         "1732183300000)")
            .run();
    }
    auto all = st.get("/api/v1/admin/alerts", admin);
    REQUIRE_MESSAGE(all.status == 200, all);
    CHECK(all.size("alerts") == 4);
    CHECK(all.str("alerts.0.kind") == "payment_anomaly"); // newest first
    CHECK(all.at("alerts.0.device_id")->IsNull());
    CHECK(st.get("/api/v1/admin/alerts?kind=offline", admin).size("alerts") == 2);
    CHECK(st.get("/api/v1/admin/alerts?device=api-p1", admin).size("alerts") == 2);
    CHECK(st.get("/api/v1/admin/alerts?limit=1&offset=1", admin).size("alerts") == 1);
    CHECK(st.get(fmt::format("/api/v1/admin/alerts?station_id={}", s2), admin).size("alerts") == 1);
    CHECK(st.get(fmt::format("/api/v1/admin/alerts?station_id={}&kind=fault", s1), admin).size("alerts") == 1);
    CHECK(st.get("/api/v1/admin/alerts?state=closed", admin).status == 400);

    // A staff member of the North station sees its alerts only, and not the payment's.
    const auto north = st.staff(admin, "north-tech", "maintenance", fmt::format(R"("station_ids":[{}])", s1));
    auto scoped = st.get("/api/v1/admin/alerts", north);
    REQUIRE_MESSAGE(scoped.status == 200, scoped);
    CHECK(scoped.size("alerts") == 2);
    CHECK(st.get(fmt::format("/api/v1/admin/alerts?station_id={}", s2), north).status == 404); // not its station
    const auto south_id = st.get("/api/v1/admin/alerts?device=api-p2", admin).i64("alerts.0.id");
    CHECK(st.get(fmt::format("/api/v1/admin/alerts/{}", south_id), north).status == 404);
    CHECK(st.post(fmt::format("/api/v1/admin/alerts/{}/ack", south_id), "{}", north).status == 404);

    const auto id = st.get("/api/v1/admin/alerts?kind=fault", admin).i64("alerts.0.id");
    auto one = st.get(fmt::format("/api/v1/admin/alerts/{}", id), north);
    REQUIRE_MESSAGE(one.status == 200, one);
    CHECK(one.str("state") == "open");
    CHECK(one.at("acked_by")->IsNull());
    auto ack = st.post(fmt::format("/api/v1/admin/alerts/{}/ack", id), "{}", north);
    REQUIRE_MESSAGE(ack.status == 200, ack);
    CHECK(ack.str("acked_by") == "north-tech");
    CHECK_FALSE(ack.str("acked_at").empty());
    CHECK(st.post(fmt::format("/api/v1/admin/alerts/{}/ack", id), "{}", north).code() == "conflict");
    auto res = st.post(fmt::format("/api/v1/admin/alerts/{}/resolve", id), "{}", admin);
    REQUIRE_MESSAGE(res.status == 200, res);
    CHECK(res.str("state") == "resolved");
    CHECK(res.str("resolved_by") == "admin");
    CHECK(res.str("acked_by") == "north-tech");
    CHECK(st.post(fmt::format("/api/v1/admin/alerts/{}/resolve", id), "{}", admin).status == 409);
    CHECK(st.post(fmt::format("/api/v1/admin/alerts/{}/ack", id), "{}", admin).status == 409);
    CHECK(st.post("/api/v1/admin/alerts/999999/ack", "{}", admin).status == 404);
    CHECK(st.get("/api/v1/admin/alerts/999999", admin).code() == "not_found");
    CHECK(st.get("/api/v1/admin/alerts?state=resolved", admin).size("alerts") == 1);
}
