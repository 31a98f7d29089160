// parkingd's glue with a real SQLite file, a fake MQTT client and a manual clock: camera reports
// in, occupancies, fees, decisions, captures and lock commands out. Never sleeps: drain() runs the
// loop's work on the test's thread, tick_now() its periodic checks.
#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ledger.hpp"
#include "common/payloads.hpp"
#include "common/registry.hpp"
#include "common/svc.hpp"
#include "common/topics.hpp"
#include "tests/support/fake_mqtt.hpp"
#include "tests/support/rpc_answers.hpp"
#include "workers/parkingd/parkingd_worker.hpp"

#include <doctest/doctest.h>
#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <unistd.h>

using namespace pilehub;
using payloads::LockAction;
using payloads::LockStatus;
using payloads::PlateColor;

namespace {

constexpr EpochMs kMin = 60'000;
const std::string kCam = "cam1";
const std::string kNev = "京AD12345";
const std::string kBlue = "京A12345";

/// A parking tariff: 30 free minutes, 6 yuan an hour, at most 50 yuan, the lock rises 30 s after.
std::string parking_tariff() {
    return R"({"name":"P","timezone":"Asia/Shanghai","modes":["time"],"time":{"fen_per_hour":100,"options_minutes":[60]},
      "parking":{"free_minutes":30,"fen_per_hour":600,"max_fen":5000,"raise_delay_s":30,"reservation_hold_minutes":120}})";
}

struct World {
    std::string path;
    std::unique_ptr<db::Database> db;
    ManualClock clock{1'732'183'200'000};
    test::FakeMqtt mqtt{"svc.parkingd"};
    mqtt::Router router;
    std::unique_ptr<parkingd::Worker> worker;
    std::int64_t station = 0;
    std::int64_t seq = 0;

    World() {
        path =
            (std::filesystem::temp_directory_path() / fmt::format("pilehub-parkingd-{}-{}.db", ::getpid(), ++count()))
                .string();
        for (const auto* ext : {"", "-wal", "-shm"})
            std::filesystem::remove(path + ext);
        db = std::make_unique<db::Database>(path);
        db::migrate(*db, db::core_migrations());
        registry::Store reg(*db);
        registry::Station st;
        st.operator_id = reg.ensure_operator("op", 1);
        st.name = "P";
        station = reg.add_station(st, 1);
        registry::Device cam;
        cam.id = kCam;
        cam.kind = registry::DeviceKind::Camera;
        cam.station_id = station;
        cam.ports = 3;
        reg.add_device(cam, "$7$unused", 1);
        registry::Device ev;
        ev.id = "ev1";
        ev.kind = registry::DeviceKind::EvCharger;
        ev.station_id = station;
        ev.ports = 2;
        reg.add_device(ev, "$7$unused", 1);
        db->exec("UPDATE spaces SET ev_gun = 'ev1-1' WHERE device_id = 'cam1' AND n = 1");
        db->exec("UPDATE spaces SET has_lock = 0 WHERE device_id = 'cam1' AND n = 3");
        db::Statement(*db, "INSERT INTO tariffs (station_id, version, document, effective_from, created_at) "
                           "VALUES (?1, 1, ?2, 0, 0)")
            .bind_all(station, parking_tariff())
            .run();
        router.attach(mqtt);
        parkingd::Options o;
        o.give_up = [] {};
        o.sleep = [](std::chrono::milliseconds) {};
        worker = std::make_unique<parkingd::Worker>(mqtt, router, *db, clock, o);
        worker->restore();
    }
    ~World() {
        worker.reset();
        db.reset();
        for (const auto* ext : {"", "-wal", "-shm"})
            std::filesystem::remove(path + ext);
    }
    static int& count() {
        static int n = 0;
        return n;
    }

    /// An account holding `plate` with `fen` in its wallet.
    std::int64_t owner(const std::string& plate, std::int64_t fen, const std::string& phone = "13800000001") {
        ledger::Ledger led(*db, clock);
        const auto a = led.open_account({phone, "", std::nullopt, ledger::DebitOrder::RealFirst});
        if (fen > 0) {
            ledger::Credit c;
            c.account_id = a.account_id;
            c.real_fen = Fen(fen);
            c.meta.idempotency_key = "seed:" + phone;
            REQUIRE(led.credit(c).ok());
        }
        db::Statement(*db,
                      "INSERT INTO plates (plate, account_id, color, certified, created_at) VALUES (?, ?, 'green', "
                      "1, 0)")
            .bind_all(plate, a.account_id)
            .run();
        return a.account_id;
    }

