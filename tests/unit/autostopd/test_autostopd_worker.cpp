// The worker's glue without a broker: a fake MQTT client injects messages on "the callback thread"
// (the test's) and records what is published; the session lives in a real SQLite file.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"
#include "tests/support/fake_mqtt.hpp"
#include "workers/autostopd/autostopd_worker.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>

using namespace pilehub;
using namespace std::chrono_literals;

namespace {

struct TempDb {
    std::string path =
        (std::filesystem::temp_directory_path() / ("pilehub-autostopd-worker-" + std::to_string(::getpid()) + ".db"))
            .string();
    TempDb() { clean(); }
    ~TempDb() { clean(); }
    void clean() const {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path + suffix);
    }
};

void seed(db::Database& d) {
    db::migrate(d, db::core_migrations());
    registry::Store reg(d);
    registry::Station st;
    st.operator_id = reg.ensure_operator("op", 1);
    st.name = "S";
    registry::Device dev;
    dev.id = "pile-1";
    dev.station_id = reg.add_station(st, 1);
    dev.ports = 10;
    reg.add_device(dev, "hash", 1);
    d.exec("INSERT INTO accounts (id, phone, created_at) VALUES (1, '13800000001', 0)");
    d.exec(
        fmt::format("INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, state, created_at, "
                    "started_at, updated_at) VALUES ('S1', 1, 'app', 'pile-1', 2, {}, 'power', 'charging', 0, {}, 0)",
                    *dev.station_id, SystemClock::instance().now_ms()));
}

/// recorderd's report of pile-1's socket 2 (session S1) drawing `power_w`.
std::string overload_report(std::int64_t power_w = 900, const std::string& dev = "pile-1") {
    svc::DeviceReport r;
    r.device_id = dev;
    r.device_ts = 1;
    r.received_at = 2;
    r.total_power_w = power_w;
    r.sockets = {{2, "S1", power_w, std::nullopt}};
    return svc::encode(r);
}

} // namespace

TEST_CASE("autostop: the MQTT callback never waits for sessiond; one request goes out per session and reason") {
    log::set_level(log::Level::Warn);
    TempDb tmp;
    db::Database core(tmp.path);
    seed(core);
    test::FakeMqtt mqtt{"svc.autostopd"};
    mqtt::Router router;
    autostopd::Worker worker(mqtt, router, core, SystemClock::instance(), {});
    router.attach(mqtt);
    std::vector<std::string> calls;
    worker.set_caller([&](const svc::StopRequest& r) {
        calls.push_back(svc::encode(r));
        return rpc::Reply::success();
    });
    CHECK(std::find(mqtt.filters.begin(), mqtt.filters.end(), topics::any_device_report()) != mqtt.filters.end());
    CHECK(std::find(mqtt.filters.begin(), mqtt.filters.end(), topics::any_device::tele()) == mqtt.filters.end());
    CHECK(std::find(mqtt.filters.begin(), mqtt.filters.end(), topics::any_session_cost()) != mqtt.filters.end());

    // The callback only queues: no rule runs and nothing is asked on the callback's thread.
    for (int i = 1; i <= 5; ++i)
        mqtt.deliver({topics::device_report("pile-1"), overload_report(), 0, false});
    CHECK(worker.pending_requests() == 0);
    CHECK(calls.empty());
    // The rules decide once while the request is in flight (sessiond has not answered yet).
    worker.drain();
    CHECK(worker.pending_requests() == 1);
    CHECK(calls.empty());
    CHECK(worker.send_requests() == 1);
    worker.drain(); // the answer: accepted
    for (int i = 6; i <= 8; ++i)
        mqtt.deliver({topics::device_report("pile-1"), overload_report(), 0, false});
    worker.drain();
    CHECK(worker.pending_requests() == 0);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0] == R"({"session_id":"S1","reason":"socket_overload","actor":"autostopd"})");
}

