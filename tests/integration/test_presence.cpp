// presenced end to end: a real Mosquitto, presenced as a child process, a device client publishing
// as the device user, the core database on disk.
#include "common/db.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/topics.hpp"
#include "tests/support/broker.hpp"
#include "tests/support/daemon.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

using namespace pilehub;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using test::Daemon;
using test::make_temp_dir;

namespace {

/// A device as the broker sees it: its own user, a Will carrying the boot of each connection.
class DeviceClient {
public:
    DeviceClient(const test::Broker &broker, std::string id) : id_(std::move(id)) {
        auto o = broker.client_options(id_);
        o.make_will = [this] {
            payloads::Presence p;
            p.online = false;
            p.boot = boot_.load();
            p.reason = "lwt";
            return std::optional<mqtt::Message>(
                mqtt::Message{topics::presence(id_), payloads::encode_presence(p), 1, true});
        };
        client_ = mqtt::make_client(o);
    }
    ~DeviceClient() { client_->stop(); }
    /// Connects with boot `boot` and says online, as CONTRACT A.4 asks.
    void connect(std::int64_t boot) {
        boot_ = boot;
        seq_ = 0;
        client_->start();
        REQUIRE(client_->wait_ready(5s));
        payloads::Presence p;
        p.online = true;
        p.boot = boot;
        p.ts = 1'732'183'200'000;
        p.fw = "test-1.0";
        publish_presence(p);
    }
    void publish_presence(const payloads::Presence &p) {
        REQUIRE(client_->publish({topics::presence(id_), payloads::encode_presence(p), 1, true}));
    }
    void publish_tele(bool active) {
        payloads::EbikeTele t;
        t.total_power_w = active ? 150 : 0;
        t.temp_c = 30;
        payloads::EbikeSocketTele s;
        s.n = 1;
        s.st = active ? payloads::EbikeSocketStatus::Charging : payloads::EbikeSocketStatus::Idle;
        s.power_w = active ? 150 : 0;
        if (active)
            s.sid = "S-1";
        t.sockets.push_back(s);
        payloads::Message<payloads::EbikeTele> m{payloads::make_envelope(1'732'183'200'000, boot_, ++seq_), t};
        REQUIRE(client_->publish({topics::tele(id_), payloads::encode(m), 0, false}));
    }
    void publish_cfg_reported(std::int64_t tele_period_s, std::int64_t idle_period_s) {
        payloads::EbikeCfgReported r;
        r.version = 2;
        r.values.tele_period_s = tele_period_s;
        r.values.idle_tele_period_s = idle_period_s;
        payloads::Message<payloads::EbikeCfgReported> m{payloads::make_envelope(1'732'183'200'000, boot_, ++seq_), r};
        REQUIRE(client_->publish({topics::cfg_reported(id_), payloads::encode(m), 1, true}));
    }
    void publish_raw(const std::string &leaf_topic, const std::string &payload, bool retained) {
        REQUIRE(client_->publish({leaf_topic, payload, 1, retained}));
    }
    /// The network goes away: the broker publishes the Will.
    void kill() { client_->kill_connection(); }
    /// A clean shutdown: `online:false` with reason `shutdown`, then DISCONNECT.
    void shutdown() {
        payloads::Presence p;
        p.online = false;
        p.boot = boot_;
        p.reason = "shutdown";
        client_->stop(mqtt::Message{topics::presence(id_), payloads::encode_presence(p), 1, true});
    }

private:
    std::string id_;
    std::atomic<std::int64_t> boot_{1};
    std::int64_t seq_ = 0;
    std::unique_ptr<mqtt::Client> client_;
};

std::string verdict_topic(const char *dev) {
    return topics::device_presence(dev);
}

} // namespace