    template <typename T> void event(const std::string& leaf, const T& data, const std::string& id = {}) {
        ++seq;
        auto env = payloads::make_event_envelope(clock.now_ms(), 1, seq, id.empty() ? fmt::format("e-{}", seq) : id);
        mqtt.deliver({topics::evt(kCam, leaf), payloads::encode(payloads::Message<T>{env, data}), 1, false});
        worker->drain();
    }
    void plate(int n, const std::string& p, PlateColor c, bool in, const std::string& id = {}) {
        const auto url = fmt::format("http://cam/{}-{}.jpg", n, seq + 1);
        event(
            "plate",
            payloads::CameraPlate{n, p, c, in ? payloads::PlateDirection::In : payloads::PlateDirection::Out, 95, url},
            id);
    }
    void space(int n, bool occupied, std::optional<std::string> p = std::nullopt) {
        event("space", payloads::CameraSpace{n, occupied, std::move(p)});
    }
    void presence(bool online, std::int64_t boot) {
        payloads::Presence p;
        p.online = online;
        p.boot = boot;
        mqtt.deliver({topics::presence(kCam), payloads::encode_presence(p), 1, true});
        worker->drain();
    }
    /// The lock commands published so far, decoded.
    std::vector<payloads::Message<payloads::CameraLockCmd>> locks() const {
        std::vector<payloads::Message<payloads::CameraLockCmd>> out;
        for (const auto& m : mqtt.on(topics::cmd(kCam, "lock"))) {
            auto d = payloads::decode<payloads::CameraLockCmd>(m.payload);
            REQUIRE(d.ok());
            out.push_back(d.value());
        }
        return out;
    }
    void lock_reply(const std::string& rid, payloads::ReplyStatus st, payloads::LockState l,
                    std::optional<ErrorCode> code = std::nullopt) {
        payloads::Message<payloads::Reply<payloads::LockState>> r;
        r.env = payloads::make_envelope(clock.now_ms(), 1, ++seq);
        r.env.rid = rid;
        r.data.status = st;
        r.data.code = code;
        if (code)
            r.data.msg = "the lock jammed";
        r.data.data = l;
        mqtt.deliver({topics::cmd_reply(kCam, "lock"), payloads::encode(r), 1, false});
        worker->drain();
    }
    std::int64_t scalar(const std::string& sql) {
        db::Statement st(*db, sql);
        REQUIRE(st.step());
        return st.int64(0);
    }
    std::string text(const std::string& sql) {
        db::Statement st(*db, sql);
        REQUIRE(st.step());
        return st.text(0);
    }
};

} // namespace

