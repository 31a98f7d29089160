// The worker's glue without a broker: a fake MQTT client injects messages on the test's thread (as
// Paho's callback thread would) and records what is published; real SQLite files.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/mqtt.hpp"
#include "common/mqtt_router.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"
#include "common/worker_loop.hpp"
#include "tests/support/fake_mqtt.hpp"
#include "tests/support/registry_seed.hpp"
#include "workers/recorderd/recorderd_worker.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

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

std::int64_t count(db::Database& d, const std::string& sql) {
    db::Statement st(d, sql);
    st.step();
    return st.int64(0);
}

/// Core and telemetry databases with piles pile-1 and pile-2 and sessions S1..S5 on pile-1's
/// sockets 1..5.
struct World {
    Dir dir;
    std::string core_path = dir.path + "/core.db";
    std::string tele_path = dir.path + "/tele.db";
    World() {
        db::Database core(core_path);
        db::migrate(core, db::core_migrations());
        const auto station = test::register_piles(core, {"pile-1", "pile-2"}, 20);
        for (int n = 1; n <= 5; ++n) // one account per session: one live app session each
            core.exec(fmt::format("INSERT INTO accounts (id, phone, created_at) VALUES ({0}, '1380000000{0}', 0);"
                                  "INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, "
                                  "state, created_at, started_at, updated_at) VALUES ('S{0}', {0}, 'app', 'pile-1', "
                                  "{0}, {1}, 'power', 'charging', 0, 0, 0)",
                                  n, station));
        db::Database tele(tele_path);
        db::migrate(tele, db::telemetry_migrations());
    }
};