TEST_CASE("presence: connect, Will, reconnect, late Will, restart, silence, resume, shutdown") {
    const auto t_start = std::chrono::steady_clock::now();
    test::Broker broker({{"pile-p1", ""}, {"ghost-p9", ""}});
    const auto dir = make_temp_dir("pilehub-presence");
    {
        db::Database core(dir + "/pilehub.db");
        db::migrate(core, db::core_migrations());
        registry::Store reg(core);
        registry::Station st;
        st.operator_id = reg.ensure_operator("op", 1);
        st.name = "Presence Garden";
        registry::Device d;
        d.id = "pile-p1";
        d.station_id = reg.add_station(st, 1);
        d.ports = 10;
        reg.add_device(d, "hash", 1);
    }
    test::Inbox verdicts;
    auto monitor =
        test::connect_client(broker.client_options("svc.monitor"), {topics::any_device_presence()}, &verdicts);

    Daemon presenced("presenced", broker, dir, {"presenced.tick_ms=100", "log.level=debug"});
    presenced.start();

    DeviceClient pile(broker, "pile-p1");
    pile.connect(1);
    // Telemetry every 5 s (the shortest period CONTRACT allows): silence is then 15 s.
    pile.publish_cfg_reported(5, 5);
    REQUIRE(verdicts.wait_for(verdict_topic("pile-p1"), R"("online":true,"boot":1)", 5s));

    pile.kill();
    REQUIRE(verdicts.wait_for(verdict_topic("pile-p1"), R"("online":false,"boot":1)", 5s));

    pile.connect(2);
    REQUIRE(verdicts.wait_for(verdict_topic("pile-p1"), R"("online":true,"boot":2)", 5s));

    // The late Will of the boot-1 connection, retained: ignored, logged, no verdict.
    payloads::Presence late;
    late.online = false;
    late.boot = 1;
    late.reason = "lwt";
    pile.publish_presence(late);
    pile.publish_tele(true); // a message that must arrive after it
    for (int i = 0; i < 50 && presenced.log().find("late Will ignored") == std::string::npos; ++i)
        std::this_thread::sleep_for(50ms);
    CHECK(presenced.log().find("late Will ignored") != std::string::npos);
    CHECK(presenced.log().find("dev=pile-p1") != std::string::npos);

    // Unknown device and malformed payloads: a log line each, nothing recorded.
    DeviceClient ghost(broker, "ghost-p9");
    ghost.connect(1);
    pile.publish_raw(topics::tele("pile-p1"), R"({"v":1,"ts":1,"boot":2,"seq":99,"data":{"sockets":"no"}})", false);

    // presenced restarts: the broker hands it the retained late Will again. Nothing new is recorded.
    CHECK(presenced.stop() == 0);
    presenced.start();
    std::this_thread::sleep_for(500ms);
    {
        const auto log = presenced.log();
        CHECK(log.find("unknown device") != std::string::npos);
        CHECK(log.find("malformed telemetry") != std::string::npos);
    }

    // Now the pile goes quiet while its connection stays up: 3 periods of 5 s → offline (silent).
    const auto quiet_from = std::chrono::steady_clock::now();
    REQUIRE(verdicts.wait_for(verdict_topic("pile-p1"), R"("reason":"silent")", 25s));
    const auto quiet_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - quiet_from).count();
    MESSAGE(fmt::format("silent verdict after {:.1f} s without messages (3 x 5 s telemetry periods, counted from "
                        "presenced's restart)",
                        quiet_s));
    CHECK(quiet_s >= 13.0);

    pile.publish_tele(false);
    REQUIRE(verdicts.wait_for(verdict_topic("pile-p1"), R"("reason":"resumed")", 5s));

    pile.shutdown();
    REQUIRE(verdicts.wait_for(verdict_topic("pile-p1"), R"("reason":"shutdown")", 5s));
    CHECK(presenced.stop() == 0);

    db::Database core(dir + "/pilehub.db");
    struct Row {
        bool online;
        std::int64_t boot;
        EpochMs at;
        std::string reason;
    };
    auto log_of = [&](const char *dev) {
        std::vector<Row> out;
        db::Statement q(core, "SELECT online, boot, at, reason FROM presence_log WHERE device_id = ?1 ORDER BY id");
        q.bind(1, dev);
        while (q.step())
            out.push_back({q.int64(0) != 0, q.int64(1), q.int64(2), q.text(3)});
        return out;
    };
    const auto log = log_of("pile-p1");
    std::vector<std::string> rows;
    for (const auto &r : log)
        rows.push_back(fmt::format("{} b{} {}", r.online ? "online" : "offline", r.boot, r.reason));
    const std::vector<std::string> want{"online b1 connect", "offline b1 lwt",    "online b2 connect",
                                        "offline b2 silent", "online b2 resumed", "offline b2 shutdown"};
    CHECK(rows == want);
    for (std::size_t i = 1; i < log.size(); ++i)
        CHECK(log[i].at >= log[i - 1].at);
    CHECK(log_of("ghost-p9").empty());
    db::Statement st(core, "SELECT online, boot, reason FROM device_presence WHERE device_id = 'pile-p1'");
    REQUIRE(st.step());
    CHECK(st.int64(0) == 0);
    CHECK(st.int64(1) == 2);
    CHECK(st.text(2) == "shutdown");
    // The verdict for sessiond is retained: a newcomer sees it at once.
    test::Inbox late_reader;
    auto reader = test::connect_client(broker.client_options("svc.sessiond"), {verdict_topic("pile-p1")}, &late_reader);
    CHECK(late_reader.wait_for(verdict_topic("pile-p1"), R"("online":false,"boot":2)", 3s));

    const auto total_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    MESSAGE(fmt::format("test_presence took {:.1f} s", total_s));
    if (!std::getenv("PILEHUB_KEEP_TEST_DIRS"))
        fs::remove_all(dir);
}
