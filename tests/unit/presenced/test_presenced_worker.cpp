// The worker's glue without a broker: a fake MQTT client injects messages and records the verdicts.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/topics.hpp"
#include "tests/support/fake_mqtt.hpp"
#include "workers/presenced/presenced_store.hpp"
#include "workers/presenced/presenced_worker.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

using namespace pilehub;
using namespace std::chrono_literals;

namespace {

/// The fake client, plus the verdicts presenced published for a device.
class FakeClient final : public test::FakeMqtt {
public:
    FakeClient() : test::FakeMqtt("svc.presenced") {}
    /// The retained payloads published on `dev`'s presence verdict topic, in order.
    std::vector<std::string> verdicts(const std::string &dev) const {
        std::vector<std::string> out;
        for (const auto &m : published())
            if (m.topic == topics::device_presence(dev) && m.retained)
                out.push_back(m.payload);
        return out;
    }
};

std::string presence(bool online, std::int64_t boot, const char *reason = nullptr) {
    payloads::Presence p;
    p.online = online;
    p.boot = boot;
    if (reason)
        p.reason = reason;
    return payloads::encode_presence(p);
}

} // namespace

TEST_CASE("presence: the worker publishes a retained verdict per transition, and nothing for the rest") {
    log::set_level(log::Level::Error);
    const auto path =
        (std::filesystem::temp_directory_path() / ("pilehub-presenced-worker-" + std::to_string(::getpid()) + ".db"))
            .string();
    for (const char *suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path + suffix);
    db::Database core(path);
    db::migrate(core, db::core_migrations());
    {
        registry::Store reg(core);
        registry::Station st;
        st.operator_id = reg.ensure_operator("op", 1);
        st.name = "S";
        registry::Device dev;
        dev.id = "pile-1";
        dev.station_id = reg.add_station(st, 1);
        dev.ports = 10;
        reg.add_device(dev, "hash", 1);
    }
    FakeClient mqtt;
    mqtt::Router router;
    presenced::Options o;
    o.tick = 20ms;
    {
        presenced::Worker worker(mqtt, router, core, SystemClock::instance(), o);
        router.attach(mqtt);
        worker.start();
        for (const auto &[topic, payload] : std::vector<std::pair<std::string, std::string>>{
                 {topics::presence("pile-1"), presence(true, 4)},
                 {topics::presence("pile-1"), presence(true, 4)},         // retained again
                 {topics::presence("pile-1"), presence(false, 4, "lwt")}, // the Will
                 {topics::presence("pile-1"), presence(true, 5)},
                 {topics::presence("pile-1"), presence(false, 4, "lwt")}, // a late Will
                 {topics::presence("pile-1"), R"({"v":1,"online":"maybe"})"},
                 {topics::presence("ghost"), presence(true, 1)},
                 {topics::tele("pile-1"), "{}"},
                 {"ph/v1/dev/not a device/presence", presence(true, 1)},
             })
            mqtt.deliver({topic, payload, 1, true});
        for (int i = 0; i < 100 && mqtt.verdicts("pile-1").size() < 3; ++i)
            std::this_thread::sleep_for(10ms);
        std::this_thread::sleep_for(100ms);
        worker.stop();
    }
    const auto v = mqtt.verdicts("pile-1");
    REQUIRE(v.size() == 3);
    CHECK(v[0].find(R"("online":true,"boot":4)") != std::string::npos);
    CHECK(v[1].find(R"("online":false,"boot":4)") != std::string::npos);
    CHECK(v[2].find(R"("online":true,"boot":5)") != std::string::npos);
    CHECK(mqtt.verdicts("ghost").empty());
    CHECK(presenced::Store::log_of(core, "pile-1").size() == 3);
    CHECK(presenced::Store::log_of(core, "ghost").empty());

    // A restart republishes the verdict it holds (repairs a crash between commit and publish).
    FakeClient again;
    mqtt::Router router2;
    presenced::Worker worker(again, router2, core, SystemClock::instance(), o);
    router2.attach(again);
    worker.start();
    worker.stop();
    REQUIRE(again.verdicts("pile-1").size() == 1);
    CHECK(again.verdicts("pile-1")[0].find(R"("online":true,"boot":5)") != std::string::npos);
    for (const char *suffix : {"", "-wal", "-shm"})
        std::filesystem::remove(path + suffix);
}