std::string report(std::int64_t seq, std::vector<std::pair<int, std::string>> sockets, double power_w,
                   std::int64_t energy_wh) {
    payloads::EbikeTele t;
    for (auto& [n, sid] : sockets) {
        payloads::EbikeSocketTele s;
        s.n = n;
        s.st = payloads::EbikeSocketStatus::Charging;
        s.sid = sid;
        s.power_w = power_w;
        s.session_energy_wh = energy_wh;
        t.sockets.push_back(s);
    }
    return payloads::encode(payloads::Message<payloads::EbikeTele>{payloads::make_envelope(10'000 + seq, 1, seq), t});
}

std::string fault(const std::string& id, std::int64_t seq, bool active) {
    payloads::EbikeFault f{"leakage", 9, active, 4};
    auto env = payloads::make_envelope(1'000, 1, seq);
    env.id = id;
    return payloads::encode(payloads::Message<payloads::EbikeFault>{env, f});
}

/// A worker with default options on a fresh World, its fake client attached.
struct Running {
    World w;
    test::FakeMqtt mqtt{"svc.recorderd"};
    mqtt::Router router;
    recorderd::Worker worker{mqtt, router, w.core_path, w.tele_path, 5000, SystemClock::instance(), {}};
    Running() { router.attach(mqtt); }
};

/// The device reports published so far, decoded.
std::vector<svc::DeviceReport> reports(test::FakeMqtt& mqtt) {
    std::vector<svc::DeviceReport> out;
    for (const auto& m : mqtt.published()) {
        if (!topics::device_of_report(m.topic))
            continue;
        CHECK(m.qos == 0);
        CHECK_FALSE(m.retained);
        auto r = svc::decode<svc::DeviceReport>(m.payload);
        REQUIRE_MESSAGE(r.ok(), r.error());
        CHECK(m.topic == topics::device_report(r.value().device_id));
        out.push_back(r.value());
    }
    return out;
}

/// What this process writes to stderr (the log) while it lives.
class StderrCapture {
public:
    explicit StderrCapture(std::string path) : path_(std::move(path)) {
        std::fflush(stderr);
        saved_ = ::dup(2);
        std::FILE* f = std::fopen(path_.c_str(), "w");
        REQUIRE(f);
        ::dup2(::fileno(f), 2);
        std::fclose(f);
    }
    ~StderrCapture() { restore(); }
    /// Stops capturing; returns what was written.
    std::string text() {
        restore();
        std::ifstream in(path_);
        std::stringstream ss;
        ss << in.rdbuf();
        return ss.str();
    }

private:
    void restore() {
        if (saved_ < 0)
            return;
        std::fflush(stderr);
        ::dup2(saved_, 2);
        ::close(saved_);
        saved_ = -1;
    }
    std::string path_;
    int saved_ = -1;
};

} // namespace

TEST_CASE("recorder: telemetry is written in batches, events are committed before the callback returns") {
    log::set_level(log::Level::Error);
    World w;
    test::FakeMqtt mqtt{"svc.recorderd"};
    mqtt::Router router;
    recorderd::Options o;
    o.batch_rows = 100;
    recorderd::Worker worker(mqtt, router, w.core_path, w.tele_path, 5000, SystemClock::instance(), o);
    router.attach(mqtt);

    // An event: its rows exist as soon as deliver() returns (the QoS 1 acknowledgement follows).
    mqtt.deliver({topics::evt("pile-1", "fault"), fault("f-1", 1, true), 1, false});
    {
        db::Database core(w.core_path);
        db::Database tele(w.tele_path);
        CHECK(count(core, "SELECT count(*) FROM fault_records WHERE code = 'leakage' AND cleared_at IS NULL") == 1);
        CHECK(count(tele, "SELECT count(*) FROM device_events WHERE msg_id = 'f-1'") == 1);
    }

    // 1000 reports of 5 sessions each, queued by the callback, then decoded and written.
    std::vector<std::pair<int, std::string>> sockets;
    for (int n = 1; n <= 5; ++n)
        sockets.emplace_back(n, fmt::format("S{}", n));
    for (int i = 1; i <= 1000; ++i)
        mqtt.deliver({topics::tele("pile-1"), report(1 + i, sockets, 100, i), 0, false});
    CHECK(worker.stats().queue == 1000);
    worker.drain();
    const auto s = worker.stats();
    CHECK(s.tele_received == 1000);
    CHECK(s.rows_written == 6000);
    CHECK(s.batches >= 50); // at most 100 rows (plus one report's worth) per transaction
    CHECK(s.queue == 0);
    CHECK(s.pending_rows == 0);
    CHECK(s.lag_ms == 0);
    CHECK(s.foreign == 0);
    db::Database tele(w.tele_path);
    CHECK(count(tele, "SELECT count(*) FROM session_samples") == 5000);
    CHECK(count(tele, "SELECT count(*) FROM device_samples") == 1000);
    bool status_seen = false;
    for (const auto& m : mqtt.published())
        status_seen = status_seen || (m.topic == topics::svc_status("recorderd") && m.retained &&
                                      m.payload.find("\"lag_ms\":") != std::string::npos &&
                                      m.payload.find("\"queue\":") != std::string::npos);
    CHECK(status_seen);
}

TEST_CASE("recorder: a reading counts for a session only from the session's own pile and socket") {
    log::set_level(log::Level::Error);
    World w;
    test::FakeMqtt mqtt{"svc.recorderd"};
    mqtt::Router router;
    recorderd::Worker worker(mqtt, router, w.core_path, w.tele_path, 5000, SystemClock::instance(), {});
    router.attach(mqtt);
    mqtt.deliver({topics::tele("pile-1"), report(1, {{1, "S1"}}, 150, 10), 0, false});
    mqtt.deliver({topics::tele("pile-2"), report(1, {{1, "S1"}}, 2000, 5000), 0, false});     // another pile
    mqtt.deliver({topics::tele("pile-1"), report(2, {{3, "S1"}}, 2000, 5000), 0, false});     // another socket
    mqtt.deliver({topics::tele("pile-2"), report(2, {{1, "nobody"}}, 2000, 5000), 0, false}); // no such session
    worker.drain();
    CHECK(worker.stats().foreign == 3);
    db::Database tele(w.tele_path);
    CHECK(count(tele, "SELECT count(*) FROM session_samples WHERE session_id = 'S1'") == 1);
    CHECK(count(tele, "SELECT max(energy_wh) FROM session_samples WHERE session_id = 'S1'") == 10);
    CHECK(count(tele, "SELECT max(power_w) FROM session_samples WHERE session_id = 'S1'") == 150);
    CHECK(count(tele, "SELECT count(*) FROM session_samples WHERE session_id = 'nobody'") == 0);
    // The piles' own readings (temperature, total power) are still recorded.
    CHECK(count(tele, "SELECT count(*) FROM device_samples") == 4);
}

TEST_CASE("recorder: an event the database refuses is retried, then the process gives up without acknowledging; "
          "delivered again, it is recorded once") {
    log::set_level(log::Level::Error);
    World w;
    test::FakeMqtt mqtt{"svc.recorderd"};
    mqtt::Router router;
    recorderd::Options o;
    o.retry = {3, 10ms, 10ms};
    std::vector<std::chrono::milliseconds> waits;
    o.sleep = [&](std::chrono::milliseconds d) { waits.push_back(d); };
    o.give_up = [] {};
    recorderd::Worker worker(mqtt, router, w.core_path, w.tele_path, 1, SystemClock::instance(), o);
    router.attach(mqtt);
    const mqtt::Message event{topics::evt("pile-1", "fault"), fault("f-9", 1, true), 1, false};
    {
        db::Database blocker(w.core_path);
        blocker.exec("BEGIN IMMEDIATE");                      // another process holds the core database
        CHECK_THROWS_AS(mqtt.deliver(event), worker::GaveUp); // never returns to Paho: no PUBACK
        blocker.exec("ROLLBACK");
    }
    CHECK(waits.size() == 2);
    db::Database core(w.core_path);
    CHECK(count(core, "SELECT count(*) FROM fault_records") == 0);
    auto again = event;
    again.duplicate = true;
    mqtt.deliver(again); // the broker's redelivery
    mqtt.deliver(again);
    CHECK(count(core, "SELECT count(*) FROM fault_records WHERE code = 'leakage' AND cleared_at IS NULL") == 1);
    db::Database tele(w.tele_path);
    CHECK(count(tele, "SELECT count(*) FROM device_events WHERE msg_id = 'f-9'") == 1);
}

TEST_CASE("recorder: each fresh report publishes one device report of its bound sockets; foreign and unbound "
          "sockets are left out") {
    log::set_level(log::Level::Error);
    Running r;
    auto& [w, mqtt, router, worker] = r;
    // S1 on its own socket 1; S3 claimed from socket 2 (it runs on 3); socket 4 without a session;
    // "nobody" is no session at all.
    auto text = report(1, {{1, "S1"}, {2, "S3"}, {5, "nobody"}}, 150.4, 10);
    {
        auto m = payloads::decode<payloads::EbikeTele>(text);
        REQUIRE(m.ok());
        auto t = m.value();
        payloads::EbikeSocketTele idle;
        idle.n = 4;
        idle.power_w = 30;
        t.data.sockets.push_back(idle);
        text = payloads::encode(t);
    }
    mqtt.deliver({topics::tele("pile-1"), text, 0, false});
    mqtt.deliver({topics::tele("pile-2"), report(1, {{1, "S1"}, {2, "S2"}}, 2000, 5000), 0, false}); // not pile-2's
    mqtt.deliver({topics::tele("pile-1"), text, 0, false});                                          // a replay
    mqtt.deliver({topics::tele("pile-1"), report(2, {{3, "S3"}, {5, "S5"}}, 90, 7), 0, false});
    worker.drain();

    const auto got = reports(mqtt);
    REQUIRE(got.size() == 2);
    CHECK(got[0].device_id == "pile-1");
    CHECK(got[0].device_ts == 10'001);
    CHECK(got[0].received_at > 0);
    CHECK(got[0].sockets == std::vector<svc::ReportSocket>{{1, "S1", 150, 10}});
    CHECK(got[0].total_power_w == 480); // every socket's power, bound or not
    CHECK(got[1].sockets == std::vector<svc::ReportSocket>{{3, "S3", 90, 7}, {5, "S5", 90, 7}});
    const auto s = worker.stats();
    CHECK(s.reports == 2);
    CHECK(s.foreign ==
          6); // S3 on 2 and nobody on 5 (twice: the replay is checked before it is found one), pile-2's two
    CHECK(s.out_of_order == 1);
    CHECK(worker.status_json().find("\"reports\":2") != std::string::npos);
    // The samples follow the same binding.
    db::Database tele(w.tele_path);
    CHECK(count(tele, "SELECT count(*) FROM session_samples") == 3);
}

TEST_CASE("recorder: malformed or unknown raw telemetry publishes no report, and is logged and counted") {
    Running r;
    auto& [w, mqtt, router, worker] = r;
    log::set_level(log::Level::Warn);
    StderrCapture err(w.dir.path + "/stderr.log");
    mqtt.deliver({topics::tele("pile-1"), "{", 0, false});
    mqtt.deliver(
        {topics::tele("pile-1"),
         R"({"v":1,"ts":1,"boot":1,"seq":3,"data":{"total_power_w":1,"sockets":[{"n":1,"st":"charging","power_w":-4,"sid":"S1"}]}})",
         0, false});
    std::string deep(100'000, '[');
    mqtt.deliver({topics::tele("pile-1"), deep, 0, false});
    mqtt.deliver({topics::tele("ghost-9"), report(1, {{1, "S1"}}, 100, 1), 0, false}); // not registered
    worker.drain();
    const auto log = err.text();
    log::set_level(log::Level::Error);
    CHECK(reports(mqtt).empty());
    CHECK(worker.stats().malformed == 3);
    CHECK(worker.stats().unknown_device == 1);
    CHECK(log.find("dev=pile-1 malformed telemetry ignored") != std::string::npos);
    CHECK(log.find("dev=ghost-9 unknown device") != std::string::npos);
}
