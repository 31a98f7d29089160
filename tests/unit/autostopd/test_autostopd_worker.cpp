// The worker's glue without a broker: a fake MQTT client injects messages on "the callback thread"
// (the test's) and records what is published; the session lives in a real SQLite file.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
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

std::string overload_report(std::int64_t seq) {
    payloads::EbikeTele t;
    payloads::EbikeSocketTele s;
    s.n = 2;
    s.st = payloads::EbikeSocketStatus::Charging;
    s.sid = "S1";
    s.power_w = 900;
    t.sockets.push_back(s);
    t.total_power_w = 900;
    return payloads::encode(payloads::Message<payloads::EbikeTele>{payloads::make_envelope(1, 1, seq), t});
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
    worker.set_caller([&](const autostopd::Stop&, const std::string& data) {
        calls.push_back(data);
        return rpc::Reply::success();
    });
    CHECK(std::find(mqtt.filters.begin(), mqtt.filters.end(), topics::any_device::tele()) != mqtt.filters.end());
    CHECK(std::find(mqtt.filters.begin(), mqtt.filters.end(), topics::any_session_cost()) != mqtt.filters.end());

    // The callback only queues: no rule runs and nothing is asked on the callback's thread.
    for (int i = 1; i <= 5; ++i)
        mqtt.deliver({topics::tele("pile-1"), overload_report(i), 0, false});
    CHECK(worker.pending_requests() == 0);
    CHECK(calls.empty());
    // The rules decide once while the request is in flight (sessiond has not answered yet).
    worker.drain();
    CHECK(worker.pending_requests() == 1);
    CHECK(calls.empty());
    CHECK(worker.send_requests() == 1);
    worker.drain(); // the answer: accepted
    for (int i = 6; i <= 8; ++i)
        mqtt.deliver({topics::tele("pile-1"), overload_report(i), 0, false});
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
    for (const auto& [topic, payload] : std::vector<std::pair<std::string, std::string>>{
             {topics::tele("ghost"), overload_report(1)},
             {topics::tele("pile-1"), "not json"},
             {topics::tele("pile-1"),
              R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"sockets":[{"n":2,"sid":"S1","power_w":-1}]}})"},
             {topics::state("pile-1"), R"({"v":1})"},
             {topics::evt("pile-1", "fault"), R"({"v":1,"ts":1,"boot":1,"seq":2,"id":"x","data":{"bit":99}})"},
             {topics::session_cost("S1"), "[]"},
             {topics::session_state("S1"), R"({"v":1})"},
             {"ph/v1/dev/bad id/tele", "{}"},
             {topics::tele("pile-1"), std::string(100'000, '[') + std::string(100'000, ']')},
         })
        mqtt.deliver({topic, payload, 1, false});
    worker.drain();
    CHECK(worker.pending_requests() == 0);
    // A well-formed overload after all that still works.
    mqtt.deliver({topics::tele("pile-1"), overload_report(5), 0, false});
    worker.drain();
    CHECK(worker.pending_requests() == 1);
}

TEST_CASE("autostop: another pile's or socket's telemetry claiming a session is dropped, logged, and stops nothing") {
    log::set_level(log::Level::Error);
    TempDb tmp;
    db::Database core(tmp.path);
    seed(core);
    {
        registry::Store reg(core);
        registry::Device other;
        other.id = "pile-2";
        other.station_id = 1;
        other.ports = 10;
        reg.add_device(other, "hash", 1);
    }
    test::FakeMqtt mqtt{"svc.autostopd"};
    mqtt::Router router;
    autostopd::Worker worker(mqtt, router, core, SystemClock::instance(), {});
    router.attach(mqtt);
    auto claim = [](int n, std::int64_t seq) {
        payloads::EbikeTele t;
        payloads::EbikeSocketTele s;
        s.n = n;
        s.st = payloads::EbikeSocketStatus::Charging;
        s.sid = "S1"; // runs on pile-1 socket 2
        s.power_w = 2000;
        t.sockets.push_back(s);
        t.total_power_w = 2000;
        return payloads::encode(payloads::Message<payloads::EbikeTele>{payloads::make_envelope(1, 1, seq), t});
    };
    mqtt.deliver({topics::tele("pile-2"), claim(2, 1), 0, false}); // another pile
    mqtt.deliver({topics::tele("pile-1"), claim(3, 2), 0, false}); // another socket of its pile
    worker.drain();
    CHECK(worker.foreign_readings() == 2);
    CHECK(worker.pending_requests() == 0);
    mqtt.deliver({topics::tele("pile-1"), claim(2, 3), 0, false}); // its own socket: the overload counts
    worker.drain();
    CHECK(worker.foreign_readings() == 2);
    CHECK(worker.pending_requests() == 1);
}