TEST_CASE("parkingd: an NEV car arrives, the lock is lowered; it leaves, pays for the time beyond the free minutes, "
          "the lock rises after the delay") {
    World w;
    const auto account = w.owner(kNev, 10'000);
    w.plate(2, kNev, PlateColor::Green, true);
    auto cmds = w.locks();
    REQUIRE(cmds.size() == 1);
    CHECK(cmds[0].data.space == 2);
    CHECK(cmds[0].data.action == LockAction::Lower);
    REQUIRE(cmds[0].env.exp);
    CHECK(*cmds[0].env.exp > w.clock.now_ms());
    w.lock_reply(*cmds[0].env.rid, payloads::ReplyStatus::Ok, {LockStatus::Lowered, false});
    CHECK_FALSE(w.worker->pending_lock({kCam, 2}));
    CHECK(w.text("SELECT state FROM lock_commands") == "ok");
    w.space(2, true, kNev); // the camera's second report of the same car

    w.clock.advance_ms(90 * kMin + 30'000);
    w.plate(2, kNev, PlateColor::Green, false);
    w.space(2, false);
    // 90.5 minutes, 30 free: 60.5 minutes billable at 600 fen an hour = 605 fen (rounded down once)
    CHECK(w.scalar("SELECT count(*) FROM occupancies") == 1);
    CHECK(w.text("SELECT state FROM occupancies") == "paid");
    CHECK(w.scalar("SELECT billable_s FROM occupancies") == 3630);
    CHECK(w.scalar("SELECT fee_fen FROM occupancies") == 605);
    CHECK(w.scalar(fmt::format("SELECT balance_fen FROM wallets WHERE account_id = {}", account)) == 10'000 - 605);
    CHECK(w.scalar("SELECT count(*) FROM ledger WHERE kind = 'parking' AND idempotency_key LIKE 'park:%'") == 1);
    CHECK(ledger::audit(*w.db).empty()); // pilehubctl audit: the fee is the stay's, once

    CHECK(w.locks().size() == 1); // not yet: the car may still be backing out
    w.clock.advance_ms(29'000);
    w.worker->tick_now();
    CHECK(w.locks().size() == 1);
    w.clock.advance_ms(1'000);
    w.worker->tick_now();
    cmds = w.locks();
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[1].data.action == LockAction::Raise);
    CHECK(cmds[1].env.rid != cmds[0].env.rid);
}

TEST_CASE("parkingd: the time the space's gun was charging is not billed") {
    World w;
    w.owner(kNev, 10'000);
    const auto t0 = w.clock.now_ms();
    w.plate(1, kNev, PlateColor::Green, true);
    // a session ran on ev1-1 from minute 5 to minute 65
    w.db->exec("INSERT INTO accounts (id, phone, created_at) VALUES (99, '13900000099', 0)");
    db::Statement(*w.db, "INSERT INTO sessions (id, account_id, method, device_id, n, station_id, mode, state, "
                         "created_at, started_at, ended_at, updated_at) VALUES ('S1', 99, 'app', 'ev1', 1, ?1, "
                         "'energy', 'completed', ?2, ?2, ?3, ?3)")
        .bind_all(w.station, t0 + 5 * kMin, t0 + 65 * kMin)
        .run();
    w.clock.advance_ms(120 * kMin);
    w.space(1, false);
    // 120 minutes − 60 charging − 30 free = 30 minutes = 300 fen
    CHECK(w.scalar("SELECT charging_s FROM occupancies") == 3600);
    CHECK(w.scalar("SELECT billable_s FROM occupancies") == 1800);
    CHECK(w.scalar("SELECT fee_fen FROM occupancies") == 300);
}

TEST_CASE("parkingd: a blue plate is refused with its capture; a whitelisted one parks free") {
    World w;
    w.plate(2, kBlue, PlateColor::Blue, true);
    CHECK(w.locks().empty());
    CHECK(w.scalar("SELECT count(*) FROM occupancies") == 0);
    CHECK(w.text("SELECT reason FROM parking_decisions") == "not_nev");
    CHECK(w.scalar("SELECT allowed FROM parking_decisions") == 0);
    CHECK(w.text("SELECT c.image_url FROM parking_decisions d JOIN captures c ON c.id = d.capture_id")
              .starts_with("http://cam/2-"));
    w.plate(2, kBlue, PlateColor::Blue, false);

    db::Statement(*w.db, "INSERT INTO parking_whitelist (station_id, plate, created_at) VALUES (?, ?, 0)")
        .bind_all(w.station, kBlue)
        .run();
    w.plate(2, "京a 12345", PlateColor::Blue, true); // matched case- and space-insensitively
    REQUIRE(w.locks().size() == 1);
    w.clock.advance_ms(300 * kMin);
    w.plate(2, kBlue, PlateColor::Blue, false);
    CHECK(w.text("SELECT state FROM occupancies") == "free");
    CHECK(w.scalar("SELECT fee_fen FROM occupancies") == 0);
    CHECK(w.scalar("SELECT whitelisted FROM occupancies") == 1);
}

TEST_CASE("parkingd: an unknown plate's stay is unpaid, and a space without a lock records stays too") {
    World w;
    w.plate(3, kBlue, PlateColor::Blue, true); // space 3 has no lock
    CHECK(w.locks().empty());
    w.clock.advance_ms(90 * kMin);
    w.space(3, false);
    CHECK(w.text("SELECT state FROM occupancies") == "unpaid");
    CHECK(w.scalar("SELECT owed_fen FROM occupancies") == 600);
    CHECK(w.scalar("SELECT count(*) FROM ledger WHERE kind = 'parking'") == 0);
    CHECK(ledger::audit(*w.db).empty());
    // the audit notices a stay marked paid without its entry, or owing other than its fee
    w.db->exec("UPDATE occupancies SET state = 'paid', owed_fen = 0");
    const auto v = ledger::audit(*w.db);
    REQUIRE(v.size() == 1);
    CHECK(v[0].what.find("no matching ledger entry") != std::string::npos);
}

TEST_CASE("parkingd: a duplicated event (same id) is handled once; bad payloads and unknown spaces are dropped") {
    World w;
    w.owner(kNev, 10'000);
    w.plate(2, kNev, PlateColor::Green, true, "dup-1");
    w.clock.advance_ms(60 * kMin);
    w.plate(2, kNev, PlateColor::Green, false, "dup-2");
    w.plate(2, kNev, PlateColor::Green, false, "dup-2");
    w.plate(2, kNev, PlateColor::Green, true, "dup-1");
    CHECK(w.worker->counters().duplicates == 2);
    CHECK(w.scalar("SELECT count(*) FROM occupancies") == 1);
    CHECK(w.scalar("SELECT count(*) FROM ledger WHERE kind = 'parking'") == 1);

    const auto rejected = w.worker->counters().rejected;
    w.mqtt.deliver({topics::evt(kCam, "plate"), "{not json", 1, false});
    w.worker->drain();
    w.plate(9, kNev, PlateColor::Green, true); // space 9 is not registered
    w.mqtt.deliver({topics::evt("nobody", "plate"), "{}", 1, false});
    w.worker->drain();
    CHECK(w.worker->counters().rejected == rejected + 3);
    // a lock event and a retained state for a space the camera does not have are counted too
    w.event("lock", payloads::CameraLockEvent{9, LockStatus::Fault, true});
    payloads::CameraSpaceState st;
    st.since = w.clock.now_ms();
    w.mqtt.deliver({topics::space_state(kCam, 9),
                    payloads::encode(payloads::Message<payloads::CameraSpaceState>{
                        payloads::make_envelope(w.clock.now_ms(), 1, ++w.seq), st}),
                    1, true});
    w.worker->drain();
    CHECK(w.worker->counters().rejected == rejected + 5);
    CHECK(w.scalar("SELECT count(*) FROM lock_faults") == 0);
}

TEST_CASE("parkingd: a lock command waits for an offline camera and goes with the same rid and a fresh exp") {
    World w;
    w.presence(true, 1);
    w.presence(false, 1);
    w.plate(2, kNev, PlateColor::Green, true);
    CHECK(w.locks().empty());
    const auto pending = w.worker->pending_lock({kCam, 2});
    REQUIRE(pending);
    w.clock.advance_ms(5 * kMin);
    w.worker->tick_now();
    CHECK(w.locks().empty());
    w.presence(true, 2);
    auto cmds = w.locks();
    REQUIRE(cmds.size() == 1);
    CHECK(cmds[0].env.rid == pending->rid);
    CHECK(*cmds[0].env.exp > w.clock.now_ms());

    // no answer: the same rid again after lock_retry_s, with a new exp
    w.clock.advance_ms(10'000);
    w.worker->tick_now();
    cmds = w.locks();
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[1].env.rid == pending->rid);
    CHECK(*cmds[1].env.exp > *cmds[0].env.exp);
    // the lock seen lowered answers it (CONTRACT A.6)
    w.event("lock", payloads::CameraLockEvent{2, LockStatus::Lowered, false});
    CHECK_FALSE(w.worker->pending_lock({kCam, 2}));
}

TEST_CASE("parkingd: a command the camera answers busy (its lock still moving) goes again, same rid, 2 s later") {
    World w;
    w.plate(2, kNev, PlateColor::Green, true);
    auto cmds = w.locks();
    REQUIRE(cmds.size() == 1);
    w.lock_reply(*cmds[0].env.rid, payloads::ReplyStatus::Busy, {LockStatus::Moving, false}, ErrorCode::SocketBusy);
    CHECK(w.worker->pending_lock({kCam, 2}));
    w.clock.advance_ms(1'900);
    w.worker->tick_now();
    CHECK(w.locks().size() == 1);
    w.clock.advance_ms(100);
    w.worker->tick_now();
    cmds = w.locks();
    REQUIRE(cmds.size() == 2);
    CHECK(cmds[1].env.rid == cmds[0].env.rid);
    CHECK(w.scalar("SELECT count(*) FROM lock_faults") == 0); // busy is no failure
}

TEST_CASE("parkingd: a jammed lock opens a fault and an alert; healthy again, both are closed") {
    World w;
    w.plate(2, kNev, PlateColor::Green, true);
    auto cmds = w.locks();
    REQUIRE(cmds.size() == 1);
    w.lock_reply(*cmds[0].env.rid, payloads::ReplyStatus::Failed, {LockStatus::Fault, true}, ErrorCode::SocketFaulted);
    CHECK(w.text("SELECT state FROM lock_commands") == "failed");
    CHECK(w.scalar("SELECT count(*) FROM lock_faults WHERE closed_at IS NULL") == 1);
    auto alerts = w.mqtt.on(topics::alert("lock_fault"));
    REQUIRE(alerts.size() == 1);
    const auto a = svc::decode<svc::Alert>(alerts[0].payload);
    REQUIRE(a.ok());
    CHECK(a.value().open);
    CHECK(a.value().subject == "cam1-2");
    // the alarm again does not open a second fault
    w.event("lock", payloads::CameraLockEvent{2, LockStatus::Fault, true});
    CHECK(w.scalar("SELECT count(*) FROM lock_faults") == 1);
    CHECK(w.mqtt.on(topics::alert("lock_fault")).size() == 1);
    w.event("lock", payloads::CameraLockEvent{2, LockStatus::Lowered, false});
    CHECK(w.scalar("SELECT count(*) FROM lock_faults WHERE closed_at IS NULL") == 0);
    alerts = w.mqtt.on(topics::alert("lock_fault"));
    REQUIRE(alerts.size() == 2);
    CHECK_FALSE(svc::decode<svc::Alert>(alerts[1].payload).value().open);
}

TEST_CASE("parkingd: an admitted car pushing against the lock on its way down is no fault; a refused one is") {
    World w;
    w.plate(2, kNev, PlateColor::Green, true);
    REQUIRE(w.worker->pending_lock({kCam, 2}));
    w.event("lock", payloads::CameraLockEvent{2, LockStatus::Raised, true});
    CHECK(w.scalar("SELECT count(*) FROM lock_faults") == 0);
    CHECK(w.mqtt.on(topics::alert("lock_fault")).empty());
    w.event("lock", payloads::CameraLockEvent{2, LockStatus::Lowered, false});
    w.plate(2, kNev, PlateColor::Green, false);

    w.plate(1, kBlue, PlateColor::Blue, true);
    CHECK_FALSE(w.worker->pending_lock({kCam, 1}));
    w.event("lock", payloads::CameraLockEvent{1, LockStatus::Raised, true});
    CHECK(w.scalar("SELECT count(*) FROM lock_faults WHERE space = 1 AND cause = 'alarm'") == 1);
    CHECK(w.mqtt.on(topics::alert("lock_fault")).size() == 1);
}

TEST_CASE("parkingd: a reservation keeps another NEV out, lets its plate in, completes; an unclaimed one times "
          "out") {
    World w;
    const auto holder = w.owner(kNev, 10'000);
    auto reserve = [&](int space) {
        db::Statement(*w.db, "INSERT INTO reservations (account_id, station_id, camera_id, space, plate, state, "
                             "created_at, expires_at) VALUES (?1, ?2, 'cam1', ?3, ?4, 'reserved', ?5, ?6)")
            .bind_all(holder, w.station, space, kNev, w.clock.now_ms(), w.clock.now_ms() + 120 * kMin)
            .run();
    };
    reserve(2);
    w.plate(2, "沪AF54321", PlateColor::Green, true);
    CHECK(w.locks().empty());
    CHECK(w.text("SELECT reason FROM parking_decisions") == "reserved_for_other");
    w.plate(2, "沪AF54321", PlateColor::Green, false);
    w.plate(2, kNev, PlateColor::Green, true);
    REQUIRE(w.locks().size() == 1);
    CHECK(w.text("SELECT state FROM reservations") == "occupying");
    w.clock.advance_ms(60 * kMin);
    w.plate(2, kNev, PlateColor::Green, false);
    CHECK(w.text("SELECT state FROM reservations") == "completed");

    reserve(1);
    w.clock.advance_ms(119 * kMin);
    w.worker->tick_now();
    CHECK(w.scalar("SELECT count(*) FROM reservations WHERE state = 'reserved'") == 1);
    w.clock.advance_ms(kMin);
    w.worker->tick_now();
    CHECK(w.scalar("SELECT count(*) FROM reservations WHERE state = 'timed_out'") == 1);
}

TEST_CASE("parkingd: an operator's lock request is answered with the camera's reply; offline is refused at once") {
    World w;
    auto request = [&](const std::string& rid, const std::string& data) {
        const auto text = fmt::format(R"({{"v":1,"rid":"{}","from":"svc.api","reply_to":"ph/v1/svc/reply/svc.api",)"
                                      R"("exp":{},"data":{}}})",
                                      rid, w.clock.now_ms() + 60'000, data);
        w.mqtt.deliver({topics::rpc("parkingd", "lock"), text, 1, false});
        w.worker->drain();
    };
    request("r1", R"({"space":"cam1-2","action":"lower","operator":"alice"})");
    auto cmds = w.locks();
    REQUIRE(cmds.size() == 1);
    CHECK(w.text("SELECT requested_by FROM lock_commands") == "alice");
    CHECK(test::rpc_answers(w.mqtt.published(), "r1").empty());
    w.lock_reply(*cmds[0].env.rid, payloads::ReplyStatus::Ok, {LockStatus::Lowered, false});
    auto answers = test::rpc_answers(w.mqtt.published(), "r1");
    REQUIRE(answers.size() == 1);
    CHECK(answers[0].first == "ok");

    request("r2", R"({"space":"cam1-9","action":"lower","operator":"alice"})");
    CHECK(test::rpc_answers(w.mqtt.published(), "r2") ==
          std::vector<std::pair<std::string, std::string>>{{"rejected", "unknown_space"}});
    request("r3", R"({"space":"cam1-3","action":"raise","operator":"alice"})"); // no lock there
    CHECK(test::rpc_answers(w.mqtt.published(), "r3") ==
          std::vector<std::pair<std::string, std::string>>{{"rejected", "unknown_space"}});
    w.presence(false, 1);
    request("r4", R"({"space":"cam1-2","action":"raise","operator":"alice"})");
    CHECK(test::rpc_answers(w.mqtt.published(), "r4") ==
          std::vector<std::pair<std::string, std::string>>{{"rejected", "device_offline"}});

    w.presence(true, 2);
    request("r5", R"({"space":"cam1-2","action":"raise","operator":"alice"})");
    w.clock.advance_ms(15'000);
    w.worker->tick_now();
    CHECK(test::rpc_answers(w.mqtt.published(), "r5") ==
          std::vector<std::pair<std::string, std::string>>{{"failed", "timeout"}});
}

TEST_CASE("parkingd: the retained space state after a reconnect synchronises the lock") {
    World w;
    // a free space whose lock is down (after a power cut): it is raised
    payloads::CameraSpaceState st;
    st.occupied = false;
    st.since = w.clock.now_ms();
    st.lock = payloads::LockState{LockStatus::Lowered, false};
    payloads::Message<payloads::CameraSpaceState> m{payloads::make_envelope(w.clock.now_ms(), 1, 1), st};
    w.mqtt.deliver({topics::space_state(kCam, 2), payloads::encode(m), 1, true});
    w.worker->drain();
    auto cmds = w.locks();
    REQUIRE(cmds.size() == 1);
    CHECK(cmds[0].data.action == LockAction::Raise);
    CHECK(w.text("SELECT cause FROM lock_commands") == "sync");
}

TEST_CASE("parkingd: lock positions are written in the tick's batch, and a repeated retained state writes nothing") {
    World w;
    auto state = [&](LockStatus st) {
        payloads::CameraSpaceState s;
        s.since = w.clock.now_ms();
        s.lock = payloads::LockState{st, false};
        payloads::Message<payloads::CameraSpaceState> m{payloads::make_envelope(w.clock.now_ms(), 1, ++w.seq), s};
        w.mqtt.deliver({topics::space_state(kCam, 2), payloads::encode(m), 1, true});
        w.worker->drain();
    };
    state(LockStatus::Raised);
    w.worker->tick_now();
    CHECK(w.text("SELECT lock_st FROM space_states WHERE camera_id = 'cam1' AND space = 2") == "raised");
    const auto written = w.scalar("SELECT updated_at FROM space_states WHERE camera_id = 'cam1' AND space = 2");
    w.clock.advance_ms(60'000);
    state(LockStatus::Raised); // the camera reconnected: the same word again
    w.worker->tick_now();
    CHECK(w.scalar("SELECT updated_at FROM space_states WHERE camera_id = 'cam1' AND space = 2") == written);
    CHECK(w.locks().empty()); // a free space with its lock up: nothing to command
}
