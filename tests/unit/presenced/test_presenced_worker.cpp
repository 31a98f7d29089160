// The worker's glue without a broker: a fake MQTT client injects messages and records the verdicts.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/topics.hpp"
#include "common/worker_loop.hpp"
#include "tests/support/fake_mqtt.hpp"
#include "tests/support/registry_seed.hpp"
#include "workers/presenced/presenced_store.hpp"
#include "workers/presenced/presenced_worker.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>

using namespace pilehub;
using namespace std::chrono_literals;

namespace {

/// The fake client, plus the verdicts presenced published for a device.
class FakeClient final : public test::FakeMqtt {
public:
    FakeClient() : test::FakeMqtt("svc.presenced") {}
    /// The retained payloads published on `dev`'s presence verdict topic, in order.
    std::vector<std::string> verdicts(const std::string& dev) const {
        std::vector<std::string> out;
        for (const auto& m : published())
            if (m.topic == topics::device_presence(dev) && m.retained)
                out.push_back(m.payload);
        return out;
    }
};

std::string presence(bool online, std::int64_t boot, const char* reason = nullptr) {
    payloads::Presence p;
    p.online = online;
    p.boot = boot;
    if (reason)
        p.reason = reason;
    return payloads::encode_presence(p);
}

} // namespace

namespace {

/// A core database file with one registered pile, removed at the end.
struct World {
    std::string path =
        (std::filesystem::temp_directory_path() / ("pilehub-presenced-worker-" + std::to_string(::getpid()) + ".db"))
            .string();
    std::string spool = path + ".spool";
    World() {
        clean();
        db::Database core(path);
        db::migrate(core, db::core_migrations());
        test::register_piles(core, {"pile-1"});
    }
    ~World() { clean(); }
    void clean() const {
        for (const char* suffix : {"", "-wal", "-shm", ".spool"})
            std::filesystem::remove(path + suffix);
    }
};

} // namespace

TEST_CASE("presence: the worker publishes a retained verdict per transition, and nothing for the rest") {
    log::set_level(log::Level::Error);
    World w;
    db::Database core(w.path);
    FakeClient mqtt;
    mqtt::Router router;
    presenced::Options o;
    o.tick = 20ms;
    {
        presenced::Worker worker(mqtt, router, core, SystemClock::instance(), o);
        router.attach(mqtt);
        worker.restore();
        for (const auto& [topic, payload] : std::vector<std::pair<std::string, std::string>>{
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
        CHECK(mqtt.verdicts("pile-1").empty()); // the callback only queues
        CHECK(worker.queued() == 9);
        CHECK(worker.drain() == 9);
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
    worker.restore();
    REQUIRE(again.verdicts("pile-1").size() == 1);
    CHECK(again.verdicts("pile-1")[0].find(R"("online":true,"boot":5)") != std::string::npos);
}

TEST_CASE("presence: a transition the database refuses is retried; after the last try it is spooled, the process "
          "gives up, and the next start commits it exactly once") {
    log::set_level(log::Level::Error);
    World w;
    presenced::Options o;
    o.spool = worker::Spool(w.spool);
    o.retry = {3, 10ms, 20ms};
    std::vector<std::chrono::milliseconds> waits;
    o.sleep = [&](std::chrono::milliseconds d) { waits.push_back(d); };
    o.give_up = [] {};
    db::Database::Options quick;
    quick.busy_timeout_ms = 1;
    {
        db::Database core(w.path, quick);
        FakeClient mqtt;
        mqtt::Router router;
        presenced::Worker worker(mqtt, router, core, SystemClock::instance(), o);
        router.attach(mqtt);
        worker.restore();
        mqtt.deliver({topics::presence("pile-2"), presence(true, 1), 1, true}); // unknown: never committed
        worker.drain();
        db::Database blocker(w.path);
        blocker.exec("BEGIN IMMEDIATE"); // another process holds the write lock
        mqtt.deliver({topics::presence("pile-1"), presence(true, 7), 1, true});
        mqtt.deliver({topics::presence("pile-1"), presence(false, 7, "lwt"), 1, true});
        CHECK_THROWS_AS(worker.drain(), worker::GaveUp);
        blocker.exec("ROLLBACK");
        CHECK(waits == std::vector<std::chrono::milliseconds>{10ms, 20ms});
        CHECK(mqtt.verdicts("pile-1").empty()); // nothing published for what was not committed
        CHECK(presenced::Store::log_of(core, "pile-1").empty());
    }
    REQUIRE(std::filesystem::exists(w.spool));

    db::Database core(w.path);
    FakeClient mqtt;
    mqtt::Router router;
    presenced::Worker worker(mqtt, router, core, SystemClock::instance(), o);
    router.attach(mqtt);
    worker.restore();
    CHECK(worker.drain() == 2); // the spool, replayed first
    CHECK_FALSE(std::filesystem::exists(w.spool));
    CHECK(presenced::Store::log_of(core, "pile-1").size() == 2);
    const auto v = mqtt.verdicts("pile-1");
    REQUIRE(v.size() == 2);
    CHECK(v[0].find(R"("online":true,"boot":7)") != std::string::npos);
    CHECK(v[1].find(R"("online":false,"boot":7)") != std::string::npos);
    CHECK(worker.loop_stats().replayed == 2);
}
