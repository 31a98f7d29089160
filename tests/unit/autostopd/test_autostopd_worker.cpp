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
                    dev.station_id, SystemClock::instance().now_ms()));
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
