// alertd's glue without a broker: a fake MQTT client injects device messages and parkingd's
// alerts; the scans read a real SQLite file; what is written and published is checked.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"
#include "tests/support/fake_mqtt.hpp"
#include "tests/unit/alertd/core_file.hpp"
#include "workers/alertd/alertd_worker.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

using namespace pilehub;
using namespace std::chrono_literals;

namespace {

std::int64_t count(db::Database& d, const std::string& sql) {
    db::Statement s(d, sql);
    REQUIRE(s.step());
    return s.int64(0);
}

std::vector<svc::Alert> published(const test::FakeMqtt& mqtt, std::string_view kind) {
    std::vector<svc::Alert> out;
    for (const auto& m : mqtt.on(topics::alert(kind))) {
        auto a = svc::decode<svc::Alert>(m.payload);
        REQUIRE(a);
        CHECK_FALSE(m.retained);
        out.push_back(*a);
    }
    return out;
}

} // namespace

TEST_CASE("alertd worker: a stuck session and a flagged payment order raise alerts at the scan and resolve when the "
          "scan no longer finds them") {
    log::set_level(log::Level::Error);
    test::CoreFile w("alertd-worker");
    db::Database core(w.path);
    ManualClock clock;
    const auto now = clock.now_ms();
    core.exec("INSERT INTO accounts (id, phone, created_at) VALUES (1, '13800000001', 0)");
    core.exec(
        fmt::format("INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, state, "
                    "created_at, updated_at) VALUES ('S-1', 1, 'app', 'pile-1', 3, {}, 'time', 'starting', {}, {})",
                    w.station, now - 700'000, now - 700'000));
    core.exec(fmt::format("INSERT INTO payments (id, account_id, amount_fen, provider, status, created_at, anomaly) "
                          "VALUES ('P-1', 1, 1000, 'sandbox', 'paid', {}, 'paid after it expired')",
                          now));
    test::FakeMqtt mqtt("svc.alertd");
    mqtt::Router router;
    alertd::Options o;
    alertd::Worker worker(mqtt, router, core, clock, o);
    router.attach(mqtt);
    worker.restore();
    worker.scan_now();
    CHECK(count(core, "SELECT count(*) FROM alerts WHERE state = 'open'") == 2);
    const auto stuck = published(mqtt, "stuck_session");
    REQUIRE(stuck.size() == 1);
    CHECK(stuck[0].subject == "S-1");
    CHECK(stuck[0].device_id == "pile-1");
    CHECK(stuck[0].n == 3);
    CHECK(stuck[0].severity == "minor");
    const auto pay = published(mqtt, "payment_anomaly");
    REQUIRE(pay.size() == 1);
    CHECK(pay[0].device_id.empty());
    CHECK(pay[0].msg == "payment order P-1: paid after it expired");
    CHECK(count(core, "SELECT count(*) FROM alert_deliveries") == 0); // no webhook configured

    worker.scan_now(); // the same findings: no second alert
    CHECK(count(core, "SELECT count(*) FROM alerts") == 2);

    core.exec("UPDATE sessions SET state = 'failed' WHERE id = 'S-1'");
    core.exec("UPDATE payments SET anomaly = '' WHERE id = 'P-1'");
    worker.scan_now();
    CHECK(count(core, "SELECT count(*) FROM alerts WHERE state = 'resolved' AND resolved_by = 'system'") == 2);
    CHECK(published(mqtt, "stuck_session").size() == 2);
    CHECK_FALSE(published(mqtt, "stuck_session")[1].open);
}

TEST_CASE("alertd worker: parkingd's lock_fault is recorded once and not published again; alertd's own messages "
          "and unknown devices are ignored; an over-temperature state opens an over_temp alert") {
    log::set_level(log::Level::Error);
    test::CoreFile w("alertd-worker");
    db::Database core(w.path);
    {
        registry::Store reg(core);
        registry::Device cam;
        cam.id = "cam-1";
        cam.kind = registry::DeviceKind::Camera;
        cam.station_id = w.station;
        cam.ports = 4;
        reg.add_device(cam, "$7$unused", 1);
    }
    ManualClock clock;
    test::FakeMqtt mqtt("svc.alertd");
    mqtt::Router router;
    alertd::Options o;
    o.deliver = true;
    int woken = 0;
    o.on_queued = [&] { ++woken; };
    alertd::Worker worker(mqtt, router, core, clock, o);
    router.attach(mqtt);
    worker.restore();

    const auto parkingd = [&](bool open) {
        svc::Alert a{"lock_fault", "cam-1", "cam-1-2", open, "the lock jammed", clock.now_ms(), 0, 2, ""};
        return mqtt::Message{topics::alert("lock_fault"), svc::encode(a), 1, false};
    };
    mqtt.deliver(parkingd(true));
    mqtt.deliver(parkingd(true)); // parkingd again: the same alert
    svc::Alert ours{"lock_fault", "cam-1", "cam-1-3", true, "", clock.now_ms(), 99, 3, "major"};
    mqtt.deliver({topics::alert("lock_fault"), svc::encode(ours), 1, false});
    payloads::DeviceState hot;
    hot.temp_c = 71;
    const auto state =
        payloads::encode(payloads::Message<payloads::DeviceState>{payloads::make_envelope(clock.now_ms(), 1, 1), hot});
    mqtt.deliver({topics::state("pile-1"), state, 1, false});
    mqtt.deliver({topics::state("ghost-9"), state, 1, false});
    worker.drain();

    CHECK(count(core, "SELECT count(*) FROM alerts WHERE kind = 'lock_fault' AND device_id = 'cam-1' AND n = 2") == 1);
    CHECK(count(core, "SELECT count(*) FROM alerts WHERE kind = 'lock_fault'") == 1);
    CHECK(mqtt.on(topics::alert("lock_fault")).empty()); // parkingd published it: alertd does not again
    CHECK(count(core, "SELECT count(*) FROM alerts WHERE kind = 'over_temp' AND device_id = 'pile-1'") == 1);
    CHECK(count(core, "SELECT count(*) FROM alerts WHERE device_id = 'ghost-9'") == 0);
    const auto hot_alerts = published(mqtt, "over_temp");
    REQUIRE(hot_alerts.size() == 1);
    CHECK(hot_alerts[0].severity == "critical");
    CHECK(count(core, "SELECT count(*) FROM alert_deliveries WHERE event = 'opened'") == 2);
    CHECK(woken == 2);

    mqtt.deliver(parkingd(false));
    worker.drain();
    CHECK(count(core, "SELECT count(*) FROM alerts WHERE kind = 'lock_fault' AND state = 'resolved'") == 1);
}