TEST_CASE("autostop: unknown devices and malformed messages are dropped without a request") {
    log::set_level(log::Level::Error);
    TempDb tmp;
    db::Database core(tmp.path);
    seed(core);
    test::FakeMqtt mqtt{"svc.autostopd"};
    mqtt::Router router;
    autostopd::Worker worker(mqtt, router, core, SystemClock::instance(), {});
    router.attach(mqtt);
    for (
        const auto& [topic, payload] : std::vector<std::pair<std::string, std::string>>{
            {topics::device_report("ghost"), overload_report(900, "ghost")},
            {topics::device_report("pile-1"), "not json"},
            {topics::device_report("pile-1"), overload_report(900, "pile-2")}, // not its topic's device
            {topics::device_report("pile-1"),
             R"({"v":1,"device_id":"pile-1","device_ts":1,"received_at":2,"total_power_w":0,"sockets":[{"n":2,"sid":"S1","power_w":-1}]})"},
            {topics::tele("pile-1"), overload_report()}, // raw telemetry is not read at all
            {topics::state("pile-1"), R"({"v":1})"},
            {topics::evt("pile-1", "fault"), R"({"v":1,"ts":1,"boot":1,"seq":2,"id":"x","data":{"bit":99}})"},
            {topics::session_cost("S1"), "[]"},
            {topics::session_state("S1"), R"({"v":1})"},
            {"ph/v1/dev/bad id/tele", "{}"},
            {topics::device_report("pile-1"), std::string(100'000, '[') + std::string(100'000, ']')},
        })
        mqtt.deliver({topic, payload, 1, false});
    worker.drain();
    CHECK(worker.pending_requests() == 0);
    // A well-formed overload after all that still works.
    mqtt.deliver({topics::device_report("pile-1"), overload_report(), 0, false});
    worker.drain();
    CHECK(worker.pending_requests() == 1);
}

TEST_CASE("autostop: a report's temperature and device total reach the rules as the pile reported them") {
    log::set_level(log::Level::Error);
    TempDb tmp;
    db::Database core(tmp.path);
    seed(core);
    test::FakeMqtt mqtt{"svc.autostopd"};
    mqtt::Router router;
    autostopd::Worker worker(mqtt, router, core, SystemClock::instance(), {});
    router.attach(mqtt);
    std::vector<std::string> calls;
    worker.set_caller([&](const svc::StopRequest& req) {
        calls.push_back(svc::encode(req));
        return rpc::Reply::success();
    });
    svc::DeviceReport r;
    r.device_id = "pile-1";
    r.device_ts = 1;
    r.received_at = 2;
    r.total_power_w = 100;
    r.sockets = {{2, "S1", 100, 1}};
    r.temp_dc = 600; // 60.0 °C: below the default temp_stop_c
    mqtt.deliver({topics::device_report("pile-1"), svc::encode(r), 0, false});
    worker.drain();
    CHECK(worker.pending_requests() == 0);
    r.temp_dc = 900; // 90.0 °C
    mqtt.deliver({topics::device_report("pile-1"), svc::encode(r), 0, false});
    worker.drain();
    REQUIRE(worker.send_requests() == 1);
    REQUIRE(calls.size() == 1);
    CHECK(calls[0] == R"({"session_id":"S1","reason":"over_temp","actor":"autostopd"})");
}

namespace {

/// A charger `ev-1` (2 guns) and session E1 on gun 1 (energy mode, prepaid 3000 fen, meter start
/// 1 000 000 Wh), charging since `start`.
void seed_charger(db::Database& d, EpochMs start) {
    db::migrate(d, db::core_migrations());
    registry::Store reg(d);
    registry::Station st;
    st.operator_id = reg.ensure_operator("op", 1);
    st.name = "S";
    registry::Device dev;
    dev.id = "ev-1";
    dev.kind = registry::DeviceKind::EvCharger;
    dev.station_id = reg.add_station(st, 1);
    dev.ports = 2;
    reg.add_device(dev, "hash", 1);
    d.exec("INSERT INTO accounts (id, phone, created_at) VALUES (1, '13800000001', 0)");
    d.exec(fmt::format(
        "INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, state, created_at, started_at, "
        "updated_at, max_fen, meter_start_wh) VALUES ('E1', 1, 'app', 'ev-1', 1, {}, 'energy', 'charging', {}, {}, {}, "
        "3000, 1000000)",
        *dev.station_id, start, start, start));
}

/// recorderd's report of gun 1 of ev-1 (session E1).
std::string gun_report(std::int64_t power_w, std::int64_t energy_wh, payloads::EvGunStatus st,
                       std::optional<int> soc = std::nullopt, std::optional<std::int64_t> temp_dc = std::nullopt) {
    svc::DeviceReport r;
    r.device_id = "ev-1";
    r.device_ts = 1;
    r.received_at = 2;
    r.total_power_w = power_w;
    r.temp_dc = temp_dc;
    svc::ReportSocket s{1, "E1", power_w, energy_wh};
    s.register_wh = 1'000'000 + energy_wh;
    s.soc_pct = soc;
    s.ev_status = st;
    r.sockets = {s};
    return svc::encode(r);
}

std::string envelope(std::string_view data, std::string_view id = "e-1") {
    return fmt::format(R"({{"v":1,"ts":1,"boot":1,"seq":1,"id":"{}","data":{}}})", id, data);
}

/// autostopd on a charger, its clock manual, every stop request recorded and accepted.
struct ChargerWorld {
    TempDb tmp;
    ManualClock clock;
    db::Database core{tmp.path};
    test::FakeMqtt mqtt{"svc.autostopd"};
    mqtt::Router router;
    std::unique_ptr<autostopd::Worker> worker;
    std::vector<std::string> calls;

    ChargerWorld() {
        log::set_level(log::Level::Error);
        seed_charger(core, clock.now_ms());
        worker = std::make_unique<autostopd::Worker>(mqtt, router, core, clock, autostopd::Options{});
        router.attach(mqtt);
        worker->set_caller([this](const svc::StopRequest& r) {
            calls.push_back(svc::encode(r));
            return rpc::Reply::success();
        });
    }
    /// Time passes; the time-outs are checked.
    void pass_ms(EpochMs ms) {
        clock.advance_ms(ms);
        worker->tick_now();
    }
    void deliver(const std::string& topic, const std::string& payload) {
        mqtt.deliver({topic, payload, 1, false});
        worker->drain();
    }
    /// The reasons asked for so far (each request sent and answered).
    std::vector<std::string> asked() {
        worker->send_requests();
        worker->drain();
        std::vector<std::string> out;
        for (const auto& c : calls) {
            const auto r = svc::decode<svc::StopRequest>(c);
            REQUIRE(r);
            CHECK(r->session_id == "E1");
            out.emplace_back(svc::to_string(r->reason));
        }
        return out;
    }
};

} // namespace

TEST_CASE("autostop worker: an EV report with 100 % SoC stops the session as full") {
    ChargerWorld w;
    w.deliver(topics::device_report("ev-1"), gun_report(50'000, 30'000, payloads::EvGunStatus::Charging, 99));
    CHECK(w.asked().empty());
    w.deliver(topics::device_report("ev-1"), gun_report(5'000, 30'500, payloads::EvGunStatus::Charging, 100));
    CHECK(w.asked() == std::vector<std::string>{"full"});
}

TEST_CASE("autostop worker: evt/plug_out of a live gun stops its session as unplugged, even before any report") {
    ChargerWorld w;
    w.deliver(topics::evt("ev-1", "plug_out"), envelope(R"({"n":2})"));
    CHECK(w.asked().empty()); // nothing runs on gun 2
    w.deliver(topics::evt("ev-1", "plug_out"), envelope(R"({"n":1})", "e-2"));
    CHECK(w.asked() == std::vector<std::string>{"unplugged"});
    CHECK(w.calls[0] == R"({"session_id":"E1","reason":"unplugged","actor":"autostopd"})");
}

TEST_CASE("autostop worker: a gun suspended_ev in its conn state for ev_full_wait_s is full") {
    ChargerWorld w;
    w.deliver(topics::device_report("ev-1"), gun_report(7'000, 2'000, payloads::EvGunStatus::Charging));
    w.deliver(topics::conn_state("ev-1", 1),
              envelope(R"({"st":"suspended_ev","sid":"E1","since":1,"fault_bits":0,"faults":[]})"));
    w.pass_ms(179'000);
    CHECK(w.asked().empty());
    w.pass_ms(1'000);
    CHECK(w.asked() == std::vector<std::string>{"full"});
}

TEST_CASE("autostop worker: a sleeping car (no energy within ev_no_load_wait_s) is no_load") {
    ChargerWorld w;
    w.deliver(topics::device_report("ev-1"), gun_report(0, 0, payloads::EvGunStatus::SuspendedEv));
    w.pass_ms(89'000);
    CHECK(w.asked().empty());
    w.pass_ms(1'000);
    CHECK(w.asked() == std::vector<std::string>{"no_load"});
}

TEST_CASE("autostop worker: the charger's cfg/reported sets the temp_stop_c in force") {
    ChargerWorld w;
    w.deliver(topics::device_report("ev-1"),
              gun_report(7'000, 2'000, payloads::EvGunStatus::Charging, std::nullopt, 700)); // 70.0 °C < 85
    CHECK(w.asked().empty());
    w.deliver(
        topics::cfg_reported("ev-1"),
        R"({"v":1,"ts":1,"boot":1,"seq":2,"data":{"version":2,"status":"applied","values":{"temp_warn_c":50,"temp_stop_c":65}}})");
    w.deliver(topics::device_report("ev-1"),
              gun_report(7'000, 2'100, payloads::EvGunStatus::Charging, std::nullopt, 700));
    CHECK(w.asked() == std::vector<std::string>{"over_temp"});
}

TEST_CASE("autostop worker: the session's prepaid max_fen from billingd's running cost is quota_reached") {
    ChargerWorld w;
    w.deliver(topics::device_report("ev-1"), gun_report(7'000, 2'000, payloads::EvGunStatus::Charging));
    svc::RunningCost rc;
    rc.sid = "E1";
    rc.ts = w.clock.now_ms();
    rc.cost_fen = Fen(2'999);
    w.deliver(topics::session_cost("E1"), svc::encode(rc));
    CHECK(w.asked().empty());
    rc.cost_fen = Fen(3'000); // the row's max_fen
    w.deliver(topics::session_cost("E1"), svc::encode(rc));
    CHECK(w.asked() == std::vector<std::string>{"quota_reached"});
}

TEST_CASE("autostop worker: an estop in the charger's state stops every gun's session as fault") {
    ChargerWorld w;
    w.deliver(topics::device_report("ev-1"), gun_report(7'000, 2'000, payloads::EvGunStatus::Charging));
    w.deliver(topics::state("ev-1"), R"({"v":1,"ts":1,"boot":1,"seq":3,"data":{"fault_bits":64,"faults":["estop"]}})");
    CHECK(w.asked() == std::vector<std::string>{"fault"});
}
