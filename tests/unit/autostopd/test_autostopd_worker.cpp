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

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

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
        for (const char *suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path + suffix);
    }
};

void seed(db::Database &d) {
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
    autostopd::Options o;
    o.tick = 20ms;
    autostopd::Worker worker(mqtt, router, core, SystemClock::instance(), o);
    router.attach(mqtt);

    std::mutex m;
    std::condition_variable cv;
    std::vector<std::string> calls;
    std::atomic<bool> release{false};
    worker.set_caller([&](const autostopd::Stop &, const std::string &data) {
        {
            std::lock_guard l(m);
            calls.push_back(data);
        }
        cv.notify_all();
        // sessiond is slow: the answer takes a while.
        for (int i = 0; i < 300 && !release; ++i)
            std::this_thread::sleep_for(5ms);
        return rpc::Reply::success();
    });
    worker.start();
    CHECK(std::find(mqtt.filters.begin(), mqtt.filters.end(), topics::any_device::tele()) != mqtt.filters.end());
    CHECK(std::find(mqtt.filters.begin(), mqtt.filters.end(), topics::any_session_cost()) != mqtt.filters.end());

    std::int64_t slowest_us = 0;
    for (int i = 1; i <= 5; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        mqtt.deliver({topics::tele("pile-1"), overload_report(i), 0, false});
        slowest_us = std::max<std::int64_t>(
            slowest_us,
            std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
        if (i == 1) {
            std::unique_lock l(m);
            REQUIRE(cv.wait_for(l, 1s, [&] { return !calls.empty(); }));
        }
    }
    CHECK(slowest_us < 20'000); // enqueue only: the request thread is blocked meanwhile
    std::this_thread::sleep_for(200ms);
    release = true;
    std::this_thread::sleep_for(100ms);
    for (int i = 6; i <= 8; ++i)
        mqtt.deliver({topics::tele("pile-1"), overload_report(i), 0, false});
    std::this_thread::sleep_for(200ms);
    worker.stop();
    std::lock_guard l(m);
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
    std::atomic<int> calls{0};
    worker.set_caller([&](const autostopd::Stop &, const std::string &) {
        ++calls;
        return rpc::Reply::success();
    });
    worker.start();
    for (const auto &[topic, payload] : std::vector<std::pair<std::string, std::string>>{
             {topics::tele("ghost"), overload_report(1)},
             {topics::tele("pile-1"), "not json"},
             {topics::tele("pile-1"),
              R"({"v":1,"ts":1,"boot":1,"seq":1,"data":{"sockets":[{"n":2,"sid":"S1","power_w":-1}]}})"},
             {topics::state("pile-1"), R"({"v":1})"},
             {topics::evt("pile-1", "fault"), R"({"v":1,"ts":1,"boot":1,"seq":2,"id":"x","data":{"bit":99}})"},
             {topics::session_cost("S1"), "[]"},
             {topics::session_state("S1"), R"({"v":1})"},
             {"ph/v1/dev/bad id/tele", "{}"},
         })
        mqtt.deliver({topic, payload, 1, false});
    std::this_thread::sleep_for(200ms);
    // A well-formed overload after all that still works.
    mqtt.deliver({topics::tele("pile-1"), overload_report(5), 0, false});
    for (int i = 0; i < 100 && calls == 0; ++i)
        std::this_thread::sleep_for(10ms);
    worker.stop();
    CHECK(calls == 1);
}
