// The worker's glue without a broker: a fake MQTT client injects messages on the test's thread (as
// Paho's callback thread would) and records what is published; real SQLite files.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/topics.hpp"
#include "tests/support/fake_mqtt.hpp"
#include "workers/recorderd/recorderd_worker.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

using namespace pilehub;
using namespace std::chrono_literals;

namespace {

struct Dir {
    std::string path =
        (std::filesystem::temp_directory_path() / ("pilehub-recorderd-worker-" + std::to_string(::getpid()))).string();
    Dir() {
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~Dir() { std::filesystem::remove_all(path); }
};

std::int64_t count(db::Database &d, const std::string &sql) {
    db::Statement st(d, sql);
    st.step();
    return st.int64(0);
}

} // namespace

TEST_CASE("recorder: telemetry is written in batches, events are committed before the callback returns") {
    log::set_level(log::Level::Error);
    Dir dir;
    const auto core_path = dir.path + "/core.db";
    const auto tele_path = dir.path + "/tele.db";
    {
        db::Database core(core_path);
        db::migrate(core, db::core_migrations());
        registry::Store reg(core);
        registry::Station st;
        st.operator_id = reg.ensure_operator("op", 1);
        st.name = "S";
        registry::Device dev;
        dev.id = "pile-1";
        dev.station_id = reg.add_station(st, 1);
        dev.ports = 20;
        reg.add_device(dev, "hash", 1);
        db::Database tele(tele_path);
        db::migrate(tele, db::telemetry_migrations());
    }
    test::FakeMqtt mqtt{"svc.recorderd"};
    mqtt::Router router;
    recorderd::Options o;
    o.batch_rows = 100;
    o.batch_time = 50ms;
    o.status_every = 50ms;
    recorderd::Worker worker(mqtt, router, core_path, tele_path, 5000, SystemClock::instance(), o);
    router.attach(mqtt);
    worker.start();

    // An event: its rows exist as soon as deliver() returns (the QoS 1 acknowledgement follows).
    payloads::EbikeFault f{"leakage", 9, true, 4};
    auto env = payloads::make_envelope(1'000, 1, 1);
    env.id = "f-1";
    mqtt.deliver(
        {topics::evt("pile-1", "fault"), payloads::encode(payloads::Message<payloads::EbikeFault>{env, f}), 1, false});
    {
        db::Database core(core_path);
        db::Database tele(tele_path);
        CHECK(count(core, "SELECT count(*) FROM fault_records WHERE code = 'leakage' AND cleared_at IS NULL") == 1);
        CHECK(count(tele, "SELECT count(*) FROM device_events WHERE msg_id = 'f-1'") == 1);
    }

    // 1000 reports of 5 sessions each, delivered as fast as the test can.
    for (int i = 1; i <= 1000; ++i) {
        payloads::EbikeTele t;
        for (int n = 1; n <= 5; ++n) {
            payloads::EbikeSocketTele s;
            s.n = n;
            s.st = payloads::EbikeSocketStatus::Charging;
            s.sid = fmt::format("S{}", n);
            s.power_w = 100;
            s.session_energy_wh = i;
            t.sockets.push_back(s);
        }
        mqtt.deliver(
            {topics::tele("pile-1"),
             payloads::encode(payloads::Message<payloads::EbikeTele>{payloads::make_envelope(10'000 + i, 1, 1 + i), t}),
             0, false});
    }
    worker.stop(); // drains everything queued
    const auto s = worker.stats();
    CHECK(s.tele_received == 1000);
    CHECK(s.rows_written == 6000);
    CHECK(s.batches >= 50); // at most 100 rows (plus one report's worth) per transaction
    CHECK(s.queue == 0);
    CHECK(s.pending_rows == 0);
    CHECK(s.lag_ms == 0);
    db::Database tele(tele_path);
    CHECK(count(tele, "SELECT count(*) FROM session_samples") == 5000);
    CHECK(count(tele, "SELECT count(*) FROM device_samples") == 1000);
    bool status_seen = false;
    for (const auto &m : mqtt.published())
        status_seen = status_seen || (m.topic == topics::svc_status("recorderd") && m.retained &&
                                      m.payload.find("\"lag_ms\":") != std::string::npos &&
                                      m.payload.find("\"queue\":") != std::string::npos);
    CHECK(status_seen);
}
